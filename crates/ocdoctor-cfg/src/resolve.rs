//! Resolution: run the invocation's `-f`/`-c` steps through a shallow evaluator that does
//! what OpenOCD configs do — `set`, `global`, `if`/`else`, `proc` (recorded; called procs are
//! run), `source [find x]`, `script`, `add_script_search_dir`, `$var` substitution,
//! `transport select`, `using_jtag`/`using_swd`/`using_hla` — so board → target → interface
//! chains resolve, and records the model and the problems on the way.
//!
//! ## The script search path (OpenOCD 0.12, src/helper/options.c + configuration.c)
//! `find NAME` (helper/startup.tcl) calls `ocd_find` → `find_file()`, which tries NAME as given
//! (absolute, or relative to the current directory) and then `DIR/NAME` for each search dir, in
//! this order: every `-s DIR` in command-line order; then `add_default_dirs()`: the
//! `OPENOCD_SCRIPTS` environment variable (one dir), `$XDG_CONFIG_HOME/openocd` (or, when
//! XDG_CONFIG_HOME is unset, `$HOME/.config/openocd`), `$HOME/.openocd`,
//! `<bindir>/../share/openocd/site`, `<bindir>/../share/openocd/scripts` (bindir = where the
//! executable is). `add_script_search_dir` in a script appends *after* those.
//! When NAME is not found, `find` retries with `\` mapped to `/` and with `/` mapped to `\`.
//! In 0.12 the first mapping is broken (`string map {\ /}` is a one-element list: Jim raises
//! "list must contain an even number of elements", which `catch` swallows), so only the
//! `/`→`\` retry happens; master fixed it (`{\\ /}`) and also tries vendor sub-folders and
//! `file_renaming.cfg` (emulated here with the rename table in `data/deprecated.tsv`).
//! `-f NAME` runs `script {NAME}` = `source [find NAME]`. Jim's `source PATH` opens PATH as
//! given (relative to the current directory), without the search path.

use crate::argv::{COMMAND_LINE, Invocation, StepKind};
use crate::expr::{self, Ev, UNKNOWN};
use crate::index::{ScriptsIndex, edit_distance};
use crate::lines::LineIndex;
use crate::model::*;
use crate::problem::{Location, Problem, ProblemId, Severity};
use crate::tcl::{self, Command, Part, Script, Span, Word, WordKind};
use crate::versions::{self, Status, Version};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// File access used by the resolution (so tests can use an in-memory tree).
pub trait FileSystem {
    /// The file's text (lossy UTF-8), `None` when it cannot be read.
    fn read(&self, path: &Path) -> Option<String>;
    /// Whether `path` is a readable file (what `fopen(path, "r")` succeeding means).
    fn is_file(&self, path: &Path) -> bool;
    /// The file as a script: its text, or why it is not one (the default reads with `read`).
    fn read_script(&self, path: &Path) -> Result<String, NotAScript> {
        self.read(path).ok_or(NotAScript::Unreadable)
    }
}

/// The largest file read as a script: OpenOCD's biggest shipped cfg is about 50 KiB.
pub const MAX_SCRIPT_BYTES: u64 = 8 << 20;
/// How much of a file is looked at to tell text from binary.
const SNIFF_BYTES: usize = 64 * 1024;

/// Why a file is not read as a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAScript {
    /// It cannot be opened or read.
    Unreadable,
    /// Its first bytes are not text (`what`: an ELF executable, binary data…).
    Binary { what: String },
    /// Bigger than [`MAX_SCRIPT_BYTES`].
    TooBig { bytes: u64 },
}

impl std::fmt::Display for NotAScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAScript::Unreadable => write!(f, "it cannot be read"),
            NotAScript::Binary { what } => write!(f, "it is {what}, not text"),
            NotAScript::TooBig { bytes } => write!(
                f,
                "it is {bytes} bytes; a config script is text of a few KiB (the limit is {MAX_SCRIPT_BYTES})"
            ),
        }
    }
}

/// What binary `head` (a file's first bytes) looks like, `None` when it is text.
pub fn binary_kind(head: &[u8]) -> Option<String> {
    let what = match head {
        [0x7f, b'E', b'L', b'F', ..] => "an ELF executable or object",
        [b'M', b'Z', ..] => "a Windows executable",
        [0xCF | 0xCE, 0xFA, 0xED, 0xFE, ..] => "a Mach-O executable",
        [b'P', b'K', 3, 4, ..] => "a zip archive",
        [0x1f, 0x8b, ..] => "a gzip archive",
        _ => {
            let controls = head
                .iter()
                .filter(|&&b| {
                    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f
                })
                .count();
            if !head.contains(&0) && controls * 20 <= head.len() {
                return None;
            }
            "binary data"
        }
    };
    Some(what.to_string())
}

/// The real file system.
pub struct RealFs;

impl FileSystem for RealFs {
    fn read(&self, path: &Path) -> Option<String> {
        self.read_script(path).ok()
    }
    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
    /// A bounded read: the size is checked first and binary is told from its first 64 KiB,
    /// so an executable or a 50 MB blob given as a cfg costs a few KiB, not gigabytes.
    fn read_script(&self, path: &Path) -> Result<String, NotAScript> {
        use std::io::Read;
        let f = std::fs::File::open(path).map_err(|_| NotAScript::Unreadable)?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len > MAX_SCRIPT_BYTES {
            return Err(NotAScript::TooBig { bytes: len });
        }
        let mut bytes = Vec::new();
        f.take(MAX_SCRIPT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| NotAScript::Unreadable)?;
        if bytes.len() as u64 > MAX_SCRIPT_BYTES {
            return Err(NotAScript::TooBig {
                bytes: bytes.len() as u64,
            });
        }
        if let Some(what) = binary_kind(&bytes[..bytes.len().min(SNIFF_BYTES)]) {
            return Err(NotAScript::Binary { what });
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Where OpenOCD would look for scripts, and which OpenOCD.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// The directory OpenOCD runs in (relative paths are relative to it).
    pub cwd: PathBuf,
    /// The built-in dirs (`…/share/openocd/site`, `…/share/openocd/scripts`). When empty they
    /// are derived from `bindir`.
    pub scripts_dirs: Vec<PathBuf>,
    /// The directory of the openocd executable.
    pub bindir: Option<PathBuf>,
    /// The `OPENOCD_SCRIPTS` environment variable.
    pub openocd_scripts: Option<PathBuf>,
    /// `HOME`.
    pub home: Option<PathBuf>,
    /// `XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
    pub version: Version,
    /// An index of the scripts tree for "did you mean"; scanned lazily from the last built-in
    /// dir when a file is missing and this is `None`.
    pub index: Option<ScriptsIndex>,
}

impl ResolveOptions {
    /// Options for the installed OpenOCD with scripts in `scripts_dir`.
    pub fn with_scripts(
        cwd: impl Into<PathBuf>,
        scripts_dir: impl Into<PathBuf>,
    ) -> ResolveOptions {
        ResolveOptions {
            cwd: cwd.into(),
            scripts_dirs: vec![scripts_dir.into()],
            ..Default::default()
        }
    }

    /// The search path, in OpenOCD's order (see the module docs).
    pub fn search_path(&self, inv: &Invocation) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = inv
            .search_dirs
            .iter()
            .map(|a| PathBuf::from(&a.value))
            .collect();
        if let Some(s) = &self.openocd_scripts {
            dirs.push(s.clone());
        }
        match (&self.xdg_config_home, &self.home) {
            (Some(x), _) => dirs.push(x.join("openocd")),
            (None, Some(h)) => dirs.push(h.join(".config/openocd")),
            _ => {}
        }
        if let Some(h) = &self.home {
            dirs.push(h.join(".openocd"));
        }
        if !self.scripts_dirs.is_empty() {
            dirs.extend(self.scripts_dirs.iter().cloned());
        } else if let Some(b) = &self.bindir {
            dirs.push(b.join("../share/openocd/site"));
            dirs.push(b.join("../share/openocd/scripts"));
        }
        dirs
    }
}

/// A text the resolution read: the command line, a `-c` argument, or a script file.
#[derive(Debug, Clone, Serialize)]
pub struct SourceFile {
    /// The name used in locations: `<command line>`, `<-c 1>`, or the path as found.
    pub name: String,
    pub path: Option<PathBuf>,
    pub text: String,
    /// The command (or command-line argument) that brought this file in.
    pub included_from: Option<Location>,
    /// The line index of `text` (built once, when the file is read).
    #[serde(skip)]
    pub lines: LineIndex,
}

impl SourceFile {
    pub fn new(
        name: String,
        path: Option<PathBuf>,
        text: String,
        included_from: Option<Location>,
    ) -> SourceFile {
        SourceFile {
            lines: LineIndex::new(&text),
            name,
            path,
            text,
            included_from,
        }
    }

    /// The text of 1-based line `line`, without its end of line.
    pub fn line(&self, line: u32) -> &str {
        self.lines.line(&self.text, line as usize)
    }
}

/// One include: which command asked for which name, and what it resolved to.
#[derive(Debug, Clone, Serialize)]
pub struct Include {
    pub location: Location,
    /// `-f`, `source`, `find`, `script`.
    pub via: String,
    pub request: String,
    pub resolved: Option<PathBuf>,
}

/// The result of [`resolve`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Session {
    pub version: Version,
    pub search_path: Vec<PathBuf>,
    /// Every text read, in the order visited (a file sourced twice appears twice).
    pub files: Vec<SourceFile>,
    pub includes: Vec<Include>,
    pub model: Model,
    pub problems: Vec<Problem>,
    /// Where OpenOCD itself would have stopped (first error or `shutdown`), when known.
    pub stopped_at: Option<Location>,
    /// Commands evaluated.
    pub commands: usize,
    /// Places where the evaluator had to guess (an `if` it could not decide…).
    pub notes: Vec<(Location, String)>,
    /// Files named as scripts that are not scripts (an executable, a huge blob): not evaluated.
    #[serde(skip)]
    pub not_scripts: Vec<(PathBuf, NotAScript)>,
}

