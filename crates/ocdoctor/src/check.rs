//! `ocdoctor check` / `ocdoctor fix` / `diagnose --cmd`: static checks of an OpenOCD invocation,
//! its scripts and the IDE launch files that start it.
//!
//! Flow: inputs (a command line, openocd's own options, a directory, a launch file or a `.cfg`)
//! → `ocdoctor_cfg::resolve` (against the installed OpenOCD: its scripts dir and version) and
//! `ocdoctor_ide::load` → problems converted into `ocdoctor_core::SourceProblem`s (evidence with
//! path, line, text, facts and a unified diff) → the rules (`[[match]] problem = "<id>"`) → a
//! `Report`, rendered like `diagnose`'s. `fix` applies the edits the problems carry.

use ocdoctor_cfg::{Invocation, ResolveOptions, Session};
use ocdoctor_core::SourceProblem;
use ocdoctor_ide::{Edit, IdeContext, IdeFile};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The OpenOCD a check resolves against.
#[derive(Debug, Clone, Default)]
pub struct Installed {
    /// The executable, when found.
    pub program: Option<PathBuf>,
    /// The version text from `openocd --version` (`0.12.0`), when it ran.
    pub version_text: Option<String>,
    pub version: ocdoctor_cfg::Version,
    /// The built-in script dirs (`<bindir>/../share/openocd/site`, `…/scripts`) or `--scripts`.
    pub scripts_dirs: Vec<PathBuf>,
}

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
pub fn parse_inputs(args: &[String]) -> Result<Vec<Input>, String> {
    if args.is_empty() {
        return Err(
            "nothing to check: give `-- openocd ARGS…`, openocd's options (`-f board/x.cfg`), or a directory / launch file / .cfg"
                .into(),
        );
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

/// Pull our own long options (`--format X`, `--openocd X`, `--scripts X`, `--apply`) out of the
/// free arguments: clap hands everything after the first free word to the trailing list.
pub fn take_option(args: &mut Vec<String>, name: &str, takes_value: bool) -> Option<String> {
    let long = format!("--{name}");
    let eq = format!("--{name}=");
    let mut i = 0;
    while i < args.len() {
        if args[i] == long {
            if !takes_value {
                args.remove(i);
                return Some(String::new());
            }
            if i + 1 < args.len() {
                let v = args.remove(i + 1);
                args.remove(i);
                return Some(v);
            }
            return None;
        }
        if takes_value && let Some(v) = args[i].strip_prefix(&eq) {
            let v = v.to_string();
            args.remove(i);
            return Some(v);
        }
        i += 1;
    }
    None
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `openocd --version` of each program, run once per process. Concurrent callers for one program
/// wait for the same run (`check` starts it in the background before it reads anything else).
fn openocd_version(program: &Path) -> Option<String> {
    use std::sync::{Arc, Mutex, OnceLock};
    type Cell = Arc<OnceLock<Option<String>>>;
    static CACHE: OnceLock<Mutex<BTreeMap<PathBuf, Cell>>> = OnceLock::new();
    let cell: Cell = {
        let mut map = CACHE
            .get_or_init(|| Mutex::new(BTreeMap::new()))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(program.to_path_buf()).or_default().clone()
    };
    cell.get_or_init(|| {
        let key = version_cache_key(program);
        if let Some(v) = key.as_deref().and_then(cached_version) {
            return Some(v);
        }
        let v = run_version(program);
        if let (Some(k), Some(v)) = (&key, &v) {
            store_version(k, v);
        }
        v
    })
    .clone()
}

/// The on-disk cache of `openocd --version` answers: running the binary is the slowest part
/// of a `check` (several ms of a ~10 ms run). A line per binary, keyed by its canonical path,
/// size and modification time, so a rebuilt or replaced OpenOCD is asked again.
fn version_cache_file() -> Option<PathBuf> {
    if std::env::var_os("OCDOCTOR_NO_CACHE").is_some() {
        return None;
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("ocdoctor").join("openocd-versions.tsv"))
}

fn version_cache_key(program: &Path) -> Option<String> {
    let real = std::fs::canonicalize(program).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let key = format!(
        "{}|{}|{}.{:09}",
        real.display(),
        meta.len(),
        mtime.as_secs(),
        mtime.subsec_nanos()
    );
    // Tabs and newlines would break the line format; such paths are simply not cached.
    (!key.contains(['\t', '\n'])).then_some(key)
}

fn cached_version(key: &str) -> Option<String> {
    let text = std::fs::read_to_string(version_cache_file()?).ok()?;
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Best effort: a cache that cannot be written only costs the next run a few milliseconds.
fn store_version(key: &str, version: &str) {
    let Some(file) = version_cache_file() else {
        return;
    };
    let old = std::fs::read_to_string(&file).unwrap_or_default();
    // Keep the other binaries' lines (and drop this path's stale ones), at most 64.
    let path = key.split('|').next().unwrap_or(key);
    let mut lines: Vec<&str> = old
        .lines()
        .filter(|l| l.split('|').next() != Some(path))
        .collect();
    let new = format!("{key}\t{version}");
    lines.push(&new);
    let keep = &lines[lines.len().saturating_sub(64)..];
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::write_atomically(&file, (keep.join("\n") + "\n").as_bytes());
}

/// Start `openocd --version` of the OpenOCD `check` will most likely use, on another thread, so
/// its few milliseconds overlap loading the rules and reading the configs.
pub fn prefetch_version(opts: &Options) {
    let program = opts
        .openocd
        .clone()
        .filter(|p| p.is_file())
        .or_else(|| which("openocd"));
    if let Some(p) = program {
        std::thread::spawn(move || openocd_version(&p));
    }
}

/// Run `openocd --version` (bounded) and return the version text of its banner.
fn run_version(program: &Path) -> Option<String> {
    use std::io::Read;
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < Duration::from_secs(3) => {
                std::thread::sleep(Duration::from_micros(200))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut text = String::new();
    let mut buf = Vec::new();
    // The banner is on stderr; some builds print it on stdout.
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_end(&mut buf);
    }
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_end(&mut buf);
    }
    text.push_str(&String::from_utf8_lossy(&buf));
    text.lines()
        .find_map(ocdoctor_core::version::parse_banner)
        .map(|b| b.version.to_string())
}

/// Find the OpenOCD to check against: `--openocd`, the program of the command line when it is
/// a path, else `openocd` on PATH.
pub fn installed(opts: &Options, program_hint: Option<&str>) -> Installed {
    let program = opts
        .openocd
        .clone()
        .filter(|p| p.is_file())
        .or_else(|| {
            opts.openocd
                .as_ref()
                .and_then(|p| p.to_str())
                .and_then(which)
        })
        .or_else(|| {
            program_hint
                .filter(|p| p.contains(['/', '\\']))
                .map(PathBuf::from)
                .filter(|p| p.is_file())
        })
        .or_else(|| which("openocd"));
    let version_text = program.as_deref().and_then(openocd_version);
    let version = version_text
        .as_deref()
        .and_then(ocdoctor_cfg::Version::parse)
        .unwrap_or_default();
    let scripts_dirs = match &opts.scripts {
        Some(s) => vec![s.clone()],
        None => program
            .as_deref()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()))
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .map(|bin| {
                let share = bin.join("../share/openocd");
                vec![share.join("site"), share.join("scripts")]
                    .into_iter()
                    .map(|d| d.canonicalize().unwrap_or(d))
                    .collect()
            })
            .unwrap_or_default(),
    };
    Installed {
        program,
        version_text,
        version,
        scripts_dirs,
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn resolve_options(inst: &Installed, cwd: &Path) -> ResolveOptions {
    ResolveOptions {
        cwd: cwd.to_path_buf(),
        scripts_dirs: inst.scripts_dirs.clone(),
        bindir: inst
            .program
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf),
        openocd_scripts: env_path("OPENOCD_SCRIPTS"),
        home: env_path("HOME"),
        xdg_config_home: env_path("XDG_CONFIG_HOME"),
        version: inst.version,
        index: None,
    }
}

/// An edit of one file, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileEdit {
    pub path: PathBuf,
    pub span: Range<usize>,
    pub replacement: String,
}

/// Everything a check found.
#[derive(Debug, Default)]
pub struct Checked {
    pub problems: Vec<SourceProblem>,
    pub edits: Vec<FileEdit>,
    pub inputs: Vec<ocdoctor_core::report::Input>,
    /// The OpenOCD the first resolution used (`openocd --version`), for the report.
    pub openocd: Option<String>,
}

impl Checked {
    fn push(&mut self, p: SourceProblem, edit: Option<FileEdit>) {
        let key = (&p.id, &p.path, p.line, p.column);
        if self
            .problems
            .iter()
            .any(|q| (&q.id, &q.path, q.line, q.column) == key)
        {
            return;
        }
        if let Some(e) = edit
            && !self.edits.contains(&e)
        {
            self.edits.push(e);
        }
        self.problems.push(p);
    }
}

/// The 1-based line `line` of `text` (without its end of line).
fn line_of(text: &str, line: u32) -> String {
    text.lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string()
}

fn slice(text: &str, r: Range<usize>) -> &str {
    text.get(r).unwrap_or("")
}

fn is_under(path: &Path, dirs: &[PathBuf]) -> bool {
    let p = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    dirs.iter().any(|d| p.starts_with(d))
}

/// Where a cfg problem on the reconstructed command line of an IDE config really is: the
/// setting the argv element came from.
struct IdeOrigin<'a> {
    file: &'a IdeFile,
    config: &'a ocdoctor_ide::LaunchConfig,
    inv: &'a Invocation,
}

