//! # ocdoctor-ide: IDE launch configurations, read as the front end reads them
//!
//! [`discover`] finds the launch configurations of a project (`.vscode/launch.json`, Eclipse /
//! STM32CubeIDE / MounRiver `*.launch`, `platformio.ini`); [`load`] reads one file and, for each
//! launch configuration in it, rebuilds the exact OpenOCD command line the front end would run
//! ([`LaunchConfig::openocd_argv`], with the directory it runs in) and checks what the front end
//! itself gets wrong ([`IdeProblem`]s with stable ids, positions and, when known, an [`Edit`] that
//! keeps the file's comments and formatting).
//!
//! Nothing here fails: a malformed file gives a `parse-error` problem with its position and
//! whatever could be read. Nothing is read from the process environment either: environment,
//! `PATH`, the workspace folder, the attached probes and the OS come in through [`IdeContext`], so
//! the same file gives the same answer in tests, in CI and in the editor.

mod checks;
mod eclipse;
mod edit;
mod ini;
mod pio;
mod text;
mod vscode;

pub use edit::Edit;
pub use ini::{Ini, IniEntry, IniSection};
pub use ocdoctor_cfg::{LineIndex, Severity};

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A byte range in a file's text.
pub type Span = Range<usize>;

/// The operating system the IDE runs on (selects per-OS blocks, `.exe`, the PATH separator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Os {
    #[default]
    Linux,
    Macos,
    Windows,
}

impl Os {
    /// The OS this program was built for.
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Macos
        } else {
            Os::Linux
        }
    }
    /// The key of this OS's block in launch.json (`linux`, `osx`, `windows`).
    pub fn vscode_key(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Macos => "osx",
            Os::Windows => "windows",
        }
    }
}

/// Everything about the machine the checks need, passed in (never read implicitly).
#[derive(Debug, Clone, Default)]
pub struct IdeContext {
    /// Environment variables (`${env:NAME}`, `${sysenv.NAME}`, `$PLATFORMIO_CORE_DIR`, `HOME`,
    /// `OPENOCD_SCRIPTS`…).
    pub env: HashMap<String, String>,
    /// The `PATH` the IDE would search (`:`-separated, `;` on Windows). `None`: not known, so
    /// bare program names are not checked.
    pub path_var: Option<String>,
    /// The workspace / project folder (`${workspaceFolder}`, `${project_loc}`, the dir of
    /// platformio.ini). When empty, the directory that holds the file's `.vscode` (or the file's
    /// own directory) is used.
    pub workspace: PathBuf,
    /// Serial numbers of the debug probes attached now (from `ocdoctor env`).
    pub attached_serials: Vec<String>,
    pub os: Os,
}

/// What kind of file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.vscode/launch.json` (JSON with comments).
    VsCodeLaunch,
    /// An Eclipse `.launch` (Embedded CDT, GNU MCU/ARM Eclipse, MounRiver, STM32CubeIDE).
    EclipseLaunch,
    /// `platformio.ini`.
    PlatformIo,
}

/// Which front end runs this configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontEnd {
    /// Cortex-Debug (`"type": "cortex-debug"`); the server type is in [`LaunchConfig::server_type`].
    CortexDebug,
    /// Microsoft C/C++ (`"type": "cppdbg"`).
    CppTools,
    /// Eclipse Embedded CDT and its forks (`ilg.gnuarmeclipse`, `ilg.gnumcueclipse`, `com.mounriver`).
    EclipseEmbedCdt,
    /// STM32CubeIDE with the "ST-LINK (OpenOCD)" probe.
    Stm32CubeIde,
    /// PlatformIO `[env:NAME]`.
    PlatformIo,
    /// Anything else (another debugger type or launch type): listed, not checked.
    Other(String),
}

/// Where a problem is: a file, a byte span, and the 1-based line and column (in characters) of
/// the span's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub span: Span,
    pub line: u32,
    pub col: u32,
}

impl Location {
    /// A location in `text`, for a text read once: a text with many locations has one
    /// [`LineIndex`] and uses [`Location::in_indexed`].
    pub fn in_text(file: &Path, text: &str, span: Span) -> Location {
        Location::in_indexed(file, text, &LineIndex::new(text), span)
    }

    /// A location in `text`, whose line index is `lines`.
    pub fn in_indexed(file: &Path, text: &str, lines: &LineIndex, span: Span) -> Location {
        let (line, col) = text::line_col(text, lines, span.start);
        Location {
            file: file.to_path_buf(),
            span,
            line,
            col,
        }
    }
}

/// One thing the front end will get wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdeProblem {
    /// Stable kebab-case id (see [`ProblemId`] and the README).
    pub id: ProblemId,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    /// A fix for the file at `location.file`, when one is known.
    pub edit: Option<Edit>,
}

