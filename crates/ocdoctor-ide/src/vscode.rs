//! `.vscode/launch.json` (JSON with comments and trailing commas): Cortex-Debug and cpptools.

use crate::checks::{self, Ctx, Enc, Plan, Role, Val};
use crate::text::{indent_at, subst};
use crate::{
    FrontEnd, IdeContext, IdeFile, IdeProblem, LaunchConfig, Location, Os, ProblemId, Severity,
};
use jsonc_parser::ast::{Object, ObjectProp, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};
use std::path::{Path, PathBuf};

/// Keys Cortex-Debug reads (its `debug_attributes.md`, v1.13) plus the ones VS Code itself reads
/// in every configuration.
const CORTEX_DEBUG_KEYS: &[&str] = &[
    // VS Code
    "type",
    "request",
    "name",
    "preLaunchTask",
    "postDebugTask",
    "internalConsoleOptions",
    "debugServer",
    "presentation",
    "windows",
    "linux",
    "osx",
    // Cortex-Debug
    "BMPGDBSerialPort",
    "armToolchainPath",
    "boardId",
    "breakAfterReset",
    "chainedConfigurations",
    "cmsisPack",
    "configFiles",
    "cpu",
    "ctiOpenOCDConfig",
    "cwd",
    "debuggerArgs",
    "device",
    "executable",
    "gdbInterruptMode",
    "gdbPath",
    "gdbTarget",
    "graphConfig",
    "hardwareBreakpoints",
    "hardwareWatchpoints",
    "interface",
    "ipAddress",
    "jlinkscript",
    "liveWatch",
    "loadFiles",
    "machine",
    "numberOfProcessors",
    "objdumpPath",
    "openOCDLaunchCommands",
    "openOCDPreConfigLaunchCommands",
    "overrideAttachCommands",
    "overrideGDBServerStartedRegex",
    "overrideLaunchCommands",
    "overridePreEndSessionCommands",
    "overrideResetCommands",
    "postAttachCommands",
    "postLaunchCommands",
    "postResetCommands",
    "postResetSessionCommands",
    "postStartSessionCommands",
    "powerOverBMP",
    "preAttachCommands",
    "preLaunchCommands",
    "preResetCommands",
    "rtos",
    "rttConfig",
    "runToEntryPoint",
    "searchDir",
    "serialNumber",
    "serverArgs",
    "serverpath",
    "servertype",
    "showDevDebugOutput",
    "showDevDebugTimestamps",
    "stlinkPath",
    "stm32cubeprogrammer",
    "svdFile",
    "svdPath",
    "swoConfig",
    "symbolFiles",
    "targetId",
    "targetProcessor",
    "toolchainPrefix",
    "v1",
];

/// Deprecated Cortex-Debug keys and what replaces them (Cortex-Debug still maps them, with a
/// warning). `runToMain: true` becomes `runToEntryPoint: "main"`.
const CORTEX_DEBUG_DEPRECATED: &[(&str, &str)] = &[
    ("runToMain", "runToEntryPoint"),
    ("openOCDPath", "serverpath"),
    ("overrideRestartCommands", "overrideResetCommands"),
    ("preRestartCommands", "preResetCommands"),
    ("postRestartCommands", "postResetCommands"),
];

/// What OpenOCD prints once the gdb server listens (the line IDEs wait for): 0.10 and later,
/// and the line 0.11+ prints just before it.
pub(crate) const READY_LINES: &[&str] = &[
    "Info : Listening on port 3333 for gdb connections",
    "Info : starting gdb server for stm32f4x.cpu on 3333",
];