impl IdeOrigin<'_> {
    /// The IDE-file span of the argv word that contains `offset` of the command line.
    fn span_for(&self, offset: usize) -> Option<Range<usize>> {
        self.setting_for(offset)
            .or_else(|| Some(self.config.span.clone()))
    }

    /// The span of the IDE setting the argv word at `offset` came from (`None`: the front end
    /// wrote that word itself).
    fn setting_for(&self, offset: usize) -> Option<Range<usize>> {
        let words = self.inv.program.iter().chain(self.inv.args.iter());
        let idx = words
            .enumerate()
            .find(|(_, a)| a.span.start <= offset && offset <= a.span.end)
            .map(|(i, _)| i)?;
        // argv_origins counts the program too when the argv has one.
        let k = if self.inv.program.is_some() {
            idx
        } else {
            idx + 1
        };
        self.config.argv_origins.get(k).cloned().flatten()
    }

    /// Where `found` is written inside the setting at `setting`, when it is there exactly once
    /// and as is (no escapes, no variables), and `new` can be written there without escaping:
    /// the span an edit replaces, so the rest of the setting and the file stay as they are.
    fn edit_span(&self, setting: Range<usize>, found: &str, new: &str) -> Option<Range<usize>> {
        let t = self.file.text.get(setting.clone())?;
        if found.is_empty() || t.matches(found).count() != 1 {
            return None;
        }
        let needs_escape = match self.file.kind {
            ocdoctor_ide::FileKind::VsCodeLaunch => {
                new.chars().any(|c| c == '"' || c == '\\' || c.is_control())
            }
            ocdoctor_ide::FileKind::EclipseLaunch => new
                .chars()
                .any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'') || c.is_control()),
            ocdoctor_ide::FileKind::PlatformIo => new.contains(['\n', '\r']),
        };
        if needs_escape {
            return None;
        }
        let at = setting.start + t.find(found)?;
        Some(at..at + found.len())
    }

    /// Whether a `-c` argument at `loc` was written by the front end itself (no setting of the
    /// IDE file behind it), e.g. the ports Cortex-Debug picks at launch.
    fn generated(&self, loc: &ocdoctor_cfg::Location, session: &Session) -> bool {
        let Some(from) = session
            .files
            .iter()
            .find(|f| f.name == loc.file)
            .and_then(|f| f.included_from.as_ref())
        else {
            return false;
        };
        if from.file != ocdoctor_cfg::argv::COMMAND_LINE {
            return false;
        }
        let offset = from.span.start;
        let words = self.inv.program.iter().chain(self.inv.args.iter());
        let Some(idx) = words
            .enumerate()
            .find(|(_, a)| a.span.start <= offset && offset <= a.span.end)
            .map(|(i, _)| i)
        else {
            return false;
        };
        let k = if self.inv.program.is_some() {
            idx
        } else {
            idx + 1
        };
        matches!(self.config.argv_origins.get(k), Some(None))
    }
}

