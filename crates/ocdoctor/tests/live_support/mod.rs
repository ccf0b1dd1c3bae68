//! What the tests that run the installed OpenOCD share: whether to run at all, a bounded run
//! of `openocd` with its servers off, and the rules of the report `check` gives back.

// Each test crate that includes this module uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether `openocd` runs from PATH.
pub fn have_openocd() -> bool {
    Command::new("openocd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// True when a live test should return early: no `openocd` and OCDOCTOR_SKIP_LIVE=1. Without
/// `openocd` and without that variable the test fails here (absence is not a pass).
pub fn skip_without_openocd() -> bool {
    let have = have_openocd();
    if !have && std::env::var_os("OCDOCTOR_SKIP_LIVE").is_some_and(|v| v == "1") {
        return true;
    }
    assert!(have, "openocd is not on PATH (OCDOCTOR_SKIP_LIVE=1 skips)");
    false
}

/// The real openocd on `args` in `dir` (gdb, tcl and telnet ports disabled unless
/// `keep_ports`), killed after 15 s.
pub fn run_openocd(dir: &Path, args: &[String], keep_ports: bool) -> Output {
    let mut c = Command::new("openocd");
    c.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !keep_ports {
        for p in [
            "gdb_port disabled",
            "tcl_port disabled",
            "telnet_port disabled",
        ] {
            c.args(["-c", p]);
        }
    }
    c.args(args);
    let mut child = c.spawn().expect("spawn openocd");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Everything a process printed, stdout then stderr.
pub fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The rule codes of a report's findings (`check --format json`), in order. A report without
/// a `findings` array fails the test (an empty list must not pass for "nothing found").
pub fn finding_rules(report: &serde_json::Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array in {report:#}"))
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect()
}
