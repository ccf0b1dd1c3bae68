//! The vdebug lab against a real OpenOCD 0.12.0 built with `--enable-vdebug`
//! (`.ci/build-openocd-vdebug.sh`; Debian's binary lacks the driver): a healthy session, and
//! `slow-clock-only`, the fault that depends on `adapter speed`.
//!
//! Without that binary the tests print a notice and pass, unless `OCDOCTOR_REQUIRE_VDEBUG` is
//! set (`.ci/run` sets it after building the binary): then its absence fails them.

use std::time::{Duration, Instant};

use ocdoctor_lab::{
    Chip, FaultId, Lab, LabAdapter, LabConfig, RunOutput, run_openocd_with, target_cfg,
    vdebug_interface_cfg, vdebug_openocd_for_test,
};

/// One session on a fresh vdebug lab: the chip's target cfg, `speed` (None: the cfg's own),
/// then `commands`.
fn session(config: &LabConfig, speed: Option<u32>, commands: &[&str]) -> Option<RunOutput> {
    let openocd = vdebug_openocd_for_test()?;
    let lab = Lab::start_on(config.clone(), None, LabAdapter::Vdebug).expect("the lab starts");
    let mut args: Vec<String> = vec!["-f".into(), target_cfg(config.chip).into()];
    if let Some(khz) = speed {
        args.extend(["-c".into(), format!("adapter speed {khz}")]);
    }
    for c in commands {
        args.extend(["-c".into(), (*c).into()]);
    }
    let start = Instant::now();
    let out = run_openocd_with(
        &openocd,
        &vdebug_interface_cfg(lab.port()),
        &args,
        Duration::from_secs(20),
    )
    .expect("openocd runs");
    eprintln!(
        "{} {:?} at {speed:?} kHz: exit {:?}, {:.2}s",
        config.chip,
        config.fault,
        out.exit,
        start.elapsed().as_secs_f64()
    );
    lab.shutdown();
    Some(out)
}

#[track_caller]
fn expect(out: &RunOutput, needle: &str) {
    assert!(
        out.log.contains(needle),
        "expected {needle:?} in:\n{}",
        out.log
    );
}

#[test]
fn healthy_sessions_over_vdebug_examine_halt_read_and_probe_flash() {
    for (chip, cpu, device_id) in [
        (Chip::Stm32f4, "Cortex-M4 r0p1", "0x10076413"),
        (Chip::Stm32f1, "Cortex-M3 r1p1", "0x20036410"),
    ] {
        let commands = [
            "init",
            "halt 1000",
            "mdw 0x08000000 4",
            "flash probe 0",
            "reset halt",
            "shutdown",
        ];
        let Some(out) = session(&LabConfig::new(chip), None, &commands) else {
            return;
        };
        expect(&out, "vdebug 44 connected to ocdoctor_lab.jtag_bfm");
        expect(&out, &format!("{cpu} processor detected"));
        expect(&out, "0x08000000: 20001000 08000189 08000189 08000189");
        expect(&out, &format!("device id = {device_id}"));
        expect(&out, "halted due to");
        assert!(!out.log.contains("Error"), "{}", out.log);
        assert_eq!(out.exit, Some(0), "{}", out.log);
    }
}

#[test]
fn slow_clock_only_fails_at_the_cfg_speed_and_at_1000_khz_and_works_at_100_khz() {
    for chip in Chip::ALL {
        let config = LabConfig::new(chip).with_fault(FaultId::SlowClockOnly);
        // The target cfgs set their own speed (stm32f4x 2000 kHz, stm32f1x 1000 kHz).
        for speed in [None, Some(1000)] {
            let Some(out) = session(&config, speed, &["init", "shutdown"]) else {
                return;
            };
            expect(&out, "UNEXPECTED: 0x");
            expect(&out, "IR capture error; saw 0x03 not 0x01");
            assert_ne!(out.exit, Some(0), "{}", out.log);
        }
        let Some(out) = session(&config, Some(100), &["init", "shutdown"]) else {
            return;
        };
        expect(&out, "jclk speed:100 kHz set, BFM divider 250");
        expect(&out, "processor detected");
        assert!(!out.log.contains("Error"), "{}", out.log);
        assert_eq!(out.exit, Some(0), "{}", out.log);
    }
}
