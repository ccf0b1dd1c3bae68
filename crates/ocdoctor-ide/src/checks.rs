//! The checks every front end shares, on the command line it builds: is the server there and is
//! it OpenOCD, are the `-f` files where OpenOCD will look, does GDB exist and target the MCU, do
//! the GDB ports agree, does Tcl eat a backslash, did an unquoted space split an argument, does a
//! probe serial still exist.

use crate::edit::Edit;
use crate::text::{json_quote, xml_escape};
use crate::{IdeContext, IdeProblem, LaunchConfig, Location, Os, ProblemId, Severity, Span};
use ocdoctor_cfg::{Invocation, ResolveOptions, ScriptsIndex, Version};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// How a value is written in its file, so that an edit can write a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enc {
    /// A JSON string literal; the span includes the quotes.
    Json,
    /// An XML attribute value; the span is inside the quotes.
    Xml,
    /// Raw INI text.
    Ini,
}

/// What a value becomes on the OpenOCD command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// One argv element that is a config file name (`-f X`).
    File,
    /// One argv element that is Tcl (`-c X`).
    Tcl,
    /// A string split into several argv elements (cpptools `debugServerArgs`, Eclipse
    /// `gdbServerOther`).
    Args,
    /// Anything else (a search dir, a whole argument).
    Plain,
}

/// A setting's value as found in the file.
#[derive(Debug, Clone)]
pub(crate) struct Val {
    /// The text after unescaping (JSON/XML) and before variable substitution.
    pub raw: String,
    /// After variable substitution.
    pub value: String,
    pub span: Span,
    pub enc: Enc,
    /// Variables that could not be substituted (`${config:…}`, `${openocd_path}`…).
    pub unresolved: Vec<String>,
}

impl Val {
    /// An edit that replaces this value with `new_raw` (unsubstituted text).
    pub fn edit(&self, new_raw: &str) -> Edit {
        let rep = match self.enc {
            Enc::Json => json_quote(new_raw),
            Enc::Xml => xml_escape(new_raw),
            Enc::Ini => new_raw.to_string(),
        };
        Edit::new(self.span.clone(), rep)
    }
    /// An edit that replaces the first `old` in the raw text with `new`, when `old` is there.
    pub fn edit_replace(&self, old: &str, new: &str) -> Option<Edit> {
        if old.is_empty() || !self.raw.contains(old) {
            return None;
        }
        Some(self.edit(&self.raw.replacen(old, new, 1)))
    }
}

/// What a front end will run, with where each piece came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// The configured server executable (`None`: the front end's default, `default_server`).
    pub server: Option<Val>,
    pub default_server: String,
    /// Arguments after the program, each with the index of its origin in `vals`.
    pub args: Vec<(String, Option<usize>)>,
    pub vals: Vec<(Val, Role)>,
    pub cwd: PathBuf,
    /// The configured GDB (`None`: a default we do not check).
    pub gdb: Option<Val>,
    /// The GDB client's `host:port` setting, when it is separate from the server's port.
    pub client_address: Option<Val>,
    /// Where to point problems about defaults.
    pub anchor: Span,
    /// Split rules for `Role::Args` values: MSVC (cpptools) or POSIX.
    pub windows_split: bool,
}

impl Plan {
    pub fn add_val(&mut self, v: Val, role: Role) -> usize {
        self.vals.push((v, role));
        self.vals.len() - 1
    }
    pub fn push(&mut self, arg: impl Into<String>, origin: Option<usize>) {
        self.args.push((arg.into(), origin));
    }
    /// `-c X` from a value.
    pub fn push_c(&mut self, v: Val) {
        let i = self.add_val(v, Role::Tcl);
        self.push("-c", Some(i));
        let value = self.vals[i].0.value.clone();
        self.push(value, Some(i));
    }
    /// `-f X` from a value.
    pub fn push_f(&mut self, v: Val) {
        let i = self.add_val(v, Role::File);
        self.push("-f", Some(i));
        let value = self.vals[i].0.value.clone();
        self.push(value, Some(i));
    }
    /// A string split into words (the front end's splitting rules).
    pub fn push_split(&mut self, v: Val) {
        let words = split(&v.value, self.windows_split);
        let i = self.add_val(v, Role::Args);
        for w in words {
            self.push(w.value, Some(i));
        }
    }
}

