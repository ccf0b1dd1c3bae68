//! Renderers: text (rustc-style, optional colour), Markdown (forum-ready), JSON, and SARIF
//! (`render_sarif.rs`). They read a [`Report`] and do no analysis.

use crate::kb::KnowledgeBase;
use crate::report::{Evidence, Finding, Report};
use anstyle::{AnsiColor, Effects, Style};
use std::fmt::Write as _;

pub use crate::render_sarif::sarif;

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report always serialises") + "\n"
}

struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, style: Style, s: &str) -> String {
        if self.on {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }
    fn sev(&self, sev: &str) -> Style {
        match sev {
            "error" => Style::new()
                .fg_color(Some(AnsiColor::BrightRed.into()))
                .effects(Effects::BOLD),
            "warning" => Style::new()
                .fg_color(Some(AnsiColor::BrightYellow.into()))
                .effects(Effects::BOLD),
            _ => Style::new()
                .fg_color(Some(AnsiColor::BrightCyan.into()))
                .effects(Effects::BOLD),
        }
    }
    fn blue(&self) -> Style {
        Style::new()
            .fg_color(Some(AnsiColor::BrightBlue.into()))
            .effects(Effects::BOLD)
    }
    fn bold(&self) -> Style {
        Style::new().effects(Effects::BOLD)
    }
    fn green(&self) -> Style {
        Style::new()
            .fg_color(Some(AnsiColor::BrightGreen.into()))
            .effects(Effects::BOLD)
    }
}

/// The first `n` causes with their confidence: `cause 62 % · other 20 %`.
fn ranked_causes(report: &Report, n: usize) -> String {
    let ranked: Vec<String> = report
        .causes
        .iter()
        .take(n)
        .map(|c| format!("{} {}", c.cause, pct(c.confidence)))
        .collect();
    ranked.join(" · ")
}

fn pct(p: f64) -> String {
    match p {
        p if p >= 0.995 => ">99%".to_string(),
        p if p < 0.005 => "<1%".to_string(),
        p => format!("{:.0}%", p * 100.0),
    }
}

