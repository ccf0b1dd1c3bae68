//! Eclipse `.launch` files: Embedded CDT "GDB OpenOCD Debugging" (key prefixes
//! `ilg.gnuarmeclipse.`, `ilg.gnumcueclipse.`, `com.mounriver.`) and STM32CubeIDE's
//! "ST-LINK (OpenOCD)" launches (`com.st.stm32cube.ide.mcu.debug.openocd.`).

use crate::checks::{self, Ctx, Enc, Plan, Role, Val};
use crate::text::subst;
use crate::{FrontEnd, IdeContext, IdeFile, LaunchConfig, Os, ProblemId, Severity};
use std::collections::HashMap;
use std::path::Path;

const EMBEDCDT_PREFIXES: &[&str] = &["ilg.gnumcueclipse", "ilg.gnuarmeclipse", "com.mounriver"];
const CUBE_OPENOCD: &str = "com.st.stm32cube.ide.mcu.debug.openocd.";
const CDT_PORT: &str = "org.eclipse.cdt.debug.gdbjtag.core.portNumber";
const CDT_GDB: &str = "org.eclipse.cdt.dsf.gdb.DEBUG_NAME";

/// One `<xxxAttribute key=… value=…/>`.
struct Attr {
    value: String,
    span: std::ops::Range<usize>,
}

pub(crate) fn load(file: &mut IdeFile, cx: &Ctx, workspace: &Path) {
    let (ide, text, path) = (cx.ide, cx.text, cx.path);
    let doc = match roxmltree::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let pos = e.pos();
            let at = offset_of(text, pos.row, pos.col);
            file.problems.push(cx.problem(
                ProblemId::ParseError,
                Severity::Error,
                format!(".launch is not well-formed XML: {e}"),
                at..(at + 1).min(text.len()).max(at),
                None,
            ));
            return;
        }
    };
    let root = doc.root_element();
    let ty = root.attribute("type").unwrap_or("").to_string();
    let mut attrs: HashMap<String, Attr> = HashMap::new();
    for n in root.children().filter(|n| n.is_element()) {
        let (Some(k), Some(v)) = (n.attribute("key"), n.attribute_node("value")) else {
            continue;
        };
        attrs.insert(
            k.to_string(),
            Attr {
                value: v.value().to_string(),
                span: v.range_value(),
            },
        );
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let span = root.range();
    let vars =
        |raw: &str| -> (String, Vec<String>) { subst(raw, &|n| eclipse_var(n, ide, workspace)) };
    let val = |key: &str| -> Option<Val> {
        let a = attrs.get(key)?;
        let (value, unresolved) = vars(&a.value);
        Some(Val {
            raw: a.value.clone(),
            value,
            span: a.span.clone(),
            enc: Enc::Xml,
            unresolved,
        })
    };

    if let Some(prefix) = EMBEDCDT_PREFIXES.iter().find(|p| {
        ty.starts_with(*p)
            || attrs
                .keys()
                .any(|k| k.starts_with(&format!("{p}.debug.gdbjtag.openocd.")))
    }) {
        let mut cfg = LaunchConfig::new(name, span, FrontEnd::EclipseEmbedCdt);
        let k = |s: &str| format!("{prefix}.debug.gdbjtag.openocd.{s}");
        cfg.server_type = attrs
            .get("org.eclipse.cdt.debug.gdbjtag.core.jtagDevice")
            .map(|a| a.value.clone());
        let start = attrs
            .get(&k("doStartGdbServer"))
            .map(|a| a.value != "false")
            .unwrap_or(true);
        let gdb = val(CDT_GDB);
        if !start {
            cfg.notes
                .push("doStartGdbServer is false: OpenOCD is started outside Eclipse".into());
            cfg.gdb = gdb.map(|g| g.value);
            file.configs.push(cfg);
            return;
        }
        let exe_default = format!("${{openocd_path}}/{}", openocd_exe(ide));
        let server = val(&k("gdbServerExecutable"));
        let mut plan = Plan {
            default_server: exe_default,
            server,
            cwd: workspace.to_path_buf(),
            gdb,
            anchor: span_of_type(text, root.range()),
            ..Default::default()
        };
        cfg.notes.push(
            "Embedded CDT runs the server in the project directory (taken as the workspace given)"
                .into(),
        );
        // Configuration.getGdbServerCommandLineArray: ports, the user's options, the marker echo.
        let gdb_port = attrs
            .get(&k("gdbServerGdbPortNumber"))
            .map(|a| a.value.clone())
            .unwrap_or_else(|| "3333".into());
        let telnet = attrs
            .get(&k("gdbServerTelnetPortNumber"))
            .map(|a| a.value.clone())
            .unwrap_or_else(|| "4444".into());
        let tcl = attrs
            .get(&k("gdbServerTclPortNumber"))
            .map(|a| a.value.clone())
            .unwrap_or_else(|| "6666".into());
        for (svc, p, key) in [
            ("gdb_port", &gdb_port, "gdbServerGdbPortNumber"),
            ("telnet_port", &telnet, "gdbServerTelnetPortNumber"),
            ("tcl_port", &tcl, "gdbServerTclPortNumber"),
        ] {
            let origin = val(&k(key)).map(|v| plan.add_val(v, Role::Plain));
            plan.push("-c", origin);
            plan.push(format!("{svc} {p}"), origin);
        }
        if let Some(o) = val(&k("gdbServerOther")) {
            plan.push_split(o);
        }
        plan.push("-c", None);
        plan.push("echo \"Started by GNU MCU Eclipse\"", None);
        checks::run(&plan, cx, &mut cfg);
        // The server's gdb port and the port CDT's GDB connects to are two settings.
        if let (Ok(server_port), Some(client)) = (gdb_port.trim().parse::<u16>(), val(CDT_PORT)) {
            checks::check_port_pair(server_port, &client, cx, &mut cfg, "gdbServerGdbPortNumber");
        }
        cfg.gdb_target = Some(format!(
            "{}:{}",
            attrs
                .get("org.eclipse.cdt.debug.gdbjtag.core.ipAddress")
                .map(|a| a.value.as_str())
                .unwrap_or("localhost"),
            attrs
                .get(CDT_PORT)
                .map(|a| a.value.as_str())
                .unwrap_or("3333")
        ));
        file.configs.push(cfg);
        return;
    }

    if attrs.keys().any(|k| k.starts_with(CUBE_OPENOCD)) {
        let mut cfg = LaunchConfig::new(name, span, FrontEnd::Stm32CubeIde);
        cfg.server_type = attrs
            .get("org.eclipse.cdt.debug.gdbjtag.core.jtagDevice")
            .map(|a| a.value.clone());
        let k = |s: &str| format!("{CUBE_OPENOCD}{s}");
        // OPENOCD_NAME is stored with its own quotes: `"${stm32cubeide_openocd_path}\openocd.exe"`.
        let server = val(&k("OPENOCD_NAME")).map(|mut v| {
            v.value = v.value.trim().trim_matches('"').to_string();
            v
        });
        let mut plan = Plan {
            default_server: openocd_exe(ide).into(),
            server,
            cwd: workspace.to_path_buf(),
            gdb: val(CDT_GDB),
            anchor: span_of_type(text, root.range()),
            ..Default::default()
        };
        if let Some(s) = val(&k("OPENOCD_SCRIPT")) {
            plan.push_f(s);
        }
        if let Some(o) = val(&k("OPENOCD_OTHER_OPTIONS")) {
            plan.push_split(o);
        }
        cfg.notes.push(
            "STM32CubeIDE is closed source: it also passes its st_scripts dir and the ports; only the script and other options are shown".into(),
        );
        if attrs
            .get(&k("OPENOCD_SCRIPT_CHOICE"))
            .is_some_and(|a| a.value == "automated")
        {
            cfg.notes.push(
                "OPENOCD_SCRIPT_CHOICE automated: the IDE regenerates the script at each launch"
                    .into(),
            );
        }
        checks::run(&plan, cx, &mut cfg);
        cfg.gdb_target = attrs
            .get(CDT_PORT)
            .map(|a| format!("localhost:{}", a.value));
        file.configs.push(cfg);
        return;
    }

    let mut cfg = LaunchConfig::new(name, span, FrontEnd::Other(ty));
    cfg.notes
        .push("not an OpenOCD launch (no Embedded CDT / CubeIDE OpenOCD keys)".into());
    file.configs.push(cfg);
}