pub(crate) fn load(file: &mut IdeFile, cx: &Ctx, workspace: &Path) {
    let text = cx.text;
    // VS Code reads a launch.json that starts with a byte order mark; the parser does not.
    let parse_text = crate::text::without_bom(text);
    let parsed = parse_to_ast(
        &parse_text,
        &CollectOptions::default(),
        &ParseOptions::default(),
    );
    let ast = match parsed {
        Ok(a) => a,
        Err(e) => {
            let r = e.range();
            file.problems.push(IdeProblem {
                id: ProblemId::ParseError,
                severity: Severity::Error,
                message: format!("launch.json does not parse: {}", e.kind()),
                location: Location::in_indexed(
                    cx.path,
                    text,
                    cx.lines,
                    r.start..r.end.max(r.start),
                ),
                edit: None,
            });
            return;
        }
    };
    let Some(root) = ast.value.as_ref().and_then(|v| v.as_object()) else {
        file.problems.push(cx.problem(
            ProblemId::ParseError,
            Severity::Error,
            "launch.json is not a JSON object",
            0..0,
            None,
        ));
        return;
    };
    let Some(configs) = root.get("configurations").map(|p| &p.value) else {
        return;
    };
    let Some(configs) = configs.as_array() else {
        file.problems.push(cx.problem(
            ProblemId::ParseError,
            Severity::Error,
            "`configurations` is not an array",
            configs.range().start..configs.range().end,
            None,
        ));
        return;
    };
    for c in &configs.elements {
        if let Some(obj) = c.as_object() {
            file.configs.push(config(obj, cx, workspace));
        }
    }
}

/// A configuration's properties with the current OS's block merged over them (VS Code
/// "platform-specific properties"), optionally case-insensitive (cpptools).
struct Props<'a, 'b> {
    base: &'b Object<'a>,
    os: Option<&'b Object<'a>>,
    ci: bool,
}

impl<'a, 'b> Props<'a, 'b> {
    fn get(&self, key: &str) -> Option<&'b ObjectProp<'a>> {
        let find = |o: &'b Object<'a>| {
            o.properties.iter().rev().find(|p| {
                let n = p.name.as_str();
                if self.ci {
                    n.eq_ignore_ascii_case(key)
                } else {
                    n == key
                }
            })
        };
        self.os.and_then(find).or_else(|| find(self.base))
    }
}

struct Vars<'x> {
    ide: &'x IdeContext,
    workspace: &'x Path,
}

impl Vars<'_> {
    fn resolve(&self, name: &str) -> Option<String> {
        let ws = self.workspace.to_string_lossy().into_owned();
        match name {
            // `${workspaceRoot}` is the deprecated alias VS Code still substitutes.
            "workspaceFolder" | "workspaceRoot" => Some(ws),
            "workspaceFolderBasename" | "workspaceRootFolderName" => self
                .workspace
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            "userHome" => self
                .ide
                .env
                .get(if self.ide.os == Os::Windows {
                    "USERPROFILE"
                } else {
                    "HOME"
                })
                .or_else(|| self.ide.env.get("HOME"))
                .cloned(),
            "pathSeparator" | "/" => Some(
                if self.ide.os == Os::Windows {
                    "\\"
                } else {
                    "/"
                }
                .into(),
            ),
            _ => name
                .strip_prefix("env:")
                .and_then(|n| self.ide.env.get(n).cloned()),
        }
    }
    fn val(&self, v: &Value) -> Option<Val> {
        let s = v.as_string_lit()?;
        let raw = s.value.to_string();
        let (value, unresolved) = subst(&raw, &|n| self.resolve(n));
        Some(Val {
            raw,
            value,
            span: s.range.start..s.range.end,
            enc: Enc::Json,
            unresolved,
        })
    }
}

/// The first port of the block Cortex-Debug looks for (`getTCPPorts`: 50000–52000).
const CORTEX_DEBUG_FIRST_PORT: u32 = 50000;

/// A non-negative integer setting (`numberOfProcessors`, `targetProcessor`).
fn num_of(p: Option<&ObjectProp<'_>>) -> Option<u32> {
    p.and_then(|p| p.value.as_number_lit())
        .and_then(|n| n.value.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0 && *v <= 65535.0)
        .map(|v| v as u32)
}

fn str_of<'a>(p: Option<&ObjectProp<'a>>) -> Option<String> {
    p.and_then(|p| p.value.as_string_lit())
        .map(|s| s.value.to_string())
}

