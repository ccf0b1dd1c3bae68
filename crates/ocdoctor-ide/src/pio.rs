//! `platformio.ini`: the debug options of each `[env:NAME]` (and of any section that sets
//! `debug_tool`/`debug_server`, such as the `[xxx_base]` sections variants extend).

use crate::checks::{self, Ctx, Enc, Plan, Role, Val};
use crate::ini::{Ini, IniEntry};
use crate::{FrontEnd, IdeFile, LaunchConfig, ProblemId, Severity};
use std::collections::HashMap;
use std::path::Path;

pub(crate) fn load(file: &mut IdeFile, cx: &Ctx, workspace: &Path) {
    let (ide, text) = (cx.ide, cx.text);
    let ini = Ini::parse(text);
    for (span, msg) in &ini.errors {
        file.problems.push(cx.problem(
            ProblemId::ParseError,
            Severity::Error,
            format!("platformio.ini: {msg}"),
            span.clone(),
            None,
        ));
    }
    let home = ide
        .env
        .get("HOME")
        .or_else(|| ide.env.get("USERPROFILE"))
        .cloned();
    let core_dir = ide
        .env
        .get("PLATFORMIO_CORE_DIR")
        .cloned()
        .or_else(|| home.map(|h| format!("{h}/.platformio")));
    let mut builtins = HashMap::new();
    if let Some(c) = &core_dir {
        builtins.insert("core_dir".to_string(), c.clone());
        builtins.insert("packages_dir".to_string(), format!("{c}/packages"));
        builtins.insert("platforms_dir".to_string(), format!("{c}/platforms"));
    }
    let ws = workspace.to_string_lossy().into_owned();
    builtins.insert("workspace_dir".into(), format!("{ws}/.pio"));
    builtins.insert("build_dir".into(), format!("{ws}/.pio/build"));
    builtins.insert("libdeps_dir".into(), format!("{ws}/.pio/libdeps"));

    for sec in &ini.sections {
        let is_env = sec.name.starts_with("env:");
        let has_debug = sec
            .entries
            .iter()
            .any(|e| e.key == "debug_tool" || e.key == "debug_server");
        // Entries before any (valid) header belong to no section PlatformIO would read.
        if sec.name.is_empty() || (!is_env && !has_debug) {
            continue;
        }
        let name = sec
            .name
            .strip_prefix("env:")
            .unwrap_or(&sec.name)
            .to_string();
        let mut cfg = LaunchConfig::new(name, sec.span.clone(), FrontEnd::PlatformIo);
        let get = |key: &str| ini.lookup(&sec.name, key).map(|(_, e)| e);
        let interp = |s: &str| ini.interpolate(s, &sec.name, &ide.env, &builtins);
        let line_val = |e: &IniEntry, i: usize| -> Option<Val> {
            let (l, span) = e.lines.get(i)?;
            let (mut value, mut unresolved) = interp(l);
            // `$PLATFORMIO_CORE_DIR` is expanded by the shell PlatformIO's GDB pipe runs in.
            if value.contains("$PLATFORMIO_CORE_DIR") {
                match &core_dir {
                    Some(c) => {
                        value = value
                            .replace("${PLATFORMIO_CORE_DIR}", c)
                            .replace("$PLATFORMIO_CORE_DIR", c)
                    }
                    None => unresolved.push("$PLATFORMIO_CORE_DIR".into()),
                }
            }
            Some(Val {
                raw: l.clone(),
                value,
                span: span.clone(),
                enc: Enc::Ini,
                unresolved,
            })
        };
        let tool = get("debug_tool").map(|e| interp(&e.value()).0);
        cfg.server_type = tool.clone();
        let port = get("debug_port");
        if let (Some(t), Some(u)) = (&tool, get("upload_protocol").map(|e| e.value()))
            && *t != u
        {
            cfg.notes.push(format!(
                "upload_protocol `{u}` differs from debug_tool `{t}` (two probes, or a leftover)"
            ));
        }
        let server = get("debug_server").filter(|e| !e.lines.is_empty());
        match server {
            Some(e) => {
                let Some(exe) = line_val(e, 0) else {
                    file.configs.push(cfg);
                    continue;
                };
                let pipe = port.is_none() && exe.value.contains("openocd");
                let mut plan = Plan {
                    server: Some(exe),
                    cwd: workspace.to_path_buf(),
                    anchor: e.key_span.clone(),
                    ..Default::default()
                };
                if pipe {
                    // PlatformIO's GDB runs `| "<exe>" -c "gdb_port pipe; …" <args>` through the
                    // shell: arguments starting with `-` unquoted (the shell splits them), the
                    // others double-quoted (server.py, openocd_pipe_allowed).
                    plan.push("-c", None);
                    plan.push(
                        "gdb_port pipe; tcl_port disabled; telnet_port disabled",
                        None,
                    );
                    cfg.gdb_target = Some("| pipe (gdb_port pipe)".into());
                    for i in 1..e.lines.len() {
                        let Some(v) = line_val(e, i) else { continue };
                        if v.value.starts_with('-') {
                            plan.push_split(v);
                        } else {
                            let k = plan.add_val(v, Role::Plain);
                            let s = plan.vals[k].0.value.clone();
                            plan.push(s, Some(k));
                        }
                    }
                } else {
                    // With debug_port set, the lines are spawned as they are: one argv element each.
                    for i in 1..e.lines.len() {
                        let Some(v) = line_val(e, i) else { continue };
                        let k = plan.add_val(v, Role::Plain);
                        let s = plan.vals[k].0.value.clone();
                        if s.starts_with('-') && s.contains(' ') {
                            cfg.notes.push(format!(
                                "`{s}` is one argument (debug_port is set, so no shell splits it)"
                            ));
                        }
                        plan.push(s, Some(k));
                    }
                    if let Some(p) = port {
                        plan.client_address = line_val(p, 0);
                        cfg.gdb_target = Some(p.value());
                    }
                }
                checks::run(&plan, cx, &mut cfg);
            }
            None => match tool.as_deref() {
                Some("custom") => {
                    cfg.notes.push(
                        "debug_tool custom without debug_server: the server must already be running".into(),
                    );
                    cfg.gdb_target = port.map(|p| p.value()).or_else(|| {
                        get("debug_init_cmds").and_then(|e| {
                            e.lines.iter().find_map(|(l, _)| {
                                l.strip_prefix("target extended-remote ")
                                    .or_else(|| l.strip_prefix("target remote "))
                                    .map(|s| s.trim().to_string())
                            })
                        })
                    });
                }
                Some(t) => {
                    let board = get("board")
                        .map(|e| e.value())
                        .unwrap_or_else(|| "(not set)".into());
                    cfg.notes.push(format!(
                        "debug_tool `{t}`: PlatformIO builds the server command line from board `{board}`'s manifest (for OpenOCD: `-s <tool-openocd>/scripts -f interface/<tool>.cfg -f target/<target>.cfg`), which is not available offline"
                    ));
                    if let Some(s) = get("debug_speed") {
                        cfg.notes.push(format!(
                            "debug_speed {}: passed as `-c \"adapter speed {}\"` for OpenOCD",
                            s.value(),
                            s.value()
                        ));
                    }
                }
                None => {}
            },
        }
        file.configs.push(cfg);
    }
}
