//! The dashboard's pages: server-rendered HTML that works without JavaScript. A browser logs
//! in by posting its token once; the token then rides in an HttpOnly, SameSite=Strict cookie.

use crate::api::{IncidentView, ListQuery, Params, Resolution, incident_view, record_resolution};
use crate::chart;
use crate::html::{esc, opt, page, page_with_status, pct, query, select, when};
use crate::{ApiError, App, AppState, COOKIE, PageUser, Principal, auth, time};
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// An error as a page.
pub fn error_page(e: ApiError) -> Response {
    let mut r = page_with_status(
        e.status,
        "Error",
        None,
        &format!("<h1>{}</h1><p>{}</p>", e.status.as_u16(), esc(&e.message)),
    );
    if let Some(secs) = e.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

pub async fn not_found() -> Response {
    error_page(ApiError::new(StatusCode::NOT_FOUND, "no such page"))
}

pub async fn login_form() -> Response {
    login_page(StatusCode::OK, "")
}

fn login_page(status: StatusCode, message: &str) -> Response {
    let note = if message.is_empty() {
        String::new()
    } else {
        format!("<p class=\"error\">{}</p>", esc(message))
    };
    page_with_status(
        status,
        "Log in",
        None,
        &format!(
            "<h1>Log in</h1>{note}<form method=\"post\" action=\"/login\">\
             <label for=\"token\">Team token</label> <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required> \
             <button type=\"submit\">Log in</button></form>\
             <p>A token comes from <code>ocdoctor serve --create-token TEAM</code>.</p>"
        ),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(state: AppState, Form(f): Form<LoginForm>) -> Response {
    let token = f.token.trim();
    match state.0.db.token(&auth::hash(token)).await {
        Ok(Some(_)) if is_cookie_safe(token) => {
            let cookie =
                format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000");
            let mut r = Redirect::to("/incidents").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(_) => login_page(StatusCode::UNAUTHORIZED, "Unknown token."),
        Err(e) => error_page(ApiError::internal(e)),
    }
}

fn is_cookie_safe(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub async fn logout() -> Response {
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ocdoctor_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

/// `GET /incidents`: newest first, filtered.
pub async fn incidents(
    state: AppState,
    PageUser(user): PageUser,
    Query(q): Query<ListQuery>,
) -> Response {
    match incidents_body(&state.0, &user, &q).await {
        Ok(body) => page("Incidents", Some(&user), &body),
        Err(e) => error_page(e),
    }
}

const PAGE_SIZE: i64 = 50;

async fn incidents_body(app: &App, user: &Principal, q: &ListQuery) -> Result<String, ApiError> {
    let filter = q.filter(user)?;
    let (_, offset) = q.page(PAGE_SIZE)?;
    let total = app
        .db
        .count(&user.team, &filter)
        .await
        .map_err(ApiError::internal)?;
    let rows = app
        .db
        .list(&user.team, &filter, PAGE_SIZE, offset)
        .await
        .map_err(ApiError::internal)?;
    let val = |v: &Option<String>| v.clone().unwrap_or_default();
    let text_input = |name: &str, label: &str, value: &str| {
        format!(
            "<label for=\"{name}\">{label}</label> <input id=\"{name}\" name=\"{name}\" value=\"{}\" size=\"12\">",
            esc(value)
        )
    };
    let mut causes = app.causes.clone();
    causes.push("none".into());
    let mut s = format!(
        "<h1>Incidents</h1><form method=\"get\" action=\"/incidents\" class=\"filters\">\
         <label for=\"cause\">Cause</label> {} {} {} {} {} {} <button type=\"submit\">Filter</button> <a href=\"/incidents\">clear</a></form>",
        select("cause", &causes, &val(&q.cause), Some("any")),
        text_input("rig", "Rig", &val(&q.rig)),
        text_input("probe", "Probe", &val(&q.probe)),
        text_input("target", "Target", &val(&q.target)),
        text_input("openocd", "OpenOCD", &val(&q.openocd)),
        text_input("since", "Since (YYYY-MM-DD, 7d)", &val(&q.since)),
    );
    s += &format!(
        "<p>{total} incident{}</p>",
        if total == 1 { "" } else { "s" }
    );
    s += "<table class=\"incidents\"><thead><tr><th>Received</th><th>Rig</th><th>Probe</th><th>Target</th>\
          <th>OpenOCD</th><th>Cause</th><th>Finding</th><th>Resolved</th></tr></thead><tbody>";
    for r in &rows {
        s += &format!(
            "<tr><td><a href=\"/incidents/{id}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{} <span class=\"conf\">{}</span></td><td>{}</td><td>{}</td></tr>",
            when(r.received_at),
            opt(&r.rig),
            opt(&r.probe),
            opt(&r.target),
            opt(&r.openocd_version),
            esc(&r.cause),
            pct(r.confidence),
            opt(&r.title),
            r.resolved_cause
                .as_deref()
                .map_or_else(String::new, |c| format!("✓ {}", esc(c))),
            id = esc(&r.id),
        );
    }
    s += "</tbody></table>";
    let keep = |offset: i64| {
        let offset = offset.to_string();
        esc(&query(&[
            ("cause", &val(&q.cause)),
            ("rig", &val(&q.rig)),
            ("probe", &val(&q.probe)),
            ("target", &val(&q.target)),
            ("openocd", &val(&q.openocd)),
            ("since", &val(&q.since)),
            ("offset", if offset == "0" { "" } else { &offset }),
        ]))
    };
    s += "<p class=\"pager\">";
    if offset > 0 {
        s += &format!(
            "<a href=\"/incidents{}\">newer</a> ",
            keep((offset - PAGE_SIZE).max(0))
        );
    }
    if offset + PAGE_SIZE < total {
        s += &format!(
            "<a href=\"/incidents{}\">older</a>",
            keep(offset + PAGE_SIZE)
        );
    }
    s += "</p>";
    Ok(s)
}

/// `GET /incidents/{id}`
pub async fn incident(
    state: AppState,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Response {
    match incident_view(&state.0, &user, &id).await {
        Ok(v) => {
            let title = v
                .incident
                .summary
                .title
                .clone()
                .unwrap_or_else(|| v.incident.summary.cause.clone());
            page(&title, Some(&user), &incident_body(&state.0, &v))
        }
        Err(e) => error_page(e),
    }
}

fn incident_body(app: &App, v: &IncidentView) -> String {
    let i = &v.incident;
    let s = &i.summary;
    let mut out = format!(
        "<h1>{}</h1><table class=\"facts\"><tr><th>Received</th><td>{}</td></tr><tr><th>Rig</th><td>{}</td></tr>\
         <tr><th>Probe</th><td>{}</td></tr><tr><th>Target</th><td>{}</td></tr><tr><th>OpenOCD</th><td>{}</td></tr>\
         <tr><th>Outcome</th><td>{}</td></tr><tr><th>Stage</th><td>{}</td></tr><tr><th>Command</th><td><code>{}</code></td></tr>\
         <tr><th>Redacted</th><td>{}</td></tr></table>",
        esc(s.title.as_deref().unwrap_or(&s.cause)),
        when(s.received_at),
        opt(&s.rig),
        opt(&s.probe),
        opt(&s.target),
        opt(&s.openocd_version),
        esc(&s.outcome),
        opt(&s.stage),
        opt(&i.command),
        esc(&redaction_text(&i.redaction)),
    );
    if let (Some(c), Some(f)) = (&s.resolved_cause, &s.resolved_fix) {
        out += &format!(
            "<section class=\"resolved\"><h2>Resolved: {}</h2><p>What fixed it: {}</p></section>",
            esc(c),
            esc(f)
        );
    }
    out += &causes_section(v);
    out += &similar_section(v);
    out += &findings_section(&v.report);
    out += &resolve_form(app, v);
    out += &log_section(&i.log, &v.report);
    out
}

fn redaction_text(json: &str) -> String {
    let counts: BTreeMap<String, u64> = serde_json::from_str(json).unwrap_or_default();
    if counts.is_empty() {
        return "nothing".into();
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn causes_section(v: &IncidentView) -> String {
    let mut s = String::from(
        "<section><h2>Causes</h2><table class=\"causes\"><thead><tr><th>Cause</th><th>Engine</th>\
         <th>Team prior ×</th><th>With team prior</th></tr></thead><tbody>",
    );
    for a in &v.adjusted {
        s += &format!(
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
            esc(&a.cause),
            pct(a.engine),
            a.ratio,
            pct(a.team)
        );
    }
    s += &format!(
        "</tbody></table><p class=\"note\">Team prior: a bounded Bayesian update from this team's {} resolved \
         incident{}. The team's base rate of each cause is the Dirichlet posterior mean with {} pseudo-counts \
         spread as the engine's corpus base rates; the engine's probability is multiplied by team rate ÷ corpus \
         rate, capped to [1/{r}, {r}], and renormalised, so no cause moves by more than {} points.</p></section>",
        v.prior.resolved,
        if v.prior.resolved == 1 { "" } else { "s" },
        crate::prior::PSEUDO_COUNTS,
        (crate::prior::max_shift() * 100.0).round(),
        r = crate::prior::MAX_RATIO,
    );
    s
}

fn similar_section(v: &IncidentView) -> String {
    let mut s = String::from("<section><h2>Similar resolved incidents</h2>");
    if v.similar.is_empty() {
        s += "<p>None yet: resolved incidents whose logs share most line templates with this one appear here.</p>";
    } else {
        s += "<table class=\"similar\"><thead><tr><th>Similarity</th><th>Incident</th><th>Cause</th><th>What fixed it</th></tr></thead><tbody>";
        for m in &v.similar {
            s += &format!(
                "<tr><td>{}</td><td><a href=\"/incidents/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                pct(m.similarity),
                esc(&m.id),
                esc(m.title.as_deref().unwrap_or(&m.cause)),
                esc(&m.cause),
                esc(&m.fix)
            );
        }
        s += "</tbody></table><p class=\"note\">Similarity: the share of line templates (numbers, hex values and paths replaced) the two logs have in common, estimated with 64-slot MinHash.</p>";
    }
    s + "</section>"
}

fn findings_section(report: &Value) -> String {
    let mut s = String::from("<section><h2>Findings</h2>");
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    if findings.is_empty() {
        s += "<p>No finding.</p>";
    }
    for f in &findings {
        let text = |k: &str| f[k].as_str().unwrap_or("").to_string();
        s += &format!(
            "<article class=\"finding\"><h3><code>{}</code> {} <span class=\"conf\">{}</span></h3><p>{}</p>",
            esc(&text("rule")),
            esc(&text("title")),
            pct(f["confidence"].as_f64().unwrap_or(0.0)),
            esc(&text("explanation"))
        );
        let evidence = f["evidence"].as_array().cloned().unwrap_or_default();
        if !evidence.is_empty() {
            s += "<pre class=\"evidence\">";
            for e in &evidence {
                s += &format!(
                    "<span class=\"ln\">{:>5}</span> {}\n",
                    e["line"].as_u64().unwrap_or(0),
                    esc(e["text"].as_str().unwrap_or(""))
                );
            }
            s += "</pre>";
        }
        for fix in f["fixes"].as_array().cloned().unwrap_or_default() {
            s += &format!(
                "<p class=\"fix\">Fix: {}</p>",
                esc(fix["title"].as_str().unwrap_or(""))
            );
            let lines: Vec<String> = ["commands", "config"]
                .iter()
                .flat_map(|k| fix[*k].as_array().cloned().unwrap_or_default())
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect();
            if !lines.is_empty() {
                s += &format!("<pre>{}</pre>", esc(&lines.join("\n")));
            }
        }
        s += "</article>";
    }
    s + "</section>"
}

fn resolve_form(app: &App, v: &IncidentView) -> String {
    let s = &v.incident.summary;
    let current = s.resolved_cause.clone().unwrap_or_else(|| s.cause.clone());
    format!(
        "<section><h2>Resolve</h2><form method=\"post\" action=\"/incidents/{}/resolve\" class=\"resolve\">\
         <label for=\"cause\">Resolved: cause</label> {} <label for=\"fix\">What fixed it</label> \
         <textarea id=\"fix\" name=\"fix\" rows=\"2\" cols=\"60\" required>{}</textarea> \
         <button type=\"submit\">Mark resolved</button></form></section>",
        esc(&s.id),
        select("cause", &app.causes, &current, None),
        opt(&s.resolved_fix).replace('—', ""),
    )
}

/// The stored (redacted) log, numbered, the evidence lines marked.
fn log_section(log: &str, report: &Value) -> String {
    const SHOWN: usize = 3000;
    let evidence: std::collections::HashSet<u64> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["line"].as_u64())
        .collect();
    let mut s = String::from("<section><h2>Log</h2><pre class=\"log\">");
    let mut n = 0usize;
    for (i, line) in log.lines().enumerate() {
        n = i + 1;
        if i < SHOWN {
            let class = if evidence.contains(&(n as u64)) {
                " hit"
            } else {
                ""
            };
            s += &format!("<span class=\"ln{class}\">{n:>5}</span> {}\n", esc(line));
        }
    }
    s += "</pre>";
    if n > SHOWN {
        s += &format!(
            "<p>… {} more lines (the JSON API has the whole log).</p>",
            n - SHOWN
        );
    }
    s + "</section>"
}

/// `POST /incidents/{id}/resolve` (the page's form).
pub async fn resolve(
    state: AppState,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(r): Form<Resolution>,
) -> Response {
    if user.by_cookie && !same_origin(&headers) {
        return error_page(ApiError::new(
            StatusCode::FORBIDDEN,
            "form posted from another site",
        ));
    }
    match record_resolution(&state.0, &user, &id, &r).await {
        Ok(()) => {
            Redirect::to(&format!("/incidents/{}", crate::html::url_enc(&id))).into_response()
        }
        Err(e) => error_page(e),
    }
}

/// A form post with a cookie must come from this site (the cookie is SameSite=Strict too).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// `GET /causes`: incidents per day by cause, the last `days` days.
pub async fn causes(
    state: AppState,
    PageUser(user): PageUser,
    Query(p): Query<Params>,
) -> Response {
    let days: i64 = p
        .get("days")
        .and_then(|d| d.parse().ok())
        .filter(|d| (1..=366).contains(d))
        .unwrap_or(30);
    let today = time::day_of(time::now_ms());
    let from = today - days + 1;
    let rows = match state.0.db.causes_by_day(&user.team, from).await {
        Ok(r) => r,
        Err(e) => return error_page(ApiError::internal(e)),
    };
    page(
        "Causes over time",
        Some(&user),
        &causes_body(&rows, from, today, days),
    )
}

/// The most causes drawn as their own series; the rest are "other causes".
const SERIES: usize = 8;

fn causes_body(rows: &[(i64, String, i64)], from: i64, today: i64, days: i64) -> String {
    let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
    for (_, cause, n) in rows {
        *totals.entry(cause).or_default() += n;
    }
    let mut ranked: Vec<(&str, i64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<&str> = ranked.iter().take(SERIES).map(|(c, _)| *c).collect();
    let day_list: Vec<i64> = (from..=today).collect();
    let mut series: Vec<(String, Vec<i64>)> = shown
        .iter()
        .map(|c| (c.to_string(), vec![0; day_list.len()]))
        .collect();
    let mut other = vec![0i64; day_list.len()];
    for (day, cause, n) in rows {
        let Some(d) = usize::try_from(day - from)
            .ok()
            .filter(|d| *d < day_list.len())
        else {
            continue;
        };
        match shown.iter().position(|c| c == cause) {
            Some(i) => series[i].1[d] += n,
            None => other[d] += n,
        }
    }
    if other.iter().any(|n| *n > 0) {
        series.push(("other causes".into(), other));
    }
    let total: i64 = ranked.iter().map(|(_, n)| n).sum();
    let mut s = format!(
        "<h1>Causes over time</h1><p>The last {days} days (UTC), by the server's diagnosis. \
         <a href=\"/causes?days=7\">7 days</a> <a href=\"/causes?days=30\">30 days</a> <a href=\"/causes?days=90\">90 days</a></p>{}",
        chart::stacked_days(&day_list, &series)
    );
    s += "<ul class=\"legend\">";
    for (i, (name, _)) in series.iter().enumerate() {
        s += &format!("<li>{} {}</li>", chart::swatch(chart::color(i)), esc(name));
    }
    s +=
        "</ul><table><thead><tr><th>Cause</th><th>Incidents</th><th>Share</th></tr></thead><tbody>";
    for (cause, n) in &ranked {
        s += &format!(
            "<tr><td><a href=\"/incidents{}\">{}</a></td><td>{n}</td><td>{}</td></tr>",
            esc(&query(&[("cause", cause), ("since", &format!("{days}d"))])),
            esc(cause),
            pct(*n as f64 / total.max(1) as f64)
        );
    }
    s + "</tbody></table>"
}

/// `GET /breakdown`: incidents by rig, probe, target and OpenOCD version.
pub async fn breakdown(
    state: AppState,
    PageUser(user): PageUser,
    Query(p): Query<Params>,
) -> Response {
    let since_text = p.get("since").cloned().unwrap_or_else(|| "30d".into());
    let Some(since) = time::parse_since(&since_text, time::now_ms()) else {
        return error_page(ApiError::new(
            StatusCode::BAD_REQUEST,
            "since: use YYYY-MM-DD, <n>d or <n>h",
        ));
    };
    let groups = match state.0.db.groups(&user.team, time::day_of(since)).await {
        Ok(g) => g,
        Err(e) => return error_page(ApiError::internal(e)),
    };
    let mut s = format!(
        "<h1>Breakdowns</h1><p>Incidents since {} (whole UTC days) by what they ran on. \
         <a href=\"/breakdown?since=7d\">7 days</a> <a href=\"/breakdown?since=30d\">30 days</a> <a href=\"/breakdown?since=365d\">a year</a></p>",
        esc(&since_text)
    );
    type Pick = fn(&crate::db::Group) -> &Option<String>;
    let dims: [(&str, &str, Pick); 4] = [
        ("Rig", "rig", |g| &g.rig),
        ("Probe", "probe", |g| &g.probe),
        ("Target", "target", |g| &g.target),
        ("OpenOCD version", "openocd", |g| &g.openocd_version),
    ];
    for (title, param, pick) in dims {
        s += &dimension_table(title, param, &groups, pick, &since_text);
    }
    page("Breakdowns", Some(&user), &s)
}

/// Rows shown per breakdown.
const ROWS: usize = 20;

fn dimension_table(
    title: &str,
    param: &str,
    groups: &[crate::db::Group],
    pick: fn(&crate::db::Group) -> &Option<String>,
    since: &str,
) -> String {
    // value → (incidents, cause → incidents)
    let mut by: BTreeMap<Option<&str>, (i64, BTreeMap<&str, i64>)> = BTreeMap::new();
    for g in groups {
        let e = by.entry(pick(g).as_deref()).or_default();
        e.0 += g.count;
        *e.1.entry(&g.cause).or_default() += g.count;
    }
    let mut rows: Vec<_> = by.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let max = rows.first().map_or(0, |r| r.1.0);
    let mut s = format!(
        "<section><h2>{}</h2><table class=\"breakdown\"><thead><tr><th>{}</th><th>Incidents</th><th></th><th>Top cause</th></tr></thead><tbody>",
        esc(title),
        esc(title)
    );
    for (value, (n, causes)) in rows.iter().take(ROWS) {
        let (top, top_n) = causes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or(("", 0), |(c, k)| (*c, *k));
        let label = match value {
            Some(v) => format!(
                "<a href=\"/incidents{}\">{}</a>",
                esc(&query(&[(param, v), ("since", since)])),
                esc(v)
            ),
            None => "<em>not known</em>".to_string(),
        };
        s += &format!(
            "<tr><td>{label}</td><td>{n}</td><td>{}</td><td>{} ({})</td></tr>",
            chart::bar(*n, max, chart::color(0)),
            esc(top),
            pct(top_n as f64 / (*n).max(1) as f64)
        );
    }
    if rows.len() > ROWS {
        s += &format!(
            "<tr><td colspan=\"4\">… {} more</td></tr>",
            rows.len() - ROWS
        );
    }
    s + "</tbody></table></section>"
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
        .into_response()
}

pub async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        include_str!("../static/icon.svg"),
    )
        .into_response()
}
