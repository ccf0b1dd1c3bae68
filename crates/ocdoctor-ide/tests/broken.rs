//! One broken configuration per problem id: the id fires at the right line and column, the
//! suggested edit removes it (the file is re-read after the edit) and the comments survive.

mod common;

use common::{Machine, ids};
use ocdoctor_ide::IdeFile;

/// The first problem `id` of the file (the test fails listing the ids otherwise).
fn problem<'f>(f: &'f IdeFile, id: &str) -> &'f ocdoctor_ide::IdeProblem {
    f.all_problems()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no {id}: {:?}", ids(f)))
}

/// Load, find `id` at `line:col`, apply its edit, reload: `id` is gone and `keep` is still there.
fn fix(m: &Machine, file: &str, text: &str, id: &str, line: u32, col: u32, keep: &str) -> String {
    let f = m.load(file, text);
    let p = f
        .all_problems()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("{id} not found in {:?}", ids(&f)));
    assert_eq!(
        (p.location.line, p.location.col),
        (line, col),
        "{id}: {}",
        p.message
    );
    let edit = p.edit.as_ref().unwrap_or_else(|| panic!("{id}: no edit"));
    let fixed = edit.apply(text);
    let diff = edit.to_unified_diff(text, &f.lines, file);
    assert!(
        diff.starts_with(&format!("--- a/{file}\n+++ b/{file}\n@@ ")),
        "{diff}"
    );
    let g: IdeFile = m.load(file, &fixed);
    assert!(
        !ids(&g).contains(&id),
        "{id} still there after the edit:\n{fixed}\n{:?}",
        ids(&g)
    );
    assert!(!ids(&g).contains(&"parse-error"), "{fixed}");
    assert!(fixed.contains(keep), "comment lost:\n{fixed}");
    fixed
}

fn cortex(m: &Machine, body: &str) -> String {
    let _ = m;
    format!(
        r#"{{
    // my comment
    "version": "0.2.0",
    "configurations": [
        {{
            "name": "dbg",
            "type": "cortex-debug",
            "request": "launch",
            "servertype": "openocd",
            "executable": "build/app.elf",
{body}
        }},
    ]
}}
"#
    )
}

fn cpp(body: &str) -> String {
    format!(
        r#"{{
    /* block comment */
    "configurations": [
        {{
            "name": "cpp",
            "type": "cppdbg",
            "request": "launch",
            "program": "build/app.elf",
{body}
        }}
    ]
}}
"#
    )
}

#[test]
fn server_not_found() {
    let m = Machine::new("snf");
    let t = cortex(
        &m,
        r#"            "serverpath": "/opt/nowhere/openocd", // old install
            "configFiles": ["interface/stlink.cfg", "target/stm32f4x.cfg"]"#,
    );
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "server-not-found",
        11,
        27,
        "// old install",
    );
    assert!(fixed.contains(&m.bin("openocd")));
    // Clean after the fix: the config files are found in the scripts dir of that OpenOCD.
    assert_eq!(ids(&m.load("launch.json", &fixed)), Vec::<&str>::new());
}

#[test]
fn server_not_openocd() {
    let m = Machine::new("sno");
    let t = cpp(
        r#"            "debugServerPath": "/usr/local/bin/pyocd-gdbserver", // wrong server
            "debugServerArgs": "-f board/stm32f4discovery.cfg",
            "miDebuggerPath": "arm-none-eabi-gdb""#,
    );
    fix(
        &m,
        "launch.json",
        &t,
        "server-not-openocd",
        9,
        32,
        "// wrong server",
    );
}

#[test]
fn config_file_not_found() {
    let m = Machine::new("cfnf");
    let t = cortex(
        &m,
        r#"            "configFiles": [
                // the probe
                "interface/stlnk.cfg",
                "target/stm32f4x.cfg"
            ]"#,
    );
    let f = m.load("launch.json", &t);
    let p = f
        .all_problems()
        .find(|p| p.id == "config-file-not-found")
        .unwrap();
    assert!(
        p.message.contains("did you mean `interface/stlink.cfg`"),
        "{}",
        p.message
    );
    assert!(p.message.contains("share/openocd/scripts"), "{}", p.message);
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "config-file-not-found",
        13,
        17,
        "// the probe",
    );
    assert!(fixed.contains("\"interface/stlink.cfg\""));
}

#[test]
fn gdb_not_found() {
    let m = Machine::new("gnf");
    let t = cortex(
        &m,
        r#"            "gdbPath": "/opt/gcc-arm/bin/arm-none-eabi-gdb", /* moved */
            "configFiles": ["board/stm32f4discovery.cfg"]"#,
    );
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "gdb-not-found",
        11,
        24,
        "/* moved */",
    );
    assert!(fixed.contains("\"gdbPath\": \"arm-none-eabi-gdb\""));
}