/// rustc-style text. `color` decides ANSI styling (the CLI turns it off when piped / NO_COLOR).
pub fn text(report: &Report, color: bool) -> String {
    let p = Palette { on: color };
    let mut out = String::new();
    let src = report
        .inputs
        .first()
        .and_then(|i| i.path.clone())
        .unwrap_or_else(|| "<stdin>".into());
    // A static check (`ocdoctor check`) read configuration files, not a log: its wording says
    // what would happen, and never mentions a log.
    let is_check = !report.inputs.is_empty() && report.inputs.iter().all(|i| i.kind != "log");
    let unknown_version = if is_check {
        "OpenOCD version unknown (no openocd found to ask)"
    } else {
        "OpenOCD version unknown (no banner in the log)"
    };
    let version = report
        .openocd
        .as_ref()
        .map_or(unknown_version.to_string(), |o| {
            format!("OpenOCD {} ({})", o.version, o.flavor)
        });

    match report.outcome.as_str() {
        "ok" if !report.causes.is_empty() => {
            let _ = writeln!(
                out,
                "{}: the run worked, but something is degrading it: {}",
                p.paint(p.sev("warning"), "ok"),
                ranked_causes(report, 3)
            );
            let _ = writeln!(out, "  {} {src} · {version}", p.paint(p.blue(), "-->"));
        }
        "ok" => {
            let _ = writeln!(
                out,
                "{}: the run looks healthy — no problem found",
                p.paint(p.green(), "ok")
            );
            let _ = writeln!(out, "  {} {src} · {version}", p.paint(p.blue(), "-->"));
        }
        _ if report.findings.is_empty() && report.unexplained.is_empty() && is_check => {
            let _ = writeln!(
                out,
                "{}: no problem found in {src} · checked against {version}",
                p.paint(p.green(), "ok")
            );
        }
        _ if report.findings.is_empty() && report.unexplained.is_empty() => {
            let _ = writeln!(
                out,
                "{}: no known failure found in {src} (outcome: {}) · {version}",
                p.paint(p.sev("note"), "note"),
                report.outcome
            );
        }
        _ => {}
    }

    let errors: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == "error")
        .collect();
    let warnings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity != "error")
        .collect();

    if report.outcome != "ok"
        && !report.causes.is_empty()
        && (!errors.is_empty() || !warnings.is_empty())
    {
        let stage = report
            .stage
            .as_deref()
            .map_or(String::new(), |s| format!(", during {s}"));
        let outcome = match (report.outcome.as_str(), is_check) {
            ("failed", true) => "OpenOCD would fail",
            ("failed", false) => "OpenOCD failed",
            (_, true) => "OpenOCD would run, with problems",
            ("ok", false) => "OpenOCD ran",
            _ => "the outcome is not in the input",
        };
        let _ = writeln!(
            out,
            "{} {src}: {outcome}{stage} · {version}",
            p.paint(p.bold(), "diagnosis:")
        );
        let _ = writeln!(out, "  likely causes: {}", ranked_causes(report, 4));
        if report.thin_evidence {
            let _ = writeln!(
                out,
                "  {}: the evidence is thin (one generic line, or only lines no rule knows); treat the ranking as a lead, not an answer",
                p.paint(p.sev("note"), "note")
            );
        }
        let _ = writeln!(out);
    }

    for (i, f) in errors.iter().chain(warnings.iter()).enumerate() {
        finding_text(&mut out, &p, f, &src, report.outcome == "ok");
        if i + 1 < report.findings.len() {
            let _ = writeln!(out);
        }
    }

    if !report.unexplained.is_empty() && report.outcome != "ok" {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}: OpenOCD reported errors no rule recognises",
            p.paint(p.sev("note"), "note")
        );
        evidence_text(&mut out, &p, &report.unexplained, &src, "note");
    }

    if report.binary_bytes_skipped > 0 {
        let _ = writeln!(
            out,
            "{}: {} bytes of binary data (not log text) were skipped",
            p.paint(p.sev("note"), "note"),
            report.binary_bytes_skipped
        );
    }

    // The command lines the IDE front ends will run (static checks of launch files).
    for i in report.inputs.iter().filter(|i| i.command.is_some()) {
        let _ = writeln!(
            out,
            "{}: {} [{}] runs: {}",
            p.paint(p.sev("note"), "note"),
            i.path.as_deref().unwrap_or("<ide>"),
            i.config.as_deref().unwrap_or(""),
            i.command.as_deref().unwrap_or("")
        );
    }
    // With no finding the ranking is the base rates alone: say that, not "cannot separate".
    if report.findings.is_empty() && !report.causes.is_empty() && report.outcome == "failed" {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}: nothing in the input points to a cause; rerun OpenOCD with -d3 and diagnose the whole output, or run `ocdoctor env`",
            p.paint(p.sev("help"), "help")
        );
    }
    // When the top two causes are close, say which check would separate them.
    else if report.causes.len() >= 2 && report.outcome != "ok" {
        let (a, b) = (&report.causes[0], &report.causes[1]);
        if a.confidence - b.confidence < 0.3 && a.cause != "unknown" && b.cause != "unknown" {
            let check = report.findings.iter().flat_map(|f| f.checks.iter()).next();
            let _ = writeln!(out);
            let _ = write!(
                out,
                "{}: {} alone cannot separate {} ({}) from {} ({})",
                p.paint(p.sev("note"), "note"),
                if is_check {
                    "the configuration"
                } else {
                    "the log"
                },
                a.cause,
                pct(a.confidence),
                b.cause,
                pct(b.confidence)
            );
            match check {
                Some(c) => {
                    let _ = writeln!(out, "; check: {c}");
                }
                None => {
                    let _ = writeln!(out);
                }
            }
        }
    }
    out
}

