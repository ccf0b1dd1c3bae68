//! `ocdoctor check` / `ocdoctor fix` / `diagnose --cmd`: static checks of an OpenOCD invocation,
//! its scripts and the IDE launch files that start it.
//!
//! Flow: inputs (a command line, openocd's own options, a directory, a launch file or a `.cfg`)
//! → `ocdoctor_cfg::resolve` (against the installed OpenOCD: its scripts dir and version) and
//! `ocdoctor_ide::load` → problems converted into `ocdoctor_core::SourceProblem`s (evidence with
//! path, line, text, facts and a unified diff) → the rules (`[[match]] problem = "<id>"`) → a
//! `Report`, rendered like `diagnose`'s. `fix` applies the edits the problems carry.

mod command_fix;
mod convert;
mod openocd;
mod sources;

pub use command_fix::{CommandChange, CommandFix};
pub use openocd::{Installed, installed, prefetch_version};
pub use sources::Sources;

use crate::error::EngineError;
use crate::fix::FileEdit;
use convert::{IdeOrigin, convert_cfg, convert_ide, kept, slice};
use ocdoctor_cfg::Invocation;
use ocdoctor_core::SourceProblem;
use ocdoctor_ide::IdeContext;
use openocd::resolve_options;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What a configuration's resolution depends on: its command line (and how it was split), the
/// folder it runs in, the openocd it names.
type SessionKey = (String, bool, PathBuf, Option<String>);

/// Options shared by `check`, `fix` and `diagnose --cmd`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub openocd: Option<PathBuf>,
    pub scripts: Option<PathBuf>,
}

/// What the user asked to check.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// An openocd argv (the program may be first).
    Args(Vec<String>),
    /// A directory (IDE files discovered in it) or a file (launch file or `.cfg`).
    Path(PathBuf),
}

/// Split `check`'s free arguments into inputs: `-…` or a program named openocd first → one
/// command line; otherwise each argument is a path.
pub fn parse_inputs(args: &[String]) -> Result<Vec<Input>, EngineError> {
    if args.is_empty() {
        return Err(EngineError::NothingToCheck);
    }
    let first = args[0].as_str();
    if first.starts_with('-') || is_openocd_name(first) {
        return Ok(vec![Input::Args(args.to_vec())]);
    }
    Ok(args.iter().map(|a| Input::Path(PathBuf::from(a))).collect())
}

fn is_openocd_name(s: &str) -> bool {
    let base = s
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(s)
        .to_ascii_lowercase();
    let base = base.strip_suffix(".exe").unwrap_or(&base);
    base == "openocd" || base.starts_with("openocd-")
}

/// Everything a check found.
#[derive(Debug, Default)]
pub struct Checked {
    pub problems: Vec<SourceProblem>,
    /// The edit of each problem (same index as `problems`), when it has one.
    pub problem_edits: Vec<Option<FileEdit>>,
    /// Every distinct edit, in the order found (what `fix` applies).
    pub edits: Vec<FileEdit>,
    /// The corrected form of each command line given as an argv whose problems have a known
    /// fix (a command line has no file to edit: `fix` prints it).
    pub command_fixes: Vec<CommandFix>,
    pub inputs: Vec<ocdoctor_core::report::Input>,
    /// The OpenOCD the first resolution used (`openocd --version`), for the report.
    pub openocd: Option<String>,
    /// (id, path, line, column) of every problem kept: a problem found again (the same file
    /// through two configurations) is kept once, found in constant time.
    seen: HashSet<(String, Option<String>, u64, u64)>,
    seen_edits: HashSet<FileEdit>,
}

impl Checked {
    fn push(&mut self, p: SourceProblem, edit: Option<FileEdit>) {
        let key = (p.id.clone(), p.path.clone(), p.line, p.column);
        if !self.seen.insert(key) {
            return;
        }
        if let Some(e) = &edit
            && self.seen_edits.insert(e.clone())
        {
            self.edits.push(e.clone());
        }
        self.problems.push(p);
        self.problem_edits.push(edit);
    }
}

