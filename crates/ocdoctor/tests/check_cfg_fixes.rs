//! `ocdoctor check` against the installed OpenOCD 0.12 and its scripts: "did you mean" for
//! missing `-f` files, deprecated files with their documented replacement, `-dN` out of range,
//! proc bodies read only when called, and inputs the check cannot follow. Without `openocd` on
//! PATH these fail unless OCDOCTOR_SKIP_LIVE=1.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

mod live_support;

fn skip() -> bool {
    live_support::skip_without_openocd()
}

/// `ocdoctor check --format json ARGS` in `dir`: (report, exit code).
fn check(dir: &Path, args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .arg("check")
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

/// The real openocd in `dir`: (output, exit code).
fn openocd(dir: &Path, args: &[&str]) -> (String, i32) {
    let out = Command::new("openocd")
        .current_dir(dir)
        .stdin(Stdio::null())
        .args(args)
        .output()
        .unwrap();
    (
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.code().unwrap_or(-1),
    )
}

fn rules(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or("").to_string())
        .collect()
}

fn finding<'a>(r: &'a Value, rule: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {r:#}"))
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ocdoctor-cfgfix-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn debug_level_out_of_range() {
    if skip() {
        return;
    }
    let d = tmp("dlevel");
    let (live, code) = openocd(&d, &["-d9", "-c", "shutdown"]);
    assert_eq!(code, 1, "{live}");
    assert!(live.contains("level must be between -3 and 4"), "{live}");
    let (r, code) = check(
        &d,
        &["--", "openocd", "-f", "board/st_nucleo_f4.cfg", "-d9"],
    );
    assert_eq!(code, 1);
    assert_eq!(rules(&r)[0], "CFG121", "{r:#}");
    let f = finding(&r, "CFG121");
    assert_eq!(
        f["fixes"][0]["commands"][0],
        "openocd -f board/st_nucleo_f4.cfg -d3"
    );
    // -3..4 are levels (-d-1 is LOG_LVL_USER): nothing to say.
    for ok in ["-d4", "-d-1", "-d0"] {
        let (r, _) = check(&d, &["--", "openocd", "-f", "board/st_nucleo_f4.cfg", ok]);
        assert!(
            !rules(&r).iter().any(|c| c == "CFG121" || c == "CFG105"),
            "{ok}: {r:#}"
        );
    }
    let (live, code) = openocd(&d, &["-d-1", "-c", "shutdown"]);
    assert_eq!(code, 0, "{live}");
}

#[test]
fn proc_bodies_are_read_when_called() {
    if skip() {
        return;
    }
    let d = tmp("procs");
    let uncalled = "adapter driver dummy\nproc foo {} { puts \"unterminated }\n";
    let called = "adapter driver dummy\nproc foo {} { puts \"unterminated }\nfoo\n";
    std::fs::write(d.join("uncalled.cfg"), uncalled).unwrap();
    std::fs::write(d.join("called.cfg"), called).unwrap();
    // What openocd 0.12 does with them.
    let (log, code) = openocd(&d, &["-f", "uncalled.cfg", "-c", "shutdown"]);
    assert_eq!(code, 0, "{log}");
    let (log, code) = openocd(&d, &["-f", "called.cfg", "-c", "shutdown"]);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("missing quote"), "{log}");
    // The check agrees.
    let (r, _) = check(&d, &["uncalled.cfg"]);
    assert!(!rules(&r).contains(&"CFG120".to_string()), "{r:#}");
    assert_ne!(r["outcome"], "failed", "{r:#}");
    let (r, _) = check(&d, &["called.cfg"]);
    assert_eq!(rules(&r)[0], "CFG120", "{r:#}");
    // The shipped kc100.cfg (a stray quote in a proc never called) after an interface.
    let (log, code) = openocd(
        &d,
        &[
            "-f",
            "interface/dummy.cfg",
            "-f",
            "board/kc100.cfg",
            "-c",
            "shutdown",
        ],
    );
    assert_eq!(code, 0, "{log}");
    let (r, code) = check(&d, &["-f", "interface/dummy.cfg", "-f", "board/kc100.cfg"]);
    assert!(rules(&r).is_empty(), "{r:#}");
    assert_eq!(code, 0);
}