/// The problems minus the consequences of a more specific one at the same place: a path split
/// at a space or stripped of its backslashes is also "not found" / "an unexpected argument".
fn kept(problems: &[ocdoctor_cfg::Problem]) -> Vec<&ocdoctor_cfg::Problem> {
    let place = |p: &ocdoctor_cfg::Problem| p.location.as_ref().map(|l| (l.file.clone(), l.line));
    let specific: HashSet<(String, u32)> = problems
        .iter()
        .filter(|p| {
            matches!(
                p.id.as_str(),
                "windows-path-backslashes" | "unquoted-space-in-path"
            )
        })
        .filter_map(place)
        .collect();
    // `-f My Boards/x.cfg`: the stray `Boards/x.cfg` right after the missing `My` is one path
    // split at a space; OpenOCD 0.12 rejects the stray word before it reads any file.
    let stray_starts: Vec<usize> = problems
        .iter()
        .filter(|p| p.id == "unexpected-argument")
        .filter_map(|p| p.location.as_ref())
        .filter(|l| l.file == ocdoctor_cfg::argv::COMMAND_LINE)
        .map(|l| l.span.start)
        .collect();
    let split_head = |p: &ocdoctor_cfg::Problem| {
        p.id == "missing-file"
            && p.location.as_ref().is_some_and(|l| {
                l.file == ocdoctor_cfg::argv::COMMAND_LINE
                    && stray_starts.iter().any(|&s| {
                        // The stray right after it, or the stray problem that spans both words.
                        (s > l.span.end && s <= l.span.end + 2) || s == l.span.start
                    })
            })
    };
    problems
        .iter()
        .filter(|p| !split_head(p))
        .filter(|p| {
            !(matches!(p.id.as_str(), "missing-file" | "unexpected-argument")
                && place(p).is_some_and(|k| specific.contains(&k)))
        })
        .collect()
}