fn config(obj: &Object, cx: &Ctx, workspace: &Path) -> LaunchConfig {
    let ty = obj
        .get("type")
        .and_then(|p| p.value.as_string_lit())
        .map(|s| s.value.to_string())
        .unwrap_or_default();
    let name = str_of(obj.get("name")).unwrap_or_default();
    let span = obj.range.start..obj.range.end;
    let os_block = obj
        .properties
        .iter()
        .find(|p| p.name.as_str() == cx.ide.os.vscode_key())
        .and_then(|p| p.value.as_object());
    let vars = Vars {
        ide: cx.ide,
        workspace,
    };
    let front_end = match ty.as_str() {
        "cortex-debug" => FrontEnd::CortexDebug,
        "cppdbg" => FrontEnd::CppTools,
        other => return LaunchConfig::new(name, span, FrontEnd::Other(other.to_string())),
    };
    // cpptools reads its keys in any case, Cortex-Debug only as written.
    let cpptools = front_end == FrontEnd::CppTools;
    let props = Props {
        base: obj,
        os: os_block,
        ci: cpptools,
    };
    let mut cfg = LaunchConfig::new(name, span, front_end);
    if cpptools {
        cppdbg(&props, cx, &vars, &mut cfg);
    } else {
        cortex_debug(&props, obj, cx, &vars, &mut cfg);
    }
    cfg
}

fn cwd_of(props: &Props, vars: &Vars, workspace: &Path) -> PathBuf {
    match props.get("cwd").and_then(|p| vars.val(&p.value)) {
        Some(v) if v.unresolved.is_empty() && !v.value.is_empty() => {
            let p = PathBuf::from(&v.value);
            if p.is_absolute() {
                p
            } else {
                workspace.join(p)
            }
        }
        _ => workspace.to_path_buf(),
    }
}

fn string_list<'b>(props: &Props<'_, 'b>, key: &str, vars: &Vars) -> Vec<Val> {
    props
        .get(key)
        .and_then(|p| p.value.as_array())
        .map(|a| a.elements.iter().filter_map(|e| vars.val(e)).collect())
        .unwrap_or_default()
}