/// The words of a command-line string, with spans.
pub(crate) fn split(s: &str, windows: bool) -> Vec<ocdoctor_cfg::Arg> {
    if windows {
        ocdoctor_cfg::argv::split_windows(s)
    } else {
        ocdoctor_cfg::argv::split_posix(s)
    }
}

pub(crate) struct Ctx<'a> {
    pub ide: &'a IdeContext,
    pub path: &'a Path,
    pub text: &'a str,
    /// The line index of `text`.
    pub lines: &'a crate::LineIndex,
}

impl Ctx<'_> {
    pub fn problem(
        &self,
        id: ProblemId,
        severity: Severity,
        message: impl Into<String>,
        span: Span,
        edit: Option<Edit>,
    ) -> IdeProblem {
        IdeProblem {
            id,
            severity,
            message: message.into(),
            location: Location::in_indexed(self.path, self.text, self.lines, span),
            edit,
        }
    }
}

/// Is this program OpenOCD (by name: `openocd`, `openocd.exe`, `openocd-esp32`…)?
pub(crate) fn is_openocd_name(prog: &str) -> bool {
    let base = basename(prog).to_ascii_lowercase();
    let base = base.trim_end_matches('"');
    base == "openocd" || base == "openocd.exe" || base.starts_with("openocd")
}