/// Convert one cfg problem. `cwd` is the folder the command ran in.
fn convert_cfg(
    p: &ocdoctor_cfg::Problem,
    session: &Session,
    inv: &Invocation,
    inst: &Installed,
    origin: Option<&IdeOrigin<'_>>,
    out: &mut Checked,
) {
    // The scripts an OpenOCD ships fit that OpenOCD: version knowledge does not apply to them
    // (the version table flags e.g. `shutdown` in swj-dp.tcl).
    if matches!(
        p.id.as_str(),
        "command-needs-newer-version" | "deprecated-command" | "removed-command"
    ) && p.location.as_ref().is_some_and(|l| {
        session
            .files
            .iter()
            .find(|f| f.name == l.file)
            .and_then(|f| f.path.as_deref())
            .is_some_and(|path| is_under(path, &inst.scripts_dirs))
    }) {
        return;
    }
    let mut sp = SourceProblem {
        source: "config".into(),
        id: p.id.clone(),
        message: p.message.clone(),
        ..Default::default()
    };
    let mut facts: Vec<(String, String)> = Vec::new();
    if let Some(s) = &p.suggestion {
        facts.push(("suggestion".into(), s.clone()));
    }
    // The transports the configured adapter driver offers (OpenOCD 0.12's drivers).
    if p.id == "transport-not-supported-by-adapter"
        && let Some(drv) = session.model.adapter_driver()
        && let Some(t) = ocdoctor_cfg::resolve::driver_transports(drv)
    {
        facts.push(("driver".into(), drv.to_string()));
        facts.push(("supported".into(), t.join(", ")));
    }
    let mut edit = None;
    if let Some(loc) = &p.location {
        let span = loc.span.start..loc.span.end;
        // The text the location names: the command line, a `-c` argument, or a script.
        let file = session.files.iter().find(|f| f.name == loc.file);
        let (text, path): (&str, Option<&Path>) = if loc.file == ocdoctor_cfg::argv::COMMAND_LINE {
            (inv.line.as_str(), None)
        } else {
            match file {
                Some(f) => (f.text.as_str(), f.path.as_deref()),
                None => ("", None),
            }
        };
        let mut span = span;
        // `source [find X]`: the problem spans `find X`; the fix replaces the name only.
        if matches!(
            p.id.as_str(),
            "missing-file" | "deprecated-file" | "removed-file"
        ) {
            let t = slice(text, span.clone());
            for pre in ["find ", "script ", "source "] {
                if let Some(rest) = t.strip_prefix(pre) {
                    span.start += t.len() - rest.trim_start().len();
                    break;
                }
            }
        }
        // The column follows the narrowed span (`find X` → `X`).
        let col = u64::from(loc.col) + span.start.saturating_sub(loc.span.start) as u64;
        let found = slice(text, span.clone()).to_string();
        facts.push(("found".into(), found.clone()));
        if matches!(p.id.as_str(), "deprecated-file" | "removed-file") {
            // The documented replacement as OpenOCD arguments; not always a file name alone
            // (`target/rp2040-core0.cfg` → `-c 'set USE_CORE 0' -f target/rp2040.cfg`).
            let r = ocdoctor_cfg::versions::file_replacement_args(&found, session.version)
                .unwrap_or_else(|| "the file OpenOCD's deprecation warning names".into());
            facts.push(("replacement".into(), r));
        }
        let file_fact = match p.id.as_str() {
            "missing-file" | "deprecated-file" | "removed-file" | "unquoted-space-in-path" => {
                found.clone()
            }
            _ => path.map_or_else(|| loc.file.clone(), |p| p.display().to_string()),
        };
        facts.push(("file".into(), file_fact));
        let command = slice(text, line_span(text, span.start))
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
        facts.push(("command".into(), command));
        match path {
            Some(real) => {
                sp.path = Some(real.display().to_string());
                sp.line = u64::from(loc.line);
                sp.column = col;
                sp.span = Some((span.start as u64, span.end as u64));
                sp.text = line_of(text, loc.line);
                if let Some(s) = &p.suggestion
                    && !is_under(real, &inst.scripts_dirs)
                {
                    // An empty replacement deletes the command; when it is alone on its line,
                    // the line goes too.
                    let mut span = span.clone();
                    if s.is_empty() {
                        let line = line_span(text, span.start);
                        if text[line.clone()].trim() == text[span.clone()].trim() {
                            span = line.start..(line.end + 1).min(text.len());
                        }
                    }
                    let e = Edit::new(span.clone(), s.clone());
                    let label = real.display().to_string();
                    let diff = e.to_unified_diff(text, label.trim_start_matches('/'));
                    if !diff.is_empty() {
                        sp.edit = Some(diff);
                        edit = Some(FileEdit {
                            path: real.to_path_buf(),
                            span,
                            replacement: s.clone(),
                        });
                    }
                }
            }
            None => {
                // The command line or a `-c` argument.
                let reordered = (p.id == "target-before-interface"
                    && loc.file == ocdoctor_cfg::argv::COMMAND_LINE)
                    .then(|| interface_first(text))
                    .flatten();
                let fixed = reordered.or_else(|| {
                    p.suggestion.as_ref().map(|s| {
                        let mut t = text.to_string();
                        if loc.file == ocdoctor_cfg::argv::COMMAND_LINE
                            && matches!(
                                p.id.as_str(),
                                "missing-file" | "deprecated-file" | "removed-file"
                            )
                        {
                            // Every file of this kind on the line at once: one finding shows them
                            // all, so its command line fixes them all.
                            return corrected_line(text, &session.problems, &p.id);
                        }
                        if t.get(span.clone()).is_some() {
                            t.replace_range(span.clone(), s);
                        }
                        t
                    })
                });
                if let Some(f) = &fixed {
                    let shown = if loc.file == ocdoctor_cfg::argv::COMMAND_LINE {
                        f.clone()
                    } else {
                        format!("-c '{f}'")
                    };
                    facts.push(("fixed".into(), shown));
                }
                // Where it is on the command line (a `-c` argument: where that argument is).
                let cmdline_offset = if loc.file == ocdoctor_cfg::argv::COMMAND_LINE {
                    Some(span.start)
                } else {
                    file.and_then(|f| f.included_from.as_ref())
                        .map(|l| l.span.start)
                };
                match (origin, cmdline_offset.and_then(|o| origin?.span_for(o))) {
                    (Some(o), Some(ide_span)) => {
                        // The replacement is known and the text it replaces is written in the
                        // IDE setting: edit exactly that text there.
                        let target = p.suggestion.as_ref().and_then(|s| {
                            let setting = cmdline_offset.and_then(|c| o.setting_for(c))?;
                            Some((o.edit_span(setting, &found, s)?, s))
                        });
                        let at = target.as_ref().map_or(ide_span.clone(), |(r, _)| r.clone());
                        let l =
                            ocdoctor_ide::Location::in_text(&o.file.path, &o.file.text, at.clone());
                        sp.source = "ide".into();
                        sp.path = Some(o.file.path.display().to_string());
                        sp.line = u64::from(l.line);
                        sp.column = u64::from(l.col);
                        sp.span = Some((at.start as u64, at.end as u64));
                        sp.text = line_of(&o.file.text, l.line);
                        if let Some((r, s)) = target {
                            let e = Edit::new(r.clone(), s.clone());
                            let label = o.file.path.display().to_string();
                            let diff =
                                e.to_unified_diff(&o.file.text, label.trim_start_matches('/'));
                            if !diff.is_empty() {
                                sp.edit = Some(diff);
                                edit = Some(FileEdit {
                                    path: o.file.path.clone(),
                                    span: r,
                                    replacement: s.clone(),
                                });
                            }
                        }
                    }
                    _ => {
                        sp.path = Some(loc.file.clone());
                        sp.line = u64::from(loc.line);
                        sp.column = col;
                        sp.span = Some((span.start as u64, span.end as u64));
                        sp.text = text.lines().next().unwrap_or("").to_string();
                        if loc.file != ocdoctor_cfg::argv::COMMAND_LINE {
                            // Shown as `-c …`: the column moves with the prefix.
                            sp.text = format!("-c {}", sp.text);
                            sp.column += 3;
                        }
                    }
                }
            }
        }
    }
    if matches!(p.id.as_str(), "missing-file" | "removed-file") {
        missing_file_facts(p, session, inv, &mut facts);
    }
    // IDE-derived problems keep the source "config" for the rules: a cfg id is a cfg problem,
    // the IDE file is just where it shows.
    if origin.is_some() {
        sp.source = "config".into();
        facts.push((
            "config".into(),
            origin.map(|o| o.config.name.clone()).unwrap_or_default(),
        ));
    }
    sp.facts = facts;
    out.push(sp, edit);
}

