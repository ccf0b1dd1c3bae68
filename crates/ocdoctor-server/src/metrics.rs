//! `/metrics` in Prometheus' text format: this instance's counters, and the incidents stored
//! (from the database, so every instance reports the same total).

use crate::{Shared, writer::WriterStats};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct Metrics {
    /// `(route, status)` → requests, and the seconds they took.
    requests: Mutex<BTreeMap<(String, u16), (u64, f64)>>,
    uploads_created: AtomicU64,
    uploads_duplicate: AtomicU64,
    rate_limited: AtomicU64,
    /// Microseconds spent re-diagnosing uploads, and how many.
    diagnose_us: AtomicU64,
    diagnosed: AtomicU64,
}

impl Metrics {
    pub fn upload(&self, duplicate: bool) {
        let c = if duplicate {
            &self.uploads_duplicate
        } else {
            &self.uploads_created
        };
        c.fetch_add(1, Relaxed);
    }
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }
    pub fn diagnosed(&self, took: std::time::Duration) {
        self.diagnose_us.fetch_add(took.as_micros() as u64, Relaxed);
        self.diagnosed.fetch_add(1, Relaxed);
    }

    pub fn render(&self, writer: &WriterStats, incidents: Option<i64>) -> String {
        let mut s = String::new();
        let mut counter = |name: &str, help: &str, kind: &str, rows: &[(String, String)]| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(s, "{name}{labels} {value}");
            }
        };
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let label = |(route, status): &(String, u16)| {
            format!(
                "{{route=\"{}\",status=\"{status}\"}}",
                route.replace(['"', '\\'], "_")
            )
        };
        counter(
            "ocdoctor_http_requests_total",
            "HTTP requests by route and status.",
            "counter",
            &requests
                .iter()
                .map(|(k, (n, _))| (label(k), n.to_string()))
                .collect::<Vec<_>>(),
        );
        counter(
            "ocdoctor_http_request_seconds_total",
            "Time spent answering, by route and status.",
            "counter",
            &requests
                .iter()
                .map(|(k, (_, secs))| (label(k), format!("{secs:.6}")))
                .collect::<Vec<_>>(),
        );
        let plain = |v: &AtomicU64| vec![(String::new(), v.load(Relaxed).to_string())];
        counter(
            "ocdoctor_uploads_total",
            "Uploads accepted: new incidents and repeated client ids.",
            "counter",
            &[
                (
                    "{result=\"created\"}".into(),
                    self.uploads_created.load(Relaxed).to_string(),
                ),
                (
                    "{result=\"duplicate\"}".into(),
                    self.uploads_duplicate.load(Relaxed).to_string(),
                ),
            ],
        );
        counter(
            "ocdoctor_rate_limited_total",
            "Requests refused by the rate limit.",
            "counter",
            &plain(&self.rate_limited),
        );
        counter(
            "ocdoctor_diagnose_seconds_total",
            "Time spent re-diagnosing uploaded logs.",
            "counter",
            &[(
                String::new(),
                format!("{:.6}", self.diagnose_us.load(Relaxed) as f64 / 1e6),
            )],
        );
        counter(
            "ocdoctor_diagnoses_total",
            "Uploaded logs re-diagnosed.",
            "counter",
            &plain(&self.diagnosed),
        );
        counter(
            "ocdoctor_db_commits_total",
            "Upload transactions committed (each stores a batch).",
            "counter",
            &plain(&writer.commits),
        );
        counter(
            "ocdoctor_db_rows_total",
            "Uploads stored by those commits.",
            "counter",
            &plain(&writer.rows),
        );
        if let Some(n) = incidents {
            counter(
                "ocdoctor_incidents",
                "Incidents stored (all teams).",
                "gauge",
                &[(String::new(), n.to_string())],
            );
        }
        s
    }
}

/// Count every request by route and status, and set the security headers every page gets:
/// no script may run (the pages have none), nothing may frame them, no other site learns
/// their URLs (`same-origin`, not `no-referrer`: with that, browsers send `Origin: null` on
/// the pages' own form posts, which the resolve form's origin check must refuse).
pub async fn track(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let mut response = next.run(req).await;
    let took = started.elapsed().as_secs_f64();
    {
        let mut map = app
            .metrics
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = map.entry((route, response.status().as_u16())).or_default();
        e.0 += 1;
        e.1 += took;
    }
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