#[test]
fn missing_command_line_files_get_did_you_mean_and_the_corrected_line() {
    if skip() {
        return;
    }
    let d = tmp("dym");
    let (r, code) = check(
        &d,
        &[
            "--",
            "openocd",
            "-f",
            "interface/stlnk.cfg",
            "-f",
            "target/stm32f4.cfg",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(rules(&r), ["CFG101"], "{r:#}"); // no "no adapter": the missing file may set it
    let f = finding(&r, "CFG101");
    let title = f["title"].as_str().unwrap();
    assert!(
        title.contains("did you mean interface/stlink.cfg"),
        "{title}"
    );
    let expl = f["explanation"].as_str().unwrap();
    assert!(
        expl.contains("`target/stm32f4.cfg` (did you mean target/stm32f4x.cfg?)"),
        "{expl}"
    );
    assert_eq!(f["fixes"][0]["title"], "Run the corrected command line");
    assert_eq!(
        f["fixes"][0]["commands"][0],
        "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg"
    );
    // Renamed / removed files get their documented replacement.
    let (r, _) = check(
        &d,
        &[
            "--",
            "openocd",
            "-f",
            "interface/stlink-v2.cfg",
            "-f",
            "target/stm32f4x_stlink.cfg",
        ],
    );
    // A file the installed OpenOCD removed is a config for an older release (CFG123,
    // deprecated-config), not a typo: its documented replacement, on the corrected line.
    let f = finding(&r, "CFG123");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("use -f target/stm32f4x.cfg"),
        "{f:#}"
    );
    assert_eq!(r["causes"][0]["cause"], "deprecated-config", "{r:#}");
    assert_eq!(
        f["fixes"][0]["commands"][0],
        "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg"
    );
    let f = finding(&r, "CFG109");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("use -f interface/stlink.cfg")
    );
    // No placeholder is left unfilled anywhere.
    assert!(
        !r.to_string().contains("<suggestion>") && !r.to_string().contains("<next"),
        "{r:#}"
    );
}

#[test]
fn deprecated_file_with_a_parameter_replacement() {
    if skip() {
        return;
    }
    let d = tmp("rp2040");
    let (r, _) = check(&d, &["-f", "board/pico-debug.cfg"]);
    let f = finding(&r, "CFG109");
    let all = f.to_string();
    assert!(
        !all.contains("<suggestion>") && !all.contains("<replacement>"),
        "{f:#}"
    );
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("use -c 'set USE_CORE 0' -f target/rp2040.cfg instead of")
            || f["title"]
                .as_str()
                .unwrap()
                .contains("use -c 'set USE_CORE 0' -f target/rp2040.cfg"),
        "{f:#}"
    );
    assert_eq!(
        f["fixes"][0]["commands"][0],
        "openocd -c 'set USE_CORE 0' -f target/rp2040.cfg …"
    );
}

#[test]
fn unresolvable_ide_variable_is_not_no_adapter() {
    if skip() {
        return;
    }
    let d = tmp("mrs");
    let launch = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../ocdoctor-ide/tests/data/eclipse-embedcdt/openwch__ch32v307__EVT__EXAM__FSMC__LCD_8bit__LCD_8bit.launch",
    );
    std::fs::copy(&launch, d.join("x.launch")).unwrap();
    let (r, _) = check(&d, &["x.launch"]);
    let codes = rules(&r);
    assert!(!codes.contains(&"CFG110".to_string()), "{r:#}");
    assert!(codes.contains(&"CFG122".to_string()), "{r:#}");
    assert_ne!(r["outcome"], "failed", "{r:#}");
    let f = finding(&r, "CFG122");
    assert_eq!(f["severity"], "warning");
    assert!(f["title"].as_str().unwrap().contains("wch-riscv.cfg"));
}