impl Session {
    pub fn problem_ids(&self) -> Vec<&str> {
        self.problems.iter().map(|p| p.id.as_str()).collect()
    }
    /// Includes whose file was not found.
    pub fn unresolved(&self) -> impl Iterator<Item = &Include> {
        self.includes.iter().filter(|i| i.resolved.is_none())
    }
}

/// Transports per adapter driver in OpenOCD 0.12 (`.transports` of each `struct adapter_driver`;
/// the first one is what `transport select` auto-selects).
pub const DRIVER_TRANSPORTS: &[(&str, &[&str])] = &[
    ("aice", &["aice_jtag"]),
    ("am335xgpio", &["jtag", "swd"]),
    ("amt_jtagaccel", &["jtag"]),
    ("arm-jtag-ew", &["jtag"]),
    ("at91rm9200", &["jtag"]),
    ("bcm2835gpio", &["jtag", "swd"]),
    ("buspirate", &["jtag", "swd"]),
    ("cmsis-dap", &["swd", "jtag"]),
    ("dummy", &["jtag"]),
    ("ep93xx", &["jtag"]),
    ("esp_usb_jtag", &["jtag"]),
    ("ft232r", &["jtag"]),
    ("ftdi", &["jtag", "swd"]),
    ("gw16012", &["jtag"]),
    ("hla", &["hla_swd", "hla_jtag"]),
    ("imx_gpio", &["jtag", "swd"]),
    ("jlink", &["jtag", "swd"]),
    ("jtag_dpi", &["jtag"]),
    ("jtag_vpi", &["jtag"]),
    ("kitprog", &["swd"]),
    ("linuxgpiod", &["swd", "jtag"]),
    ("opendous", &["jtag"]),
    ("openjtag", &["jtag"]),
    ("osbdm", &["jtag"]),
    ("parport", &["jtag"]),
    ("presto", &["jtag"]),
    ("remote_bitbang", &["jtag"]),
    ("rlink", &["jtag"]),
    ("rshim", &["dapdirect_swd"]),
    ("st-link", &["dapdirect_swd", "dapdirect_jtag", "swim"]),
    ("sysfsgpio", &["jtag", "swd"]),
    ("ulink", &["jtag"]),
    ("usb_blaster", &["jtag"]),
    ("usbprog", &["jtag"]),
    ("vdebug", &["jtag", "dapdirect_swd"]),
    ("vsllink", &["jtag", "swd"]),
    ("xds110", &["swd", "jtag"]),
    ("xlnx_pcie_xvc", &["jtag", "swd"]),
];

/// The transports of an adapter driver in 0.12.
pub fn driver_transports(driver: &str) -> Option<&'static [&'static str]> {
    DRIVER_TRANSPORTS
        .iter()
        .find(|(d, _)| *d == driver)
        .map(|(_, t)| *t)
}

/// `reset_config` groups (src/jtag/adapter.c, 0.12), named as OpenOCD names them in
/// `extra reset_config <group> spec (<word>)`.
const RESET_GROUPS: &[(&str, &[&str])] = &[
    ("gating", &["srst_gates_jtag", "srst_nogate"]),
    (
        "signal",
        &["none", "trst_only", "srst_only", "trst_and_srst"],
    ),
    (
        "combination",
        &["separate", "srst_pulls_trst", "trst_pulls_srst", "combined"],
    ),
    ("trst_type", &["trst_open_drain", "trst_push_pull"]),
    ("srst_type", &["srst_push_pull", "srst_open_drain"]),
    (
        "connect_type",
        &["connect_assert_srst", "connect_deassert_srst"],
    ),
];

/// Which list of the model a recorded setting goes to.
#[derive(Clone, Copy)]
enum SettingKind {
    Port(Service),
    Serial,
    VidPid,
    HlaLayout,
}

#[derive(Clone, Copy)]
struct RecordedSetting {
    kind: SettingKind,
    /// The index of the first value word: 1 for `hla_serial X`, 2 for `hla serial X`.
    value_word: usize,
}

/// Commands that only record a setting in the model: (command, its subcommand or "" for none,
/// what it sets). A subcommand form's value starts at word 2, the old underscore form's at 1.
const RECORDED_SETTINGS: &[(&str, &str, SettingKind)] = &[
    ("gdb_port", "", SettingKind::Port(Service::Gdb)),
    ("telnet_port", "", SettingKind::Port(Service::Telnet)),
    ("tcl_port", "", SettingKind::Port(Service::Tcl)),
    ("gdb", "port", SettingKind::Port(Service::Gdb)),
    ("telnet", "port", SettingKind::Port(Service::Telnet)),
    ("tcl", "port", SettingKind::Port(Service::Tcl)),
    ("hla_serial", "", SettingKind::Serial),
    ("cmsis_dap_serial", "", SettingKind::Serial),
    ("ftdi_serial", "", SettingKind::Serial),
    ("kitprog_serial", "", SettingKind::Serial),
    ("jlink", "serial", SettingKind::Serial),
    ("xds110", "serial", SettingKind::Serial),
    ("hla", "serial", SettingKind::Serial),
    ("ftdi", "serial", SettingKind::Serial),
    ("cmsis-dap", "serial", SettingKind::Serial),
    ("cmsis_dap_vid_pid", "", SettingKind::VidPid),
    ("ftdi_vid_pid", "", SettingKind::VidPid),
    ("hla_vid_pid", "", SettingKind::VidPid),
    ("ft232r_vid_pid", "", SettingKind::VidPid),
    ("usb_blaster_vid_pid", "", SettingKind::VidPid),
    ("ftdi", "vid_pid", SettingKind::VidPid),
    ("hla", "vid_pid", SettingKind::VidPid),
    ("cmsis-dap", "vid_pid", SettingKind::VidPid),
    ("ft232r", "vid_pid", SettingKind::VidPid),
    ("usb_blaster", "vid_pid", SettingKind::VidPid),
    ("kitprog", "vid_pid", SettingKind::VidPid),
    ("jlink", "vid_pid", SettingKind::VidPid),
    ("hla_layout", "", SettingKind::HlaLayout),
    ("hla", "layout", SettingKind::HlaLayout),
];

/// The setting a command records, if it is one of `RECORDED_SETTINGS`.
fn recorded_setting(name: &str, subcommand: &str) -> Option<RecordedSetting> {
    RECORDED_SETTINGS
        .iter()
        .find(|(command, sub, _)| *command == name && (sub.is_empty() || *sub == subcommand))
        .map(|&(_, sub, kind)| RecordedSetting {
            kind,
            value_word: if sub.is_empty() { 1 } else { 2 },
        })
}

/// Resolve an invocation on the real file system.
pub fn resolve(inv: &Invocation, opts: &ResolveOptions) -> Session {
    resolve_with(inv, opts, &RealFs)
}

/// Resolve an invocation with a given file system.
pub fn resolve_with(inv: &Invocation, opts: &ResolveOptions, fs: &dyn FileSystem) -> Session {
    let mut it = Interp::new(inv, opts, fs);
    it.run(inv);
    it.finish(inv);
    it.session
}

type Val = Option<String>;

#[derive(Default)]
struct Frame {
    vars: HashMap<String, Val>,
    globals: HashSet<String>,
}

struct ProcInfo {
    params: Vec<(String, Option<String>)>,
    file: usize,
    body: Span,
}

/// Control flow that unwinds: `return` (and `error`, which OpenOCD would stop on).
enum Ctl {
    Return(Val),
}

const MAX_DEPTH: usize = 40;
const MAX_COMMANDS: usize = 200_000;

struct Interp<'a> {
    opts: &'a ResolveOptions,
    fs: &'a dyn FileSystem,
    search: Vec<PathBuf>,
    session: Session,
    globals: HashMap<String, Val>,
    frames: Vec<Frame>,
    procs: HashMap<String, ProcInfo>,
    depth: usize,
    /// The files being sourced, outermost first (an include cycle shows as a repeat).
    sourcing: Vec<PathBuf>,
    /// How many `catch` bodies are being run: an error inside one does not stop OpenOCD.
    in_catch: usize,
    /// Commands that configs create at run time: `dap create X`, `jtag newtap chip tap` (→
    /// `chip.tap`), `cti create X`, `tpiu create X`…
    created: HashSet<String>,
    error_flag: bool,
    /// A top-level `-f` was not read (missing, or named through a variable the check cannot
    /// expand): what it would have set up is unknown, so "no adapter" is no conclusion.
    incomplete: bool,
    allowed: Option<Vec<String>>,
    transport: Option<String>,
    /// The top-level step being run (for problems that belong to the user's command line).
    step: Option<Location>,
    reported: HashSet<String>,
    /// Scanned on the first missing file when the options carry no index.
    index: Option<ScriptsIndex>,
    texts: Vec<Rc<str>>,
}

fn is_path_command(name: &str) -> bool {
    matches!(
        name,
        "source" | "find" | "script" | "add_script_search_dir" | "log_output" | "ocd_find"
    )
}

