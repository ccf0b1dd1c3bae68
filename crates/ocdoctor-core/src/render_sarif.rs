//! SARIF 2.1.0 (`--format sarif`): the report as GitHub code scanning and other SARIF viewers
//! read it. Like the other renderers it reads a [`Report`] and does no analysis.
//!
//! Mapping: every rule of the knowledge base is a `reportingDescriptor` of `tool.driver`
//! (id = code, help = its docs, the text of `docs/rules/<CODE>.md`); every finding becomes
//! results. A finding with config/IDE evidence gives one result per file location (each is
//! one place to fix); a log finding gives one result whose location is its first evidence
//! line and whose related locations are the others. Columns are UTF-16 code units, SARIF's
//! default `columnKind`.

use crate::kb::KnowledgeBase;
use crate::render::rule_doc;
use crate::report::{Evidence, Finding, Report};
use serde_json::{Value, json};
use std::path::Path;

/// The schema's own id (OASIS SARIF 2.1.0 with errata 01).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const SARIF_VERSION: &str = "2.1.0";

/// Pseudo-rules for findings that no knowledge-base rule produces (id, short description).
const PSEUDO_RULES: [(&str, &str); 2] = [
    (
        "catalog",
        "an OpenOCD error line no rule explains, weighed by the subsystem that prints it",
    ),
    (
        "unexplained-error",
        "an OpenOCD error line neither a rule nor the message catalog recognises",
    ),
];

/// The report as a SARIF 2.1.0 log (one run); paths as the report has them.
pub fn sarif(report: &Report) -> String {
    sarif_with_base(report, None)
}

/// The report as a SARIF 2.1.0 log, with absolute paths under `base` (the folder the check ran
/// in, usually a repository checkout) made relative to the `%SRCROOT%` base id: GitHub code
/// scanning resolves those against the repository root.
pub fn sarif_with_base(report: &Report, base: Option<&Path>) -> String {
    let base = base
        .and_then(|b| b.to_str())
        .map(|b| b.trim_end_matches(['/', '\\']));
    let kb = KnowledgeBase::embedded();
    let rules = driver_rules(kb);
    let index_of = |id: &str| rules.iter().position(|r| r["id"] == id);
    let mut results = Vec::new();
    for f in &report.findings {
        for mut r in finding_results(f, base) {
            if let Some(i) = index_of(&f.rule) {
                r["ruleIndex"] = json!(i);
            }
            results.push(r);
        }
    }
    for e in &report.unexplained {
        let mut r = json!({
            "ruleId": "unexplained-error",
            "level": "note",
            "message": {"text": format!("OpenOCD error no rule recognises: {}", e.text)},
        });
        if let Some(i) = index_of("unexplained-error") {
            r["ruleIndex"] = json!(i);
        }
        if let Some(loc) = location(e, base) {
            r["locations"] = json!([loc]);
        }
        results.push(r);
    }
    let mut run = json!({
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
            "properties": run_properties(report),
    });
    if let Some(b) = base {
        run["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": file_uri(&format!("{b}/"))}});
    }
    let log = json!({"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]});
    serde_json::to_string_pretty(&log).expect("a SARIF log always serialises") + "\n"
}

fn driver_rules(kb: &KnowledgeBase) -> Vec<Value> {
    let mut rules: Vec<Value> = kb
        .rules
        .iter()
        .map(|r| {
            let doc = rule_doc(kb, &r.code).unwrap_or_default();
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.docs.what.trim()},
                "help": {"text": r.docs.fix.trim(), "markdown": doc},
                "defaultConfiguration": {"level": level(r.severity.as_str())},
                "properties": {"cause": r.cause, "tags": [r.cause.as_str()]},
            })
        })
        .collect();
    rules.extend(PSEUDO_RULES.iter().map(|(id, text)| {
        json!({
            "id": id,
            "shortDescription": {"text": text},
            "defaultConfiguration": {"level": "note"},
        })
    }));
    rules
}

