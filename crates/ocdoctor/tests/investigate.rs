//! `ocdoctor investigate` end to end: the binary, the real openocd, the lab.

use ocdoctor_lab::{FaultId, Lab, LabConfig, interface_cfg};
use std::process::Command;

fn openocd_available() -> bool {
    if Command::new("openocd").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("OCDOCTOR_SKIP_LIVE").is_some(),
        "openocd is not installed: install it (apt-get install openocd) or set OCDOCTOR_SKIP_LIVE=1"
    );
    false
}

fn ocdoctor_investigate(fault: FaultId, extra: &[&str]) -> (Option<i32>, String, String) {
    let lab = Lab::start(LabConfig::default().with_fault(fault), None).expect("lab starts");
    let dir = tempfile::tempdir().unwrap();
    let iface = dir.path().join("lab.cfg");
    std::fs::write(&iface, interface_cfg(lab.port())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .arg("investigate")
        .args(extra)
        .args(["--", "openocd", "-f"])
        .arg(&iface)
        .args([
            "-f",
            "target/stm32f4x.cfg",
            "-c",
            "stm32f4x.cpu configure -event reset-start {}",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ocdoctor runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_report_names_the_cause_and_the_step_that_proved_it() {
    if !openocd_available() {
        return;
    }
    let (code, stdout, stderr) =
        ocdoctor_investigate(FaultId::DebugOnlyUnderReset, &["--yes", "--format", "json"]);
    assert_eq!(code, Some(1), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["schema"], "ocdoctor.investigation/v1");
    assert_eq!(v["causes"][0]["cause"], "target-firmware-blocks-debug");
    assert_eq!(v["causes"][0]["proved_by"], "connect-under-reset");
    assert_eq!(v["fix"]["step"], "connect-under-reset");
    // Each step was explained before it ran.
    assert!(
        stderr.contains("# speed-100: Clock the adapter at 100 kHz"),
        "{stderr}"
    );
    assert!(stderr.contains("adapter speed 100"), "{stderr}");
}

#[test]
fn without_a_terminal_or_yes_nothing_runs() {
    if !openocd_available() {
        return;
    }
    let (code, stdout, stderr) = ocdoctor_investigate(FaultId::TdoStuckHigh, &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("pass --yes"), "{stderr}");
    assert!(stdout.contains("declined"), "{stdout}");
}