/// of launch files. Empty when no USB bus is visible.
fn attached_serials() -> Vec<String> {
    use std::sync::OnceLock;
    static SERIALS: OnceLock<Vec<String>> = OnceLock::new();
    SERIALS
        .get_or_init(|| {
            let mut opts = ocdoctor_env::CollectOptions::for_this_machine();
            opts.run_binaries = false;
            let snap = ocdoctor_env::collect(&opts);
            if !snap.usb.bus_visible {
                return Vec::new();
            }
            snap.usb
                .devices
                .iter()
                .filter(|d| d.probe.is_some())
                .flat_map(|d| d.serial.iter().chain(d.serial_hex.iter()).cloned())
                .collect()
        })
        .clone()
}

fn ide_context(workspace: Option<&Path>) -> IdeContext {
    IdeContext {
        env: std::env::vars().collect(),
        path_var: std::env::var("PATH").ok(),
        workspace: workspace.map(Path::to_path_buf).unwrap_or_default(),
        attached_serials: attached_serials(),
        os: ocdoctor_ide::Os::current(),
    }
}

fn check_ide_file(
    path: &Path,
    workspace: Option<&Path>,
    src: &Sources,
    out: &mut Checked,
) -> Result<(), EngineError> {
    let opts = &src.options;
    let ctx = ide_context(workspace);
    let file = src.load_ide(path, &ctx);
    // Every edit carries the hash of the text it was made on: hashed once per file, not once
    // per edit (a launch.json with thousands of configurations has thousands of edits).
    let file_hash = crate::fix::content_hash(&file.text);
    out.inputs.push(ocdoctor_core::report::Input {
        kind: "ide".into(),
        path: Some(path.display().to_string()),
        config: None,
        command: None,
    });
    for p in &file.problems {
        convert_ide(p, &file, file_hash, "", out);
    }
    // Configurations that run the same openocd with the same command line in the same folder
    // resolve to the same session: each distinct one is resolved once (a launch.json with
    // thousands of near-identical configurations costs one resolution per distinct line), and
    // kept only until the last configuration that shares it is converted (a launch.json of
    // thousands of distinct command lines holds one session at a time, not all of them).
    let planned: Vec<Option<(Invocation, SessionKey)>> = file
        .configs
        .iter()
        .map(|cfg| {
            let inv = cfg.invocation()?;
            let key = session_key(cfg, &inv, path);
            Some((inv, key))
        })
        .collect();
    let mut uses_left: HashMap<&SessionKey, usize> = HashMap::new();
    for (_, key) in planned.iter().flatten() {
        *uses_left.entry(key).or_default() += 1;
    }
    let mut installs: HashMap<Option<String>, Rc<Installed>> = HashMap::new();
    let mut sessions: HashMap<SessionKey, Rc<ocdoctor_cfg::Session>> = HashMap::new();
    for (cfg, plan) in file.configs.iter().zip(&planned) {
        for p in &cfg.problems {
            convert_ide(p, &file, file_hash, &cfg.name, out);
        }
        let Some((inv, key)) = plan else {
            continue;
        };
        // What the front end will run, shown with the report: most "exited with code 1"
        // mysteries start with a command line nobody has seen.
        out.inputs.push(ocdoctor_core::report::Input {
            kind: "ide-config".into(),
            path: Some(path.display().to_string()),
            config: Some(cfg.name.clone()),
            command: Some(inv.line.clone()),
        });
        let program = &key.3;
        let inst = Rc::clone(
            installs
                .entry(program.clone())
                .or_insert_with(|| Rc::new(installed(opts, program.as_deref()))),
        );
        let cwd = &key.2;
        if out.openocd.is_none() {
            out.openocd.clone_from(&inst.version_text);
        }
        let session = Rc::clone(sessions.entry(key.clone()).or_insert_with(|| {
            Rc::new(ocdoctor_cfg::resolve_with(
                inv,
                &resolve_options(&inst, cwd),
                src,
            ))
        }));
        if let Some(left) = uses_left.get_mut(key) {
            *left -= 1;
            if *left == 0 {
                sessions.remove(key);
            }
        }
        refuse_non_scripts(&session)?;
        let origin = IdeOrigin {
            file: &file,
            file_hash,
            config: cfg,
            inv,
        };
        // The IDE reader already reports config files it cannot find with the IDE's own edit.
        let ide_missing: HashSet<&str> = cfg
            .problems
            .iter()
            .filter(|p| p.id == "config-file-not-found" || p.id == "windows-path-backslashes")
            .map(|p| slice(&file.text, p.location.span.clone()))
            .collect();
        let ide_split = cfg
            .problems
            .iter()
            .any(|p| p.id == "unquoted-space-in-args");
        for p in kept(&session.problems) {
            // Cortex-Debug's helper script (`${cortex-debug}/support/openocd-helpers.tcl`) is
            // supplied by the extension when it runs: a word the front end wrote itself.
            if matches!(p.id.as_str(), "missing-file" | "unresolved-input")
                && p.location.as_ref().is_some_and(|l| {
                    let name = slice(&inv.line, l.span.start..l.span.end);
                    l.file == ocdoctor_cfg::argv::COMMAND_LINE
                        && (name.contains("${") || name.ends_with("openocd-helpers.tcl"))
                        && (p.id == "missing-file" || origin.setting_for(l.span.start).is_none())
                })
            {
                continue;
            }
            if ide_split
                && matches!(
                    p.id.as_str(),
                    "unexpected-argument" | "unquoted-space-in-path"
                )
            {
                continue;
            }
            if p.id == "missing-file"
                && p.location.as_ref().is_some_and(|l| {
                    l.file == ocdoctor_cfg::argv::COMMAND_LINE
                        && ide_missing
                            .iter()
                            .any(|m| m.contains(slice(&inv.line, l.span.start..l.span.end)))
                })
            {
                continue;
            }
            // The front end picked these ports at launch (Cortex-Debug: a free block, one port
            // per processor and kind); OpenOCD binds tcl/telnet first, so a further target beyond
            // `numberOfProcessors` only loses its own gdb server. Not a clash the user wrote.
            if p.id == "port-clash"
                && p.location
                    .iter()
                    .chain(p.related.iter())
                    .all(|l| origin.generated(l, &session))
            {
                continue;
            }
            convert_cfg(p, &session, inv, &inst, Some(&origin), out);
        }
    }
    Ok(())
}