/// SARIF's level for a severity.
fn level(severity: &str) -> &'static str {
    match severity {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

fn message(f: &Finding) -> Value {
    let mut markdown = format!("**{}**\n\n{}", f.title, f.explanation.trim());
    for fix in &f.fixes {
        markdown += &format!("\n\n*Fix:* {}", fix.title);
        for c in fix.commands.iter().chain(&fix.config) {
            markdown += &format!("\n    {c}");
        }
        for d in &fix.edits {
            markdown += &format!("\n\n```diff\n{}\n```", d.trim_end());
        }
    }
    json!({"text": f.title, "markdown": markdown})
}

fn finding_results(f: &Finding, base: Option<&str>) -> Vec<Value> {
    let result = json!({
        "ruleId": f.rule,
        "level": level(&f.severity),
        "message": message(f),
        "properties": {
            "cause": f.cause,
            "confidence": f.confidence,
            "name": f.name,
            "checks": f.checks,
        },
    });
    let in_files: Vec<Value> = f
        .evidence
        .iter()
        .filter(|e| e.source != "log" && e.source != "env")
        .filter_map(|e| location(e, base))
        .collect();
    if !in_files.is_empty() {
        return in_files
            .into_iter()
            .map(|loc| {
                let mut r = result.clone();
                r["locations"] = json!([loc]);
                r
            })
            .collect();
    }
    let mut r = result;
    let mut log_locations = f.evidence.iter().filter_map(|e| location(e, base));
    if let Some(first) = log_locations.next() {
        r["locations"] = json!([first]);
        let related: Vec<Value> = log_locations
            .enumerate()
            .map(|(i, mut l)| {
                l["id"] = json!(i + 1);
                l
            })
            .collect();
        if !related.is_empty() {
            r["relatedLocations"] = json!(related);
        }
    }
    vec![r]
}

/// Where an evidence item is, when it is in a real file: a log line (the whole line) or a
/// config/IDE span. Machine evidence and pseudo files (`<command line>`, `<-c 1>`) have none.
fn location(e: &Evidence, base: Option<&str>) -> Option<Value> {
    let path = e.path.as_deref()?;
    if e.line == 0 || path.is_empty() || (path.starts_with('<') && path.ends_with('>')) {
        return None;
    }
    let mut region = json!({"startLine": e.line, "snippet": {"text": e.text}});
    if let Some((start, end)) = utf16_columns(e) {
        region["startColumn"] = json!(start);
        region["endLine"] = json!(e.line);
        region["endColumn"] = json!(end);
    } else {
        region["endLine"] = json!(e.line);
    }
    Some(json!({
        "physicalLocation": {
            "artifactLocation": artifact(path, base),
            "region": region,
        }
    }))
}

/// The 1-based UTF-16 start and end (exclusive) columns of a config/IDE evidence span on its
/// line. `column` counts characters (as the config and IDE readers do); the span's length is
/// in bytes. A span that runs past the line (a whole line with its newline) ends at the line's
/// end.
fn utf16_columns(e: &Evidence) -> Option<(u64, u64)> {
    let col = usize::try_from(e.column?).ok()?.checked_sub(1)?;
    let [a, b] = e.span?;
    let len = usize::try_from(b.checked_sub(a)?).ok()?;
    // The readers do not count a byte order mark as a column.
    let text = e.text.strip_prefix('\u{feff}').unwrap_or(&e.text);
    let start = text.char_indices().nth(col).map_or(text.len(), |(i, _)| i);
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let u16_len = |s: &str| s.encode_utf16().count() as u64;
    let start_col = u16_len(&text[..start]) + 1;
    // An empty span still marks one column.
    let end_col = (u16_len(&text[..end]) + 1).max(start_col + u64::from(len == 0 || end == start));
    Some((start_col, end_col))
}

/// The artifact location of a path: relative to `%SRCROOT%` when it is under `base`.
fn artifact(path: &str, base: Option<&str>) -> Value {
    let under = base.and_then(|b| path.strip_prefix(b)?.strip_prefix(['/', '\\']));
    match under {
        Some(rel) => json!({"uri": file_uri(rel), "uriBaseId": "%SRCROOT%"}),
        None => json!({"uri": file_uri(path)}),
    }
}

/// A URI reference for a path: relative paths stay relative (GitHub resolves them against the
/// repository root), absolute ones become `file://` URIs. Windows paths use forward slashes.
pub fn file_uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let windows_drive =
        p.len() >= 2 && p.as_bytes()[1] == b':' && p.as_bytes()[0].is_ascii_alphabetic();
    let (prefix, rest) = if windows_drive {
        ("file:///", p.as_str())
    } else if let Some(rest) = p.strip_prefix('/') {
        ("file:///", rest)
    } else {
        ("", p.strip_prefix("./").unwrap_or(&p))
    };
    let mut out = String::from(prefix);
    for b in rest.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~')
            || (windows_drive && b == b':');
        if keep {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

fn run_properties(report: &Report) -> Value {
    json!({
        "outcome": report.outcome,
        "stage": report.stage,
        "openocd": report.openocd.as_ref().map(|o| json!({"version": o.version, "flavor": o.flavor})),
        "causes": report.causes,
        "reportSchema": report.schema,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(text: &str, column: u64, span: [u64; 2]) -> Evidence {
        Evidence {
            source: "config".into(),
            path: Some("board.cfg".into()),
            line: 3,
            text: text.into(),
            column: Some(column),
            span: Some(span),
        }
    }

    #[test]
    fn paths_under_the_base_are_relative_to_srcroot() {
        assert_eq!(
            artifact("/w/repo/boards/x.cfg", Some("/w/repo")),
            json!({"uri": "boards/x.cfg", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact("/w/other/x.cfg", Some("/w/repo")),
            json!({"uri": "file:///w/other/x.cfg"})
        );
        // A sibling folder whose name starts like the base is not under it.
        assert_eq!(
            artifact("/w/repo2/x.cfg", Some("/w/repo")),
            json!({"uri": "file:///w/repo2/x.cfg"})
        );
    }

    #[test]
    fn uris() {
        assert_eq!(file_uri("board/my board.cfg"), "board/my%20board.cfg");
        assert_eq!(file_uri("./x.cfg"), "x.cfg");
        assert_eq!(file_uri("/home/ü/x.cfg"), "file:///home/%C3%BC/x.cfg");
        assert_eq!(file_uri(r"C:\Users\x.cfg"), "file:///C:/Users/x.cfg");
    }

    #[test]
    fn utf16_columns_count_code_units() {
        // `é` is one UTF-16 unit (two bytes), `𝄞` two units (four bytes).
        let e = ev("# é𝄞 adapter_khz 4000", 6, [100, 111]);
        assert_eq!(utf16_columns(&e), Some((7, 18)));
        // Past the end of the line (the newline too): clipped to the line.
        let e = ev("adapter_khz 4000", 1, [0, 17]);
        assert_eq!(utf16_columns(&e), Some((1, 17)));
        // An empty span marks one column.
        let e = ev("abc", 2, [1, 1]);
        assert_eq!(utf16_columns(&e), Some((2, 3)));
    }

    #[test]
    fn pseudo_files_have_no_location() {
        let mut e = ev("-f x.cfg", 4, [3, 8]);
        e.path = Some("<command line>".into());
        assert!(location(&e, None).is_none());
    }
}