pub(crate) fn basename(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// Where `prog` is: absolute, relative to `cwd` when it has a separator, else on PATH.
/// `None` when not found; `Err(())` when it cannot be decided (PATH unknown).
pub(crate) fn locate(prog: &str, cwd: &Path, ctx: &IdeContext) -> Result<Option<PathBuf>, ()> {
    let exe = |p: PathBuf| -> Option<PathBuf> {
        if p.is_file() {
            return Some(p);
        }
        if ctx.os == Os::Windows && !p.to_string_lossy().to_ascii_lowercase().ends_with(".exe") {
            let mut s = p.into_os_string();
            s.push(".exe");
            let p = PathBuf::from(s);
            if p.is_file() {
                return Some(p);
            }
        }
        None
    };
    let p = Path::new(prog);
    if p.is_absolute() || (ctx.os == Os::Windows && prog.len() > 2 && &prog[1..2] == ":") {
        return Ok(exe(p.to_path_buf()));
    }
    if prog.contains('/') || prog.contains('\\') {
        return Ok(exe(cwd.join(p)));
    }
    let Some(path_var) = &ctx.path_var else {
        return Err(());
    };
    let sep = if ctx.os == Os::Windows { ';' } else { ':' };
    for dir in path_var.split(sep).filter(|d| !d.is_empty()) {
        if let Some(f) = exe(Path::new(dir).join(prog)) {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// Run the shared checks and fill `cfg.openocd_argv`, `cwd`, `gdb`.
pub(crate) fn run(plan: &Plan, cx: &Ctx, cfg: &mut LaunchConfig) {
    let program = plan
        .server
        .as_ref()
        .map(|v| v.value.clone())
        .unwrap_or_else(|| plan.default_server.clone());
    cfg.cwd = Some(plan.cwd.clone());
    cfg.gdb = plan.gdb.as_ref().map(|g| g.value.clone());
    let all = plan
        .vals
        .iter()
        .map(|(v, _)| v)
        .chain(plan.server.iter())
        .chain(plan.gdb.iter());
    for v in all {
        for u in &v.unresolved {
            let note = format!("{u} is not resolved (left as written)");
            if !cfg.notes.contains(&note) {
                cfg.notes.push(note);
            }
        }
    }

    // The server: not OpenOCD → say so, and check nothing OpenOCD-specific.
    let looks_openocd_args = plan
        .args
        .iter()
        .any(|(a, _)| a == "-f" || a == "-s" || a.ends_with(".cfg") || a.starts_with("-f "));
    if !is_openocd_name(&program) {
        let (sev, msg, edit) = if looks_openocd_args {
            let found = locate("openocd", &plan.cwd, cx.ide).ok().flatten();
            let edit = plan.server.as_ref().map(|v| {
                v.edit(
                    &found
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "openocd".into()),
                )
            });
            (
                Severity::Error,
                format!(
                    "the server `{program}` is not OpenOCD, but its arguments (`-f`, `.cfg`) are OpenOCD's"
                ),
                edit,
            )
        } else {
            (
                Severity::Info,
                format!("the server `{program}` is not OpenOCD; the OpenOCD checks do not apply"),
                None,
            )
        };
        let span = plan
            .server
            .as_ref()
            .map(|v| v.span.clone())
            .unwrap_or(plan.anchor.clone());
        cfg.problems
            .push(cx.problem(ProblemId::ServerNotOpenocd, sev, msg, span, edit));
        check_gdb(plan, cx, cfg);
        return;
    }

    let mut argv = vec![program.clone()];
    let mut origins = vec![plan.server.as_ref().map(|v| v.span.clone())];
    for (a, o) in &plan.args {
        argv.push(a.clone());
        origins.push(o.map(|i| plan.vals[i].0.span.clone()));
    }
    cfg.openocd_argv = Some(argv.clone());
    cfg.argv_origins = origins;

    // Where is the server?
    let server_unresolved = plan
        .server
        .as_ref()
        .is_some_and(|v| !v.unresolved.is_empty());
    let mut exe = None;
    if !server_unresolved {
        match locate(&program, &plan.cwd, cx.ide) {
            Ok(Some(p)) => exe = Some(p),
            Ok(None) => {
                let found = locate("openocd", &plan.cwd, cx.ide).ok().flatten();
                let edit = match (&plan.server, &found) {
                    (Some(v), Some(f)) => Some(v.edit(&f.to_string_lossy())),
                    _ => None,
                };
                let span = plan
                    .server
                    .as_ref()
                    .map(|v| v.span.clone())
                    .unwrap_or(plan.anchor.clone());
                let mut msg = format!("the OpenOCD executable `{program}` was not found");
                if !program.contains(['/', '\\']) {
                    msg.push_str(" on PATH");
                } else {
                    msg.push_str(&format!(" (relative to {})", plan.cwd.display()));
                }
                if let Some(f) = &found {
                    msg.push_str(&format!("; `{}` is on PATH", f.display()));
                }
                cfg.problems.push(cx.problem(
                    ProblemId::ServerNotFound,
                    Severity::Error,
                    msg,
                    span,
                    edit,
                ));
            }
            Err(()) => cfg
                .notes
                .push(format!("PATH not given: `{program}` not looked up")),
        }
    } else {
        cfg.notes
            .push("the server path has unresolved variables: not checked".into());
    }

    let inv = Invocation::parse_args(&argv);
    check_files(plan, cx, cfg, &inv, exe.as_deref());
    check_tcl(plan, cx, cfg);
    check_split(plan, cx, cfg);
    check_gdb(plan, cx, cfg);
    check_ports(plan, cx, cfg);
}

/// The scripts dirs an OpenOCD at `exe` has built in: `<bindir>/../share/openocd/{site,scripts}`
/// (a `make install` / distro layout); xPack and PlatformIO packages put them at
/// `<bindir>/../openocd/scripts` or `<bindir>/../scripts`. Only dirs that exist.
fn builtin_dirs(exe: &Path) -> Vec<PathBuf> {
    let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    let Some(bindir) = exe.parent() else {
        return Vec::new();
    };
    let Some(prefix) = bindir.parent() else {
        return Vec::new();
    };
    [
        prefix.join("share/openocd/site"),
        prefix.join("share/openocd/scripts"),
        prefix.join("openocd/scripts"),
        prefix.join("scripts"),
    ]
    .into_iter()
    .filter(|d| d.is_dir())
    .collect()
}

fn check_files(
    plan: &Plan,
    cx: &Ctx,
    cfg: &mut LaunchConfig,
    inv: &Invocation,
    exe: Option<&Path>,
) {
    let builtin = exe.map(builtin_dirs).unwrap_or_default();
    let env = |k: &str| cx.ide.env.get(k).map(PathBuf::from);
    let opts = ResolveOptions {
        cwd: plan.cwd.clone(),
        scripts_dirs: builtin.clone(),
        bindir: None,
        openocd_scripts: env("OPENOCD_SCRIPTS"),
        home: env("HOME").or_else(|| env("USERPROFILE")),
        xdg_config_home: env("XDG_CONFIG_HOME"),
        version: Version::default(),
        index: None,
    };
    let search: Vec<PathBuf> = opts
        .search_path(inv)
        .into_iter()
        .map(|d| if d.is_relative() { plan.cwd.join(d) } else { d })
        .collect();
    let scripts_known = !builtin.is_empty();
    for (i, (a, origin)) in plan.args.iter().enumerate() {
        if a != "-f" {
            continue;
        }
        let Some((name, name_origin)) = plan.args.get(i + 1) else {
            continue;
        };
        // The setting the file name came from: a PlatformIO `-f` line may be followed by the
        // name on the next line, a different setting from the `-f`'s.
        let Some(oi) = name_origin.or(*origin) else {
            continue;
        };
        let (val, role) = &plan.vals[oi];
        if !val.unresolved.is_empty() || name.contains("${") {
            continue;
        }
        let p = Path::new(name);
        let explicit = p.is_absolute() || name.starts_with("./") || name.starts_with("../");
        let direct = if p.is_absolute() {
            p.to_path_buf()
        } else {
            plan.cwd.join(p)
        };
        if direct.is_file() {
            continue;
        }
        if !explicit && search.iter().any(|d| d.join(name).is_file()) {
            continue;
        }
        if !explicit && !scripts_known {
            // Without the scripts dir of the OpenOCD that will run, "not found" would be a guess.
            cfg.notes.push(format!(
                "`{name}`: OpenOCD's scripts dir is unknown (server not found), not checked"
            ));
            continue;
        }
        let mut looked: Vec<String> = vec![plan.cwd.display().to_string()];
        if !explicit {
            looked.extend(search.iter().map(|d| d.display().to_string()));
        }
        let suggestion = builtin
            .last()
            .map(|d| ScriptsIndex::scan(d))
            .and_then(|idx| {
                idx.did_you_mean(name, Version::default())
                    .into_iter()
                    .next()
            });
        let edit = suggestion.as_ref().and_then(|s| match role {
            Role::File if val.raw == val.value => Some(val.edit(s)),
            _ => val.edit_replace(name, s),
        });
        let mut msg = format!(
            "OpenOCD will not find `{name}` (\"Can't find {name}\"); it looks in: {}",
            looked.join(", ")
        );
        if let Some(s) = &suggestion {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        // Point at the name itself when the setting holds more (`-f name` on one line, a
        // split argument string) and the name is written there once, as is.
        let mut span = val.span.clone();
        if let Some(t) = cx.text.get(span.clone())
            && t != name
            && t.matches(name.as_str()).count() == 1
            && let Some(at) = t.find(name.as_str())
            && !(val.enc == Enc::Json && *role == Role::File)
        {
            span = span.start + at..span.start + at + name.len();
        }
        cfg.problems.push(cx.problem(
            ProblemId::ConfigFileNotFound,
            Severity::Error,
            msg,
            span,
            edit,
        ));
    }
    let _ = &cfg.name;
}

fn serial_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?m)(?:^|[;\[])\s*(adapter\s+serial|hla_serial|cmsis_dap_serial|ftdi_serial|ftdi\s+serial|jlink\s+serial|st-link\s+serial)\s+["{]?([^\s"};\]]+)"#,
        )
        .expect("static regex")
    })
}