impl<'a> Interp<'a> {
    fn new(inv: &Invocation, opts: &'a ResolveOptions, fs: &'a dyn FileSystem) -> Interp<'a> {
        let search = opts.search_path(inv);
        let mut session = Session {
            version: opts.version,
            search_path: search.clone(),
            ..Default::default()
        };
        session.problems.extend(inv.problems.iter().cloned());
        let mut it = Interp {
            opts,
            fs,
            search,
            session,
            globals: HashMap::new(),
            frames: Vec::new(),
            procs: HashMap::new(),
            depth: 0,
            sourcing: Vec::new(),
            in_catch: 0,
            created: HashSet::new(),
            error_flag: false,
            incomplete: false,
            allowed: None,
            transport: None,
            step: None,
            reported: HashSet::new(),
            index: None,
            texts: Vec::new(),
        };
        it.push_file(SourceFile::new(
            COMMAND_LINE.into(),
            None,
            inv.line.clone(),
            None,
        ));
        it
    }

    // ----- locations and problems -------------------------------------------------------

    fn text(&self, fid: usize) -> Rc<str> {
        self.texts[fid].clone()
    }

    /// Location with line/column from the file's line index (files are big, and every model
    /// item asks).
    fn loc(&self, file: usize, span: Span) -> Location {
        let f = &self.session.files[file];
        let (line, col) = f.lines.line_col(&f.text, span.start);
        Location {
            file: f.name.clone(),
            span,
            line,
            col,
        }
    }

    fn push_file(&mut self, f: SourceFile) -> usize {
        self.texts.push(Rc::from(f.text.as_str()));
        self.session.files.push(f);
        self.session.files.len() - 1
    }

    fn problem(&mut self, p: Problem) {
        self.session.problems.push(p);
    }

    fn note(&mut self, file: usize, span: Span, msg: impl Into<String>) {
        let l = self.loc(file, span);
        self.session.notes.push((l, msg.into()));
    }

    fn stop(&mut self, file: usize, span: Span) {
        self.error_flag = true;
        if self.session.stopped_at.is_none() {
            self.session.stopped_at = Some(self.loc(file, span));
        }
    }

    // ----- running ------------------------------------------------------------------------

    fn run(&mut self, inv: &Invocation) {
        if inv.help || inv.version {
            return;
        }
        // OpenOCD would stop here; the evaluator goes on to find more (`stopped_at` says so).
        self.check_debug_level(inv);
        if inv.steps.is_empty() {
            // OpenOCD runs `script openocd.cfg` and ignores a failure.
            if let Some(p) = self.find_path("openocd.cfg") {
                let l = self.loc(0, Span::new(0, 0));
                self.session.includes.push(Include {
                    location: l.clone(),
                    via: "-f".into(),
                    request: "openocd.cfg".into(),
                    resolved: Some(p.clone()),
                });
                self.source_file(&p, l);
            }
            return;
        }
        let mut c_count = 0;
        for step in &inv.steps {
            let step_loc = self.loc(0, step.span);
            self.step = Some(step_loc.clone());
            match &step.kind {
                StepKind::File(name) => {
                    // `-f X` runs `script {X}`: braced, so backslashes reach `find` intact.
                    let found = self.find_path(name);
                    self.session.includes.push(Include {
                        location: step_loc.clone(),
                        via: "-f".into(),
                        request: name.clone(),
                        resolved: found.clone(),
                    });
                    match found {
                        Some(p) => {
                            self.check_file_version(name, step_loc.clone());
                            self.source_file(&p, step_loc);
                        }
                        None if unexpanded_variable(name).is_some() => {
                            // `${eclipse_home}…/x.cfg` from an IDE: the front end expands it,
                            // the check cannot. Say so; conclude nothing from its absence.
                            let var = unexpanded_variable(name).unwrap_or_default();
                            self.incomplete = true;
                            self.problem(Problem::new(
                                ProblemId::UnresolvedInput,
                                Severity::Warning,
                                format!(
                                    "could not follow -f {name}: `{var}` is a variable only the program that starts OpenOCD expands, so the check did not read that file"
                                ),
                                Some(step_loc.clone()),
                            ));
                        }
                        None => {
                            self.incomplete = true;
                            self.missing_file(name, step_loc.clone());
                            self.stop(0, step.span);
                        }
                    }
                }
                StepKind::Command(text) => {
                    c_count += 1;
                    let fid = self.push_file(SourceFile::new(
                        format!("<-c {c_count}>"),
                        None,
                        text.clone(),
                        Some(step_loc),
                    ));
                    self.eval_file(fid);
                }
            }
        }
    }

    /// `-dN` runs `debug_level N` before any `-f`/`-c`; a level out of the version's range
    /// (src/helper/log.c: LOG_LVL_SILENT..LOG_LVL_DEBUG in 0.10, ..DEBUG_IO in 0.11/0.12,
    /// ..DEBUG_USB in master) is refused. 0.11+ stop there (exit 1); 0.10 ignores the result.
    fn check_debug_level(&mut self, inv: &Invocation) {
        let Some(arg) = &inv.debug_level else {
            return;
        };
        let Some(level) = crate::argv::parse_level(&arg.value) else {
            return;
        };
        let max = match self.opts.version {
            Version::V0_10 => 3,
            Version::V0_11 | Version::V0_12 => 4,
            Version::Master => 5,
        };
        if (-3..=max).contains(&level) {
            return;
        }
        let stops = self.opts.version >= Version::V0_11;
        let l = self.loc(0, arg.span);
        let msg = format!(
            "level must be between -3 and {max}: OpenOCD {} runs `debug_level {}` for `-d{}` and {}",
            self.opts.version.as_str(),
            arg.value,
            arg.value,
            if stops {
                "exits with code 1 before reading any config"
            } else {
                "prints the error, then goes on at the default level"
            }
        );
        let suggestion = if level > max { max.min(3) } else { -3 };
        self.problem(
            Problem::new(
                ProblemId::DebugLevelOutOfRange,
                if stops {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                msg,
                Some(l),
            )
            .with_suggestion(suggestion.to_string()),
        );
        if stops {
            self.stop(0, arg.span);
        }
    }

    fn finish(&mut self, inv: &Invocation) {
        self.session.model.session_transport = self.transport.clone();
        if inv.help || inv.version {
            return;
        }
        if self.session.model.adapter_drivers.is_empty() && !self.incomplete {
            let span = Span::new(0, inv.line.len());
            let l = self.loc(0, span);
            self.problem(
                Problem::new(
                    ProblemId::NoAdapter,
                    Severity::Error,
                    "no debug adapter is configured: OpenOCD will stop with `Debug Adapter has to be specified, see \"adapter driver\" command`",
                    Some(l),
                )
                .with_suggestion("-f interface/<your probe>.cfg"),
            );
        }
        self.check_ports();
        // A cycle runs the same files over and over: every setting in them looks doubled.
        if self
            .session
            .problems
            .iter()
            .any(|p| p.id == "include-cycle")
        {
            self.session.problems.retain(|p| {
                !matches!(
                    p.id.as_str(),
                    "two-adapters" | "transport-select-twice" | "port-clash"
                )
            });
        }
    }

    fn source_file(&mut self, path: &Path, from: Location) {
        if self.depth >= MAX_DEPTH {
            self.depth_limit(path, from);
            return;
        }
        let text = match self.fs.read_script(path) {
            Ok(text) => text,
            Err(NotAScript::Unreadable) => {
                self.problem(Problem::new(
                    ProblemId::MissingFile,
                    Severity::Error,
                    format!("couldn't read file \"{}\"", path.display()),
                    Some(from),
                ));
                return;
            }
            Err(why) => {
                self.incomplete = true;
                self.session.not_scripts.push((path.to_path_buf(), why));
                return;
            }
        };
        let fid = self.push_file(SourceFile::new(
            path.to_string_lossy().into_owned(),
            Some(path.to_path_buf()),
            text,
            Some(from),
        ));
        self.depth += 1;
        self.sourcing.push(path.to_path_buf());
        self.eval_file(fid);
        self.sourcing.pop();
        self.depth -= 1;
    }

    /// The include depth limit: a file that sources itself (directly or through others,
    /// without a guard the evaluator sees) is the usual cause. OpenOCD recurses until Jim's
    /// nesting limit and fails; what the configuration would have set up is unknown.
    fn depth_limit(&mut self, path: &Path, from: Location) {
        self.incomplete = true;
        let Some(first) = self.sourcing.iter().position(|p| p == path) else {
            self.note(
                0,
                Span::new(0, 0),
                format!("include depth limit reached at {}", path.display()),
            );
            return;
        };
        if !self.reported.insert(format!("cycle:{}", path.display())) {
            return;
        }
        // The cycle: from the first time `path` was entered up to where it comes back.
        let mut chain: Vec<String> = Vec::new();
        for p in &self.sourcing[first..] {
            let shown = p.display().to_string();
            if chain.first() == Some(&shown) {
                break;
            }
            chain.push(shown);
        }
        chain.push(path.display().to_string());
        self.problem(Problem::new(
            ProblemId::IncludeCycle,
            Severity::Error,
            format!(
                "include cycle: {} (OpenOCD recurses until it fails)",
                chain.join(" → ")
            ),
            Some(from),
        ));
    }

    /// Tcl syntax errors of file `fid` (the whole file or a lazily read body) as problems.
    fn syntax_problems(&mut self, fid: usize, errors: Vec<tcl::ParseError>) {
        for e in errors {
            let l = self.loc(fid, e.span);
            self.problem(Problem::new(
                ProblemId::TclSyntax,
                Severity::Error,
                e.message(),
                Some(l),
            ));
        }
    }

    fn eval_file(&mut self, fid: usize) {
        let text = self.text(fid);
        let (script, errors) = tcl::parse(&text);
        self.syntax_problems(fid, errors);
        let _ = self.eval_script(fid, &script);
    }

    fn eval_script(&mut self, fid: usize, script: &Script) -> Result<Val, Ctl> {
        let mut last = Some(String::new());
        for cmd in &script.commands {
            if self.session.commands >= MAX_COMMANDS {
                break;
            }
            last = self.eval_command(fid, cmd)?;
        }
        Ok(last)
    }

    fn eval_body(&mut self, fid: usize, word: &Word) -> Result<Val, Ctl> {
        let text = self.text(fid);
        match word.kind {
            WordKind::Braced | WordKind::Quoted => {
                let (script, errors) = tcl::parse_body(&text, word);
                self.syntax_problems(fid, errors);
                self.eval_script(fid, &script)
            }
            WordKind::Bare => {
                // A body that is a substitution: run only what we can see.
                let v = self.subst(fid, word);
                Ok(v)
            }
        }
    }

    // ----- variables ----------------------------------------------------------------------

    fn var_key(name: &str) -> (bool, String) {
        match name.strip_prefix("::") {
            Some(n) => (true, n.to_string()),
            None => (false, name.to_string()),
        }
    }

    fn get_var(&self, name: &str) -> Option<&Val> {
        let (global, n) = Self::var_key(name);
        match self.frames.last() {
            Some(f) if !global && !f.globals.contains(&n) => f.vars.get(&n),
            _ => self.globals.get(&n),
        }
    }

    fn set_var(&mut self, name: &str, v: Val) {
        let (global, n) = Self::var_key(name);
        match self.frames.last_mut() {
            Some(f) if !global && !f.globals.contains(&n) => {
                f.vars.insert(n, v);
            }
            _ => {
                self.globals.insert(n, v);
            }
        }
    }

    // ----- substitution -------------------------------------------------------------------

    fn subst_parts(&mut self, fid: usize, parts: &[Part]) -> Val {
        let mut out = String::new();
        let mut known = true;
        for p in parts {
            match p {
                Part::Text { value, .. } => out.push_str(value),
                Part::Var { name, index, .. } => {
                    let key = match index {
                        Some(ix) => match self.subst_parts(fid, ix) {
                            Some(i) => format!("{name}({i})"),
                            None => {
                                known = false;
                                continue;
                            }
                        },
                        None => name.clone(),
                    };
                    match self.get_var(&key).cloned() {
                        Some(Some(v)) => out.push_str(&v),
                        _ => known = false,
                    }
                }
                Part::Cmd { script, .. } => match self.eval_script(fid, script) {
                    Ok(Some(v)) => out.push_str(&v),
                    Ok(None) | Err(_) => known = false,
                },
            }
        }
        known.then_some(out)
    }

    fn subst(&mut self, fid: usize, w: &Word) -> Val {
        self.subst_parts(fid, &w.parts)
    }

    /// The words of a command after substitution (expansion words split as lists).
    fn words(&mut self, fid: usize, cmd: &Command) -> Vec<Val> {
        let mut out = Vec::new();
        for w in &cmd.words {
            let v = self.subst(fid, w);
            if w.expand {
                match v {
                    Some(s) => out.extend(split_list(&s).into_iter().map(Some)),
                    None => out.push(None),
                }
            } else {
                out.push(v);
            }
        }
        out
    }

    /// An `if`/`expr` condition word: braced text is substituted in place, then evaluated.
    fn condition(&mut self, fid: usize, w: &Word) -> Option<bool> {
        let text_src = self.text(fid);
        let text = if w.kind == WordKind::Braced {
            let (script, _) = tcl::parse_range(&text_src, w.content);
            let mut out = String::new();
            let mut pos = w.content.start;
            let mut sites: Vec<&Part> = Vec::new();
            for c in &script.commands {
                for word in &c.words {
                    for p in &word.parts {
                        if !matches!(p, Part::Text { .. }) {
                            sites.push(p);
                        }
                    }
                }
            }
            for p in sites {
                let sp = p.span();
                out.push_str(sp_text(&text_src, pos, sp.start));
                let v = self.subst_parts(fid, std::slice::from_ref(p));
                match v {
                    Some(v) if expr::parse_int(&v).is_some() => out.push_str(&v),
                    Some(v) => {
                        out.push('{');
                        out.push_str(&v.replace(['{', '}'], ""));
                        out.push('}');
                    }
                    None => out.push(UNKNOWN),
                }
                pos = sp.end;
            }
            out.push_str(sp_text(&text_src, pos, w.content.end));
            out
        } else {
            self.subst(fid, w)?
        };
        expr::eval(&text).truth()
    }

    // ----- the commands -------------------------------------------------------------------

    fn eval_command(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        self.session.commands += 1;
        let Some(first) = cmd.words.first() else {
            return Ok(Some(String::new()));
        };
        let name = match self.subst(fid, first) {
            Some(n) => n,
            None => return Ok(None),
        };
        let w = &cmd.words;
        let lit: Vec<Option<String>> = w.iter().map(Word::literal).collect();
        let lit1 = lit.get(1).cloned().flatten().unwrap_or_default();
        self.check_version(fid, cmd, &name, &lit);
        self.check_path_words(fid, cmd, &name);
        if let Some(recorded) = recorded_setting(&name, &lit1) {
            self.record_setting(fid, cmd, recorded);
            return Ok(Some(String::new()));
        }
        let cspan = cmd.span;
        match name.as_str() {
            "set" => self.eval_set(fid, cmd),
            "global" | "variable" => self.eval_global(fid, cmd),
            "unset" => self.eval_unset(fid, cmd),
            "lappend" => self.eval_lappend(fid, cmd),
            "if" => self.eval_if(fid, cmd),
            "proc" => {
                self.eval_proc(fid, cmd);
                Ok(Some(String::new()))
            }
            "return" => {
                let v = if w.len() > 1 {
                    self.subst(fid, &w[w.len() - 1])
                } else {
                    Some(String::new())
                };
                Err(Ctl::Return(v))
            }
            "error" => {
                self.stop(fid, cspan);
                Err(Ctl::Return(None))
            }
            "shutdown" | "exit" => {
                self.stop(fid, cspan);
                Ok(Some(String::new()))
            }
            "catch" => self.eval_catch(fid, cmd),
            "eval" | "uplevel" => {
                let body_idx = if name == "uplevel" && w.len() > 2 {
                    2
                } else {
                    1
                };
                if w.len() == body_idx + 1 && w[body_idx].kind == WordKind::Braced {
                    self.eval_body(fid, &w[body_idx])
                } else {
                    Ok(None)
                }
            }
            "expr" if w.len() == 2 => Ok(match self.condition_value(fid, &w[1]) {
                Ev::Int(i) => Some(i.to_string()),
                Ev::Str(s) => Some(s),
                Ev::Unknown => None,
            }),
            "expr" => Ok(None),
            "info" if lit1 == "exists" && w.len() == 3 => {
                let n = self.subst(fid, &w[2]);
                Ok(n.map(|n| i64::from(self.get_var(&n).is_some()).to_string()))
            }
            "info" => Ok(None),
            "string" => Ok(self.eval_string(fid, cmd)),
            "foreach" => {
                self.eval_foreach(fid, cmd)?;
                Ok(Some(String::new()))
            }
            "switch" => self.eval_switch(fid, cmd),
            "source" => self.eval_source(fid, cmd),
            "find" | "ocd_find" => self.eval_find(fid, cmd),
            "script" => {
                self.eval_script_command(fid, cmd);
                Ok(Some(String::new()))
            }
            "add_script_search_dir" => {
                if let Some(Some(d)) = self.words(fid, cmd).get(1) {
                    self.search.push(PathBuf::from(d));
                    self.session.search_path.push(PathBuf::from(d));
                }
                Ok(Some(String::new()))
            }
            "using_jtag" | "using_swd" | "using_hla" => {
                let t = self.query_transport(fid, cspan);
                let key = &name["using_".len()..];
                Ok(t.map(|t| i64::from(t.contains(key)).to_string()))
            }
            "transport" => self.eval_transport(fid, cmd),
            "adapter" | "interface" | "adapter_khz" | "jtag_khz" => {
                self.eval_adapter(fid, cmd, &name)
            }
            "jtag" | "swd" | "hla" | "swj_newdap"
                if name == "swj_newdap" || lit1 == "newtap" || lit1 == "newdap" =>
            {
                self.eval_newtap(fid, cmd, &name)
            }
            "dap" if lit1 == "create" => {
                self.eval_dap_create(fid, cmd);
                Ok(Some(String::new()))
            }
            "target" if lit1 == "create" => self.eval_target_create(fid, cmd),
            "flash" if lit1 == "bank" => {
                self.eval_flash_bank(fid, cmd);
                Ok(Some(String::new()))
            }
            "reset_config" => {
                self.eval_reset_config(fid, cmd);
                Ok(Some(String::new()))
            }
            "echo" | "puts" | "add_help_text" | "add_usage_text" | "sleep" => {
                let _ = self.words(fid, cmd);
                Ok(Some(String::new()))
            }
            _ => Ok(self.eval_other_command(fid, cmd, &name, &lit1)),
        }
    }

    // ----- variables ----------------------------------------------------------------------

    fn eval_set(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        match args.len() {
            2 => Ok(args[1]
                .as_ref()
                .and_then(|n| self.get_var(n).cloned().flatten())),
            3 => {
                if let Some(n) = &args[1] {
                    self.set_var(n, args[2].clone());
                }
                Ok(args[2].clone())
            }
            _ => Ok(None),
        }
    }

    fn eval_global(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        for n in args.into_iter().skip(1).flatten() {
            let n = n.trim_start_matches("::").to_string();
            if let Some(f) = self.frames.last_mut() {
                f.globals.insert(n);
            }
        }
        Ok(Some(String::new()))
    }

    fn eval_unset(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        for n in args.into_iter().skip(1).flatten() {
            let (g, k) = Self::var_key(&n);
            match self.frames.last_mut() {
                Some(f) if !g && !f.globals.contains(&k) => {
                    f.vars.remove(&k);
                }
                _ => {
                    self.globals.remove(&k);
                }
            }
        }
        Ok(Some(String::new()))
    }

    fn eval_lappend(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        let Some(Some(n)) = args.get(1) else {
            // No list variable: evaluated once more for its effects, as `puts` would be.
            let _ = self.words(fid, cmd);
            return Ok(Some(String::new()));
        };
        let mut cur = self.get_var(n).cloned().flatten();
        if self.get_var(n).is_none() {
            cur = Some(String::new());
        }
        let add: Option<Vec<String>> = args[2..].iter().cloned().collect();
        let v = match (cur, add) {
            (Some(mut c), Some(a)) => {
                for x in a {
                    if !c.is_empty() {
                        c.push(' ');
                    }
                    c.push_str(&list_quote(&x));
                }
                Some(c)
            }
            _ => None,
        };
        self.set_var(&n.clone(), v.clone());
        Ok(v)
    }

    // ----- control and values -------------------------------------------------------------

    fn eval_proc(&mut self, fid: usize, cmd: &Command) {
        let w = &cmd.words;
        if w.len() != 4 {
            return;
        }
        let Some(pname) = self.subst(fid, &w[1]) else {
            return;
        };
        let params = self
            .subst(fid, &w[2])
            .map(|p| {
                split_list(&p)
                    .into_iter()
                    .map(|x| {
                        let mut it = split_list(&x).into_iter();
                        (it.next().unwrap_or_default(), it.next())
                    })
                    .collect()
            })
            .unwrap_or_default();
        // The body is text until the proc is called: Tcl reads it only then (a stray quote in
        // a proc nobody calls is harmless), so its syntax is checked in `call_proc`.
        let l = self.loc(fid, cmd.span);
        self.session.model.procs.push(ProcDef {
            name: pname.clone(),
            location: l,
        });
        self.procs.insert(
            pname.trim_start_matches("::").to_string(),
            ProcInfo {
                params,
                file: fid,
                body: w[3].content,
            },
        );
    }

    fn eval_catch(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let w = &cmd.words;
        if w.len() < 2 {
            return Ok(None);
        }
        let saved = std::mem::replace(&mut self.error_flag, false);
        self.in_catch += 1;
        let r = self.eval_body(fid, &w[1]);
        self.in_catch -= 1;
        let failed = self.error_flag;
        self.error_flag = saved;
        if let (Some(var), Ok(v)) = (w.get(2).and_then(Word::literal), &r) {
            self.set_var(&var, v.clone());
        }
        Ok(Some(if failed { "1" } else { "0" }.into()))
    }

    fn eval_string(&mut self, fid: usize, cmd: &Command) -> Val {
        let args = self.words(fid, cmd);
        let a: Vec<&str> = args
            .iter()
            .map(|x| x.as_deref().unwrap_or("\u{1}"))
            .collect();
        if a.iter().any(|x| x.contains(UNKNOWN)) {
            return None;
        }
        match (a.get(1).copied(), a.len()) {
            (Some("equal"), 4) => Some(i64::from(a[2] == a[3]).to_string()),
            (Some("compare"), 4) => Some((a[2].cmp(a[3]) as i64).to_string()),
            (Some("first"), 4) => Some(a[3].find(a[2]).map_or(-1, |i| i as i64).to_string()),
            (Some("tolower"), 3) => Some(a[2].to_lowercase()),
            (Some("toupper"), 3) => Some(a[2].to_uppercase()),
            _ => None,
        }
    }

    fn eval_foreach(&mut self, fid: usize, cmd: &Command) -> Result<(), Ctl> {
        let w = &cmd.words;
        if w.len() != 4 {
            return Ok(());
        }
        let var = self.subst(fid, &w[1]);
        let list = self.subst(fid, &w[2]);
        let (Some(var), Some(list)) = (var, list) else {
            return Ok(());
        };
        let items = split_list(&list);
        let vars = split_list(&var);
        if vars.is_empty() || items.len() > 256 {
            return Ok(());
        }
        for chunk in items.chunks(vars.len()) {
            for (i, v) in vars.iter().enumerate() {
                self.set_var(v, Some(chunk.get(i).cloned().unwrap_or_default()));
            }
            self.eval_body(fid, &w[3])?;
        }
        Ok(())
    }

    /// A command the evaluator does not model by name: a target's own command, a proc, or
    /// something unknown (maybe misspelt).
    fn eval_other_command(&mut self, fid: usize, cmd: &Command, name: &str, lit1: &str) -> Val {
        // A target's own command: `$_TARGETNAME configure -event …`.
        if self.session.model.targets.iter().any(|t| t.name == name) {
            if lit1 == "configure" {
                let args = self.words(fid, cmd);
                self.target_options(fid, cmd, &args, 2, name);
            }
            return Some(String::new());
        }
        if let Some(p) = self.procs.get(name.trim_start_matches("::")) {
            let (params, pfile, body) = (p.params.clone(), p.file, p.body);
            let args = self.words(fid, cmd);
            return self.call_proc(&params, pfile, body, &args[1..]);
        }
        // Unknown or not modelled: still evaluate substitutions for their effects.
        let args = self.words(fid, cmd);
        self.note_created(&args);
        if self.is_invalid_command(cmd, name) {
            self.invalid_command(fid, cmd, name);
        }
        None
    }

    // ----- files: source, find, script ----------------------------------------------------

    fn eval_source(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let cspan = cmd.span;
        let args = self.words(fid, cmd);
        let Some(Some(p)) = args.last().filter(|_| args.len() >= 2) else {
            self.note(
                fid,
                cspan,
                "source of a path the evaluator could not compute",
            );
            return Ok(None);
        };
        let l = self.loc(fid, cspan);
        let path = self.opts.cwd.join(p);
        let found = self.fs.is_file(&path).then_some(path.clone());
        self.session.includes.push(Include {
            location: l.clone(),
            via: "source".into(),
            request: p.clone(),
            resolved: found.clone(),
        });
        if found.is_some() {
            self.source_file(&path, l);
        } else {
            // The usual cause is a failed [find], already reported; report a plain
            // `source missing.cfg` here.
            if !cmd.words[cmd.words.len() - 1].has_substitution() {
                self.missing_file(p, l);
            }
            self.stop(fid, cspan);
        }
        Ok(Some(String::new()))
    }

    /// The one word after `find` / `script`, when the command has exactly that and it is known.
    fn single_argument(&mut self, fid: usize, cmd: &Command) -> Option<String> {
        let args = self.words(fid, cmd);
        if args.len() != 2 {
            return None;
        }
        args[1].clone()
    }

    fn eval_find(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let Some(n) = self.single_argument(fid, cmd) else {
            return Ok(None);
        };
        let found = self.find_path(&n);
        let l = self.loc(fid, cmd.span);
        match found {
            Some(p) => {
                self.check_file_version(&n, l);
                Ok(Some(p.to_string_lossy().into_owned()))
            }
            None => {
                self.session.includes.push(Include {
                    location: l.clone(),
                    via: "find".into(),
                    request: n.clone(),
                    resolved: None,
                });
                self.missing_file(&n, l);
                self.stop(fid, cmd.span);
                Ok(None)
            }
        }
    }

    fn eval_script_command(&mut self, fid: usize, cmd: &Command) {
        let Some(n) = self.single_argument(fid, cmd) else {
            return;
        };
        let l = self.loc(fid, cmd.span);
        let found = self.find_path(&n);
        self.session.includes.push(Include {
            location: l.clone(),
            via: "script".into(),
            request: n.clone(),
            resolved: found.clone(),
        });
        match found {
            Some(p) => {
                self.check_file_version(&n, l.clone());
                self.source_file(&p, l);
            }
            None => {
                self.missing_file(&n, l);
                self.stop(fid, cmd.span);
            }
        }
    }

    // ----- the model: daps, flash banks, ports, adapter settings ---------------------------

    fn eval_dap_create(&mut self, fid: usize, cmd: &Command) {
        let args = self.words(fid, cmd);
        let dname = args.get(2).cloned().flatten().unwrap_or_else(|| "?".into());
        let chain = opt_value(&args[3.min(args.len())..], "-chain-position");
        let l = self.loc(fid, cmd.span);
        self.session.model.daps.push(Dap {
            name: dname,
            chain_position: chain,
            location: l,
        });
    }

    fn eval_flash_bank(&mut self, fid: usize, cmd: &Command) {
        let args = self.words(fid, cmd);
        let g = |i: usize| args.get(i).cloned().flatten().unwrap_or_else(|| "?".into());
        let l = self.loc(fid, cmd.span);
        self.session.model.flash_banks.push(FlashBank {
            name: g(2),
            driver: g(3),
            base: g(4),
            size: g(5),
            target: g(8),
            location: l,
        });
    }

    fn record_setting(&mut self, fid: usize, cmd: &Command, recorded: RecordedSetting) {
        let from = recorded.value_word;
        match recorded.kind {
            SettingKind::Port(service) => self.port(fid, cmd, service, from),
            SettingKind::Serial => self.setting(fid, cmd, from, |m| &mut m.serials),
            SettingKind::VidPid => self.setting(fid, cmd, from, |m| &mut m.vid_pids),
            SettingKind::HlaLayout => self.setting(fid, cmd, from, |m| &mut m.hla_layouts),
        }
    }

    fn condition_value(&mut self, fid: usize, w: &Word) -> Ev {
        match self.condition(fid, w) {
            Some(b) => Ev::Int(i64::from(b)),
            None => {
                // Not a boolean: maybe a plain value (`expr {$a + 1}` is rare in configs).
                Ev::Unknown
            }
        }
    }

    fn call_proc(
        &mut self,
        params: &[(String, Option<String>)],
        pfile: usize,
        body: Span,
        args: &[Val],
    ) -> Val {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        let mut frame = Frame::default();
        for (i, (p, default)) in params.iter().enumerate() {
            if p == "args" && i == params.len() - 1 {
                let rest: Option<Vec<String>> =
                    args.get(i..).unwrap_or(&[]).iter().cloned().collect();
                frame.vars.insert(
                    p.clone(),
                    rest.map(|r| {
                        r.iter()
                            .map(|x| list_quote(x))
                            .collect::<Vec<_>>()
                            .join(" ")
                    }),
                );
            } else {
                frame.vars.insert(
                    p.clone(),
                    args.get(i).cloned().unwrap_or_else(|| default.clone()),
                );
            }
        }
        self.frames.push(frame);
        self.depth += 1;
        let text = self.text(pfile);
        let (script, errors) = tcl::parse_range(&text, body);
        // Called during config: now Tcl reads the body, and its syntax errors are real (once
        // per body, however often it is called).
        if !errors.is_empty() && self.reported.insert(format!("body:{pfile}:{}", body.start)) {
            self.syntax_problems(pfile, errors);
        }
        let r = match self.eval_script(pfile, &script) {
            Ok(v) => v,
            Err(Ctl::Return(v)) => v,
        };
        self.depth -= 1;
        self.frames.pop();
        r
    }

    fn eval_if(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let w = &cmd.words;
        let mut i = 1;
        while i < w.len() {
            let cond_word = &w[i];
            let c = self.condition(fid, cond_word);
            i += 1;
            if w.get(i).and_then(Word::literal).as_deref() == Some("then") {
                i += 1;
            }
            let Some(body) = w.get(i) else { break };
            i += 1;
            let take = match c {
                Some(b) => b,
                None => {
                    self.note(
                        fid,
                        cond_word.span,
                        "condition not decidable here; assumed true",
                    );
                    true
                }
            };
            if take {
                return self.eval_body(fid, body);
            }
            match w.get(i).and_then(Word::literal).as_deref() {
                Some("elseif") => {
                    i += 1;
                    continue;
                }
                Some("else") => {
                    if let Some(b) = w.get(i + 1) {
                        return self.eval_body(fid, b);
                    }
                    break;
                }
                _ => {
                    // `if {c} {a} {b}`: the else body without the keyword.
                    if let Some(b) = w.get(i) {
                        return self.eval_body(fid, b);
                    }
                    break;
                }
            }
        }
        Ok(Some(String::new()))
    }

    fn eval_switch(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let w = &cmd.words;
        let mut i = 1;
        let mut glob = false;
        while let Some(o) = w.get(i).and_then(Word::literal) {
            if !o.starts_with('-') {
                break;
            }
            i += 1;
            match o.as_str() {
                "-glob" => glob = true,
                "--" => break,
                _ => {}
            }
        }
        let Some(vw) = w.get(i) else { return Ok(None) };
        let Some(value) = self.subst(fid, vw) else {
            return Ok(None);
        };
        i += 1;
        let text = self.text(fid);
        // The pattern/body pairs: one braced list, or separate words.
        let pairs: Vec<Word> = if w.len() == i + 1 && w[i].kind == WordKind::Braced {
            let (s, _) = tcl::parse_range(&text, w[i].content);
            s.commands.into_iter().flat_map(|c| c.words).collect()
        } else {
            w[i..].to_vec()
        };
        let mut k = 0;
        while k + 1 < pairs.len() {
            let pat = pairs[k].literal().unwrap_or_default();
            let hit = pat == "default"
                || if glob {
                    glob_match(&pat, &value)
                } else {
                    pat == value
                };
            if hit {
                let mut b = k + 1;
                while b < pairs.len() && pairs[b].literal().as_deref() == Some("-") {
                    b += 2;
                }
                if let Some(body) = pairs.get(b) {
                    return self.eval_body(fid, body);
                }
                break;
            }
            k += 2;
        }
        Ok(Some(String::new()))
    }

    // ----- files --------------------------------------------------------------------------

    /// `find_file()`: the name as given (absolute or relative to cwd), then each search dir.
    fn find_file(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty() {
            return None;
        }
        let direct = self.opts.cwd.join(name);
        if self.fs.is_file(&direct) {
            return Some(direct);
        }
        for d in &self.search {
            let p = d.join(name);
            if self.fs.is_file(&p) {
                return Some(p);
            }
        }
        None
    }

    /// `find` as the version's startup.tcl does it (see the module docs).
    fn find_path(&mut self, name: &str) -> Option<PathBuf> {
        let mut cands = vec![name.to_string()];
        if self.opts.version >= Version::Master {
            cands.push(name.replace('\\', "/"));
        }
        cands.push(name.replace('/', "\\"));
        for c in &cands {
            if let Some(p) = self.find_file(c) {
                return Some(p);
            }
        }
        if self.opts.version >= Version::Master
            && let Status::Removed { replacement, .. } | Status::Deprecated { replacement, .. } =
                versions::lookup_file(name, self.opts.version)
        {
            for r in replacement {
                if let Some(p) = self.find_file(&r) {
                    return Some(p);
                }
            }
        }
        None
    }

    fn missing_file(&mut self, name: &str, l: Location) {
        // A file an older OpenOCD shipped and this one removed is not "not found": it is a
        // config written for another release, with a documented replacement.
        let rel = versions::file_rel(name);
        if let Status::Removed { replacement, .. } = versions::lookup_file(&rel, self.opts.version)
        {
            let p = self.file_version_problem(
                ProblemId::RemovedFile,
                Severity::Error,
                format!("Can't find {name}: it was removed before OpenOCD"),
                &rel,
                &replacement,
                l,
            );
            self.problem(p);
            return;
        }
        if self.index.is_none() && self.opts.index.is_none() {
            // Only now list the scripts tree, for suggestions.
            let root = self.opts.scripts_dirs.last().cloned().or_else(|| {
                self.opts
                    .bindir
                    .as_ref()
                    .map(|b| b.join("../share/openocd/scripts"))
            });
            self.index = Some(root.map(|r| ScriptsIndex::scan(&r)).unwrap_or_default());
        }
        let sugg = self
            .opts
            .index
            .as_ref()
            .or(self.index.as_ref())
            .map(|i| i.did_you_mean(name, self.opts.version))
            .unwrap_or_default();
        let mut msg = format!("Can't find {name}");
        if !sugg.is_empty() {
            msg.push_str(&format!(" (did you mean {}?)", sugg.join(", ")));
        }
        let mut p = Problem::new(ProblemId::MissingFile, Severity::Error, msg, Some(l));
        p.suggestion = sugg.into_iter().next();
        self.problem(p);
    }

    /// A removed or deprecated cfg file: "`head` <version>; use <replacement>". A replacement
    /// that is more than a file name (`-c 'set USE_CORE 0' -f target/rp2040.cfg`) is said, but
    /// is no edit of the name.
    fn file_version_problem(
        &self,
        id: ProblemId,
        severity: Severity,
        head: String,
        rel: &str,
        replacement: &[String],
        l: Location,
    ) -> Problem {
        let use_text = if replacement.is_empty() {
            versions::file_replacement_args(rel, self.opts.version)
        } else {
            Some(replacement.join(" "))
        };
        let mut p = Problem::new(
            id,
            severity,
            format!(
                "{head} {}{}",
                self.opts.version.as_str(),
                use_text.map(|u| format!("; use {u}")).unwrap_or_default()
            ),
            Some(l),
        );
        p.suggestion = replacement.first().cloned();
        p
    }

    fn check_file_version(&mut self, name: &str, l: Location) {
        let rel = versions::file_rel(name);
        match versions::lookup_file(&rel, self.opts.version) {
            Status::Deprecated { replacement, .. } | Status::Removed { replacement, .. } => {
                let key = format!("file:{rel}:{}", l.line);
                if self.reported.insert(key) {
                    let p = self.file_version_problem(
                        ProblemId::DeprecatedFile,
                        Severity::Warning,
                        format!("{rel} is deprecated in OpenOCD"),
                        &rel,
                        &replacement,
                        l,
                    );
                    self.problem(p);
                }
            }
            _ => {}
        }
    }

    // ----- checks on every command ---------------------------------------------------------

    fn check_version(&mut self, fid: usize, cmd: &Command, name: &str, lit: &[Option<String>]) {
        let mut words: Vec<&str> = vec![name];
        if let Some(Some(s)) = lit.get(1) {
            words.push(s);
        }
        let Some((matched, status)) = versions::match_command(&words, self.opts.version) else {
            return;
        };
        let n = matched.split(' ').count();
        let span = Span::new(cmd.words[0].span.start, cmd.words[n - 1].span.end);
        let l = self.loc(fid, span);
        let v = self.opts.version.as_str();
        let p = match status {
            Status::Deprecated {
                replacement, since, ..
            } => renamed(
                ProblemId::DeprecatedCommand,
                Severity::Warning,
                "is deprecated since",
                &matched,
                &since,
                &replacement,
                l,
            ),
            Status::Removed { replacement, since } => renamed(
                ProblemId::RemovedCommand,
                Severity::Error,
                "was removed in",
                &matched,
                &since,
                &replacement,
                l,
            ),
            Status::NotYet { since, old_name } => Problem::new(
                ProblemId::CommandNeedsNewerVersion,
                Severity::Error,
                format!(
                    "'{matched}' needs OpenOCD {} or newer (this is {v}); here it is '{old_name}'",
                    since.as_str()
                ),
                Some(l),
            )
            .with_suggestion(old_name),
            _ => return,
        };
        self.problem(p);
    }

    /// Commands a config creates: `X create NAME …` makes `NAME` a command (cti, tpiu, swo,
    /// arm_cti…; daps, taps and targets are in the model).
    fn note_created(&mut self, args: &[Val]) {
        if let (Some(Some(verb)), Some(Some(n))) = (args.get(1), args.get(2))
            && verb == "create"
        {
            self.created.insert(n.clone());
        }
    }

    /// A literal command name no OpenOCD, no Jim Tcl, no proc and no created object defines.
    fn is_invalid_command(&self, cmd: &Command, name: &str) -> bool {
        let literal = cmd.words.first().is_some_and(|w| !w.has_substitution());
        literal
            && self.in_catch == 0
            && !name.is_empty()
            && !crate::commands::is_known(name)
            && !self.created.contains(name)
            && !self.session.model.targets.iter().any(|t| t.name == name)
            && !self.session.model.daps.iter().any(|d| d.name == name)
            && !self.session.model.taps.iter().any(|t| t.dotted() == name)
            // A number or an odd token is more likely a misread than a command.
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    }

    /// `invalid command name "transprt"`: OpenOCD stops here.
    fn invalid_command(&mut self, fid: usize, cmd: &Command, name: &str) {
        let span = cmd.words[0].span;
        let l = self.loc(fid, span);
        let mut p = Problem::new(
            ProblemId::InvalidCommandName,
            Severity::Error,
            format!("invalid command name \"{name}\""),
            Some(l),
        );
        if let Some(s) = crate::commands::suggest(name) {
            p = p.with_suggestion(s);
        }
        self.problem(p);
        self.stop(fid, span);
    }

    /// Backslashes and spaces in path words that Tcl will mangle.
    fn check_path_words(&mut self, fid: usize, cmd: &Command, name: &str) {
        let text = self.text(fid);
        let path_cmd = is_path_command(name);
        for (i, w) in cmd.words.iter().enumerate().skip(1) {
            if w.kind == WordKind::Braced {
                continue;
            }
            let raw = w.span.text(&text);
            let drive = raw.len() > 3 && raw.as_bytes()[1] == b':' && raw.as_bytes()[2] == b'\\';
            let escapes_letter = raw.as_bytes().windows(2).any(|p| {
                p[0] == b'\\' && (p[1].is_ascii_alphanumeric() || p[1] == b'.' || p[1] == b' ')
            });
            if (path_cmd && escapes_letter || drive) && !raw.starts_with('[') {
                let l = self.loc(fid, w.span);
                let fixed = raw.replace('\\', "/");
                self.problem(
                    Problem::new(
                        ProblemId::WindowsPathBackslashes,
                        Severity::Error,
                        format!(
                            "Tcl treats `\\` in {raw} as an escape, so the path becomes `{}`: use `/` or braces",
                            w.literal().unwrap_or_default()
                        ),
                        Some(l),
                    )
                    .with_suggestion(fixed),
                );
            }
            if path_cmd
                && i == 1
                && cmd.words.len() > 2
                && matches!(name, "find" | "source" | "script" | "add_script_search_dir")
            {
                let last = &cmd.words[cmd.words.len() - 1];
                let span = Span::new(w.span.start, last.span.end);
                let joined = span.text(&text);
                let l = self.loc(fid, span);
                self.problem(
                    Problem::new(
                        ProblemId::UnquotedSpaceInPath,
                        Severity::Error,
                        format!("`{name}` takes one path but got {} words: the path `{joined}` needs braces", cmd.words.len() - 1),
                        Some(l),
                    )
                    .with_suggestion(format!("{{{joined}}}")),
                );
            }
        }
    }

    // ----- adapter and transport ------------------------------------------------------------

    fn eval_adapter(&mut self, fid: usize, cmd: &Command, name: &str) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        let sub = args.get(1).cloned().flatten().unwrap_or_default();
        match (name, sub.as_str()) {
            ("interface", _) => {
                self.set_driver(fid, cmd, "interface", args.get(1).cloned().flatten(), 1)
            }
            ("adapter", "driver") => self.set_driver(
                fid,
                cmd,
                "adapter driver",
                args.get(2).cloned().flatten(),
                2,
            ),
            ("adapter", "speed") | ("adapter_khz", _) | ("jtag_khz", _) => {
                let idx = if name == "adapter" { 2 } else { 1 };
                if args.len() > idx {
                    self.setting(fid, cmd, idx, |m| &mut m.speeds);
                }
            }
            ("adapter", "serial") => self.setting(fid, cmd, 2, |m| &mut m.serials),
            ("adapter", "usb") if args.get(2).cloned().flatten().as_deref() == Some("vid_pid") => {
                self.setting(fid, cmd, 3, |m| &mut m.vid_pids)
            }
            _ => {}
        }
        Ok(Some(String::new()))
    }

    fn set_driver(&mut self, fid: usize, cmd: &Command, command: &str, driver: Val, idx: usize) {
        let Some(driver) = driver else { return };
        let l = self.loc(fid, cmd.span);
        if let Some(first) = self.session.model.adapter_drivers.first().cloned() {
            self.problem(
                Problem::new(
                    ProblemId::TwoAdapters,
                    Severity::Error,
                    format!(
                        "a second adapter driver '{driver}' is configured after '{}' ({}:{}): OpenOCD ignores it (\"Interface already configured, ignoring\"); load only one interface cfg",
                        first.value, first.location.file, first.location.line
                    ),
                    Some(l.clone()),
                )
                .with_related(first.location.clone()),
            );
        } else {
            match driver_transports(&driver) {
                Some(t) => {
                    self.allowed = Some(t.iter().map(|s| s.to_string()).collect());
                    if t.len() == 1 {
                        self.transport = Some(t[0].to_string());
                    }
                }
                None => {
                    let mut best: Vec<(usize, &str)> = DRIVER_TRANSPORTS
                        .iter()
                        .map(|(d, _)| (edit_distance(d, &driver.to_ascii_lowercase()), *d))
                        .filter(|(d, _)| *d <= 3)
                        .collect();
                    best.sort();
                    let wl = self.loc(fid, cmd.words.get(idx).map(|w| w.span).unwrap_or(cmd.span));
                    let mut p = Problem::new(
                        ProblemId::UnknownAdapterDriver,
                        Severity::Error,
                        format!("The specified debug interface was not found ({driver})"),
                        Some(wl),
                    );
                    if let Some((_, b)) = best.first() {
                        p.message.push_str(&format!("; did you mean '{b}'?"));
                        p.suggestion = Some(b.to_string());
                    }
                    self.problem(p);
                }
            }
        }
        self.session.model.adapter_drivers.push(Setting {
            command: command.into(),
            value: driver,
            location: l,
        });
    }

    /// `transport select` without arguments (also `using_jtag` & co): auto-selects.
    fn query_transport(&mut self, fid: usize, span: Span) -> Option<String> {
        if let Some(t) = &self.transport {
            return Some(t.clone());
        }
        match self.allowed.clone() {
            Some(a) if !a.is_empty() => {
                self.transport = Some(a[0].clone());
                Some(a[0].clone())
            }
            _ => {
                self.before_interface(fid, span);
                self.stop(fid, span);
                None
            }
        }
    }

    fn before_interface(&mut self, fid: usize, span: Span) {
        // An earlier `-f` the check could not read may have set the adapter.
        if self.incomplete || !self.reported.insert("before-interface".into()) {
            return;
        }
        let inner = self.loc(fid, span);
        let at = self.step.clone().unwrap_or_else(|| inner.clone());
        let mut p = Problem::new(
            ProblemId::TargetBeforeInterface,
            Severity::Error,
            format!(
                "the transport is queried at {}:{} before any adapter driver is configured: OpenOCD says \"Debug adapter does not support any transports? Check config file order.\" Load the interface cfg before the target cfg",
                inner.file, inner.line
            ),
            Some(at),
        );
        p.related.push(inner);
        self.problem(p);
    }

    fn eval_transport(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        if args.get(1).cloned().flatten().as_deref() != Some("select") {
            return Ok(None);
        }
        if args.len() == 2 {
            return Ok(self.query_transport(fid, cmd.span));
        }
        let Some(t) = args.get(2).cloned().flatten() else {
            return Ok(None);
        };
        let l = self.loc(fid, cmd.span);
        let wl = self.loc(fid, cmd.words[2].span);
        self.session.model.transports.push(Setting {
            command: "transport select".into(),
            value: t.clone(),
            location: l.clone(),
        });
        if let Some(cur) = self.transport.clone() {
            if cur != t && self.session.model.transports.len() > 1 {
                // OpenOCD keeps the first selection: deleting this one gives exactly the
                // session OpenOCD ran, without the error (the finding says which one stays).
                self.problem(
                    Problem::new(
                        ProblemId::TransportSelectTwice,
                        Severity::Error,
                        format!("Can't change session's transport after the initial selection was made (it is '{cur}', this asks for '{t}')"),
                        Some(l),
                    )
                    .with_suggestion(""),
                );
                self.stop(fid, cmd.span);
                return Ok(None);
            }
            if cur == t {
                return Ok(Some(t));
            }
        }
        match self.allowed.clone() {
            None => {
                self.before_interface(fid, cmd.span);
                self.stop(fid, cmd.span);
                Ok(None)
            }
            Some(a) if !a.contains(&t) => {
                let drv = self
                    .session
                    .model
                    .adapter_driver()
                    .unwrap_or("?")
                    .to_string();
                let mut p = Problem::new(
                    ProblemId::TransportNotSupportedByAdapter,
                    Severity::Error,
                    format!(
                        "Debug adapter doesn't support '{t}' transport (adapter driver '{drv}' supports: {})",
                        a.join(", ")
                    ),
                    Some(wl),
                );
                // The usual mix-up: hla_swd ↔ swd, dapdirect_swd ↔ swd.
                let base = t.rsplit('_').next().unwrap_or(&t).to_string();
                p.suggestion = a
                    .iter()
                    .find(|x| x.ends_with(&base))
                    .cloned()
                    .or_else(|| a.first().cloned());
                self.problem(p);
                self.stop(fid, cmd.span);
                Ok(None)
            }
            Some(_) => {
                self.transport = Some(t.clone());
                Ok(Some(t))
            }
        }
    }

    fn eval_newtap(&mut self, fid: usize, cmd: &Command, name: &str) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        let (chip_i, kind) = match name {
            "jtag" => (2, TapKind::Jtag),
            "swd" => (2, TapKind::Swd),
            "hla" => (2, TapKind::Hla),
            _ => {
                // swj_newdap asks for the transport like the proc in target/swj-dp.tcl does.
                let t = self.query_transport(fid, cmd.span);
                let k = match t.as_deref() {
                    Some(t) if t.contains("hla") => TapKind::Hla,
                    Some(t) if t.contains("jtag") => TapKind::Jtag,
                    Some(t) if t.contains("swd") => TapKind::Swd,
                    _ => TapKind::Unknown,
                };
                (1, k)
            }
        };
        let g = |i: usize| args.get(i).cloned().flatten().unwrap_or_else(|| "?".into());
        let opts = &args[(chip_i + 2).min(args.len())..];
        let mut expected = Vec::new();
        let mut k = 0;
        while k < opts.len() {
            if opts[k].as_deref() == Some("-expected-id") {
                expected.push(
                    opts.get(k + 1)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "?".into()),
                );
                k += 1;
            }
            k += 1;
        }
        let l = self.loc(fid, cmd.span);
        self.session.model.taps.push(Tap {
            chip: g(chip_i),
            tap: g(chip_i + 1),
            kind,
            irlen: opt_value(opts, "-irlen"),
            expected_ids: expected,
            location: l,
        });
        Ok(Some(String::new()))
    }

    fn eval_target_create(&mut self, fid: usize, cmd: &Command) -> Result<Val, Ctl> {
        let args = self.words(fid, cmd);
        let g = |i: usize| args.get(i).cloned().flatten().unwrap_or_else(|| "?".into());
        let name = g(2);
        let l = self.loc(fid, cmd.span);
        self.session.model.targets.push(Target {
            name: name.clone(),
            kind: g(3),
            dap: None,
            chain_position: None,
            gdb_port: None,
            location: l,
        });
        self.target_options(fid, cmd, &args, 4, &name);
        Ok(Some(String::new()))
    }

    /// `-dap X -chain-position Y -gdb-port N -event NAME BODY …` from word `from` on.
    fn target_options(
        &mut self,
        fid: usize,
        cmd: &Command,
        args: &[Val],
        from: usize,
        target: &str,
    ) {
        let mut k = from;
        while k < args.len() {
            let opt = args[k].clone().unwrap_or_default();
            let val = args.get(k + 1).cloned().flatten();
            let flag_only = matches!(opt.as_str(), "-defer-examine");
            match opt.as_str() {
                "-dap" | "-chain-position" | "-gdb-port" => {
                    if let Some(t) = self
                        .session
                        .model
                        .targets
                        .iter_mut()
                        .rev()
                        .find(|t| t.name == target)
                    {
                        match opt.as_str() {
                            "-dap" => t.dap = val,
                            "-chain-position" => t.chain_position = val,
                            _ => t.gdb_port = val,
                        }
                    }
                }
                "-event" => {
                    // `-event NAME BODY`: words are k (opt), k+1 (name), k+2 (body); map back to
                    // the command's words (expansion aside, they line up).
                    if let (Some(ev), Some(bw)) = (val.clone(), cmd.words.get(k + 2)) {
                        let text = self.text(fid);
                        let (_, errors) = tcl::parse_body(&text, bw);
                        self.syntax_problems(fid, errors);
                        let body = self.loc(fid, bw.content);
                        let l = self.loc(fid, cmd.span);
                        self.session.model.events.push(Event {
                            target: Some(target.to_string()),
                            name: ev,
                            body,
                            location: l,
                        });
                    }
                    k += 3;
                    continue;
                }
                _ => {}
            }
            k += if flag_only { 1 } else { 2 };
        }
    }

    fn eval_reset_config(&mut self, fid: usize, cmd: &Command) {
        let args = self.words(fid, cmd);
        let l = self.loc(fid, cmd.span);
        let value = args[1..]
            .iter()
            .map(|a| a.clone().unwrap_or_else(|| "?".into()))
            .collect::<Vec<_>>()
            .join(" ");
        self.session.model.reset_configs.push(Setting {
            command: "reset_config".into(),
            value,
            location: l,
        });
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, a) in args.iter().enumerate().skip(1) {
            let Some(a) = a else { continue };
            let wl = self.loc(fid, cmd.words.get(i).map(|w| w.span).unwrap_or(cmd.span));
            match RESET_GROUPS
                .iter()
                .find(|(_, vals)| vals.contains(&a.as_str()))
            {
                None => {
                    let mut best: Vec<(usize, &str)> = RESET_GROUPS
                        .iter()
                        .flat_map(|(_, v)| v.iter())
                        .map(|v| (edit_distance(v, a), *v))
                        .filter(|(d, _)| *d <= 3)
                        .collect();
                    best.sort();
                    let mut p = Problem::new(
                        ProblemId::ResetConfigInvalid,
                        Severity::Error,
                        format!("unknown reset_config flag ({a})"),
                        Some(wl),
                    );
                    p.suggestion = best.first().map(|(_, v)| v.to_string());
                    self.problem(p);
                }
                Some((group, _)) => {
                    if let Some(prev) = seen.insert(group, i) {
                        let prev_v = args[prev].clone().unwrap_or_default();
                        self.problem(Problem::new(
                            ProblemId::ResetConfigInvalid,
                            Severity::Error,
                            format!("extra reset_config {group} spec ({a}); '{prev_v}' already sets the {group} group"),
                            Some(wl),
                        ));
                    }
                }
            }
        }
    }

    fn port(&mut self, fid: usize, cmd: &Command, svc: Service, idx: usize) {
        let args = self.words(fid, cmd);
        if let Some(v) = args.get(idx) {
            let l = self.loc(fid, cmd.span);
            self.session.model.ports.push(Port {
                service: svc,
                value: v.clone().unwrap_or_else(|| "?".into()),
                location: l,
            });
        }
    }

    fn setting(
        &mut self,
        fid: usize,
        cmd: &Command,
        from: usize,
        field: fn(&mut Model) -> &mut Vec<Setting>,
    ) {
        let args = self.words(fid, cmd);
        let n = cmd.words.len().min(from);
        let command = cmd.words[..n]
            .iter()
            .map(|w| w.literal().unwrap_or_else(|| "?".into()))
            .collect::<Vec<_>>()
            .join(" ");
        let value = args
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .map(|a| a.clone().unwrap_or_else(|| "?".into()))
            .collect::<Vec<_>>()
            .join(" ");
        let l = self.loc(fid, cmd.span);
        field(&mut self.session.model).push(Setting {
            command,
            value,
            location: l,
        });
    }

    /// Two services on one TCP port (gdb uses one port per target, from its base).
    fn check_ports(&mut self) {
        let m = &self.session.model;
        let mut used: Vec<(u16, String, Option<Location>)> = Vec::new();
        for svc in [Service::Tcl, Service::Telnet, Service::Gdb] {
            let set = m.port(svc);
            let (val, loc) = match set {
                Some(p) => (p.value.clone(), Some(p.location.clone())),
                None => (svc.default_port().to_string(), None),
            };
            let Ok(base) = val.parse::<u16>() else {
                continue;
            };
            if base == 0 {
                continue;
            }
            if svc == Service::Gdb {
                let mut next = base;
                let targets = if m.targets.is_empty() {
                    1
                } else {
                    m.targets.len()
                };
                for t in 0..targets {
                    let (port, l, who) = match m
                        .targets
                        .get(t)
                        .and_then(|x| x.gdb_port.clone().map(|g| (g, x)))
                    {
                        Some((g, x)) => match g.parse::<u16>() {
                            Ok(p) => (p, Some(x.location.clone()), format!("gdb ({})", x.name)),
                            Err(_) => continue,
                        },
                        None => {
                            let p = next;
                            next = next.wrapping_add(1);
                            let who = m
                                .targets
                                .get(t)
                                .map(|x| format!("gdb ({})", x.name))
                                .unwrap_or_else(|| "gdb".into());
                            (p, loc.clone(), who)
                        }
                    };
                    used.push((port, who, l));
                }
            } else {
                used.push((base, svc.as_str().to_string(), loc));
            }
        }
        let mut problems = Vec::new();
        for i in 0..used.len() {
            for j in 0..i {
                if used[i].0 == used[j].0 && (used[i].2.is_some() || used[j].2.is_some()) {
                    let (a, b) = (&used[j], &used[i]);
                    let at = b.2.clone().or_else(|| a.2.clone());
                    let mut p = Problem::new(
                        ProblemId::PortClash,
                        Severity::Error,
                        format!(
                            "{} and {} both use port {}: the second bind fails (\"couldn't bind {} to socket on port {}: Address already in use\")",
                            a.1,
                            b.1,
                            b.0,
                            b.1.split(' ').next().unwrap_or("gdb"),
                            b.0
                        ),
                        at,
                    );
                    if let (Some(x), true) = (a.2.clone(), b.2.is_some()) {
                        p.related.push(x);
                    }
                    // The command at the location (`tcl_port 4444`) gets the next port nothing
                    // else uses. A per-target `-gdb-port` is left to the user.
                    let owner = if b.2.is_some() { b } else { a };
                    if matches!(owner.1.as_str(), "gdb" | "tcl" | "telnet") {
                        let taken: Vec<u16> = used.iter().map(|u| u.0).collect();
                        let free = (u32::from(owner.0) + 1..=65535)
                            .filter_map(|x| u16::try_from(x).ok())
                            .find(|x| !taken.contains(x) && ![3333, 4444, 6666].contains(x));
                        p.suggestion = free.map(|f| format!("{}_port {f}", owner.1));
                    }
                    problems.push(p);
                }
            }
        }
        self.session.problems.extend(problems);
    }
}