ocdoctor_cfg::problem_ids! {
    /// Every problem id this crate produces (`IdeProblem::id`).
    pub enum ProblemId {
        ParseError = "parse-error",
        ServerNotFound = "server-not-found",
        ServerNotOpenocd = "server-not-openocd",
        ConfigFileNotFound = "config-file-not-found",
        GdbNotFound = "gdb-not-found",
        GdbIsHostGdb = "gdb-is-host-gdb",
        GdbPortMismatch = "gdb-port-mismatch",
        ServerStartedPatternMismatch = "server-started-pattern-mismatch",
        FilterStderrFalse = "filter-stderr-false",
        UnknownKey = "unknown-key",
        DeprecatedKey = "deprecated-key",
        WindowsPathBackslashes = "windows-path-backslashes",
        UnquotedSpaceInArgs = "unquoted-space-in-args",
        StaleProbeSerial = "stale-probe-serial",
        NoConfigFiles = "no-config-files",
    }
}

/// One launch configuration and the OpenOCD run it implies.
#[derive(Debug, Clone)]
pub struct LaunchConfig {
    pub name: String,
    /// The configuration's text (the JSON object, the whole `.launch`, the `[env:…]` section).
    pub span: Span,
    pub front_end: FrontEnd,
    /// Cortex-Debug `servertype`, PlatformIO `debug_tool`, Eclipse `jtagDevice`.
    pub server_type: Option<String>,
    /// The OpenOCD argv the front end runs (program first), after variable substitution.
    /// `None` when the front end does not start OpenOCD (external server, another server, a
    /// PlatformIO tool whose command line comes from a board manifest we do not have).
    pub openocd_argv: Option<Vec<String>>,
    /// For each element of `openocd_argv`, the span of the setting it came from (if any).
    pub argv_origins: Vec<Option<Span>>,
    /// The directory OpenOCD runs in (relative `-f`/`-s` paths are relative to it).
    pub cwd: Option<PathBuf>,
    /// The GDB the front end starts, after substitution.
    pub gdb: Option<String>,
    /// Where GDB connects (`host:port`, `| pipe`), when known.
    pub gdb_target: Option<String>,
    /// Things that could not be resolved (`${config:…}`, `${openocd_path}`…) and assumptions.
    pub notes: Vec<String>,
    pub problems: Vec<IdeProblem>,
}

impl LaunchConfig {
    fn new(name: impl Into<String>, span: Span, front_end: FrontEnd) -> LaunchConfig {
        LaunchConfig {
            name: name.into(),
            span,
            front_end,
            server_type: None,
            openocd_argv: None,
            argv_origins: Vec::new(),
            cwd: None,
            gdb: None,
            gdb_target: None,
            notes: Vec::new(),
            problems: Vec::new(),
        }
    }
    /// The reconstructed command line parsed as OpenOCD parses it.
    pub fn invocation(&self) -> Option<ocdoctor_cfg::Invocation> {
        self.openocd_argv
            .as_ref()
            .map(|a| ocdoctor_cfg::Invocation::parse_args(a))
    }
}

/// One file read.
#[derive(Debug, Clone)]
pub struct IdeFile {
    pub path: PathBuf,
    pub kind: FileKind,
    /// The text as read (invalid UTF-8 replaced); every span points into it.
    pub text: String,
    /// The line index of `text`, built once: every location and shown line of the file's
    /// problems is looked up in it.
    pub lines: LineIndex,
    pub configs: Vec<LaunchConfig>,
    /// Problems of the file as a whole (parse errors).
    pub problems: Vec<IdeProblem>,
}

impl IdeFile {
    /// Every problem: the file's, then each configuration's.
    pub fn all_problems(&self) -> impl Iterator<Item = &IdeProblem> {
        self.problems
            .iter()
            .chain(self.configs.iter().flat_map(|c| c.problems.iter()))
    }
}

/// The kind of a file, from its name.
pub fn kind_of(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".launch") {
        Some(FileKind::EclipseLaunch)
    } else if name == "platformio.ini" || name.ends_with(".ini") {
        Some(FileKind::PlatformIo)
    } else if name.ends_with(".json") || name.ends_with(".tmpl") || name.ends_with(".jsonc") {
        Some(FileKind::VsCodeLaunch)
    } else {
        None
    }
}

