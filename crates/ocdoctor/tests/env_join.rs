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
    snapshot_with(case, dir, |_| {})
}

/// The same, with the collect options adjusted (PATH, running the fixture's openocd scripts).
fn snapshot_with(
    case: &str,
    dir: &Path,
    adjust: impl FnOnce(&mut ocdoctor_env::CollectOptions),
) -> PathBuf {
    let mut opts = fixture_options(&fixture(case)).expect("fixture case.toml");
    adjust(&mut opts);
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

// ---- one test per fixture machine state: the top cause, the joined rule's code and the fix.

fn finding<'a>(report: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == code)
        .unwrap_or_else(|| panic!("no {code} finding: {report:#}"))
}

/// Every command and config line of a finding's fixes, one string.
fn fix_text(f: &serde_json::Value) -> String {
    let mut s = String::new();
    for fix in f["fixes"].as_array().into_iter().flatten() {
        s += fix["title"].as_str().unwrap_or_default();
        s.push('\n');
        for key in ["commands", "config"] {
            for c in fix[key].as_array().into_iter().flatten() {
                s += c.as_str().unwrap_or_default();
                s.push('\n');
            }
        }
    }
    s
}

fn is_joined(code: &str) -> bool {
    code.get(3..5) == Some("05")
}

/// Top cause, the first finding's rule, and the report.
fn diagnose_case(case: &str, log: &str) -> (String, String, serde_json::Value) {
    let tmp = tempfile::tempdir().unwrap();
    let snap = snapshot(case, tmp.path());
    let (cause, report) = top_cause(log, &snap, tmp.path());
    let first = report["findings"][0]["rule"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (cause, first, report)
}

#[test]
fn state_probe_ok_no_joined_rule_fires() {
    let (cause, _, report) = diagnose_case("stlink-with-rules", STLINK_OPEN_FAILED);
    assert_eq!(cause, "probe-not-found", "{report:#}");
    for f in report["findings"].as_array().unwrap() {
        assert!(
            !is_joined(f["rule"].as_str().unwrap()),
            "a working probe joins nothing: {f:#}"
        );
    }
}

#[test]
fn state_no_udev_rule_is_usb_permission() {
    let (cause, first, report) = diagnose_case("stlink-no-rule", STLINK_OPEN_FAILED);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("usb-permission", "USB050"),
        "{report:#}"
    );
    assert!(fix_text(&report["findings"][0]).contains("60-openocd.rules"));
}

#[test]
fn state_claimed_is_probe_busy_with_the_pid() {
    let log = "Open On-Chip Debugger 0.12.0\nInfo : Listening on port 4444 for telnet connections\nError: No J-Link device found\n";
    let (cause, first, report) = diagnose_case("jlink-claimed", log);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("probe-busy", "PRB050"),
        "{report:#}"
    );
    assert!(
        fix_text(&report["findings"][0]).contains("kill 4242"),
        "{report:#}"
    );
}

#[test]
fn state_ftdi_sio_bound_is_usb_driver_and_unbinds_one_interface() {
    let log = "Open On-Chip Debugger 0.12.0\nWarn : libusb_detach_kernel_driver() failed with LIBUSB_ERROR_ACCESS, trying to continue anyway\nError: libusb_claim_interface() failed with LIBUSB_ERROR_BUSY\nError: unable to open ftdi device with vid 0403, pid 6010, description '*', serial '*' at bus location '*'\n";
    let (cause, first, report) = diagnose_case("ftdi-sio-bound", log);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("usb-driver", "USB052"),
        "{report:#}"
    );
    let fixes = fix_text(&report["findings"][0]);
    assert!(
        fixes.contains("echo -n 1-3:1.0 | sudo tee /sys/bus/usb/drivers/ftdi_sio/unbind"),
        "{fixes}"
    );
    assert!(!fixes.contains("rmmod"), "never unload ftdi_sio: {fixes}");
}

