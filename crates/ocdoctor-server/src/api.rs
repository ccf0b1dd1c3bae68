//! The JSON API (`/api/v1/…`), `/openapi.json`, `/metrics` and `/healthz`.

use crate::db::{Filter, Incident};
use crate::prior::{Adjusted, TeamPrior};
use crate::{ApiError, ApiUser, App, AppState, Principal, intake, similar, time};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, rejection::BytesRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `POST /api/v1/reports`
pub async fn upload(
    state: AppState,
    ApiUser(user): ApiUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let app = state.0;
    let body = body.map_err(|e| {
        let status = e.status();
        ApiError::new(
            status,
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("body over the limit of {} bytes", app.max_body_bytes)
            } else {
                e.body_text()
            },
        )
    })?;
    let up = intake::parse(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    // A rig's token uploads as that rig and no other.
    let rig = match (&user.rig, up.rig.clone()) {
        (Some(own), Some(asked)) if *own != asked => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("this token belongs to rig {own:?}; it may not upload as {asked:?}"),
            ));
        }
        (Some(own), _) => Some(own.clone()),
        (None, asked) => asked,
    };
    let diagnose = app.diagnose.clone();
    let team = user.team.clone();
    let started = std::time::Instant::now();
    let row = tokio::task::spawn_blocking(move || {
        intake::analyze(&diagnose, up, team, rig, time::now_ms())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    app.metrics.diagnosed(started.elapsed());
    let stored = app.writer.store(row).await.map_err(ApiError::internal)?;
    app.metrics.upload(stored.duplicate);
    let status = if stored.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({"id": stored.id, "duplicate": stored.duplicate})),
    )
        .into_response())
}

/// The list filters as query parameters (empty ones count as absent: forms send them).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub cause: Option<String>,
    pub rig: Option<String>,
    pub probe: Option<String>,
    pub target: Option<String>,
    pub openocd: Option<String>,
    pub since: Option<String>,
    pub team: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl ListQuery {
    /// The database filter; a team other than the caller's is refused, a bad `since` too.
    pub fn filter(&self, user: &Principal) -> Result<Filter, ApiError> {
        if let Some(team) = some(&self.team).filter(|t| *t != user.team) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("this token belongs to team {:?}, not {team:?}", user.team),
            ));
        }
        let since_ms = match some(&self.since) {
            None => None,
            Some(s) => Some(time::parse_since(&s, time::now_ms()).ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("since {s:?}: use YYYY-MM-DD, <n>d or <n>h"),
                )
            })?),
        };
        Ok(Filter {
            cause: some(&self.cause),
            rig: some(&self.rig),
            probe: some(&self.probe),
            target: some(&self.target),
            openocd_version: some(&self.openocd),
            since_ms,
        })
    }

    /// `(limit, offset)`: at most 500 a page.
    pub fn page(&self, default: i64) -> Result<(i64, i64), ApiError> {
        let num = |v: &Option<String>, d: i64, max: i64| -> Result<i64, ApiError> {
            match some(v) {
                None => Ok(d),
                Some(s) => s
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (0..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::new(StatusCode::BAD_REQUEST, format!("{s:?}: a number 0-{max}"))
                    }),
            }
        };
        Ok((
            num(&self.limit, default, 500)?,
            num(&self.offset, 0, 1 << 40)?,
        ))
    }
}

/// `GET /api/v1/incidents`
pub async fn list(
    state: AppState,
    ApiUser(user): ApiUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = q.filter(&user)?;
    let (limit, offset) = q.page(50)?;
    let db = &state.0.db;
    let total = db
        .count(&user.team, &filter)
        .await
        .map_err(ApiError::internal)?;
    let rows = db
        .list(&user.team, &filter, limit, offset)
        .await
        .map_err(ApiError::internal)?;
    let incidents: Vec<Value> = rows.iter().map(summary_json).collect();
    Ok(Json(
        json!({"total": total, "offset": offset, "incidents": incidents}),
    ))
}

fn summary_json(s: &crate::db::Summary) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    v["received"] = json!(time::rfc3339(s.received_at));
    v
}

/// A resolved incident close to the one shown.
#[derive(Debug, Serialize)]
pub struct Similar {
    pub id: String,
    pub similarity: f64,
    pub received_at: i64,
    pub title: Option<String>,
    pub cause: String,
    pub fix: String,
}

/// Everything an incident's page and JSON show.
pub struct IncidentView {
    pub incident: Incident,
    /// The server's diagnosis (stored when it was uploaded).
    pub report: Value,
    pub prior: TeamPrior,
    pub adjusted: Vec<Adjusted>,
    pub similar: Vec<Similar>,
}

/// The most similar resolved incidents listed.
const SIMILAR_SHOWN: usize = 5;
/// Below this estimated Jaccard index two logs are not "similar" (templates of unrelated
/// failures share little beyond start-up lines).
const SIMILAR_MIN: f64 = 0.25;

