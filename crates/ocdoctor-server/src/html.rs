//! HTML building blocks. Every value that comes from an upload or a request goes through
//! [`esc`] (text and attributes alike); the pages never emit a script.

use crate::Principal;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escape for HTML text and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (a log may hold any) would make the document invalid.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// An optional value, escaped, or a dash.
pub fn opt(v: &Option<String>) -> String {
    v.as_deref().map_or_else(|| "—".to_string(), esc)
}

/// Percent-encode a query-string value.
pub fn url_enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?k=v&…` of the non-empty pairs (to be escaped with [`esc`] where it goes in an attribute).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_enc(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

pub fn pct(p: f64) -> String {
    format!("{:.0} %", (p * 100.0).clamp(0.0, 100.0))
}

pub fn when(ms: i64) -> String {
    let t = crate::time::rfc3339(ms);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

/// A whole page.
pub fn page(title: &str, user: Option<&Principal>, body: &str) -> Response {
    page_with_status(StatusCode::OK, title, user, body)
}

pub fn page_with_status(
    status: StatusCode,
    title: &str,
    user: Option<&Principal>,
    body: &str,
) -> Response {
    let nav = match user {
        Some(u) => format!(
            "<nav><a href=\"/incidents\">Incidents</a> <a href=\"/causes\">Causes over time</a> \
             <a href=\"/breakdown\">Breakdowns</a> <span class=\"team\">team {}</span> \
             <form method=\"post\" action=\"/logout\" class=\"inline\"><button type=\"submit\">Log out</button></form></nav>",
            esc(&u.team)
        ),
        None => "<nav><a href=\"/login\">Log in</a></nav>".to_string(),
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · ocdoctor</title><link rel=\"stylesheet\" href=\"/static/style.css\">\
         <link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\"></head>\
         <body><header><a class=\"brand\" href=\"/incidents\">ocdoctor</a>{nav}</header><main>\n{body}\n</main></body></html>\n",
        esc(title)
    );
    let mut r = (status, html).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// `<select>` with one option selected (`""` is the "any" choice when `any` is given).
pub fn select(name: &str, options: &[String], selected: &str, any: Option<&str>) -> String {
    let mut s = format!("<select name=\"{}\" id=\"{}\">", esc(name), esc(name));
    if let Some(label) = any {
        s += &format!("<option value=\"\">{}</option>", esc(label));
    }
    for o in options {
        let sel = if o == selected { " selected" } else { "" };
        s += &format!("<option value=\"{0}\"{sel}>{0}</option>", esc(o));
    }
    s + "</select>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<script>window.pwned=1</script>"),
            "&lt;script&gt;window.pwned=1&lt;/script&gt;"
        );
        assert_eq!(esc("a\"b'c&\u{1b}"), "a&quot;b&#39;c&amp;\u{fffd}");
        assert_eq!(query(&[("rig", "a b&c"), ("x", "")]), "?rig=a%20b%26c");
    }
}