fn gdb_port_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?m)(?:^|[;\[])\s*gdb(?:_|\s+)port\s+([^\s;\]]+)").expect("static regex")
    })
}

/// Tcl (`-c`) values: backslashes Tcl would eat, and probe serials.
fn check_tcl(plan: &Plan, cx: &Ctx, cfg: &mut LaunchConfig) {
    let mut tcl: Vec<(String, usize)> = Vec::new();
    for (i, (a, _)) in plan.args.iter().enumerate() {
        if a == "-c"
            && let Some((v, Some(o))) = plan.args.get(i + 1)
        {
            tcl.push((v.clone(), *o));
        }
    }
    for (cmd, oi) in &tcl {
        let (val, _) = &plan.vals[*oi];
        // A `\` in an unbraced, unquoted-by-braces word: Tcl reads `\t`, `\n`, `\U`… as escapes.
        let (script, _) = ocdoctor_cfg::tcl::parse(cmd);
        let mut bad = false;
        for c in &script.commands {
            for w in &c.words {
                let t = w.span.text(cmd);
                if w.kind != ocdoctor_cfg::tcl::WordKind::Braced
                    && t.contains('\\')
                    && looks_like_path(t)
                {
                    bad = true;
                }
            }
        }
        if bad {
            cfg.problems.push(backslash_problem(
                cx,
                val,
                format!(
                    "Tcl reads the backslashes in `{cmd}` as escapes (`\\t`, `\\n`…), so the path OpenOCD gets is not the one written; use `/` (Windows accepts it) or braces"
                ),
            ));
        }
        for m in serial_re().captures_iter(cmd) {
            let serial = &m[2];
            check_serial(serial, val, cx, cfg);
        }
    }
    // `-f` names with `\` on Linux/macOS: not a separator there.
    if cx.ide.os != Os::Windows {
        for (i, (a, o)) in plan.args.iter().enumerate() {
            if a != "-f" {
                continue;
            }
            if let (Some((name, _)), Some(oi)) = (plan.args.get(i + 1), o)
                && name.contains('\\')
            {
                let (val, _) = &plan.vals[*oi];
                cfg.problems.push(backslash_problem(
                    cx,
                    val,
                    format!(
                        "`{name}` uses `\\`, which is not a path separator on this OS; use `/`"
                    ),
                ));
            }
        }
    }
}