fn openocd_exe(ide: &IdeContext) -> &'static str {
    if ide.os == Os::Windows {
        "openocd.exe"
    } else {
        "openocd"
    }
}

/// Eclipse variables we can know: the project location and environment variables. The rest
/// (`${openocd_path}`, `${eclipse_home}`, `${cross_prefix}`…) are workspace preferences.
fn eclipse_var(name: &str, ide: &IdeContext, workspace: &Path) -> Option<String> {
    match name {
        "project_loc" | "ProjDirPath" => Some(workspace.to_string_lossy().into_owned()),
        "project_name" | "ProjName" => workspace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        "openocd_executable" => Some(openocd_exe(ide).into()),
        _ => name
            .strip_prefix("env_var:")
            .and_then(|n| ide.env.get(n).cloned()),
    }
}

/// The `type="…"` of the root element, to point at when a default is wrong.
fn span_of_type(text: &str, root: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let end = root.end.min(text.len());
    match text.get(root.start..end).and_then(|t| t.find("type=")) {
        Some(i) => root.start + i..root.start + i + 5,
        None => root.start..root.start + 1,
    }
}

/// Byte offset of a 1-based row/column (roxmltree counts columns in characters).
fn offset_of(text: &str, row: u32, col: u32) -> usize {
    let mut off = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == row as usize {
            let c = line
                .char_indices()
                .nth(col.saturating_sub(1) as usize)
                .map(|(b, _)| b)
                .unwrap_or(line.len());
            return off + c;
        }
        off += line.len();
    }
    text.len()
}
