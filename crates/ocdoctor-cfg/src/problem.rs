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
    /// Stable kebab-case id: a [`ProblemId`], as text (`Problem::new` takes the enum).
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
        id: ProblemId,
        severity: Severity,
        message: impl Into<String>,
        location: Option<Location>,
    ) -> Problem {
        Problem {
            id: id.as_str().to_string(),
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

/// Defines a crate's problem-id enum from one list of `Variant = "kebab-id"` lines: the
/// variants, `ALL` (every id, for registries, docs and the test that ties ids to rules) and
/// `as_str`. Producers name a variant, so the list is every id the crate can emit.
#[macro_export]
macro_rules! problem_ids {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $id:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($variant,)* }
        impl $name {
            /// Every id, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            /// The stable kebab-case id (`missing-file`).
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $id,)* }
            }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

problem_ids! {
    /// Every problem id this crate produces (`Problem::new` takes one).
    pub enum ProblemId {
        MissingFile = "missing-file",
        UnresolvedInput = "unresolved-input",
        UnexpectedArgument = "unexpected-argument",
        UnknownOption = "unknown-option",
        DebugLevelWithSpace = "debug-level-with-space",
        InvalidDebugLevel = "invalid-debug-level",
        DebugLevelOutOfRange = "debug-level-out-of-range",
        DeprecatedCommand = "deprecated-command",
        DeprecatedFile = "deprecated-file",
        RemovedFile = "removed-file",
        RemovedCommand = "removed-command",
        CommandNeedsNewerVersion = "command-needs-newer-version",
        NoAdapter = "no-adapter",
        TwoAdapters = "two-adapters",
        UnknownAdapterDriver = "unknown-adapter-driver",
        TargetBeforeInterface = "target-before-interface",
        TransportNotSupportedByAdapter = "transport-not-supported-by-adapter",
        TransportSelectTwice = "transport-select-twice",
        ResetConfigInvalid = "reset-config-invalid",
        WindowsPathBackslashes = "windows-path-backslashes",
        UnquotedSpaceInPath = "unquoted-space-in-path",
        PortClash = "port-clash",
        TclSyntax = "tcl-syntax",
        IncludeCycle = "include-cycle",
        InvalidCommandName = "invalid-command-name",
    }
}