fn cortex_debug(props: &Props, obj: &Object, cx: &Ctx, vars: &Vars, cfg: &mut LaunchConfig) {
    check_keys(obj, cx, cfg);
    if let Some(o) = props.os {
        check_keys(o, cx, cfg);
    }
    let servertype = str_of(props.get("servertype")).unwrap_or_default();
    cfg.server_type = Some(servertype.clone());
    let gdb = props.get("gdbPath").and_then(|p| vars.val(&p.value));
    cfg.gdb = gdb.as_ref().map(|g| g.value.clone());
    if servertype == "external" {
        cfg.gdb_target = str_of(props.get("gdbTarget"));
        if let Some(t) = props.get("gdbTarget").and_then(|p| vars.val(&p.value)) {
            cfg.gdb_target = Some(t.value.clone());
            for u in t.unresolved {
                cfg.notes
                    .push(format!("{u} is not resolved (left as written)"));
            }
        }
        cfg.notes
            .push("servertype external: OpenOCD is started outside VS Code".into());
        return;
    }
    if servertype != "openocd" {
        cfg.notes.push(format!(
            "servertype `{servertype}`: not an OpenOCD configuration"
        ));
        return;
    }
    let workspace = vars.workspace;
    let cwd = cwd_of(props, vars, workspace);
    let anchor = props
        .get("servertype")
        .map(|p| p.value.range().start..p.value.range().end)
        .unwrap_or(obj.range.start..obj.range.start + 1);
    let mut plan = Plan {
        server: props
            .get("serverpath")
            .or_else(|| props.get("openOCDPath"))
            .and_then(|p| vars.val(&p.value)),
        default_server: if cx.ide.os == Os::Windows {
            "openocd.exe".into()
        } else {
            "openocd".into()
        },
        cwd: cwd.clone(),
        gdb,
        anchor: anchor.clone(),
        ..Default::default()
    };
    // Cortex-Debug's own helper script, then the ports it picked from 50000–52000 at launch:
    // one consecutive block, each kind (gdb, tcl, telnet, swo) getting `numberOfProcessors`
    // consecutive ports; OpenOCD is given processor 0's port of each kind and numbers the gdb
    // ports of further targets up from it.
    let procs = num_of(props.get("numberOfProcessors")).map_or(1, |n| n.clamp(1, 64));
    let target_proc = num_of(props.get("targetProcessor")).map_or(0, |n| n.min(procs - 1));
    let base = CORTEX_DEBUG_FIRST_PORT;
    plan.push("-f", None);
    plan.push("${cortex-debug}/support/openocd-helpers.tcl", None);
    for (k, svc) in ["gdb_port", "tcl_port", "telnet_port"].iter().enumerate() {
        plan.push("-c", None);
        plan.push(format!("{svc} {}", base + k as u32 * procs), None);
    }
    cfg.notes.push(format!(
        "Cortex-Debug picks free ports in 50000-52000 at launch ({} per kind for {procs} processor(s)); the first block is shown, and its helper script lives in the extension dir",
        procs
    ));
    let dirs = string_list(props, "searchDir", vars);
    if dirs.is_empty() {
        plan.push("-s", None);
        plan.push(cwd.to_string_lossy().into_owned(), None);
    } else {
        for d in dirs {
            let i = plan.add_val(d, Role::Plain);
            plan.push("-s", Some(i));
            let v = plan.vals[i].0.value.clone();
            plan.push(v, Some(i));
        }
    }
    for c in string_list(props, "openOCDPreConfigLaunchCommands", vars) {
        plan.push_c(c);
    }
    let files = string_list(props, "configFiles", vars);
    if files.is_empty() {
        let span = props
            .get("configFiles")
            .map(|p| p.range.start..p.range.end)
            .unwrap_or(anchor.clone());
        cfg.problems.push(cx.problem(
            ProblemId::NoConfigFiles,
            Severity::Error,
            "Cortex-Debug refuses to start: \"At least one OpenOCD Configuration File must be specified.\"",
            span,
            None,
        ));
    }
    for f in files {
        plan.push_f(f);
    }
    if let Some(rtos) = str_of(props.get("rtos")) {
        plan.push("-c", None);
        plan.push(format!("CDRTOSConfigure {rtos}"), None);
    }
    for a in string_list(props, "serverArgs", vars) {
        let i = plan.add_val(a, Role::Plain);
        let v = plan.vals[i].0.value.clone();
        plan.push(v, Some(i));
    }
    if enabled(props, "swoConfig") {
        cfg.notes
            .push("swoConfig enabled: Cortex-Debug adds SWO `-c` commands (not shown)".into());
    }
    for c in string_list(props, "openOCDLaunchCommands", vars) {
        plan.push_c(c);
    }
    if enabled(props, "liveWatch") {
        plan.push("-c", None);
        plan.push("CDLiveWatchSetup", None);
    }
    checks::run(&plan, cx, cfg);
    // GDB connects to the gdb port of `targetProcessor`.
    cfg.gdb_target = Some(format!("localhost:{}", base + target_proc));
}

/// `"KEY": { "enabled": true }`.
fn enabled(props: &Props, key: &str) -> bool {
    props
        .get(key)
        .and_then(|p| p.value.as_object())
        .and_then(|o| o.get("enabled"))
        .and_then(|p| p.value.as_boolean_lit())
        .is_some_and(|b| b.value)
}

fn check_keys(obj: &Object, cx: &Ctx, cfg: &mut LaunchConfig) {
    for p in &obj.properties {
        let key = p.name.as_str();
        let kr = p.name.range();
        let key_span = kr.start..kr.end;
        if let Some((_, new)) = CORTEX_DEBUG_DEPRECATED.iter().find(|(k, _)| *k == key) {
            let edit = if key == "runToMain" {
                // `runToMain: true` means `runToEntryPoint: "main"`; false means nothing.
                match p.value.as_boolean_lit() {
                    Some(b) if b.value => Some(crate::Edit::new(
                        p.range.start..p.range.end,
                        "\"runToEntryPoint\": \"main\"",
                    )),
                    _ => None,
                }
            } else {
                Some(crate::Edit::new(key_span.clone(), format!("\"{new}\"")))
            };
            cfg.problems.push(cx.problem(
                ProblemId::DeprecatedKey,
                Severity::Warning,
                format!("`{key}` is deprecated in Cortex-Debug; use `{new}`"),
                key_span,
                edit,
            ));
            continue;
        }
        if CORTEX_DEBUG_KEYS.contains(&key) {
            continue;
        }
        // A known key in the wrong case (`gdbpath`) is silently ignored by Cortex-Debug.
        let fix = CORTEX_DEBUG_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(key))
            .copied();
        let msg = match fix {
            Some(k) => {
                format!("Cortex-Debug ignores `{key}`: keys are case-sensitive, it reads `{k}`")
            }
            None => format!("`{key}` is not a Cortex-Debug launch attribute; it is ignored"),
        };
        cfg.problems.push(cx.problem(
            ProblemId::UnknownKey,
            Severity::Warning,
            msg,
            key_span.clone(),
            fix.map(|k| crate::Edit::new(key_span, format!("\"{k}\""))),
        ));
    }
}