fn finding_text(out: &mut String, p: &Palette, f: &Finding, src: &str, healthy_run: bool) {
    let sev = if f.severity == "error" {
        "error"
    } else {
        "warning"
    };
    let conf = if healthy_run {
        String::new()
    } else {
        format!(" ({} {})", f.cause, pct(f.confidence))
    };
    let _ = writeln!(
        out,
        "{}{}",
        p.paint(p.sev(sev), &format!("{sev}[{}]", f.rule)),
        p.paint(p.bold(), &format!(": {}{conf}", f.title))
    );
    evidence_text(out, p, &f.evidence, src, sev);
    let bar = p.paint(p.blue(), "   =");
    for para in wrap(&f.explanation, 96) {
        let _ = writeln!(out, "{bar} {para}");
    }
    for fix in &f.fixes {
        let _ = writeln!(out, "{bar} {}: {}", p.paint(p.bold(), "help"), fix.title);
        for c in &fix.commands {
            let _ = writeln!(out, "         {}", p.paint(p.green(), c));
        }
        for c in &fix.config {
            let _ = writeln!(out, "         {} {}", p.paint(p.blue(), "cfg:"), c);
        }
        for diff in &fix.edits {
            for l in diff.lines() {
                let style = if l.starts_with('+') && !l.starts_with("+++") {
                    p.green()
                } else if l.starts_with('-') && !l.starts_with("---") {
                    p.sev("error")
                } else {
                    p.blue()
                };
                let _ = writeln!(out, "         {}", p.paint(style, l));
            }
        }
    }
    for c in &f.checks {
        let _ = writeln!(out, "{bar} {}: {c}", p.paint(p.bold(), "check"));
    }
}

