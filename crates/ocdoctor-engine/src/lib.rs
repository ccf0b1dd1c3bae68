//! # ocdoctor-engine: one engine for every front end
//!
//! The CLI, a language server and a team server call this crate and get the same answers.
//! It owns everything between the inputs and a [`Report`]:
//!
//! * **Logs** ([`log`]): a streaming scan of any reader, the chip-identity reading of the ids
//!   in it ([`chip`]), the join with a machine ([`envjoin`]) and with the command line that
//!   produced it. [`diagnose_bytes`] is `ocdoctor diagnose --no-env`.
//! * **Static checks** ([`check`]): the installed OpenOCD (binary, cached version, scripts),
//!   `.cfg` scripts, command lines and IDE launch files resolved and turned into problems,
//!   then into a report by the rules. [`check_files`] is `ocdoctor check` for an editor: it
//!   takes unsaved buffers and returns [`Diagnostic`]s located in the files (byte range,
//!   line/column) with their edits.
//! * **Fixes** ([`fix`]): the edits grouped per file, as a diff, applied atomically with a
//!   backup.
//!
//! Errors are [`EngineError`]s, each a sentence for the user. Bad content never is an error.
//!
//! ```no_run
//! use ocdoctor_engine::{CheckRequest, check::Input, check_files};
//! let req = CheckRequest {
//!     inputs: vec![Input::Path("board.cfg".into())],
//!     // The editor's unsaved buffer for board.cfg.
//!     overlays: vec![("board.cfg".into(), "adapter_khz 4000\n".into())],
//!     ..Default::default()
//! };
//! for d in check_files(&req).unwrap().diagnostics {
//!     println!("{:?} {:?} {}", d.rule, d.span.map(|s| s.start), d.title);
//! }
//! ```

pub mod check;
pub mod chip;
pub mod envjoin;
mod error;
mod files;
pub mod fix;
pub mod log;

pub use error::EngineError;
pub use files::{
    CheckReport, CheckRequest, Diagnostic, FileSpan, Position, check_files, position, position_in,
};
pub use fix::{FileEdit, write_atomically};
pub use log::{
    DiagnoseOptions, Machine, ReadLog, diagnose, diagnose_bytes, read_log, read_log_bytes,
    read_log_file,
};
pub use ocdoctor_core::Report;

/// Every problem id the producers can hand to the rules, with the `source` it arrives under
/// (what a rule's `[[match]] problem = "<id>"`, `source = "<source>"` listens for): the static
/// check of cfgs and command lines (`config`), of IDE launch files (`ide`), and the engine's
/// own reading of a log (`log`). Tied to the knowledge base by `tests/problem_ids.rs`.
pub fn problem_producers() -> Vec<(&'static str, &'static str)> {
    let cfg = ocdoctor_cfg::ProblemId::ALL
        .iter()
        .map(|id| ("config", id.as_str()));
    let ide = ocdoctor_ide::ProblemId::ALL
        .iter()
        .map(|id| ("ide", id.as_str()));
    let log = chip::LogProblemId::ALL
        .iter()
        .map(|id| ("log", id.as_str()));
    cfg.chain(ide).chain(log).collect()
}
