//! ocdoctor's team dashboard server: `POST /api/v1/reports` takes a redacted log and the
//! client's report, the server diagnoses the log again with the same engine as the CLI (the
//! client's report is kept but never shown), and stores the incident; JSON endpoints and
//! server-rendered pages (no JavaScript) show incidents, causes over time, breakdowns by rig,
//! probe, target and OpenOCD version, and for each incident the most similar resolved ones and
//! the team's prior.
//!
//! Stateless: every piece of state (incidents, tokens, rate-limit counts) is in the database,
//! SQLite (one file) or PostgreSQL (several instances may share one).
//!
//! Map: `db` (every query), `writer` (batched commits), `rate` (shared rate limit), `auth`
//! (tokens), `intake` (validating and diagnosing an upload), `api` (JSON), `pages` + `html` +
//! `chart` (HTML), `similar` (templated-log MinHash), `prior` (the bounded team prior),
//! `facts` (probe and target), `metrics`, `time`.

mod api;
mod auth;
mod chart;
pub mod db;
pub mod facts;
mod html;
pub mod intake;
mod metrics;
mod pages;
pub mod prior;
mod rate;
pub mod similar;
pub mod time;
mod writer;

use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use ocdoctor_core::Report;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub use db::{Db, DbError};

/// The engine the server diagnoses uploads with: the CLI passes the function its own
/// `diagnose --no-env` uses, so a dashboard and a terminal never disagree.
pub type Diagnoser = Arc<dyn Fn(&[u8]) -> Report + Send + Sync>;

/// How the server runs (`ocdoctor serve` fills it from its options).
#[derive(Debug, Clone)]
pub struct Config {
    pub database: String,
    pub listen: SocketAddr,
    /// Largest accepted request body (an upload with its log), in bytes.
    pub max_body_bytes: usize,
    /// Requests per token per window.
    pub rate_limit: u64,
    pub rate_window_secs: u64,
}

pub const DEFAULT_DATABASE: &str = "sqlite:ocdoctor.db";