fn sp_text(s: &str, a: usize, b: usize) -> &str {
    s.get(a..b).unwrap_or("")
}

/// The value following `name` in an option list.
fn opt_value(opts: &[Val], name: &str) -> Option<String> {
    let i = opts.iter().position(|o| o.as_deref() == Some(name))?;
    opts.get(i + 1).cloned().flatten()
}

/// The first `${NAME}` / `$(NAME)` in a file name: an IDE or build variable nobody expanded.
pub fn unexpanded_variable(name: &str) -> Option<&str> {
    for (open, close) in [("${", '}'), ("$(", ')')] {
        if let Some(i) = name.find(open)
            && let Some(j) = name[i..].find(close)
            && j > open.len()
        {
            return Some(&name[i..i + j + 1]);
        }
    }
    None
}

/// Split a Tcl list (braces and quotes group; no substitution).
pub fn split_list(s: &str) -> Vec<String> {
    let (script, _) = tcl::parse(s);
    let mut out = Vec::new();
    for c in script.commands {
        for w in c.words {
            match w.kind {
                WordKind::Braced => out.push(w.content.text(s).to_string()),
                _ => out.push(w.literal().unwrap_or_else(|| w.content.text(s).to_string())),
            }
        }
    }
    out
}

fn list_quote(s: &str) -> String {
    if !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || "{}\"[]$\\;".contains(c)) {
        s.to_string()
    } else {
        format!("{{{s}}}")
    }
}

fn glob_match(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A command that was renamed or dropped: the problem names the version and, when there is one,
/// the replacement (and suggests it when there is exactly one).
fn renamed(
    id: ProblemId,
    severity: Severity,
    what: &str,
    matched: &str,
    since: &crate::versions::Version,
    replacement: &[String],
    at: Location,
) -> Problem {
    let instead = if replacement.is_empty() {
        String::new()
    } else {
        format!("; use '{}'", replacement.join("; "))
    };
    let mut p = Problem::new(
        id,
        severity,
        format!("'{matched}' {what} OpenOCD {}{instead}", since.as_str()),
        Some(at),
    );
    p.suggestion = (replacement.len() == 1).then(|| replacement[0].clone());
    p
}