fn cppdbg(props: &Props, cx: &Ctx, vars: &Vars, cfg: &mut LaunchConfig) {
    let gdb = props.get("miDebuggerPath").and_then(|p| vars.val(&p.value));
    let client = props
        .get("miDebuggerServerAddress")
        .and_then(|p| vars.val(&p.value));
    cfg.gdb_target = client.as_ref().map(|c| c.value.clone());
    let Some(server) = props
        .get("debugServerPath")
        .and_then(|p| vars.val(&p.value))
    else {
        cfg.gdb = gdb.as_ref().map(|g| g.value.clone());
        cfg.notes.push(
            "no debugServerPath: cpptools starts no server, one must be running already".into(),
        );
        let plan = Plan {
            gdb,
            cwd: cwd_of(props, vars, vars.workspace),
            ..Default::default()
        };
        // GDB checks still apply.
        let mut tmp = LaunchConfig::new("", 0..0, FrontEnd::CppTools);
        checks::run_gdb_only(&plan, cx, &mut tmp);
        cfg.problems.append(&mut tmp.problems);
        return;
    };
    if server.value.is_empty() {
        return;
    }
    let anchor = server.span.clone();
    let mut plan = Plan {
        server: Some(server),
        cwd: cwd_of(props, vars, vars.workspace),
        gdb,
        client_address: client,
        anchor,
        // cpptools hands debugServerArgs to .NET's Process as one string: MSVC-style splitting.
        windows_split: true,
        ..Default::default()
    };
    if let Some(a) = props
        .get("debugServerArgs")
        .and_then(|p| vars.val(&p.value))
    {
        plan.push_split(a);
    }
    checks::run(&plan, cx, cfg);
    if cfg.openocd_argv.is_none() {
        return;
    }
    // The ready line: cpptools matches `serverStarted` against the server's stdout (and stderr
    // only with filterStderr: true); OpenOCD logs to stderr.
    let started = props.get("serverStarted");
    if let Some(p) = started
        && let Some(v) = vars.val(&p.value)
        && !v.value.is_empty()
    {
        let ok = match regex::Regex::new(&v.value) {
            Ok(re) => re.is_match(READY_LINES[0]),
            Err(_) => false,
        };
        if !ok {
            cfg.problems.push(cx.problem(
                ProblemId::ServerStartedPatternMismatch,
                Severity::Error,
                format!(
                    "serverStarted `{}` does not match OpenOCD's ready line `{}`: cpptools waits serverLaunchTimeout and gives up",
                    v.value, READY_LINES[0]
                ),
                v.span.clone(),
                Some(v.edit("Listening on port .* for gdb connection")),
            ));
        }
        let fs = props.get("filterStderr");
        let stderr_on = fs
            .and_then(|f| f.value.as_boolean_lit())
            .is_some_and(|b| b.value);
        if !stderr_on {
            let (span, edit) = match fs {
                Some(f) => (
                    f.value.range().start..f.value.range().end,
                    crate::Edit::new(f.value.range().start..f.value.range().end, "true"),
                ),
                None => {
                    // Insert the key before `serverStarted`, same indentation: no comma juggling.
                    let at = p.range.start;
                    let indent = indent_at(cx.text, at);
                    (
                        p.range.start..p.range.end,
                        crate::Edit::new(at..at, format!("\"filterStderr\": true,\n{indent}")),
                    )
                }
            };
            cfg.problems.push(cx.problem(
                ProblemId::FilterStderrFalse,
                Severity::Error,
                "OpenOCD prints its ready line on stderr, but cpptools only searches stdout unless `filterStderr` is true: the launch times out",
                span,
                Some(edit),
            ));
        }
    }
}
