//! The ladder against the lab with the real openocd: each case ends with the right cause first
//! and the step that proved it; a healthy target ends after one step.

use ocdoctor_investigate::{Investigation, Ladder, Outcome, Request, investigate};
use ocdoctor_lab::{FaultId, Lab, LabConfig, interface_cfg};
use std::time::Instant;

fn openocd_available() -> bool {
    if std::process::Command::new("openocd")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var_os("OCDOCTOR_SKIP_LIVE").is_some(),
        "openocd is not installed: install it (apt-get install openocd) or set OCDOCTOR_SKIP_LIVE=1"
    );
    false
}

fn investigate_lab(fault: Option<FaultId>) -> Investigation {
    let mut config = LabConfig::default();
    if let Some(f) = fault {
        config = config.with_fault(f);
    }
    let lab = Lab::start(config, None).expect("lab starts");
    let dir = std::env::temp_dir().join(format!("ocdoctor-investigate-test-{}", lab.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let iface = dir.join("lab.cfg");
    std::fs::write(&iface, interface_cfg(lab.port())).unwrap();
    let command: Vec<String> = [
        "openocd",
        "-f",
        iface.to_str().unwrap(),
        "-f",
        "target/stm32f4x.cfg",
        "-c",
        "stm32f4x.cpu configure -event reset-start {}",
        "-c",
        "init",
        "-c",
        "flash write_image erase fw.bin 0x08000000",
        "-c",
        "shutdown",
    ]
    .map(String::from)
    .to_vec();
    let req = Request {
        ladder: Ladder::builtin(),
        command: Some(command),
        from_log: None,
    };
    let t = Instant::now();
    let inv = investigate(&req, |_| true, |_| {}).expect("the ladder runs");
    eprintln!(
        "{fault:?}: {:.2}s\n{}",
        t.elapsed().as_secs_f64(),
        ocdoctor_investigate::text(&inv)
    );
    let _ = std::fs::remove_dir_all(&dir);
    // The flash write was never run.
    assert!(
        inv.dropped
            .iter()
            .any(|d| d.starts_with("flash write_image"))
    );
    for r in &inv.ladder {
        assert!(
            !r.command
                .as_deref()
                .unwrap_or_default()
                .contains("write_image"),
            "{r:?}"
        );
    }
    inv
}

#[test]
fn healthy_target_ends_after_one_step() {
    if !openocd_available() {
        return;
    }
    let inv = investigate_lab(None);
    assert_eq!(inv.outcome, "ok");
    assert_eq!(inv.ladder.len(), 1, "{inv:?}");
    assert_eq!(inv.ladder[0].outcome, Some(Outcome::Ok));
    assert!(inv.causes.is_empty());
    assert_eq!(inv.exit_code(), 0);
}

#[test]
fn firmware_that_answers_only_under_reset_is_found_by_connect_under_reset() {
    if !openocd_available() {
        return;
    }
    let inv = investigate_lab(Some(FaultId::DebugOnlyUnderReset));
    // The log alone says "all ones": the first run's diagnosis is a dead wire.
    assert_eq!(
        inv.ladder[0].first_cause.as_deref(),
        Some("no-target-connection")
    );
    assert_eq!(
        inv.causes[0].cause, "target-firmware-blocks-debug",
        "{inv:?}"
    );
    assert_eq!(
        inv.causes[0].proved_by.as_deref(),
        Some("connect-under-reset")
    );
    let fix = inv.fix.as_ref().expect("a step connected");
    assert_eq!(fix.step, "connect-under-reset");
    assert!(
        fix.command
            .contains("reset_config srst_only srst_nogate connect_assert_srst")
    );
    // The speed steps ran before and failed the same way.
    let speed = inv.ladder.iter().find(|r| r.step == "speed-100").unwrap();
    assert_eq!(speed.outcome, Some(Outcome::Same));
}

#[test]
fn a_target_that_never_answers_stays_a_dead_connection() {
    if !openocd_available() {
        return;
    }
    let inv = investigate_lab(Some(FaultId::TdoStuckHigh));
    assert_eq!(inv.causes[0].cause, "no-target-connection", "{inv:?}");
    assert!(inv.fix.is_none());
    let idcode = inv.ladder.iter().find(|r| r.step == "idcode").unwrap();
    assert_eq!(idcode.outcome, Some(Outcome::Same), "{idcode:?}");
    // remote_bitbang has one transport: that step does not apply.
    let other = inv
        .ladder
        .iter()
        .find(|r| r.step == "other-transport")
        .unwrap();
    assert!(other.outcome.is_none());
    assert_eq!(inv.exit_code(), 1);
}