/// The command line with every `-f interface/…` moved before the first `-f target/…` (the
/// order OpenOCD needs: the adapter's transports are known before a target selects one).
/// Words move as typed, quotes included (`-c "adapter speed 1000"`).
fn interface_first(line: &str) -> Option<String> {
    let words = ocdoctor_cfg::argv::split_posix(line);
    let is_pair = |i: usize, dir: &str| {
        words[i].value == "-f" && words.get(i + 1).is_some_and(|w| w.value.starts_with(dir))
    };
    let raw = |i: usize| slice(line, words[i].span.start..words[i].span.end);
    let first_target = (0..words.len()).find(|&i| is_pair(i, "target/"))?;
    let mut moved: Vec<&str> = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if i > first_target && is_pair(i, "interface/") {
            moved.extend([raw(i), raw(i + 1)]);
            i += 2;
        } else {
            rest.push(raw(i));
            i += 1;
        }
    }
    if moved.is_empty() {
        return None;
    }
    let at = rest.iter().position(|w| *w == "-f")?.min(first_target);
    rest.splice(at..at, moved);
    Some(rest.join(" "))
}

/// The command line with the suggestion of every `id` problem on it applied.
fn corrected_line(line: &str, problems: &[ocdoctor_cfg::Problem], id: &str) -> String {
    let mut subs: Vec<(Range<usize>, &str)> = problems
        .iter()
        .filter(|q| {
            q.id == id
                || matches!(
                    q.id.as_str(),
                    "missing-file" | "deprecated-file" | "removed-file"
                )
        })
        .filter_map(|q| {
            let l = q.location.as_ref()?;
            let s = q.suggestion.as_deref()?;
            (l.file == ocdoctor_cfg::argv::COMMAND_LINE).then_some((l.span.start..l.span.end, s))
        })
        .collect();
    subs.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut t = line.to_string();
    let mut limit = usize::MAX;
    for (r, s) in subs {
        if r.end <= limit && t.get(r.clone()).is_some() {
            t.replace_range(r.clone(), s);
            limit = r.start;
        }
    }
    t
}

