//! The repository's real logs, for the unit tests that check a fast path against a plain one.

use std::path::{Path, PathBuf};

/// Every `.log` file below `dirs` (relative to the workspace root), with its path, sorted by
/// path. Fails when fewer than 500 are found (the walk went wrong, not the code under test).
pub(crate) fn repo_logs(dirs: &[&str]) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
    let mut logs = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                let bytes = std::fs::read(&path).unwrap();
                logs.push((path, bytes));
            }
        }
    }
    logs.sort();
    assert!(logs.len() > 500, "found only {} logs", logs.len());
    logs
}