#[test]
fn gdb_is_host_gdb() {
    let m = Machine::new("ghg");
    let t = cpp(r#"            "miDebuggerPath": "/usr/bin/gdb",
            "debugServerPath": "openocd",
            "debugServerArgs": "-f board/stm32f4discovery.cfg""#);
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "gdb-is-host-gdb",
        9,
        31,
        "/* block comment */",
    );
    assert!(fixed.contains("\"miDebuggerPath\": \"arm-none-eabi-gdb\""));
}

#[test]
fn gdb_port_mismatch_cppdbg() {
    let m = Machine::new("gpm");
    let t = cpp(r#"            "debugServerPath": "openocd",
            "debugServerArgs": "-f board/stm32f4discovery.cfg -c \"gdb_port 3334\"",
            "miDebuggerServerAddress": "localhost:3333""#);
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "gdb-port-mismatch",
        11,
        40,
        "/* block comment */",
    );
    assert!(fixed.contains("\"localhost:3334\""));
}

#[test]
fn gdb_port_mismatch_eclipse() {
    let m = Machine::new("gpme");
    let t = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- keep me -->
<launchConfiguration type="ilg.gnumcueclipse.debug.gdbjtag.openocd.launchConfigurationType">
<stringAttribute key="ilg.gnumcueclipse.debug.gdbjtag.openocd.gdbServerExecutable" value="{}"/>
<intAttribute key="ilg.gnumcueclipse.debug.gdbjtag.openocd.gdbServerGdbPortNumber" value="3333"/>
<stringAttribute key="ilg.gnumcueclipse.debug.gdbjtag.openocd.gdbServerOther" value="-f board/stm32f4discovery.cfg"/>
<stringAttribute key="org.eclipse.cdt.dsf.gdb.DEBUG_NAME" value="arm-none-eabi-gdb"/>
<intAttribute key="org.eclipse.cdt.debug.gdbjtag.core.portNumber" value="3334"/>
</launchConfiguration>
"#,
        m.bin("openocd")
    );
    let f = m.load("x.launch", &t);
    assert_eq!(
        f.configs[0].openocd_argv.as_ref().unwrap()[1..],
        [
            "-c",
            "gdb_port 3333",
            "-c",
            "telnet_port 4444",
            "-c",
            "tcl_port 6666",
            "-f",
            "board/stm32f4discovery.cfg",
            "-c",
            "echo \"Started by GNU MCU Eclipse\""
        ]
    );
    let fixed = fix(
        &m,
        "x.launch",
        &t,
        "gdb-port-mismatch",
        8,
        74,
        "<!-- keep me -->",
    );
    assert!(fixed.contains("portNumber\" value=\"3333\""));
    assert_eq!(ids(&m.load("x.launch", &fixed)), Vec::<&str>::new());
}