/// Facts of a missing file for CFG101, each always set so no placeholder is left unfilled:
/// `did_you_mean` (`; did you mean X?` or empty), `also_missing` (the other missing files of
/// the session, with theirs), and the next step: `next_title` / `next` (the corrected command
/// line; after an edit, the command as it was; with no suggestion, where to look).
fn missing_file_facts(
    p: &ocdoctor_cfg::Problem,
    session: &Session,
    inv: &Invocation,
    facts: &mut Vec<(String, String)>,
) {
    let name_of = |q: &ocdoctor_cfg::Problem| -> String {
        let Some(l) = &q.location else {
            return String::new();
        };
        let text = if l.file == ocdoctor_cfg::argv::COMMAND_LINE {
            inv.line.as_str()
        } else {
            session
                .files
                .iter()
                .find(|f| f.name == l.file)
                .map_or("", |f| f.text.as_str())
        };
        let t = slice(text, l.span.start..l.span.end);
        ["find ", "script ", "source "]
            .iter()
            .find_map(|pre| t.strip_prefix(pre))
            .unwrap_or(t)
            .trim()
            .to_string()
    };
    let dym =
        |q: &ocdoctor_cfg::Problem| q.suggestion.as_ref().map(|s| format!("did you mean {s}?"));
    facts.push((
        "did_you_mean".into(),
        dym(p).map(|d| format!("; {d}")).unwrap_or_default(),
    ));
    let others: Vec<String> = session
        .problems
        .iter()
        .filter(|q| q.id == "missing-file" && q.location != p.location)
        .map(|q| match dym(q) {
            Some(d) => format!("`{}` ({d})", name_of(q)),
            None => format!("`{}`", name_of(q)),
        })
        .collect();
    facts.push((
        "also_missing".into(),
        if others.is_empty() {
            String::new()
        } else {
            format!(" Not found either: {}.", others.join(", "))
        },
    ));
    let on_line = p
        .location
        .as_ref()
        .is_some_and(|l| l.file == ocdoctor_cfg::argv::COMMAND_LINE);
    let (title, next) = if on_line && p.suggestion.is_some() {
        (
            "Run the corrected command line".to_string(),
            corrected_line(&inv.line, &session.problems, "missing-file"),
        )
    } else if p.suggestion.is_some() {
        ("Then run OpenOCD as before".to_string(), inv.line.clone())
    } else {
        let base = name_of(p);
        let base = base.rsplit(['/', '\\']).next().unwrap_or(&base).to_string();
        (
            format!("Look for {base} (it is not in the installed scripts)"),
            format!("find / -name '{base}' 2>/dev/null"),
        )
    };
    facts.push(("next_title".into(), title));
    facts.push(("next".into(), next));
}

