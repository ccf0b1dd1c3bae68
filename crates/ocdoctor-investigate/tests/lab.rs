//! The ladder against the lab with the real openocd: each case ends with the right cause first
//! and the step that proved it; a healthy target ends after one step.

use ocdoctor_investigate::{
    BaseCommand, Investigation, Ladder, Outcome, Request, investigate, runner,
};
use ocdoctor_lab::{
    BuspirateLab, Chip, FaultId, Lab, LabAdapter, LabConfig, buspirate_interface_cfg,
    interface_cfg, vdebug_interface_cfg, vdebug_openocd_for_test,
};
use std::time::{Duration, Instant};

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
    investigate_config(config)
}

/// Which adapter the lab offers OpenOCD.
enum Adapter {
    /// remote_bitbang over TCP: JTAG only.
    Bitbang,
    /// The Bus Pirate on a pseudo-terminal: JTAG (OpenOCD's first choice) and SWD; the
    /// user's command line may select one (`-c "transport select swd"`).
    Buspirate { transport: Option<&'static str> },
    /// The vdebug server over TCP, for an OpenOCD built with the vdebug driver (this path):
    /// JTAG, and `adapter speed` reaches the board.
    Vdebug { openocd: String },
}

fn investigate_config(config: LabConfig) -> Investigation {
    investigate_on(config, Adapter::Bitbang)
}

fn investigate_on(config: LabConfig, adapter: Adapter) -> Investigation {
    let (fault, seed, chip) = (config.fault, config.seed, config.chip);
    // The labs live until the end of this function.
    let (_bitbang, _pirate, iface_text, tag, transport);
    let mut program = "openocd".to_string();
    match adapter {
        Adapter::Bitbang => {
            let lab = Lab::start(config, None).expect("lab starts");
            iface_text = interface_cfg(lab.port());
            tag = format!("bitbang-{}", lab.port());
            (_bitbang, _pirate, transport) = (Some(lab), None, None);
        }
        Adapter::Vdebug { openocd } => {
            let lab = Lab::start_on(config, None, LabAdapter::Vdebug).expect("lab starts");
            iface_text = vdebug_interface_cfg(lab.port());
            tag = format!("vdebug-{}", lab.port());
            program = openocd;
            (_bitbang, _pirate, transport) = (Some(lab), None, None);
        }
        Adapter::Buspirate { transport: t } => {
            let lab = BuspirateLab::start(config).expect("the Bus Pirate lab starts");
            iface_text = buspirate_interface_cfg(lab.port_path());
            tag = format!(
                "buspirate-{}",
                lab.port_path().display().to_string().replace('/', "-")
            );
            (_bitbang, _pirate, transport) = (None, Some(lab), t);
        }
    }
    let dir = std::env::temp_dir().join(format!(
        "ocdoctor-investigate-test-{}-{tag}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let iface = dir.join("lab.cfg");
    std::fs::write(&iface, iface_text).unwrap();
    let (target, events) = match chip {
        Chip::Stm32f4 => (
            "target/stm32f4x.cfg",
            Some("stm32f4x.cpu configure -event reset-start {}"),
        ),
        Chip::Stm32f1 => ("target/stm32f1x.cfg", None),
    };
    let mut command: Vec<String> = vec![program, "-f".into(), iface.display().to_string()];
    if let Some(t) = transport {
        command.extend(["-c".into(), format!("transport select {t}")]);
    }
    command.extend(["-f".into(), target.into()]);
    if let Some(e) = events {
        command.extend(["-c".into(), e.into()]);
    }
    for c in [
        "init",
        "flash write_image erase fw.bin 0x08000000",
        "shutdown",
    ] {
        command.extend(["-c".into(), c.into()]);
    }
    let req = Request {
        ladder: Ladder::builtin(),
        command: Some(command),
        from_log: None,
    };
    let t = Instant::now();
    let inv = investigate(&req, |_| true, |_| {}).expect("the ladder runs");
    eprintln!(
        "{fault:?} (seed {seed}, {chip}, {tag}): {:.2}s\n{}",
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
    // A dead wire fails the same way every time.
    let repeat = inv.ladder.iter().find(|r| r.step == "repeat").unwrap();
    assert_eq!(repeat.outcome, Some(Outcome::Same), "{repeat:?}");
    assert_eq!(repeat.runs, 3);
    // remote_bitbang has one transport: that step does not apply.
    let other = inv
        .ladder
        .iter()
        .find(|r| r.step == "other-transport")
        .unwrap();
    assert!(other.outcome.is_none());
    assert_eq!(inv.exit_code(), 1);
}

#[test]
fn noise_that_varies_run_to_run_is_signal_integrity() {
    if !openocd_available() {
        return;
    }
    for seed in [1, 2, 3] {
        let config = LabConfig::default()
            .with_fault(FaultId::BitFlips)
            .with_seed(seed);
        let inv = investigate_config(config);
        let repeat = inv.ladder.iter().find(|r| r.step == "repeat").unwrap();
        assert_eq!(
            repeat.outcome,
            Some(Outcome::Varies),
            "seed {seed}: {repeat:?}"
        );
        assert_eq!(repeat.runs, 3);
        assert!(repeat.showed.contains("different ways"), "{repeat:?}");
        assert_eq!(
            inv.causes[0].cause, "signal-integrity",
            "seed {seed}: {inv:?}"
        );
        assert_eq!(
            inv.causes[0].proved_by.as_deref(),
            Some("repeat"),
            "seed {seed}: {inv:?}"
        );
        assert!(inv.causes[0].confidence > 0.5, "seed {seed}: {inv:?}");
    }
}

#[test]
fn a_part_that_answers_on_swd_only_is_found_by_the_other_transport() {
    if !openocd_available() {
        return;
    }
    let config = LabConfig::default().with_fault(FaultId::JtagDisabled);
    let inv = investigate_on(config, Adapter::Buspirate { transport: None });
    // OpenOCD picked JTAG: the log alone is a dead wire.
    assert_eq!(
        inv.ladder[0].first_cause.as_deref(),
        Some("no-target-connection")
    );
    assert_eq!(inv.causes[0].cause, "transport-mismatch", "{inv:?}");
    assert_eq!(inv.causes[0].proved_by.as_deref(), Some("other-transport"));
    let fix = inv.fix.as_ref().expect("a step connected");
    assert_eq!(fix.step, "other-transport");
    assert!(fix.command.contains("transport select swd"), "{fix:?}");
    // Slower clocks and reset changed nothing first.
    for step in ["repeat", "speed-100", "connect-under-reset"] {
        let r = inv.ladder.iter().find(|r| r.step == step).unwrap();
        assert_eq!(r.outcome, Some(Outcome::Same), "{r:?}");
    }
}

#[test]
fn healthy_target_over_swd_ends_after_one_step() {
    if !openocd_available() {
        return;
    }
    let inv = investigate_on(
        LabConfig::default(),
        Adapter::Buspirate {
            transport: Some("swd"),
        },
    );
    assert_eq!(inv.outcome, "ok", "{inv:?}");
    assert_eq!(inv.ladder.len(), 1, "{inv:?}");
}

#[test]
fn the_idcode_probe_over_swd_reads_the_dpidr_of_a_bare_debug_port() {
    if !openocd_available() {
        return;
    }
    let lab = BuspirateLab::start(LabConfig::default()).expect("the Bus Pirate lab starts");
    let dir = std::env::temp_dir().join(format!(
        "ocdoctor-investigate-idcode-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let iface = dir.join("lab.cfg");
    std::fs::write(&iface, buspirate_interface_cfg(lab.port_path())).unwrap();
    let argv: Vec<String> = [
        "openocd",
        "-f",
        iface.to_str().unwrap(),
        "-c",
        "transport select swd",
        "-f",
        "target/stm32f4x.cfg",
    ]
    .map(String::from)
    .to_vec();
    let base = BaseCommand::parse(&argv);
    let ladder = Ladder::builtin();
    let step = ladder.steps.iter().find(|s| s.id == "idcode").unwrap();
    let transport = ocdoctor_investigate::session_transport(&base, "");
    assert_eq!(transport.as_deref(), Some("swd"));
    let args = base.for_step(step, &[], transport.as_deref());
    assert!(!args.iter().any(|a| a.contains("target/")), "{args:?}");
    let out = runner::run_bounded("openocd", &args, Duration::from_secs(10)).unwrap();
    let log = String::from_utf8_lossy(&out.log);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.exit, Some(0), "{log}");
    assert!(log.contains("SWD DPIDR 0x2ba01477"), "{log}");
}

#[test]
fn the_idcode_step_follows_the_session_transport() {
    if !openocd_available() {
        return;
    }
    // Over SWD the debug port answers its DPIDR but never powers up.
    let config = LabConfig::default().with_fault(FaultId::DpNoPowerupAck);
    let inv = investigate_on(
        config,
        Adapter::Buspirate {
            transport: Some("swd"),
        },
    );
    let other = inv
        .ladder
        .iter()
        .find(|r| r.step == "other-transport")
        .unwrap();
    assert!(
        other.showed.contains("selects the transport (swd)"),
        "{other:?}"
    );
    let idcode = inv.ladder.iter().find(|r| r.step == "idcode").unwrap();
    let cmd = idcode.command.as_deref().unwrap_or_default();
    assert!(cmd.contains("swd newdap"), "{idcode:?}");
    assert!(
        !cmd.contains("scan_chain") && !cmd.contains("target/"),
        "{idcode:?}"
    );
    // The bare debug port fails where the target did: the probe itself is sound.
    assert_eq!(idcode.outcome, Some(Outcome::Same), "{idcode:?}");
}

#[test]
fn a_fault_that_goes_away_at_a_lower_speed_is_signal_integrity_proved_by_speed_100() {
    let Some(openocd) = vdebug_openocd_for_test().map(|p| p.display().to_string()) else {
        return;
    };
    for chip in Chip::ALL {
        let config = LabConfig::new(chip).with_fault(FaultId::SlowClockOnly);
        let t = Instant::now();
        let inv = investigate_on(
            config,
            Adapter::Vdebug {
                openocd: openocd.clone(),
            },
        );
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{chip}: {:?}",
            t.elapsed()
        );
        // Read one bit late, the ids look like another chip's: the log alone says so.
        assert_eq!(
            inv.ladder[0].first_cause.as_deref(),
            Some("idcode-mismatch"),
            "{chip}: {inv:?}"
        );
        // A late TDO is late on every run, and still at 1000 kHz.
        for step in ["repeat", "speed-1000"] {
            let r = inv.ladder.iter().find(|r| r.step == step).unwrap();
            assert_eq!(r.outcome, Some(Outcome::Same), "{chip}: {r:?}");
        }
        let last = inv.ladder.last().unwrap();
        assert_eq!(last.step, "speed-100", "{chip}: {inv:?}");
        assert_eq!(last.outcome, Some(Outcome::Ok), "{chip}: {last:?}");
        assert_eq!(inv.causes[0].cause, "signal-integrity", "{chip}: {inv:?}");
        assert_eq!(
            inv.causes[0].proved_by.as_deref(),
            Some("speed-100"),
            "{chip}: {inv:?}"
        );
        let fix = inv.fix.as_ref().expect("a step connected");
        assert_eq!(fix.step, "speed-100");
        assert!(fix.command.contains("adapter speed 100"), "{fix:?}");
        assert!(fix.command.starts_with(&openocd), "{fix:?}");
    }
}
