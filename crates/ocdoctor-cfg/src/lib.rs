//! # ocdoctor-cfg: the OpenOCD invocation and its scripts
//!
//! * [`Invocation`] — openocd's argv (or a command line string) read as OpenOCD 0.12 reads it.
//! * [`tcl`] — a span-keeping, never-failing reader for the Jim Tcl of `.cfg` files.
//! * [`resolve`] — follows `-f`/`-c`/`source [find …]` through the script search path like
//!   OpenOCD does and evaluates what configs do (shallowly) into a [`Session`]: the files
//!   visited, the [`model::Model`] (adapter, transport, taps, targets, ports…) and
//!   [`Problem`]s, every item with its location.
//! * [`versions`] — renamed/removed commands and cfg files per OpenOCD version (data).
//! * [`ScriptsIndex`] — the `.cfg`/`.tcl` files of a scripts tree, with "did you mean".
//!
//! The library reads only the files the resolution needs (plus a directory listing of the
//! scripts tree when a file is missing, for suggestions) and never spawns processes.

pub mod argv;
pub mod commands;
mod expr;
pub mod index;
pub mod lines;
pub mod model;
pub mod problem;
pub mod resolve;
pub mod tcl;
pub mod versions;

pub use argv::{Arg, Invocation, Step, StepKind};
pub use index::ScriptsIndex;
pub use lines::LineIndex;
pub use model::Model;
pub use problem::{Location, Problem, ProblemId, Severity};
pub use resolve::{
    FileSystem, NotAScript, RealFs, ResolveOptions, Session, SourceFile, binary_kind, resolve,
    resolve_with,
};
pub use versions::Version;
