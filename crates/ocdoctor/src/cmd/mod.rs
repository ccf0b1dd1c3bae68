//! One module per subcommand: its clap arguments and its `run`.

pub mod check;
pub mod diagnose;
pub mod diagnose_batch;
pub mod env;
pub mod explain;
pub mod fix;
pub mod idcode;
pub mod investigate;
pub mod lab;
pub mod lsp;
pub mod redact;
pub mod rules;
pub mod run;
pub mod serve;
pub mod upload;

pub(crate) use crate::{Format, UsageError, out, render_report};