fn evidence_text(out: &mut String, p: &Palette, all: &[Evidence], src: &str, sev: &str) {
    let ev: Vec<&Evidence> = all.iter().filter(|e| e.source == "log").collect();
    for e in all.iter().filter(|e| e.source == "env") {
        let _ = writeln!(out, "  {} {}", p.paint(p.blue(), "machine:"), e.text);
    }
    // Config and IDE files: file:line, then the line.
    for e in all
        .iter()
        .filter(|e| e.source != "env" && e.source != "log")
    {
        let at = match (&e.path, e.line, e.column) {
            (Some(path), l, Some(c)) if l > 0 => format!("{path}:{l}:{c}"),
            (Some(path), l, None) if l > 0 => format!("{path}:{l}"),
            (Some(path), _, _) => path.clone(),
            (None, _, _) => format!("<{}>", e.source),
        };
        let _ = writeln!(out, "  {} {at}", p.paint(p.blue(), "-->"));
        let _ = writeln!(
            out,
            "   {} {}",
            p.paint(p.blue(), "|"),
            p.paint(p.sev(sev), &e.text)
        );
        if let Some((indent, width)) = underline(e) {
            let _ = writeln!(
                out,
                "   {} {}{}",
                p.paint(p.blue(), "|"),
                " ".repeat(indent),
                p.paint(p.sev(sev), &"^".repeat(width))
            );
        }
    }
    let Some(first) = ev.first() else { return };
    let width = ev
        .iter()
        .map(|e| e.line.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(width);
    let _ = writeln!(
        out,
        "{pad}{} {src}:{}",
        p.paint(p.blue(), "-->"),
        first.line
    );
    let _ = writeln!(out, "{pad} {}", p.paint(p.blue(), "|"));
    let mut prev: Option<u64> = None;
    for e in ev {
        if prev.is_some_and(|l| e.line > l + 1) {
            let _ = writeln!(out, "{}", p.paint(p.blue(), "..."));
        }
        let num = format!("{:>width$}", e.line);
        let _ = writeln!(
            out,
            "{} {} {}",
            p.paint(p.blue(), &num),
            p.paint(p.blue(), "|"),
            p.paint(p.sev(sev), &e.text)
        );
        prev = Some(e.line);
    }
    let _ = writeln!(out, "{pad} {}", p.paint(p.blue(), "|"));
}

/// `text` as a Markdown code span: the fence is one backtick longer than the longest run of
/// backticks inside (CommonMark), padded when the text starts or ends with one, so a check
/// that itself quotes a command (`` `show configuration` ``) stays one code span.
pub fn code_span(text: &str) -> String {
    let longest = longest_backtick_run(text);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced Markdown code block whose fence no line of `body` can close early.
fn code_block(lang: &str, body: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(3));
    format!("{fence}{lang}\n{body}\n{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A report someone can paste into a forum post or an issue.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let version = report.openocd.as_ref().map_or("unknown".to_string(), |o| {
        format!("{} ({})", o.version, o.flavor)
    });
    let _ = writeln!(
        out,
        "## OpenOCD diagnosis (ocdoctor {})\n",
        report.tool.version
    );
    let _ = writeln!(out, "- **OpenOCD**: {version}");
    let _ = writeln!(out, "- **Outcome**: {}", report.outcome);
    if let Some(s) = &report.stage {
        let _ = writeln!(out, "- **Stage**: {s}");
    }
    for i in report.inputs.iter().filter(|i| i.command.is_some()) {
        let _ = writeln!(
            out,
            "- **{}** ({}) runs: {}",
            i.config.as_deref().unwrap_or(""),
            code_span(i.path.as_deref().unwrap_or("")),
            code_span(i.command.as_deref().unwrap_or(""))
        );
    }
    if !report.causes.is_empty() && report.findings.is_empty() {
        let _ = writeln!(
            out,
            "\nNo rule recognised the failure: the causes below are base rates, not evidence."
        );
    }
    if !report.causes.is_empty() {
        let _ = writeln!(out, "\n| cause | confidence |\n|---|---|");
        // Without evidence only the first few base rates are worth a reader's time.
        let shown = if report.findings.is_empty() {
            3
        } else {
            report.causes.len()
        };
        for c in report.causes.iter().take(shown) {
            let _ = writeln!(out, "| {} | {} |", code_span(&c.cause), pct(c.confidence));
        }
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "\n### {} `{}` {} — {}\n",
            if f.severity == "error" {
                "❌"
            } else {
                "⚠️"
            },
            f.rule,
            f.name,
            f.title
        );
        let _ = writeln!(out, "{}\n", f.explanation.trim());
        let mut evidence = String::new();
        for e in &f.evidence {
            if e.source != "log" && e.source != "env" {
                // Config and IDE evidence names its file, and points at the span.
                let at = match (&e.path, e.column) {
                    (Some(path), Some(c)) => format!("{path}:{}:{c}", e.line),
                    (Some(path), None) => format!("{path}:{}", e.line),
                    (None, _) => format!("<{}>", e.source),
                };
                let _ = writeln!(evidence, "--> {at}");
                let _ = writeln!(evidence, "{:>5} | {}", e.line, e.text);
                if let Some((indent, width)) = underline(e) {
                    let _ = writeln!(
                        evidence,
                        "      | {}{}",
                        " ".repeat(indent),
                        "^".repeat(width)
                    );
                }
                continue;
            }
            let _ = writeln!(evidence, "{:>5} | {}", e.line, e.text);
        }
        let _ = writeln!(
            out,
            "{}",
            code_block("text", evidence.trim_end_matches('\n'))
        );
        for fix in &f.fixes {
            let _ = writeln!(out, "\n**Fix: {}**", fix.title);
            if !fix.commands.is_empty() {
                let _ = writeln!(out, "\n{}", code_block("sh", &fix.commands.join("\n")));
            }
            if !fix.config.is_empty() {
                let _ = writeln!(out, "\n{}", code_block("tcl", &fix.config.join("\n")));
            }
            for diff in &fix.edits {
                let _ = writeln!(out, "\n{}", code_block("diff", diff.trim_end()));
            }
        }
        for c in &f.checks {
            let _ = writeln!(out, "\n_Check:_ {}", code_span(c));
        }
    }
    if !report.unexplained.is_empty() {
        let lines: Vec<String> = report
            .unexplained
            .iter()
            .map(|e| format!("{:>5} | {}", e.line, e.text))
            .collect();
        let _ = writeln!(
            out,
            "\n### Errors no rule recognises\n\n{}",
            code_block("text", &lines.join("\n"))
        );
    }
    if report.outcome == "ok" {
        let _ = writeln!(out, "\nThe run looks healthy: no problem found.");
    }
    out
}