/// A value whose `\` OpenOCD does not read as a path separator, with the `/` spelling as
/// its edit.
fn backslash_problem(cx: &Ctx, val: &Val, message: String) -> IdeProblem {
    cx.problem(
        ProblemId::WindowsPathBackslashes,
        Severity::Error,
        message,
        val.span.clone(),
        Some(val.edit(&fix_backslashes(&val.raw))),
    )
}

fn looks_like_path(word: &str) -> bool {
    let w = word.trim_matches('"');
    let b = w.as_bytes();
    (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\')
        || [".cfg", ".tcl", ".elf", ".hex", ".bin", ".log"]
            .iter()
            .any(|x| w.to_ascii_lowercase().ends_with(x))
}

/// `\` before a path character becomes `/`; `\"` and `\\` stay (they are quoting).
fn fix_backslashes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(n) if n.is_alphanumeric() || "_.-${ ".contains(*n) => out.push('/'),
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn check_serial(serial: &str, val: &Val, cx: &Ctx, cfg: &mut LaunchConfig) {
    let attached = &cx.ide.attached_serials;
    // No serials known (no snapshot, no USB bus visible, or nothing attached): the machine cannot
    // say whether the serial is stale, and "not attached" is the probe's problem, not the file's.
    if attached.is_empty() || attached.iter().any(|a| a.eq_ignore_ascii_case(serial)) {
        return;
    }
    let edit = if attached.len() == 1 {
        val.edit_replace(serial, &attached[0])
    } else {
        None
    };
    let now = format!("attached: {}", attached.join(", "));
    cfg.problems.push(cx.problem(
        ProblemId::StaleProbeSerial,
        Severity::Warning,
        format!("the probe serial `{serial}` matches no attached probe ({now}); OpenOCD will not find the probe"),
        val.span.clone(),
        edit,
    ));
}

/// Split strings (`debugServerArgs`, `gdbServerOther`): a space that split one argument in two.
fn check_split(plan: &Plan, cx: &Ctx, cfg: &mut LaunchConfig) {
    for (val, role) in &plan.vals {
        if *role != Role::Args || !val.unresolved.is_empty() {
            continue;
        }
        let words = split(&val.raw, plan.windows_split);
        let mut i = 0;
        while i < words.len() {
            let w = &words[i].value;
            if matches!(
                w.as_str(),
                "-f" | "-s" | "-l" | "-c" | "--file" | "--search" | "--command"
            ) && i + 2 < words.len() + 1
            {
                let mut j = i + 1;
                while j + 1 < words.len() && !words[j + 1].value.starts_with('-') {
                    j += 1;
                }
                if j > i + 1 {
                    let (s, e) = (words[i + 1].span.start, words[j].span.end);
                    let joined = &val.raw[s..e];
                    let quoted_already = joined.contains('"') || joined.contains('\'');
                    if !quoted_already {
                        let new_raw = format!("{}\"{}\"{}", &val.raw[..s], joined, &val.raw[e..]);
                        cfg.problems.push(cx.problem(
                            ProblemId::UnquotedSpaceInArgs,
                            Severity::Error,
                            format!(
                                "`{w} {joined}` is split at the space: OpenOCD gets `{w} {}` and then `{}` as stray arguments (\"Unexpected command line argument\"); quote it",
                                words[i + 1].value,
                                words[i + 2..=j]
                                    .iter()
                                    .map(|a| a.value.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            ),
                            val.span.clone(),
                            Some(val.edit(&new_raw)),
                        ));
                    }
                    i = j + 1;
                    continue;
                }
            }
            i += 1;
        }
    }
}

fn host_gdb(prog: &str) -> bool {
    let b = basename(prog).to_ascii_lowercase();
    b == "gdb" || b == "gdb.exe"
}

fn gdb_candidates(plan: &Plan) -> Vec<&'static str> {
    let riscv = plan
        .args
        .iter()
        .any(|(a, _)| a.to_ascii_lowercase().contains("riscv") || a.contains("wch-"));
    if riscv {
        vec![
            "riscv-none-elf-gdb",
            "riscv-none-embed-gdb",
            "riscv64-unknown-elf-gdb",
            "gdb-multiarch",
        ]
    } else {
        vec!["arm-none-eabi-gdb", "gdb-multiarch"]
    }
}

/// Only the GDB checks (a configuration that starts no server).
pub(crate) fn run_gdb_only(plan: &Plan, cx: &Ctx, cfg: &mut LaunchConfig) {
    check_gdb(plan, cx, cfg);
}

fn check_gdb(plan: &Plan, cx: &Ctx, cfg: &mut LaunchConfig) {
    let Some(g) = &plan.gdb else { return };
    if !g.unresolved.is_empty() || g.value.is_empty() {
        return;
    }
    let found_candidate = || {
        gdb_candidates(plan)
            .into_iter()
            .find(|c| matches!(locate(c, &plan.cwd, cx.ide), Ok(Some(_))))
    };
    if host_gdb(&g.value) {
        let pick = found_candidate().unwrap_or(gdb_candidates(plan)[0]);
        cfg.problems.push(cx.problem(
            ProblemId::GdbIsHostGdb,
            Severity::Warning,
            format!(
                "`{}` is the host's GDB, which does not debug ARM/RISC-V targets (\"Truncated register 16 in remote 'g' packet\"); use a cross GDB such as `{pick}`",
                g.value
            ),
            g.span.clone(),
            Some(g.edit(pick)),
        ));
        return;
    }
    if let Ok(None) = locate(&g.value, &plan.cwd, cx.ide) {
        let base = basename(&g.value).to_string();
        let edit = if base != g.value && matches!(locate(&base, &plan.cwd, cx.ide), Ok(Some(_))) {
            Some(g.edit(&base))
        } else {
            found_candidate().map(|c| g.edit(c))
        };
        cfg.problems.push(cx.problem(
            ProblemId::GdbNotFound,
            Severity::Error,
            format!("the GDB `{}` was not found", g.value),
            g.span.clone(),
            edit,
        ));
    }
}

/// The port in a `host:port` address.
pub(crate) fn address_port(a: &str) -> Option<(u16, usize)> {
    let i = a.rfind(':')?;
    let p = a[i + 1..].trim();
    p.parse::<u16>().ok().map(|n| (n, i + 1))
}

/// OpenOCD's gdb port from `-c` commands (last wins), default 3333.
pub(crate) fn server_gdb_port(plan: &Plan) -> Option<u16> {
    let mut port = Some(3333);
    for (i, (a, _)) in plan.args.iter().enumerate() {
        if a == "-c"
            && let Some((v, _)) = plan.args.get(i + 1)
        {
            for m in gdb_port_re().captures_iter(v) {
                port = m[1].parse::<u16>().ok();
            }
        }
    }
    port
}

fn check_ports(plan: &Plan, cx: &Ctx, cfg: &mut LaunchConfig) {
    let Some(client) = &plan.client_address else {
        return;
    };
    if !client.unresolved.is_empty() {
        return;
    }
    let Some(server) = server_gdb_port(plan) else {
        return;
    };
    check_port_pair(server, client, cx, cfg, "OpenOCD's gdb port");
}

pub(crate) fn check_port_pair(
    server: u16,
    client: &Val,
    cx: &Ctx,
    cfg: &mut LaunchConfig,
    what: &str,
) {
    let Some((port, _)) = address_port(&client.value)
        .or_else(|| client.value.trim().parse::<u16>().ok().map(|p| (p, 0)))
    else {
        return;
    };
    if port == server {
        return;
    }
    let edit = if client.raw.trim().parse::<u16>().is_ok() {
        Some(client.edit(&server.to_string()))
    } else {
        address_port(&client.raw).map(|(_, at)| {
            let mut s = client.raw[..at].to_string();
            s.push_str(&server.to_string());
            client.edit(&s)
        })
    };
    cfg.problems.push(cx.problem(
        ProblemId::GdbPortMismatch,
        Severity::Error,
        format!("GDB connects to port {port} but {what} is {server}: GDB gets \"Connection refused\" (or reaches another server)"),
        client.span.clone(),
        edit,
    ));
}
