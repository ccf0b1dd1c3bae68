//! `diagnose --env SNAPSHOT` joins the log with a machine: the same "open failed" becomes a
//! permission problem, a busy probe or a missing probe depending on what the machine shows.
//! Snapshots are collected from ocdoctor-env's fixture trees (shaped like real Linux machines).

use ocdoctor_env::{collect, fixture_options};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ocdoctor-env/tests/fixtures")
        .join(case)
}

/// Collect a snapshot of an ocdoctor-env fixture machine into `dir`.
fn snapshot(case: &str, dir: &Path) -> PathBuf {
    let opts = fixture_options(&fixture(case)).expect("fixture case.toml");
    let path = dir.join(format!("{case}.json"));
    std::fs::write(&path, collect(&opts).to_json()).unwrap();
    path
}

fn top_cause(log: &str, snapshot: &Path, dir: &Path) -> (String, serde_json::Value) {
    let log_path = dir.join("openocd.log");
    std::fs::write(&log_path, log).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(["diagnose", "-f", "json", "--env"])
        .arg(snapshot)
        .arg(&log_path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (
        report["causes"][0]["cause"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        report,
    )
}

const STLINK_OPEN_FAILED: &str =
    "Open On-Chip Debugger 0.12.0\nInfo : clock speed 2000 kHz\nError: open failed\n";

#[test]
fn open_failed_becomes_a_permission_problem_when_the_node_is_not_writable() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = snapshot("stlink-no-rule", tmp.path());
    let (cause, report) = top_cause(STLINK_OPEN_FAILED, &snap, tmp.path());
    assert_eq!(cause, "usb-permission", "{report:#}");
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "USB050");
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["source"] == "env"),
        "machine evidence shown: {f:#}"
    );
    assert!(
        report["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "env")
    );
}

#[test]
fn the_same_log_with_udev_rules_installed_is_not_a_permission_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = snapshot("stlink-with-rules", tmp.path());
    let (cause, report) = top_cause(STLINK_OPEN_FAILED, &snap, tmp.path());
    assert_ne!(cause, "usb-permission", "{report:#}");
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "USB050")
    );
}

#[test]
fn open_failed_with_the_probe_claimed_by_another_program_is_probe_busy() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = snapshot("jlink-claimed", tmp.path());
    let log = "Open On-Chip Debugger 0.12.0\nInfo : Listening on port 4444 for telnet connections\nError: No J-Link device found\n";
    let (cause, report) = top_cause(log, &snap, tmp.path());
    assert_eq!(cause, "probe-busy", "{report:#}");
    let fix = report["findings"][0]["fixes"][0]["commands"][0]
        .as_str()
        .unwrap_or_default();
    assert!(
        fix.starts_with("kill ") && fix[5..].parse::<u32>().is_ok(),
        "the fix names the holder's pid: {fix}"
    );
}

#[test]
fn a_busy_port_names_its_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = snapshot("port-3333-openocd", tmp.path());
    let log = "Open On-Chip Debugger 0.12.0\nInfo : starting gdb server for stm32f1x.cpu on 3333\nError: couldn't bind gdb to socket on port 3333: Address already in use\n";
    let (cause, report) = top_cause(log, &snap, tmp.path());
    assert_eq!(cause, "port-in-use", "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "NET050"),
        "{report:#}"
    );
}