#[test]
fn state_no_probe_is_probe_not_found() {
    // port-3333-openocd: a USB bus with no probe on it.
    let (cause, first, report) = diagnose_case("port-3333-openocd", STLINK_OPEN_FAILED);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("probe-not-found", "PRB051"),
        "{report:#}"
    );
}

#[test]
fn state_two_stlinks_with_an_unexpected_idcode_is_multiple_probes() {
    let log = "Open On-Chip Debugger 0.12.0\nInfo : The selected transport took over low-level target control. The results might differ compared to plain JTAG/SWD\nInfo : clock speed 1000 kHz\nInfo : STLINK V2J29M18 (API v2) VID:PID 0483:374B\nInfo : Target voltage: 3.261722\nWarn : UNEXPECTED idcode: 0x2ba01477\nError: expected 1 of 1: 0x1ba01477\n";
    let (cause, first, report) = diagnose_case("two-stlinks", log);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("multiple-probes", "PRB053"),
        "{report:#}"
    );
    let fixes = fix_text(&report["findings"][0]);
    assert!(
        fixes.contains("adapter serial 066DFF535155878281151932"),
        "{fixes}"
    );
    // The old ST-LINK/V2's binary serial, as hex.
    assert!(
        fixes.contains("adapter serial 55ff6b064970785032181387"),
        "{fixes}"
    );
    assert!(
        !fixes.contains("hla_serial"),
        "0.12 has adapter serial: {fixes}"
    );

    // The same on 0.11: hla_serial, not adapter serial (added in 0.12).
    let (cause, _, report) = diagnose_case("two-stlinks", &log.replace("0.12.0", "0.11.0"));
    assert_eq!(cause, "multiple-probes", "{report:#}");
    let fixes = fix_text(finding(&report, "PRB053"));
    assert!(
        fixes.contains("hla_serial 066DFF535155878281151932"),
        "{fixes}"
    );
    assert!(!fixes.contains("adapter serial"), "{fixes}");
}

#[test]
fn state_wrong_probe_for_the_config_names_the_attached_probes_cfg() {
    let log = "Open On-Chip Debugger 0.12.0\nInfo : auto-selecting first available session transport \"hla_swd\". To override use 'transport select <transport>'.\nInfo : clock speed 1000 kHz\nError: open failed\n";
    let (cause, first, report) = diagnose_case("jlink-attached", log);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("probe-not-found", "PRB052"),
        "{report:#}"
    );
    let fixes = fix_text(&report["findings"][0]);
    assert!(fixes.contains("-f interface/jlink.cfg"), "{fixes}");
    // A J-Link log on the same machine is not a wrong-family problem.
    let (_, _, report) = diagnose_case(
        "jlink-attached",
        "Open On-Chip Debugger 0.12.0\nError: No J-Link device found\n",
    );
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "PRB052"),
        "{report:#}"
    );
}

#[test]
fn state_stale_openocd_holding_3333_and_6666() {
    for (svc, port) in [("gdb", 3333), ("tcl", 6666)] {
        let log = format!(
            "Open On-Chip Debugger 0.12.0\nError: couldn't bind {svc} to socket on port {port}: Address already in use\n"
        );
        let (cause, first, report) = diagnose_case("port-3333-openocd", &log);
        assert_eq!(
            (cause.as_str(), first.as_str()),
            ("port-in-use", "NET050"),
            "{report:#}"
        );
        assert!(
            fix_text(&report["findings"][0]).contains("kill 4242"),
            "{report:#}"
        );
    }
}

#[test]
fn state_wsl_without_passthrough_is_usb_driver() {
    let (cause, first, report) = diagnose_case("wsl-no-usb", STLINK_OPEN_FAILED);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("usb-driver", "USB051"),
        "{report:#}"
    );
    let fixes = fix_text(&report["findings"][0]);
    assert!(fixes.contains("usbipd attach --wsl"), "{fixes}");
    assert!(
        !fixes.contains("docker run"),
        "WSL gets the WSL fix only: {fixes}"
    );
}