/// The byte range of the line holding `offset`.
fn line_span(text: &str, offset: usize) -> Range<usize> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    start..end
}

fn convert_ide(p: &ocdoctor_ide::IdeProblem, file: &IdeFile, config: &str, out: &mut Checked) {
    let path = file.path.display().to_string();
    let found = slice(&file.text, p.location.span.clone()).to_string();
    let mut facts = vec![
        ("file".to_string(), path.clone()),
        ("found".to_string(), found),
        ("config".to_string(), config.to_string()),
    ];
    let mut edit = None;
    let mut diff = None;
    if let Some(e) = &p.edit {
        facts.push(("suggestion".into(), e.replacement.trim().to_string()));
        let d = e.to_unified_diff(&file.text, path.trim_start_matches('/'));
        if !d.is_empty() {
            diff = Some(d);
            edit = Some(FileEdit {
                path: file.path.clone(),
                span: e.span.clone(),
                replacement: e.replacement.clone(),
            });
        }
    }
    let sp = SourceProblem {
        source: "ide".into(),
        id: p.id.to_string(),
        message: p.message.clone(),
        path: Some(path),
        line: u64::from(p.location.line),
        column: u64::from(p.location.col),
        span: Some((p.location.span.start as u64, p.location.span.end as u64)),
        text: line_of(&file.text, p.location.line),
        facts,
        edit: diff,
    };
    out.push(sp, edit);
}

/// Serials of the debug probes attached to this machine (read once), for the stale-serial check
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

