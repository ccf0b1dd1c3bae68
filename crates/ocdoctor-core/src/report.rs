//! The report: contract `ocdoctor.report/v1` (see DESIGN.md). Field names are stable; changes
//! are additive only. Renderers read this and nothing else.

use crate::infer::{Diagnosis, flavor_name};
use crate::kb::{Context, Severity};
use serde::Serialize;

pub const SCHEMA: &str = "ocdoctor.report/v1";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub inputs: Vec<Input>,
    pub openocd: Option<OpenOcd>,
    pub stage: Option<String>,
    pub outcome: String,
    pub causes: Vec<CauseScore>,
    pub findings: Vec<Finding>,
    /// `Error` lines no rule explains (additive to v1): shown so nothing is hidden.
    pub unexplained: Vec<Evidence>,
    /// Bytes of the input skipped as binary, not log text (additive to v1).
    pub binary_bytes_skipped: u64,
    /// The ranking rests on little evidence: one generic line, or only lines no rule knows
    /// (additive to v1). Renderers say so.
    pub thin_evidence: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Input {
    pub kind: String,
    pub path: Option<String>,
    /// For an IDE launch configuration: its name (additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// For an IDE launch configuration: the OpenOCD command line its front end runs (additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenOcd {
    pub version: String,
    pub flavor: String,
    /// The banner as printed (additive to v1).
    pub banner: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CauseScore {
    pub cause: String,
    pub confidence: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub name: String,
    pub cause: String,
    pub confidence: f64,
    pub severity: String,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub fixes: Vec<FixOut>,
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub source: String,
    pub path: Option<String>,
    pub line: u64,
    pub text: String,
    /// 1-based column where the evidence starts in `text` (config and IDE files; additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// Byte range of the evidence in the file `path` names (config and IDE files; additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<[u64; 2]>,
}

impl Evidence {
    /// A line of the log named `log_path` (no column or span: the line is the evidence).
    fn log_line(l: &crate::scan::LineHit, log_path: Option<&str>) -> Evidence {
        Evidence {
            source: "log".into(),
            path: log_path.map(str::to_string),
            line: l.line,
            text: l.text.clone(),
            column: None,
            span: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FixOut {
    pub title: String,
    pub commands: Vec<String>,
    /// Unified diffs against named files (filled by the config checks; empty for log rules).
    pub edits: Vec<String>,
    /// Config lines to add or change (additive to v1).
    pub config: Vec<String>,
}

/// What may stand between `{` and `}` as a placeholder (anything else, `{}` included, is text).
fn is_placeholder_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Fill `{name}` placeholders from captures and known values; unknown ones become `<name>`.
pub fn fill(template: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_placeholder_name(&after[..close]) => {
                let name = &after[..close];
                match vars.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                    }
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Three decimals, and never exactly 0 or 1: the rules are evidence, not proof. Rounded down, so the listed confidences never sum to more than 1.
fn round(p: f64) -> f64 {
    ((p * 1000.0 + 1e-9).floor() / 1000.0).clamp(0.001, 0.999)
}

pub fn build(d: &Diagnosis<'_>, inputs: Vec<Input>, log_path: Option<&str>) -> Report {
    let version = d.scan.banner.as_ref().map(|b| b.version);
    let flavor = d.scan.banner.as_ref().map(|b| flavor_name(b.flavor));
    let empty = std::collections::HashSet::new();
    let cx = Context {
        version,
        flavor,
        os: d.os,
        facts: &d.facts,
        fired_rules: &empty,
        env: &d.env,
    };
    let mut findings = Vec::new();
    for f in &d.fired {
        if f.rule.severity == Severity::Info {
            continue;
        }
        let mut vars = f.captures.clone();
        if let Some(v) = version {
            vars.push(("version".into(), v.to_string()));
        }
        let fixes = f
            .rule
            .fixes
            .iter()
            .filter(|x| x.when.holds(&cx))
            // A command that is nothing but a placeholder (`{fixed}`: the corrected command
            // line) is only a fix when the check computed it; `<fixed>` would help no one.
            .filter(|x| {
                x.commands.iter().chain(&x.config).all(|c| {
                    let t = c.trim();
                    let whole = t.strip_prefix('{').and_then(|r| r.strip_suffix('}'));
                    !whole.is_some_and(|name| {
                        is_placeholder_name(name) && !vars.iter().any(|(k, _)| k == name)
                    })
                })
            })
            .map(|x| FixOut {
                title: fill(&x.title, &vars),
                commands: x.commands.iter().map(|c| fill(c, &vars)).collect(),
                edits: vec![],
                config: x.config.iter().map(|c| fill(c, &vars)).collect(),
            })
            .collect();
        // Edits the config/IDE checks proposed come first: they are the exact fix.
        let mut fixes: Vec<FixOut> = fixes;
        let edits: Vec<String> = f.problems.iter().filter_map(|p| p.edit.clone()).collect();
        if !edits.is_empty() {
            fixes.insert(
                0,
                FixOut {
                    title: "Apply the edit (`ocdoctor fix --apply` does it, with a backup)".into(),
                    commands: vec![],
                    edits,
                    config: vec![],
                },
            );
        }
        findings.push(Finding {
            rule: f.rule.code.clone(),
            name: f.rule.name.clone(),
            cause: f.rule.cause.clone(),
            confidence: round(d.confidence(&f.rule.cause)),
            severity: f.rule.severity.as_str().to_string(),
            title: fill(&f.rule.title, &vars),
            explanation: fill(f.rule.explanation.trim(), &vars),
            evidence: f
                .lines
                .iter()
                .map(|l| Evidence::log_line(l, log_path))
                .chain(f.problems.iter().map(|p| Evidence {
                    source: p.source.clone(),
                    path: p.path.clone(),
                    line: p.line,
                    text: if p.text.is_empty() {
                        p.message.clone()
                    } else {
                        p.text.clone()
                    },
                    column: (p.column > 0 && !p.text.is_empty()).then_some(p.column),
                    span: p.span.map(|(a, b)| [a, b]),
                }))
                // Machine-side evidence has no line: `line` is 0 and `source` is "env".
                .chain(f.env_lines.iter().map(|t| Evidence {
                    source: "env".into(),
                    path: None,
                    line: 0,
                    text: t.clone(),
                    column: None,
                    span: None,
                }))
                .collect(),
            fixes,
            checks: f.rule.checks.iter().map(|c| fill(c, &vars)).collect(),
        });
    }
    findings.extend(
        d.catalog
            .iter()
            .filter_map(|c| catalog_finding(d, c, log_path)),
    );
    // Findings are ordered by confidence (stable: rules keep their order among equals).
    findings.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    Report {
        schema: SCHEMA,
        tool: Tool {
            name: "ocdoctor",
            version: env!("CARGO_PKG_VERSION"),
        },
        inputs: {
            let mut inputs = inputs;
            if !d.env.is_empty() {
                inputs.push(Input {
                    kind: "env".into(),
                    path: None,
                    config: None,
                    command: None,
                });
            }
            inputs
        },
        openocd: d.scan.banner.as_ref().map(|b| OpenOcd {
            version: b.version.to_string(),
            flavor: flavor_name(b.flavor).to_string(),
            banner: b.raw.clone(),
        }),
        stage: d.stage.map(str::to_string),
        outcome: d.outcome.as_str().to_string(),
        causes: d
            .causes
            .iter()
            .map(|(c, p)| CauseScore {
                cause: c.clone(),
                confidence: round(*p),
            })
            .collect(),
        findings,
        unexplained: d
            .scan
            .unexplained_errors
            .iter()
            .map(|l| Evidence::log_line(l, log_path))
            .collect(),
        binary_bytes_skipped: d.scan.binary_bytes,
        thin_evidence: d.thin && d.outcome.as_str() != "ok",
    }
}

/// A finding for the unexplained error lines of one catalog subsystem: rule `catalog`, name
/// the subsystem, cause the most likely of the subsystem's causes. `None` when the subsystem's
/// errors say nothing about the cause.
fn catalog_finding(
    d: &Diagnosis<'_>,
    c: &crate::infer::CatalogFinding,
    log_path: Option<&str>,
) -> Option<Finding> {
    let catalog = crate::catalog::Catalog::embedded();
    let (cause, confidence) = c
        .subsystem
        .causes
        .iter()
        .filter(|(_, lr)| **lr > 1.0)
        .map(|(cause, _)| (cause.clone(), d.confidence(cause)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let first = &catalog.formats[c.lines[0].found.format as usize];
    let mut likely: Vec<(&String, &f64)> = c
        .subsystem
        .causes
        .iter()
        .filter(|(_, lr)| **lr > 1.0)
        .collect();
    likely.sort_by(|a, b| b.1.total_cmp(a.1));
    let likely: Vec<&str> = likely.iter().map(|(c, _)| c.as_str()).collect();
    let lines = if c.count == 1 {
        "an error".to_string()
    } else {
        format!("{} errors", c.count)
    };
    Some(Finding {
        rule: "catalog".into(),
        name: c.subsystem_id.clone(),
        cause,
        confidence: round(confidence),
        severity: "error".into(),
        title: format!(
            "{} reported {lines} that no rule explains",
            c.subsystem.name
        ),
        explanation: format!(
            "OpenOCD prints this line from {} (sources: {}). No rule of ocdoctor knows it, so it \
             counts only as weak evidence for what errors of {} usually mean: {}.",
            first.file,
            first.sources.replace(',', ", "),
            c.subsystem.name,
            likely.join(", ")
        ),
        evidence: c
            .lines
            .iter()
            .map(|l| Evidence::log_line(&l.line, log_path))
            .collect(),
        fixes: vec![],
        checks: vec![],
    })
}

impl Report {
    /// Exit code of the CLI: 0 no problem found, 1 problems found.
    pub fn exit_code(&self) -> i32 {
        let problem = self.outcome == "failed"
            || (self.outcome == "unknown" && self.findings.iter().any(|f| f.severity == "error"));
        i32::from(problem)
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn placeholders() {
        let v = vec![("port".to_string(), "3333".to_string())];
        assert_eq!(
            fill("kill the holder of {port} {x}", &v),
            "kill the holder of 3333 <x>"
        );
        assert_eq!(fill("proc p {} { a }", &v), "proc p {} { a }");
    }
}