#[test]
fn state_container_without_a_usb_bus_is_usb_driver() {
    let (cause, first, report) = diagnose_case("empty-machine", STLINK_OPEN_FAILED);
    assert_eq!(
        (cause.as_str(), first.as_str()),
        ("usb-driver", "USB051"),
        "{report:#}"
    );
    // Not WSL: the container and VM fixes, never usbipd (issue 11).
    let fixes = fix_text(&report["findings"][0]);
    assert!(
        fixes.contains("docker run --device=/dev/bus/usb"),
        "{fixes}"
    );
    assert!(!fixes.contains("usbipd"), "{fixes}");
}

/// The old-openocd-on-path machine with PATH=/usr/local/bin:/usr/bin and its scripts run.
fn old_openocd_snapshot(dir: &Path) -> PathBuf {
    snapshot_with("old-openocd-on-path", dir, |o| {
        o.path_var = Some("/usr/local/bin:/usr/bin".into());
        o.run_binaries = true;
    })
}

#[test]
#[cfg(unix)]
fn state_old_openocd_first_on_path_is_openocd_launch() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = old_openocd_snapshot(tmp.path());
    let log = "Open On-Chip Debugger 0.10.0\nLicensed under GNU GPL v2\nFor bug reports, read\n\thttp://openocd.org/doc/doxygen/bugs.html\ninvalid command name \"adapter\"\nin procedure 'script' \nat file \"embedded:startup.tcl\", line 60\n";
    let (cause, report) = top_cause(log, &snap, tmp.path());
    assert_eq!(cause, "openocd-launch", "{report:#}");
    assert_eq!(report["findings"][0]["rule"], "CFG052", "{report:#}");
    let fixes = fix_text(&report["findings"][0]);
    assert!(fixes.contains("/usr/bin/openocd"), "{fixes}");
    assert!(fixes.contains("export PATH=/usr/bin:$PATH"), "{fixes}");
}

#[test]
#[cfg(unix)]
fn state_log_openocd_not_installed_is_openocd_launch() {
    // The user updated to 0.12 and has an old 0.10; the IDE ran its own 0.11.
    let tmp = tempfile::tempdir().unwrap();
    let snap = old_openocd_snapshot(tmp.path());
    let log = "Open On-Chip Debugger 0.11.0 (2021-03-07-12:52)\nLicensed under GNU GPL v2\nembedded:startup.tcl:26: Error: Can't find interface/stlink-dap-v3.cfg\nin procedure 'script'\n";
    let (cause, report) = top_cause(log, &snap, tmp.path());
    assert_eq!(cause, "openocd-launch", "{report:#}");
    let f = finding(&report, "CFG051");
    assert!(f["title"].as_str().unwrap().contains("0.11.0"), "{f:#}");
    assert!(fix_text(f).contains("/usr/bin/openocd"), "{f:#}");
}

#[test]
fn saved_snapshot_round_trips_to_the_same_diagnosis() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = snapshot("two-stlinks", tmp.path());
    // save → load → save: the same document.
    let text = std::fs::read_to_string(&snap).unwrap();
    let again = ocdoctor_env::EnvSnapshot::from_json(&text)
        .unwrap()
        .to_json();
    assert_eq!(text, again);
    let saved = tmp.path().join("saved.json");
    std::fs::write(&saved, again).unwrap();
    let log = "Open On-Chip Debugger 0.12.0\nWarn : UNEXPECTED idcode: 0x2ba01477\nError: expected 1 of 1: 0x1ba01477\n";
    let (_, a) = top_cause(log, &snap, tmp.path());
    let (_, b) = top_cause(log, &saved, tmp.path());
    let (_, c) = top_cause(log, &saved, tmp.path());
    let strip = |mut v: serde_json::Value| {
        // Inputs name the snapshot file; everything else must be identical.
        v["inputs"] = serde_json::Value::Null;
        v
    };
    assert_eq!(b, c, "diagnose --env saved.json twice");
    assert_eq!(strip(a), strip(b));
}
