//! The one module that calls the engine: `ocdoctor check` on the open buffers, and the installed
//! OpenOCD (its scripts folders, its `help`). Everything else in this crate speaks LSP.

use ocdoctor_engine::check::{self, Input, Options};
use ocdoctor_engine::{CheckRequest, check_files};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A finding located in a file, as the server publishes it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The file the finding is in; `None`: on the command line the check built (shown at the
    /// top of the checked file).
    pub path: Option<PathBuf>,
    /// Byte range in that file (as the check read it: the buffer when it is open).
    pub bytes: std::ops::Range<usize>,
    pub rule: Option<String>,
    pub severity: ocdoctor_core::kb::Severity,
    pub title: String,
    pub message: String,
    pub edit: Option<Edit>,
}

/// A replacement of a byte range of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub path: PathBuf,
    pub bytes: std::ops::Range<usize>,
    pub replacement: String,
}

/// Check one file the way `ocdoctor check FILE` run in `cwd` does, reading the open buffers
/// instead of the disk. A check that cannot run (no such file) gives its reason.
pub fn check_file(
    file: &Path,
    overlays: &[(PathBuf, String)],
    cwd: &Path,
    options: &Options,
) -> Result<Vec<Finding>, String> {
    let req = CheckRequest {
        inputs: vec![Input::Path(file.to_path_buf())],
        overlays: overlays.to_vec(),
        options: options.clone(),
        cwd: Some(cwd.to_path_buf()),
    };
    let checked = check_files(&req).map_err(|e| e.to_string())?;
    Ok(checked
        .diagnostics
        .into_iter()
        .map(|d| Finding {
            path: d.span.as_ref().map(|s| s.path.clone()),
            bytes: d.span.map_or(0..0, |s| s.bytes),
            rule: d.rule,
            severity: d.severity,
            title: d.title,
            message: d.message,
            edit: d.edit.map(|e| Edit {
                path: e.path,
                bytes: e.span,
                replacement: e.replacement,
            }),
        })
        .collect())
}

/// The installed OpenOCD's script folders (site first), as `check` finds them.
pub fn scripts_dirs(options: &Options) -> Vec<PathBuf> {
    check::installed(options, None).scripts_dirs
}

/// `openocd -c "help {NAME}"` of the installed OpenOCD: what the command does, in its own
/// words. Asked once per name.
pub fn openocd_help(options: &Options, name: &str) -> Option<String> {
    static CACHE: Mutex<Option<HashMap<String, Option<String>>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let map = cache.get_or_insert_with(HashMap::new);
    if let Some(hit) = map.get(name) {
        return hit.clone();
    }
    let answer = ask_help(options, name);
    map.insert(name.to_string(), answer.clone());
    answer
}

fn ask_help(options: &Options, name: &str) -> Option<String> {
    // Only command-like names reach OpenOCD's Tcl (no braces or brackets to escape).
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_ .:-".contains(c))
    {
        return None;
    }
    let program = check::installed(options, None).program?;
    let out = std::process::Command::new(program)
        .args(["-c", &format!("help {{{name}}}"), "-c", "shutdown"])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    // The banner and the shutdown line are not the help.
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(name))
        .take_while(|l| !l.starts_with("shutdown command invoked"))
        .collect();
    let help = lines.join("\n").trim_end().to_string();
    (!help.is_empty()).then_some(help)
}
