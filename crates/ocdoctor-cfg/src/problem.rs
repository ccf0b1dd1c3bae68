//! Problems: pure data that rules turn into findings.

use crate::lines::LineIndex;
use crate::tcl::Span;
use serde::Serialize;

/// Where something is: a file (a path, or a pseudo name such as `<command line>` or
/// `<-c 2>`), a byte span in it and the 1-based line and column of the span's start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub span: Span,
    pub line: u32,
    pub col: u32,
}

impl Location {
    /// A location in `text` (the content of `file`), for a text read once: a text with many
    /// locations has one [`LineIndex`] and uses [`Location::in_indexed`].
    pub fn in_text(file: &str, text: &str, span: Span) -> Location {
        Location::in_indexed(file, text, &LineIndex::new(text), span)
    }

    /// A location in `text`, whose line index is `lines`.
    pub fn in_indexed(file: &str, text: &str, lines: &LineIndex, span: Span) -> Location {
        let (line, col) = lines.line_col(text, span.start);
        Location {
            file: file.to_string(),
            span,
            line,
            col,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One problem found in the invocation or its scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable kebab-case id (see the crate README for the list).
    pub id: String,
    pub severity: Severity,
    pub message: String,
    /// The text that shows the problem.
    pub location: Option<Location>,
    /// Other places involved (the first adapter of two, the include chain…).
    pub related: Vec<Location>,
    /// A replacement for the text at `location`, when one is known.
    pub suggestion: Option<String>,
}

impl Problem {
    pub fn new(
        id: &str,
        severity: Severity,
        message: impl Into<String>,
        location: Option<Location>,
    ) -> Problem {
        Problem {
            id: id.to_string(),
            severity,
            message: message.into(),
            location,
            related: Vec::new(),
            suggestion: None,
        }
    }
    pub fn with_suggestion(mut self, s: impl Into<String>) -> Problem {
        self.suggestion = Some(s.into());
        self
    }
    pub fn with_related(mut self, l: Location) -> Problem {
        self.related.push(l);
        self
    }
}

/// Every problem id this crate produces, for registries and docs.
pub const PROBLEM_IDS: &[&str] = &[
    "missing-file",
    "unresolved-input",
    "unexpected-argument",
    "unknown-option",
    "debug-level-with-space",
    "invalid-debug-level",
    "debug-level-out-of-range",
    "deprecated-command",
    "deprecated-file",
    "removed-file",
    "removed-command",
    "command-needs-newer-version",
    "no-adapter",
    "two-adapters",
    "unknown-adapter-driver",
    "target-before-interface",
    "transport-not-supported-by-adapter",
    "transport-select-twice",
    "reset-config-invalid",
    "windows-path-backslashes",
    "unquoted-space-in-path",
    "port-clash",
    "tcl-syntax",
];