/// Launch configurations of the project in `dir`: `.vscode/launch.json`, `platformio.ini`, and
/// `*.launch` in the project root, one level down (Eclipse keeps shared launches anywhere in the
/// project, usually the root; STM32CubeIDE writes `<project> Debug.launch` next to `.project`,
/// which in a multi-project repo is one level down) and in `.settings/` (where some generators put
/// them). Private Eclipse launches live in the workspace metadata
/// (`.metadata/.plugins/org.eclipse.debug.core/.launches/`), which is searched too when `dir` is
/// a workspace. Sorted, no duplicates; unreadable directories are skipped.
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let launch_json = dir.join(".vscode").join("launch.json");
    if launch_json.is_file() {
        out.push(launch_json);
    }
    let ini = dir.join("platformio.ini");
    if ini.is_file() {
        out.push(ini);
    }
    let mut launch_dirs = vec![
        dir.to_path_buf(),
        dir.join(".settings"),
        dir.join(".metadata/.plugins/org.eclipse.debug.core/.launches"),
    ];
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut subs: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned());
                // Build output and VCS dirs never hold launch configurations.
                !matches!(
                    n.as_deref(),
                    Some(".git" | "target" | "node_modules" | ".pio" | "build")
                )
            })
            .collect();
        subs.sort();
        for s in subs {
            launch_dirs.push(s.join(".settings"));
            launch_dirs.push(s);
        }
    }
    for d in launch_dirs {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_file() && p.extension().is_some_and(|x| x == "launch") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Read and check one file. Never fails: an unreadable file gives a `parse-error`.
pub fn load(path: &Path, ctx: &IdeContext) -> IdeFile {
    let kind = kind_of(path).unwrap_or(FileKind::VsCodeLaunch);
    match std::fs::read(path) {
        Ok(bytes) => load_bytes(path, &bytes, ctx),
        Err(e) => IdeFile {
            path: path.to_path_buf(),
            kind,
            text: String::new(),
            lines: LineIndex::new(""),
            configs: Vec::new(),
            problems: vec![IdeProblem {
                id: ProblemId::ParseError,
                severity: Severity::Error,
                message: format!("cannot read {}: {e}", path.display()),
                location: Location::in_text(path, "", 0..0),
                edit: None,
            }],
        },
    }
}

/// [`load`] on bytes already read (the editor's unsaved buffer, tests).
pub fn load_bytes(path: &Path, bytes: &[u8], ctx: &IdeContext) -> IdeFile {
    match std::str::from_utf8(bytes) {
        Ok(t) => load_text(path, t, ctx),
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let at = e.valid_up_to();
            let mut f = load_text(path, &text, ctx);
            f.problems.insert(
                0,
                IdeProblem {
                    id: ProblemId::ParseError,
                    severity: Severity::Error,
                    message: format!(
                        "invalid UTF-8 at byte {at}; the IDE will not read this file as written"
                    ),
                    location: Location::in_indexed(path, &text, &f.lines, at..at + 1),
                    edit: None,
                },
            );
            f
        }
    }
}

/// [`load`] on text.
pub fn load_text(path: &Path, text: &str, ctx: &IdeContext) -> IdeFile {
    let kind = kind_of(path).unwrap_or_else(|| sniff(text));
    let lines = LineIndex::new(text);
    let mut file = IdeFile {
        path: path.to_path_buf(),
        kind,
        text: text.to_string(),
        lines: LineIndex::default(),
        configs: Vec::new(),
        problems: Vec::new(),
    };
    let workspace = workspace_for(path, kind, ctx);
    // Each reader fills in the file's configurations and problems, reading its text, path and
    // line index through the one context built here.
    let cx = checks::Ctx {
        ide: ctx,
        path,
        text,
        lines: &lines,
    };
    match kind {
        FileKind::VsCodeLaunch => vscode::load(&mut file, &cx, &workspace),
        FileKind::EclipseLaunch => eclipse::load(&mut file, &cx, &workspace),
        FileKind::PlatformIo => pio::load(&mut file, &cx, &workspace),
    }
    file.lines = lines;
    file
}

/// The workspace folder for a file: the context's, else the folder above `.vscode`, else the
/// file's directory.
fn workspace_for(path: &Path, kind: FileKind, ctx: &IdeContext) -> PathBuf {
    if !ctx.workspace.as_os_str().is_empty() {
        return ctx.workspace.clone();
    }
    let parent = path.parent().unwrap_or(Path::new("."));
    if kind == FileKind::VsCodeLaunch && parent.file_name().is_some_and(|n| n == ".vscode") {
        return parent.parent().unwrap_or(Path::new(".")).to_path_buf();
    }
    parent.to_path_buf()
}

fn sniff(text: &str) -> FileKind {
    let t = text.trim_start_matches(text::BOM).trim_start();
    if t.starts_with('<') {
        FileKind::EclipseLaunch
    } else if t.starts_with('{') || t.starts_with("//") || t.starts_with("/*") {
        FileKind::VsCodeLaunch
    } else {
        FileKind::PlatformIo
    }
}
