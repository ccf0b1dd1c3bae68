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
//! (tokens and scopes), `admin` (token management and retention), `intake` (validating and
//! diagnosing an upload), `api` (JSON), `pages` + `html` + `chart` (HTML), `similar` (templated-log MinHash), `prior` (the bounded team prior),
//! `facts` (probe and target), `metrics`, `time`.

pub mod admin;
mod api;
pub mod auth;
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

pub use admin::{
    CreatedToken, Pruned, Revoked, create_token, list_tokens, prune_now, revoke_token,
};
pub use auth::Scope;
pub use db::{Db, DbError, TokenInfo};

/// The engine the server diagnoses uploads with: the CLI passes the function its own
/// `diagnose --no-env` (or, with the upload's machine snapshot as JSON, `diagnose --env`)
/// uses, so a dashboard and a terminal never disagree. `Err`: the snapshot is not readable.
pub type Diagnoser = Arc<dyn Fn(&[u8], Option<&str>) -> Result<Report, String> + Send + Sync>;

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
    /// Keep incidents of this many UTC days before today; older ones are deleted at start and
    /// then every `RETENTION_EVERY` (`None`: keep everything).
    pub retain_days: Option<u32>,
}

/// How often an instance with `retain_days` deletes what has aged out.
pub const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

pub const DEFAULT_DATABASE: &str = "sqlite:ocdoctor.db";

impl Default for Config {
    fn default() -> Config {
        Config {
            database: DEFAULT_DATABASE.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 16 << 20,
            rate_limit: 600_000,
            rate_window_secs: 60,
            retain_days: None,
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
    #[error("no token with id {0:?} (`ocdoctor serve token list` shows the ids)")]
    NoSuchToken(String),
    #[error("--retain-days {0}: give 1 to {max} days", max = admin::MAX_RETAIN_DAYS)]
    BadRetention(u32),
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

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ServerError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn serve_async(config: Config, diagnose: Diagnoser) -> Result<(), ServerError> {
    if let Some(days) = config.retain_days {
        admin::check_retain_days(days)?;
    }
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
    let retention = config
        .retain_days
        .map(|days| tokio::spawn(keep_retention(app.db.clone(), days)));
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
    if let Some(r) = retention {
        r.abort();
    }
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

/// Delete what has aged out, now and every `RETENTION_EVERY`; each instance may do it (the
/// batches of two instances at once delete each row once).
async fn keep_retention(db: Db, days: u32) {
    let mut tick = tokio::time::interval(RETENTION_EVERY);
    loop {
        tick.tick().await;
        match admin::prune(&db, days, time::now_ms()).await {
            Ok(p) if p.incidents > 0 => eprintln!(
                "ocdoctor serve: retention ({days} days): deleted {} incidents from before {}",
                p.incidents,
                time::date(p.first_day_kept)
            ),
            Ok(_) => {}
            Err(e) => eprintln!("ocdoctor serve: retention: {e}"),
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
    pub scope: Scope,
    /// The request came with the session cookie (not a bearer header): form posts are then
    /// checked for a same-origin `Origin`.
    pub by_cookie: bool,
}

pub(crate) const COOKIE: &str = "ocdoctor_token";

/// Why a request has no principal.
pub(crate) enum AuthFailure {
    Missing,
    Invalid,
    Revoked,
    /// A valid token whose scope does not allow this request.
    Scope {
        needed: Scope,
        has: Scope,
    },
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

/// The principal of a request that needs `needed`: the token's row is read on every request
/// (no cache), so a revoked token is refused by every instance from the next request on.
pub(crate) async fn authenticate(
    app: &App,
    headers: &HeaderMap,
    needed: Scope,
) -> Result<Principal, AuthFailure> {
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
    if row.revoked_at.is_some() {
        return Err(AuthFailure::Revoked);
    }
    // A scope this server does not know (written by a newer version) allows nothing.
    let scope = Scope::from_name(&row.scope).ok_or(AuthFailure::Invalid)?;
    if !scope.allows(needed) {
        return Err(AuthFailure::Scope { needed, has: scope });
    }
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
        scope,
        by_cookie,
    })
}

/// An API error: a status and a JSON `{"error": …}` body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
    insufficient_scope: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
            insufficient_scope: false,
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
                "no token: send `Authorization: Bearer <token>` (`ocdoctor serve token create --team TEAM` makes one)",
            ),
            AuthFailure::Invalid => ApiError::new(StatusCode::UNAUTHORIZED, "unknown token"),
            AuthFailure::Revoked => {
                ApiError::new(StatusCode::UNAUTHORIZED, "this token has been revoked")
            }
            AuthFailure::Scope { needed, has } => ApiError {
                insufficient_scope: true,
                ..ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "this token's scope is {}; this request needs a {} (or admin) token",
                        has.name(),
                        needed.name()
                    ),
                )
            },
            AuthFailure::Limited(secs) => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!("rate limit reached for this token; retry in {secs} s"),
                retry_after: Some(secs),
                insufficient_scope: false,
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
        if self.insufficient_scope {
            // RFC 6750 §3.1.
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ocdoctor\", error=\"insufficient_scope\""),
            );
        }
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

/// The principal of an API request that reads (401/403/429 as JSON otherwise).
pub(crate) struct ApiReader(pub Principal);

impl FromRequestParts<Shared> for ApiReader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        Ok(ApiReader(
            authenticate(app, &parts.headers, Scope::Read).await?,
        ))
    }
}

/// The principal of an upload (401/403/429 as JSON otherwise).
pub(crate) struct ApiUploader(pub Principal);

impl FromRequestParts<Shared> for ApiUploader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        Ok(ApiUploader(
            authenticate(app, &parts.headers, Scope::Upload).await?,
        ))
    }
}

/// The principal of a page request: a read token (the login page when there is none, or it
/// is unknown or revoked).
pub(crate) struct PageUser(pub Principal);

impl FromRequestParts<Shared> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Response> {
        match authenticate(app, &parts.headers, Scope::Read).await {
            Ok(p) => Ok(PageUser(p)),
            Err(AuthFailure::Missing | AuthFailure::Invalid | AuthFailure::Revoked) => {
                Err(Redirect::to("/login").into_response())
            }
            Err(e) => Err(pages::error_page(ApiError::from(e))),
        }
    }
}

/// `State` re-exported for the handler modules.
pub(crate) type AppState = State<Shared>;