/// What a configuration's resolution depends on: its command line and how it was split, the
/// folder it runs in (its `cwd`, else the launch file's folder), the openocd it names.
fn session_key(cfg: &ocdoctor_ide::LaunchConfig, inv: &Invocation, path: &Path) -> SessionKey {
    let program = cfg.openocd_argv.as_ref().and_then(|a| a.first()).cloned();
    let cwd = cfg
        .cwd
        .clone()
        .or_else(|| path.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    (inv.line.clone(), inv.windows, cwd, program)
}

/// A file given as a config that is not one (an executable, a blob) is an input error: the
/// check read a bounded head of it and says what it is, instead of "reading" it as Tcl.
fn refuse_non_scripts(session: &ocdoctor_cfg::Session) -> Result<(), EngineError> {
    match session.not_scripts.first() {
        Some((path, why)) => Err(EngineError::NotAScript {
            path: path.clone(),
            why: why.clone(),
        }),
        None => Ok(()),
    }
}

/// Check one invocation; its session is returned for what the caller derives from it.
fn check_invocation(
    inv: &Invocation,
    src: &Sources,
    out: &mut Checked,
) -> Result<ocdoctor_cfg::Session, EngineError> {
    let inst = installed(&src.options, inv.program.as_ref().map(|a| a.value.as_str()));
    if out.openocd.is_none() {
        out.openocd.clone_from(&inst.version_text);
    }
    let session = ocdoctor_cfg::resolve_with(inv, &resolve_options(&inst, &src.cwd), src);
    refuse_non_scripts(&session)?;
    for p in kept(&session.problems) {
        convert_cfg(p, &session, inv, &inst, None, out);
    }
    Ok(session)
}

/// Run every check on the inputs, reading files from disk, from the current directory.
pub fn check(inputs: &[Input], opts: &Options) -> Result<Checked, EngineError> {
    check_sources(inputs, &Sources::from_disk(opts.clone())?)
}

/// Run every check on the inputs, reading files through `src` (its overlays first).
pub fn check_sources(inputs: &[Input], src: &Sources) -> Result<Checked, EngineError> {
    let mut out = Checked::default();
    for input in inputs {
        match input {
            Input::Args(argv) => {
                let inv = Invocation::parse_args(argv);
                out.inputs.push(ocdoctor_core::report::Input {
                    kind: "command".into(),
                    path: Some(inv.line.clone()),
                    config: None,
                    command: None,
                });
                let session = check_invocation(&inv, src, &mut out)?;
                let problems = kept(&session.problems);
                if let Some(f) = command_fix::command_fix(argv, &inv, &session, &problems) {
                    out.command_fixes.push(f);
                }
            }
            Input::Path(p) if p.is_dir() => {
                let found = ocdoctor_ide::discover(p);
                if found.is_empty() {
                    return Err(EngineError::NoLaunchFiles { dir: p.clone() });
                }
                for f in found {
                    check_ide_file(&f, Some(p), src, &mut out)?;
                }
            }
            Input::Path(p) if src.has_file(p) => {
                if ocdoctor_ide::kind_of(p).is_some() {
                    check_ide_file(p, None, src, &mut out)?;
                } else {
                    // A config script: as `openocd -f FILE` run from here.
                    let inv = Invocation::parse_args(&[
                        "openocd".to_string(),
                        "-f".to_string(),
                        p.display().to_string(),
                    ]);
                    out.inputs.push(ocdoctor_core::report::Input {
                        kind: "config".into(),
                        path: Some(p.display().to_string()),
                        config: None,
                        command: None,
                    });
                    check_invocation(&inv, src, &mut out)?;
                }
            }
            Input::Path(p) => {
                return Err(EngineError::NotFound { path: p.clone() });
            }
        }
    }
    Ok(out)
}

/// Problems of a command line given to `diagnose --cmd`, resolved here (cwd, installed scripts)
/// with the version the log's banner shows when it has one.
pub fn problems_of_command(
    line: &str,
    log_version: Option<String>,
    opts: &Options,
) -> Result<Vec<SourceProblem>, EngineError> {
    let inv = Invocation::parse_command_line(line);
    let src = Sources::from_disk(opts.clone())?;
    let mut inst = installed(opts, inv.program.as_ref().map(|a| a.value.as_str()));
    if let Some(v) = log_version
        .as_deref()
        .and_then(ocdoctor_cfg::Version::parse)
    {
        inst.version = v;
    }
    let session = ocdoctor_cfg::resolve_with(&inv, &resolve_options(&inst, &src.cwd), &src);
    refuse_non_scripts(&session)?;
    let mut out = Checked::default();
    for p in kept(&session.problems) {
        convert_cfg(p, &session, &inv, &inst, None, &mut out);
    }
    Ok(out.problems)
}

/// The report of a check.
pub fn report(checked: &Checked, os: Option<ocdoctor_core::kb::Os>) -> ocdoctor_core::Report {
    let hints = ocdoctor_core::Hints {
        os,
        problems: checked.problems.clone(),
        ..Default::default()
    };
    let mut report = ocdoctor_core::report_from_problems(checked.inputs.clone(), &hints);
    // The version the config was checked against (there is no banner without a log).
    if let Some(v) = &checked.openocd {
        report.openocd = Some(ocdoctor_core::report::OpenOcd {
            version: v.clone(),
            flavor: "installed".into(),
            banner: format!("Open On-Chip Debugger {v} (installed, `openocd --version`)"),
        });
    }
    report
}

/// The problems as JSON, in the format of the rules' `*.problems.json` fixtures.
pub fn problems_json(problems: &[SourceProblem]) -> String {
    let v: Vec<serde_json::Value> = problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "source": p.source,
                "id": p.id,
                "message": p.message,
                "path": p.path,
                "line": p.line,
                "column": p.column,
                "span": p.span.map(|(a, b)| [a, b]),
                "text": p.text,
                "facts": p.facts.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<String, serde_json::Value>>(),
                "edit": p.edit,
            })
        })
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// Exit code of `check`: 1 when any finding is shown (error or warning), else 0.
pub fn exit_code(report: &ocdoctor_core::Report) -> u8 {
    u8::from(report.exit_code() != 0 || !report.findings.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn inputs() {
        assert_eq!(
            parse_inputs(&s(&["-f", "x.cfg"])).unwrap(),
            vec![Input::Args(s(&["-f", "x.cfg"]))]
        );
        assert_eq!(
            parse_inputs(&s(&["/usr/bin/openocd", "-f", "x.cfg"])).unwrap(),
            vec![Input::Args(s(&["/usr/bin/openocd", "-f", "x.cfg"]))]
        );
        assert_eq!(
            parse_inputs(&s(&["."])).unwrap(),
            vec![Input::Path(".".into())]
        );
        assert!(parse_inputs(&[]).is_err());
    }
}