/// `ocdoctor explain CODE`: a rule's docs as Markdown (also the source of docs/rules/*.md).
pub fn rule_doc(kb: &KnowledgeBase, code: &str) -> Option<String> {
    let r = kb.rule(code)?;
    let mut out = String::new();
    let _ = writeln!(out, "# {} `{}`\n", r.code, r.name);
    let _ = writeln!(out, "{}\n", capitalise(&r.summary));
    let _ = writeln!(out, "- **Cause**: `{}`", r.cause);
    let _ = writeln!(out, "- **Severity**: {}", r.severity.as_str());
    if let Some(s) = &r.stage {
        let _ = writeln!(out, "- **Stage**: {s}");
    }
    if !r.also.is_empty() {
        let alts: Vec<String> = r.also.keys().map(|c| format!("`{c}`")).collect();
        let _ = writeln!(out, "- **Also consistent with**: {}", alts.join(", "));
    }
    let _ = writeln!(out, "\n## What it means\n\n{}\n", r.docs.what.trim());
    let _ = writeln!(out, "## Why it happens\n\n{}\n", r.docs.why.trim());
    let _ = writeln!(out, "## How to fix\n\n{}\n", r.docs.fix.trim());
    for f in &r.fixes {
        let cond = match (&f.when.versions, f.when.os.is_empty()) {
            (Some(v), _) => format!(" (OpenOCD {})", v.as_str()),
            (None, false) => format!(
                " ({})",
                f.when
                    .os
                    .iter()
                    .map(|o| format!("{o:?}").to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        let _ = writeln!(out, "- {}{cond}", f.title);
        for c in &f.commands {
            let _ = writeln!(out, "  - `{c}`");
        }
        for c in &f.config {
            let _ = writeln!(out, "  - config: `{c}`");
        }
    }
    let _ = writeln!(
        out,
        "\n## Example\n\n```text\n{}\n```\n",
        r.docs.example.trim_end()
    );
    let _ = writeln!(out, "## Matches\n");
    for m in &r.matchers {
        let lv = if m.level.is_empty() {
            String::new()
        } else {
            format!(" (level: {})", m.level.join(", "))
        };
        match &m.fact {
            Some(f) => {
                let _ = writeln!(out, "- the fact `{f}`{lv}");
            }
            None => {
                let _ = writeln!(out, "- `{}`{lv}", m.regex);
            }
        }
    }
    Some(out)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Join a text's lines into paragraphs and wrap them at `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            out.push(line);
        }
    }
    out
}

/// Where to put the `^^^` under a config/IDE evidence line: (display columns before, width),
/// from the 1-based column (in characters, as the config and IDE readers count) and the byte
/// span, clipped to the line.
fn underline(e: &Evidence) -> Option<(usize, usize)> {
    let col = usize::try_from(e.column?).ok()?.checked_sub(1)?;
    let [a, b] = e.span?;
    let len = usize::try_from(b.saturating_sub(a)).ok()?.max(1);
    // The readers do not count a byte order mark as a column.
    let text = e.text.strip_prefix('\u{feff}').unwrap_or(&e.text);
    let at = match text.char_indices().nth(col) {
        Some((i, _)) => i,
        None if text.chars().count() == col => text.len(),
        None => return None,
    };
    let before = &text[..at];
    let marked = &text[at..];
    // Count characters, not bytes, so a UTF-8 line stays aligned; tabs keep their width of one.
    let width = marked
        .char_indices()
        .take_while(|(i, _)| *i < len)
        .count()
        .max(1);
    Some((before.chars().count(), width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underline_counts_columns_in_characters() {
        // The config reader's column 16 is the 16th character, after two multi-byte ones.
        let e = Evidence {
            source: "config".into(),
            path: Some("board.cfg".into()),
            line: 2,
            text: "set NAME \"é板\"; adapter_khz 4000".into(),
            column: Some(16),
            span: Some([40, 51]),
        };
        assert_eq!(underline(&e), Some((15, 11)));
    }
}