fn check_ide_file(path: &Path, workspace: Option<&Path>, opts: &Options, out: &mut Checked) {
    let ctx = ide_context(workspace);
    let file = ocdoctor_ide::load(path, &ctx);
    out.inputs.push(ocdoctor_core::report::Input {
        kind: "ide".into(),
        path: Some(path.display().to_string()),
        config: None,
        command: None,
    });
    for p in &file.problems {
        convert_ide(p, &file, "", out);
    }
    for cfg in &file.configs {
        for p in &cfg.problems {
            convert_ide(p, &file, &cfg.name, out);
        }
        let Some(inv) = cfg.invocation() else {
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
        let inst = installed(
            opts,
            cfg.openocd_argv
                .as_ref()
                .and_then(|a| a.first())
                .map(String::as_str),
        );
        let cwd = cfg
            .cwd
            .clone()
            .or_else(|| path.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        if out.openocd.is_none() {
            out.openocd.clone_from(&inst.version_text);
        }
        let session = ocdoctor_cfg::resolve(&inv, &resolve_options(&inst, &cwd));
        let origin = IdeOrigin {
            file: &file,
            config: cfg,
            inv: &inv,
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
            // Cortex-Debug's helper script is supplied by the extension when it runs.
            if p.id == "missing-file"
                && p.location.as_ref().is_some_and(|l| {
                    let name = slice(&inv.line, l.span.start..l.span.end);
                    name.contains("${") || name.ends_with("openocd-helpers.tcl")
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
            convert_cfg(p, &session, &inv, &inst, Some(&origin), out);
        }
    }
}

fn check_invocation(inv: &Invocation, cwd: &Path, opts: &Options, out: &mut Checked) {
    let inst = installed(opts, inv.program.as_ref().map(|a| a.value.as_str()));
    if out.openocd.is_none() {
        out.openocd.clone_from(&inst.version_text);
    }
    let session = ocdoctor_cfg::resolve(inv, &resolve_options(&inst, cwd));
    for p in kept(&session.problems) {
        convert_cfg(p, &session, inv, &inst, None, out);
    }
}

/// Run every check on the inputs.
pub fn check(inputs: &[Input], opts: &Options) -> Result<Checked, String> {
    let mut out = Checked::default();
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
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
                check_invocation(&inv, &cwd, opts, &mut out);
            }
            Input::Path(p) if p.is_dir() => {
                let found = ocdoctor_ide::discover(p);
                if found.is_empty() {
                    return Err(format!(
                        "{}: no .vscode/launch.json, *.launch or platformio.ini found; give a .cfg or the openocd command (`ocdoctor check -- openocd -f …`)",
                        p.display()
                    ));
                }
                for f in found {
                    check_ide_file(&f, Some(p), opts, &mut out);
                }
            }
            Input::Path(p) if p.is_file() => {
                if ocdoctor_ide::kind_of(p).is_some() {
                    check_ide_file(p, None, opts, &mut out);
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
                    check_invocation(&inv, &cwd, opts, &mut out);
                }
            }
            Input::Path(p) => {
                return Err(format!("{}: no such file or directory", p.display()));
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
) -> Result<Vec<SourceProblem>, String> {
    let inv = Invocation::parse_command_line(line);
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let mut inst = installed(opts, inv.program.as_ref().map(|a| a.value.as_str()));
    if let Some(v) = log_version
        .as_deref()
        .and_then(ocdoctor_cfg::Version::parse)
    {
        inst.version = v;
    }
    let session = ocdoctor_cfg::resolve(&inv, &resolve_options(&inst, &cwd));
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

/// The edits grouped per file: (path, old text, new text). Overlapping edits: the first wins.
pub fn plan(edits: &[FileEdit]) -> Vec<(PathBuf, String, String)> {
    let mut per: BTreeMap<&Path, Vec<&FileEdit>> = BTreeMap::new();
    for e in edits {
        per.entry(&e.path).or_default().push(e);
    }
    let mut out = Vec::new();
    for (path, mut es) in per {
        let Ok(old) = std::fs::read_to_string(path) else {
            continue;
        };
        es.sort_by_key(|e| e.span.start);
        let mut kept: Vec<&FileEdit> = Vec::new();
        for e in es {
            let ok = e.span.start <= e.span.end
                && e.span.end <= old.len()
                && old.is_char_boundary(e.span.start)
                && old.is_char_boundary(e.span.end)
                && kept.last().is_none_or(|k| k.span.end <= e.span.start);
            if ok {
                kept.push(e);
            }
        }
        let mut new = old.clone();
        for e in kept.iter().rev() {
            new.replace_range(e.span.clone(), &e.replacement);
        }
        if new != old {
            out.push((path.to_path_buf(), old, new));
        }
    }
    out
}

/// A unified diff of a whole-file change.
pub fn diff(path: &Path, old: &str, new: &str) -> String {
    // One edit covering the changed middle renders the same hunk as the per-edit diffs.
    let pre = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let mut pre = pre;
    while !old.is_char_boundary(pre) || !new.is_char_boundary(pre) {
        pre -= 1;
    }
    let max_post = (old.len() - pre).min(new.len() - pre);
    let mut post = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_post)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - post) || !new.is_char_boundary(new.len() - post) {
        post -= 1;
    }
    let e = Edit::new(pre..old.len() - post, &new[pre..new.len() - post]);
    let label = path.display().to_string();
    e.to_unified_diff(old, label.trim_start_matches('/'))
}

/// The backup name: `<file>.orig`, or `.orig.1`, `.orig.2`… when taken.
pub fn backup_path(path: &Path) -> PathBuf {
    let base = path.as_os_str().to_os_string();
    let mut first = base.clone();
    first.push(".orig");
    let mut candidate = PathBuf::from(first);
    let mut n = 1;
    while candidate.exists() {
        let mut s = base.clone();
        s.push(format!(".orig.{n}"));
        candidate = PathBuf::from(s);
        n += 1;
    }
    candidate
}

/// Apply the plan: back up each file, then write it atomically (temp file + rename).
pub fn apply(plan: &[(PathBuf, String, String)]) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let mut done = Vec::new();
    for (path, old, new) in plan {
        let backup = backup_path(path);
        std::fs::write(&backup, old)
            .map_err(|e| format!("cannot write the backup {}: {e}", backup.display()))?;
        crate::write_atomically(path, new.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        done.push((path.clone(), backup));
    }
    Ok(done)
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

    #[test]
    fn options_are_taken_anywhere() {
        let mut a = s(&["-f", "x.cfg", "--format", "json", "--apply"]);
        assert_eq!(take_option(&mut a, "format", true).as_deref(), Some("json"));
        assert_eq!(take_option(&mut a, "apply", false).as_deref(), Some(""));
        assert_eq!(a, s(&["-f", "x.cfg"]));
        let mut b = s(&["--scripts=/x", "."]);
        assert_eq!(take_option(&mut b, "scripts", true).as_deref(), Some("/x"));
        assert_eq!(b, s(&["."]));
    }

    #[test]
    fn diff_of_two_edits() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nB\nc\nD\n";
        let d = diff(Path::new("x.cfg"), old, new);
        assert!(
            d.contains("-b\n") && d.contains("+B\n") && d.contains("+D\n"),
            "{d}"
        );
        assert_eq!(diff(Path::new("x"), "same", "same"), "");
        // Multi-byte characters at the edge of the change.
        let d = diff(Path::new("x"), "é1\n", "é2\n");
        assert!(d.contains("+é2"), "{d}");
    }
}
