//! The static check as a language server (or any editor integration) calls it: files by path,
//! some of them with in-memory contents, and findings located in those files with the edits
//! that fix them.

use crate::check::{self, Checked, Input, Options, Sources};
use crate::error::EngineError;
use crate::fix::FileEdit;
use ocdoctor_cfg::LineIndex;
use ocdoctor_core::kb::Severity;
use ocdoctor_core::{KnowledgeBase, Report};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What to check, and what to read instead of the disk.
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    /// Files (`.cfg`, `launch.json`, `*.launch`, `platformio.ini`), directories (their launch
    /// files), or an openocd command line ([`Input::Args`]).
    pub inputs: Vec<Input>,
    /// Unsaved editor buffers: the contents to use for these paths instead of the disk (also
    /// for files the check reaches on its own, such as a cfg a launch file names). A path need
    /// not exist on disk.
    pub overlays: Vec<(PathBuf, String)>,
    /// The OpenOCD to check against (`--openocd`, `--scripts`).
    pub options: Options,
    /// The directory relative paths are resolved in; the current directory when `None`.
    pub cwd: Option<PathBuf>,
}

/// A 1-based line and column; the column counts characters (Unicode scalar values), the byte
/// offset is given beside it for callers that count otherwise (LSP's UTF-16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

/// Where a finding is: a byte range in a file as read (the overlay when there is one), with
/// both ends as line/column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpan {
    pub path: PathBuf,
    pub bytes: Range<usize>,
    pub start: Position,
    pub end: Position,
}

/// One problem the check found, located, with the rule that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The problem's stable id (`missing-file`, `gdb-port-mismatch`…).
    pub id: String,
    /// The rule that turned it into a finding (`CFG101`); `None` when no rule matches it (its
    /// severity is then `Info`).
    pub rule: Option<String>,
    pub severity: Severity,
    /// The finding's title when a rule matched, else the problem's own message.
    pub title: String,
    /// The problem's own message (what the reader saw).
    pub message: String,
    /// Where it is; `None` for a problem on a command line given as [`Input::Args`].
    pub span: Option<FileSpan>,
    /// The edit that fixes it, when one is known (to the same file as `span`, or to the IDE
    /// setting a command-line word came from).
    pub edit: Option<FileEdit>,
}

/// The result of [`check_files`]: the report (`ocdoctor check`'s), and the same problems as
/// located diagnostics.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub report: Report,
    pub diagnostics: Vec<Diagnostic>,
    /// Every distinct edit (what `ocdoctor fix` applies).
    pub edits: Vec<FileEdit>,
}

/// Check files (and buffers) the way `ocdoctor check` does, and locate every problem.
pub fn check_files(req: &CheckRequest) -> Result<CheckReport, EngineError> {
    let cwd = match &req.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir().map_err(EngineError::NoCurrentDir)?,
    };
    let mut sources = Sources::new(req.options.clone(), cwd);
    for (path, text) in &req.overlays {
        sources.overlay(path, text.clone());
    }
    let checked = check::check_sources(&req.inputs, &sources)?;
    let report = check::report(&checked, None);
    let diagnostics = diagnostics(&checked, &report, &sources);
    Ok(CheckReport {
        report,
        diagnostics,
        edits: checked.edits,
    })
}

/// The problems located, each with the rule (of the report's findings) that matched it.
fn diagnostics(checked: &Checked, report: &Report, sources: &Sources) -> Vec<Diagnostic> {
    let kb = KnowledgeBase::embedded();
    // Each file is read and indexed once, however many problems it has.
    let mut texts: HashMap<PathBuf, Option<(String, LineIndex)>> = HashMap::new();
    checked
        .problems
        .iter()
        .zip(&checked.problem_edits)
        .map(|(p, edit)| {
            // The first finding whose rule has a matcher for this problem (its id, its source).
            let finding = report.findings.iter().find(|f| {
                kb.rules.iter().any(|r| {
                    r.code == f.rule
                        && r.matchers.iter().any(|m| {
                            m.problem.as_deref() == Some(p.id.as_str())
                                && m.source.as_deref().is_none_or(|s| s == p.source)
                        })
                })
            });
            let severity = match finding.map(|f| f.severity.as_str()) {
                Some("error") => Severity::Error,
                Some("warning") => Severity::Warning,
                _ => Severity::Info,
            };
            Diagnostic {
                id: p.id.clone(),
                rule: finding.map(|f| f.rule.clone()),
                severity,
                title: finding.map_or_else(|| p.message.clone(), |f| f.title.clone()),
                message: p.message.clone(),
                span: file_span(p, sources, &mut texts),
                edit: edit.clone(),
            }
        })
        .collect()
}

/// The problem's location in its file, recomputed from the text the check read (`texts`:
/// the files read so far, with their line index).
fn file_span(
    p: &ocdoctor_core::SourceProblem,
    sources: &Sources,
    texts: &mut HashMap<PathBuf, Option<(String, LineIndex)>>,
) -> Option<FileSpan> {
    let path = PathBuf::from(p.path.as_deref()?);
    let (a, b) = p.span?;
    let (text, lines) = texts
        .entry(path.clone())
        .or_insert_with(|| {
            read_text(&path, sources).map(|t| {
                let lines = LineIndex::new(&t);
                (t, lines)
            })
        })
        .as_ref()?;
    let (a, b) = (a as usize, b as usize);
    if a > b || b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
        return None;
    }
    Some(FileSpan {
        start: position_in(text, lines, a),
        end: position_in(text, lines, b),
        path,
        bytes: a..b,
    })
}

fn read_text(path: &Path, sources: &Sources) -> Option<String> {
    match sources.overlay_of(path) {
        Some(t) => Some(t.to_string()),
        None => std::fs::read(path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}

/// The line and column of a byte offset (a char boundary) in `text`. For many offsets in one
/// text, index it once and use [`position_in`].
pub fn position(text: &str, offset: usize) -> Position {
    position_in(text, &LineIndex::new(text), offset)
}

/// [`position`] with the line index of `text`.
pub fn position_in(text: &str, lines: &LineIndex, offset: usize) -> Position {
    let (line, column) = lines.line_col(text, offset);
    Position {
        line,
        column,
        offset,
    }
}