#[test]
fn server_started_pattern_mismatch() {
    let m = Machine::new("ssp");
    let t = cpp(r#"            "debugServerPath": "openocd",
            "debugServerArgs": "-f board/stm32f4discovery.cfg",
            "serverStarted": "GDB\\ server\\ started", // pyOCD's text
            "filterStderr": true"#);
    fix(
        &m,
        "launch.json",
        &t,
        "server-started-pattern-mismatch",
        11,
        30,
        "// pyOCD's text",
    );
}

#[test]
fn filter_stderr_false() {
    let m = Machine::new("fsf");
    let t = cpp(r#"            "debugServerPath": "openocd",
            "debugServerArgs": "-f board/stm32f4discovery.cfg",
            "serverStarted": "Listening on port .* for gdb connections",
            "filterStderr": false // oops"#);
    fix(
        &m,
        "launch.json",
        &t,
        "filter-stderr-false",
        12,
        29,
        "// oops",
    );
}

#[test]
fn filter_stderr_missing_inserts_key() {
    let m = Machine::new("fsm");
    let t = cpp(r#"            "debugServerPath": "openocd",
            "debugServerArgs": "-f board/stm32f4discovery.cfg",
            // ready line
            "serverStarted": "Listening on port .* for gdb connections""#);
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "filter-stderr-false",
        12,
        13,
        "// ready line",
    );
    assert!(fixed.contains("            \"filterStderr\": true,\n            \"serverStarted\""));
}

#[test]
fn unknown_key_wrong_case() {
    let m = Machine::new("uk");
    let t = cortex(
        &m,
        r#"            "gdbpath" : "gdb-multiarch", // lower-case p
            "configFiles": ["board/stm32f4discovery.cfg"]"#,
    );
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "unknown-key",
        11,
        13,
        "// lower-case p",
    );
    assert!(fixed.contains("\"gdbPath\" : \"gdb-multiarch\""));
}

#[test]
fn unknown_key_invented() {
    let m = Machine::new("uki");
    let t = cortex(
        &m,
        r#"            "serverLaunch": true,
            "configFiles": ["board/stm32f4discovery.cfg"]"#,
    );
    let f = m.load("launch.json", &t);
    let p = f.all_problems().find(|p| p.id == "unknown-key").unwrap();
    assert_eq!((p.location.line, p.location.col), (11, 13));
    assert!(p.edit.is_none());
}

#[test]
fn deprecated_key_run_to_main() {
    let m = Machine::new("dk");
    let t = cortex(
        &m,
        r#"            "runToMain": true, // old
            "configFiles": ["board/stm32f4discovery.cfg"]"#,
    );
    let fixed = fix(&m, "launch.json", &t, "deprecated-key", 11, 13, "// old");
    assert!(fixed.contains("\"runToEntryPoint\": \"main\", // old"));
}

#[test]
fn windows_path_backslashes_in_tcl() {
    let m = Machine::new("wpb");
    let t = cortex(
        &m,
        r#"            "configFiles": ["board/stm32f4discovery.cfg"],
            // extra board
            "openOCDLaunchCommands": ["source C:\\boards\\my.cfg"]"#,
    );
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "windows-path-backslashes",
        13,
        39,
        "// extra board",
    );
    assert!(fixed.contains("\"source C:/boards/my.cfg\""));
}