/// 404 when there is no such incident, 403 when it is another team's.
pub async fn incident_view(
    app: &App,
    user: &Principal,
    id: &str,
) -> Result<IncidentView, ApiError> {
    let incident = app
        .db
        .incident(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no incident {id:?}")))?;
    if incident.team != user.team {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this incident belongs to another team",
        ));
    }
    let report: Value = serde_json::from_str(&incident.report).unwrap_or(Value::Null);
    let counts = app
        .db
        .resolved_counts(&user.team)
        .await
        .map_err(ApiError::internal)?;
    let prior = TeamPrior::new(&app.global_prior, &counts);
    let engine: Vec<(String, f64)> = report["causes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| Some((c["cause"].as_str()?.to_string(), c["confidence"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let adjusted = prior.apply(&engine);
    let similar = most_similar(app, &incident).await?;
    Ok(IncidentView {
        incident,
        report,
        prior,
        adjusted,
        similar,
    })
}

async fn most_similar(app: &App, incident: &Incident) -> Result<Vec<Similar>, ApiError> {
    let Some(sig) = similar::from_hex(&incident.signature) else {
        return Ok(vec![]);
    };
    let resolved = app
        .db
        .resolved(&incident.team)
        .await
        .map_err(ApiError::internal)?;
    let mut found: Vec<Similar> = resolved
        .into_iter()
        .filter(|r| r.id != incident.summary.id)
        .filter_map(|r| {
            let s = similar::jaccard(&sig, &similar::from_hex(&r.signature)?);
            (s >= SIMILAR_MIN).then_some(Similar {
                id: r.id,
                similarity: s,
                received_at: r.received_at,
                title: r.title,
                cause: r.cause,
                fix: r.fix,
            })
        })
        .collect();
    found.sort_by(|a, b| {
        b.similarity
            .total_cmp(&a.similarity)
            .then(b.received_at.cmp(&a.received_at))
    });
    found.truncate(SIMILAR_SHOWN);
    Ok(found)
}

/// `GET /api/v1/incidents/{id}`
pub async fn incident(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = incident_view(&state.0, &user, &id).await?;
    let i = &v.incident;
    let mut out = summary_json(&i.summary);
    out["team"] = json!(i.team);
    out["client_id"] = json!(i.client_id);
    out["command"] = json!(i.command);
    out["log"] = json!(i.log);
    out["report"] = v.report.clone();
    out["redaction"] = serde_json::from_str(&i.redaction).unwrap_or(Value::Null);
    out["resolved"] = match (&i.summary.resolved_cause, &i.summary.resolved_fix) {
        (Some(c), Some(f)) => {
            json!({"cause": c, "fix": f, "at": i.summary.resolved_at.map(time::rfc3339)})
        }
        _ => Value::Null,
    };
    out["similar_resolved"] = json!(v.similar);
    out["team_prior"] = json!({
        "resolved_incidents": v.prior.resolved,
        "pseudo_counts": crate::prior::PSEUDO_COUNTS,
        "max_ratio": crate::prior::MAX_RATIO,
        "max_shift": crate::prior::max_shift(),
        "causes": v.adjusted.iter().map(|a| json!({"cause": a.cause, "engine": a.engine, "ratio": a.ratio, "team": a.team})).collect::<Vec<_>>(),
    });
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
pub struct Resolution {
    pub cause: String,
    pub fix: String,
}

/// Check and record a resolution (shared by the API and the page's form).
pub async fn record_resolution(
    app: &App,
    user: &Principal,
    id: &str,
    r: &Resolution,
) -> Result<(), ApiError> {
    let cause = r.cause.trim();
    let fix = r.fix.trim();
    if !app.causes.iter().any(|c| c == cause) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "cause {cause:?} is not one of ocdoctor's causes (`ocdoctor rules` lists them)"
            ),
        ));
    }
    if fix.is_empty() || fix.len() > 4000 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "fix: say what fixed it (1-4000 characters)",
        ));
    }
    match app.db.team_of(id).await.map_err(ApiError::internal)? {
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no incident {id:?}"),
        )),
        Some(team) if team != user.team => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this incident belongs to another team",
        )),
        Some(_) => {
            app.db
                .resolve(id, cause, fix, time::now_ms())
                .await
                .map_err(ApiError::internal)?;
            Ok(())
        }
    }
}

/// `POST /api/v1/incidents/{id}/resolve`
pub async fn resolve(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    body: Result<Json<Resolution>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(r) = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    record_resolution(&state.0, &user, &id, &r).await?;
    Ok(Json(
        json!({"id": id, "resolved": {"cause": r.cause.trim(), "fix": r.fix.trim()}}),
    ))
}

/// `GET /openapi.json`
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
        .into_response()
}

/// `GET /metrics`
pub async fn metrics(state: AppState) -> Response {
    let app = &state.0;
    let incidents = app.db.total_incidents().await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(&app.writer_stats, incidents),
    )
        .into_response()
}

/// `GET /healthz`: 200 when the database answers.
pub async fn healthz(state: AppState) -> Response {
    match state.0.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")).into_response(),
    }
}

/// Query strings as a map, for pages that keep the filters in their links.
pub type Params = HashMap<String, String>;
