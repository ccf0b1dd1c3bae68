//! What can go wrong for a caller of the engine. Bad *content* never is an error (a log or a
//! config that makes no sense gets a report saying so); these are inputs that cannot be read
//! or requests that name nothing.

use std::path::PathBuf;

/// An engine error: the message is written for the user (the CLI prints it and exits 2).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "nothing to check: give `-- openocd ARGS…`, openocd's options (`-f board/x.cfg`), or a directory / launch file / .cfg"
    )]
    NothingToCheck,
    #[error(
        "{}: no .vscode/launch.json, *.launch or platformio.ini found; give a .cfg or the openocd command (`ocdoctor check -- openocd -f …`)",
        dir.display()
    )]
    NoLaunchFiles { dir: PathBuf },
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{} is a directory; give the log file inside it", path.display())]
    IsDirectory { path: PathBuf },
    #[error("no current directory: {0}")]
    NoCurrentDir(#[source] std::io::Error),
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not an ocdoctor env snapshot: {why}", path.display())]
    NotASnapshot { path: PathBuf, why: String },
    #[error("{0}")]
    BadId(String),
    #[error("{} is not an OpenOCD config script: {why}", path.display())]
    NotAScript {
        path: PathBuf,
        why: ocdoctor_cfg::NotAScript,
    },
    #[error(
        "{} changed since it was checked: nothing was written; run `ocdoctor fix` again",
        path.display()
    )]
    Changed { path: PathBuf },
    #[error("cannot write the backup {}: {source}", path.display())]
    Backup {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