#[test]
fn unquoted_space_in_args() {
    let m = Machine::new("usa");
    let t = cpp(r#"            "debugServerPath": "openocd",
            // speed
            "debugServerArgs": "-f board/stm32f4discovery.cfg -c adapter speed 1000""#);
    let f = m.load("launch.json", &t);
    // What OpenOCD gets: `-c adapter`, then two stray words.
    assert_eq!(
        f.configs[0].openocd_argv.as_ref().unwrap()[3..],
        ["-c", "adapter", "speed", "1000"]
    );
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "unquoted-space-in-args",
        11,
        32,
        "// speed",
    );
    assert!(fixed.contains(r#""-f board/stm32f4discovery.cfg -c \"adapter speed 1000\"""#));
    let g = m.load("launch.json", &fixed);
    assert_eq!(
        g.configs[0].openocd_argv.as_ref().unwrap()[3..],
        ["-c", "adapter speed 1000"]
    );
}

#[test]
fn stale_probe_serial() {
    let mut m = Machine::new("sps");
    m.ctx.attached_serials = vec!["066DFF535155878281".into()];
    let t = cortex(
        &m,
        r#"            "configFiles": ["interface/stlink.cfg", "target/stm32f4x.cfg"],
            "openOCDLaunchCommands": [
                "adapter serial 0670FF484957847167071621" // the old board
            ]"#,
    );
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "stale-probe-serial",
        13,
        17,
        "// the old board",
    );
    assert!(fixed.contains("\"adapter serial 066DFF535155878281\""));
}

/// With no probe serials known (no USB bus visible, nothing attached), a serial cannot be called
/// stale: no problem.
#[test]
fn unknown_attached_probes_do_not_make_a_serial_stale() {
    let m = Machine::new("sps-unknown");
    assert!(m.ctx.attached_serials.is_empty());
    let t = cortex(
        &m,
        r#"            "configFiles": ["interface/stlink.cfg", "target/stm32f4x.cfg"],
            "openOCDLaunchCommands": ["adapter serial 0670FF484957847167071621"]"#,
    );
    let f = ocdoctor_ide::load_text(&m.root.join(".vscode/launch.json"), &t, &m.ctx);
    let ids: Vec<&str> = f
        .configs
        .iter()
        .flat_map(|c| c.problems.iter().map(|p| p.id.as_str()))
        .collect();
    assert!(!ids.contains(&"stale-probe-serial"), "{ids:?}");
}

#[test]
fn stale_probe_serial_platformio() {
    let mut m = Machine::new("spsp");
    m.ctx.attached_serials = vec!["E6614C311B4A5F2D".into()];
    let t = format!(
        "; header comment\n[env:pico]\nboard = pico\ndebug_tool = custom\ndebug_server = {}\n  -f interface/cmsis-dap.cfg\n  ; the probe\n  -c \"adapter serial E66000000000\"\n  -f target/rp2040.cfg\n",
        m.bin("openocd")
    );
    let f = m.load("platformio.ini", &t);
    assert_eq!(
        f.configs[0].openocd_argv.as_ref().unwrap()[1..],
        [
            "-c",
            "gdb_port pipe; tcl_port disabled; telnet_port disabled",
            "-f",
            "interface/cmsis-dap.cfg",
            "-c",
            "adapter serial E66000000000",
            "-f",
            "target/rp2040.cfg"
        ]
    );
    let fixed = fix(
        &m,
        "platformio.ini",
        &t,
        "stale-probe-serial",
        8,
        3,
        "; the probe",
    );
    assert!(fixed.contains("-c \"adapter serial E6614C311B4A5F2D\""));
}

#[test]
fn no_config_files() {
    let m = Machine::new("ncf");
    let t = cortex(&m, r#"            "configFiles": []"#);
    let f = m.load("launch.json", &t);
    let p = f
        .all_problems()
        .find(|p| p.id == "no-config-files")
        .unwrap();
    assert_eq!((p.location.line, p.location.col), (11, 13));
}

#[test]
fn windows_backslash_in_ini_server_line() {
    let m = Machine::new("wbi");
    let t = format!(
        "[env:x]\n# tcl path\ndebug_server = {}\n  -f board/stm32f4discovery.cfg\n  -c \"source C:\\boards\\extra.cfg\"\n",
        m.bin("openocd")
    );
    fix(
        &m,
        "platformio.ini",
        &t,
        "windows-path-backslashes",
        5,
        3,
        "# tcl path",
    );
}

/// PlatformIO `debug_server` with `-f` on one line and the file on the next: the problem names
/// the file line, not the `-f` line.
#[test]
fn config_file_not_found_pio_name_on_next_line() {
    let m = Machine::new("cfnfpio");
    let t = format!(
        "[env:f4]\n; my board\ndebug_tool = custom\ndebug_server = {}\n  -f\n  interface/stlink.cfg\n  -f\n  target/stm32f4.cfg\n",
        m.bin("openocd")
    );
    let f = m.load("platformio.ini", &t);
    let p = problem(&f, "config-file-not-found");
    assert_eq!(&t[p.location.span.clone()], "target/stm32f4.cfg");
    assert!(p.message.contains("`target/stm32f4.cfg`"), "{}", p.message);
    let fixed = fix(
        &m,
        "platformio.ini",
        &t,
        "config-file-not-found",
        8,
        3,
        "; my board",
    );
    assert!(fixed.contains("\n  target/stm32f4x.cfg\n"), "{fixed}");
}

/// `-f name` on one line: the problem points at the name, not at the `-f`.
#[test]
fn config_file_not_found_pio_same_line_points_at_name() {
    let m = Machine::new("cfnfpio1");
    let t = format!(
        "[env:f4]\ndebug_tool = custom\ndebug_server = {}\n  -f interface/stlink.cfg\n  -f target/stm32f4.cfg\n",
        m.bin("openocd")
    );
    let f = m.load("platformio.ini", &t);
    let p = problem(&f, "config-file-not-found");
    assert_eq!(&t[p.location.span.clone()], "target/stm32f4.cfg");
    assert_eq!((p.location.line, p.location.col), (5, 6));
}

/// A launch.json that starts with a UTF-8 byte order mark (VS Code reads it): it parses, the
/// problems point at the right line and column, and the edit keeps the mark.
#[test]
fn byte_order_mark() {
    let m = Machine::new("bom");
    let t = format!(
        "\u{FEFF}{}",
        cortex(
            &m,
            r#"            "configFiles": ["interface/stlnk.cfg", "target/stm32f4x.cfg"] // probe"#,
        )
    );
    let f = m.load("launch.json", &t);
    assert!(!ids(&f).contains(&"parse-error"), "{:?}", ids(&f));
    let p = problem(&f, "config-file-not-found");
    assert_eq!(&t[p.location.span.clone()], "\"interface/stlnk.cfg\"");
    let fixed = fix(
        &m,
        "launch.json",
        &t,
        "config-file-not-found",
        11,
        29,
        "// probe",
    );
    assert!(fixed.starts_with('\u{FEFF}'), "BOM lost");
    assert!(fixed.contains("\"interface/stlink.cfg\""), "{fixed}");
    // Line 1 column: the mark is not a column.
    let bad = "\u{FEFF}{ \"configurations\": 3 }\n";
    let g = m.load("launch.json", bad);
    let p = g.all_problems().find(|p| p.id == "parse-error").unwrap();
    assert_eq!((p.location.line, p.location.col), (1, 21), "{}", p.message);
}