impl Default for Config {
    fn default() -> Config {
        Config {
            database: DEFAULT_DATABASE.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 16 << 20,
            rate_limit: 600_000,
            rate_window_secs: 60,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no random numbers from the operating system: {0}")]
    Random(getrandom::Error),
    #[error("{0:?} is not a valid {1} name: use 1-64 letters, digits, '-', '_' or '.'")]
    BadName(String, &'static str),
}

/// Everything a request handler needs; one per instance.
pub(crate) struct App {
    db: Db,
    writer: writer::Writer,
    writer_stats: Arc<writer::WriterStats>,
    rate: rate::RateLimiter,
    diagnose: Diagnoser,
    metrics: metrics::Metrics,
    /// The engine's base rate per cause (the team prior's reference).
    global_prior: BTreeMap<String, f64>,
    /// The causes a resolution may name: the taxonomy and `unknown`.
    causes: Vec<String>,
    max_body_bytes: usize,
}

type Shared = Arc<App>;

/// Run the server until SIGINT or SIGTERM.
pub fn serve(config: Config, diagnose: Diagnoser) -> Result<(), ServerError> {
    runtime()?.block_on(serve_async(config, diagnose))
}

/// Make a token for a team (and optionally a rig); the token itself is returned once and only
/// its hash is stored.
pub fn create_token(database: &str, team: &str, rig: Option<&str>) -> Result<String, ServerError> {
    if !auth::valid_name(team) {
        return Err(ServerError::BadName(team.into(), "team"));
    }
    if let Some(r) = rig.filter(|r| !auth::valid_name(r)) {
        return Err(ServerError::BadName(r.into(), "rig"));
    }
    runtime()?.block_on(async {
        let db = Db::open(database).await?;
        let token = auth::new_token().map_err(ServerError::Random)?;
        db.insert_token(&auth::hash(&token), team, rig, time::now_ms())
            .await
            .map_err(DbError::from)?;
        db.close().await;
        Ok(token)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, ServerError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn serve_async(config: Config, diagnose: Diagnoser) -> Result<(), ServerError> {
    let db = Db::open(&config.database).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let kb = ocdoctor_core::KnowledgeBase::embedded();
    let mut global_prior = kb.calibration.priors.clone();
    global_prior.insert("unknown".into(), kb.calibration.unknown_prior);
    let mut causes: Vec<String> = kb.causes.iter().map(|c| c.id.clone()).collect();
    if !causes.iter().any(|c| c == "unknown") {
        causes.push("unknown".into());
    }
    let writer_stats = Arc::new(writer::WriterStats::default());
    let app = Arc::new(App {
        writer: writer::Writer::start(db.clone(), writer_stats.clone()),
        writer_stats,
        rate: rate::RateLimiter::new(config.rate_limit, config.rate_window_secs),
        db,
        diagnose,
        metrics: metrics::Metrics::default(),
        global_prior,
        causes,
        max_body_bytes: config.max_body_bytes,
    });
    let counting = tokio::spawn(keep_rate_counts(app.clone()));
    // Tests and scripts read this line to learn the port (`--listen 127.0.0.1:0`).
    println!(
        "ocdoctor serve: listening on http://{addr} (database {})",
        describe_database(&config.database)
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    axum::serve(listener, router(app.clone()))
        .with_graceful_shutdown(stop_signal())
        .await?;
    counting.abort();
    app.rate.flush(&app.db).await;
    app.db.close().await;
    Ok(())
}

/// The database without a password, for the startup line.
fn describe_database(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

async fn keep_rate_counts(app: Shared) {
    let mut tick = tokio::time::interval(rate::FLUSH_EVERY);
    let mut n = 0u64;
    loop {
        tick.tick().await;
        app.rate.flush(&app.db).await;
        n += 1;
        if n % 120 == 0 {
            app.rate.prune(&app.db, time::now_ms()).await;
        }
    }
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

fn router(app: Shared) -> axum::Router {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/api/v1/reports",
            post(api::upload).layer(axum::extract::DefaultBodyLimit::max(app.max_body_bytes)),
        )
        .route("/api/v1/incidents", get(api::list))
        .route("/api/v1/incidents/{id}", get(api::incident))
        .route("/api/v1/incidents/{id}/resolve", post(api::resolve))
        .route("/openapi.json", get(api::openapi))
        .route("/metrics", get(api::metrics))
        .route("/healthz", get(api::healthz))
        .route("/", get(|| async { Redirect::to("/incidents") }))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/incidents", get(pages::incidents))
        .route("/incidents/{id}", get(pages::incident))
        .route("/incidents/{id}/resolve", post(pages::resolve))
        .route("/causes", get(pages::causes))
        .route("/breakdown", get(pages::breakdown))
        .route("/static/style.css", get(pages::stylesheet))
        .route("/static/icon.svg", get(pages::icon))
        .route("/favicon.ico", get(pages::icon))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::track,
        ))
        .with_state(app)
}

/// Who is asking: a valid token's team and rig.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub team: String,
    pub rig: Option<String>,
    /// The request came with the session cookie (not a bearer header): form posts are then
    /// checked for a same-origin `Origin`.
    pub by_cookie: bool,
}

pub(crate) const COOKIE: &str = "ocdoctor_token";

/// Why a request has no principal.
pub(crate) enum AuthFailure {
    Missing,
    Invalid,
    Limited(u64),
    Database(String),
}

/// The token from `Authorization: Bearer …`, else from the session cookie.
fn presented_token(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let t = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))?;
        return Some((t.trim().to_string(), false));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .map(|t| (t.trim().to_string(), true))
}

pub(crate) async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Principal, AuthFailure> {
    let (token, by_cookie) = presented_token(headers).ok_or(AuthFailure::Missing)?;
    if token.is_empty() || token.len() > 200 {
        return Err(AuthFailure::Invalid);
    }
    let hash = auth::hash(&token);
    let row = app
        .db
        .token(&hash)
        .await
        .map_err(|e| AuthFailure::Database(e.to_string()))?
        .ok_or(AuthFailure::Invalid)?;
    app.rate
        .hit(&app.db, &hash, time::now_ms())
        .await
        .map_err(|secs| {
            app.metrics.rate_limited();
            AuthFailure::Limited(secs)
        })?;
    Ok(Principal {
        team: row.team,
        rig: row.rig,
        by_cookie,
    })
}

/// An API error: a status and a JSON `{"error": …}` body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl From<AuthFailure> for ApiError {
    fn from(f: AuthFailure) -> ApiError {
        match f {
            AuthFailure::Missing => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no token: send `Authorization: Bearer <token>` (`ocdoctor serve --create-token TEAM` makes one)",
            ),
            AuthFailure::Invalid => ApiError::new(StatusCode::UNAUTHORIZED, "unknown token"),
            AuthFailure::Limited(secs) => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!("rate limit reached for this token; retry in {secs} s"),
                retry_after: Some(secs),
            },
            AuthFailure::Database(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(serde_json::json!({"error": self.message})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ocdoctor\""),
            );
        }
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

/// The principal of an API request (401/429 as JSON otherwise).
pub(crate) struct ApiUser(pub Principal);

impl FromRequestParts<Shared> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        Ok(ApiUser(authenticate(app, &parts.headers).await?))
    }
}

/// The principal of a page request (the login page otherwise).
pub(crate) struct PageUser(pub Principal);

impl FromRequestParts<Shared> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Response> {
        match authenticate(app, &parts.headers).await {
            Ok(p) => Ok(PageUser(p)),
            Err(AuthFailure::Missing | AuthFailure::Invalid) => {
                Err(Redirect::to("/login").into_response())
            }
            Err(e) => Err(pages::error_page(ApiError::from(e))),
        }
    }
}

/// `State` re-exported for the handler modules.
pub(crate) type AppState = State<Shared>;
