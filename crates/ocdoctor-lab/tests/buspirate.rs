//! The Bus Pirate lab against the real OpenOCD binary: its stock `buspirate` driver on a
//! pseudo-terminal, over JTAG and over SWD, with the same simulated board as remote_bitbang.
//! Without `openocd` on PATH the tests print a notice and pass (CI installs it).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ocdoctor_lab::{
    BuspirateLab, Chip, FaultId, LabConfig, RunOutput, buspirate_interface_cfg, run_openocd_with,
    target_cfg,
};

fn openocd() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("openocd"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!("NOTICE: `openocd` is not on PATH; skipping the Bus Pirate lab test");
    }
    found
}

/// One session on a fresh Bus Pirate lab: `transport` (None: OpenOCD's choice), the chip's
/// target cfg, then `commands`.
fn session(config: &LabConfig, transport: Option<&str>, commands: &[&str]) -> Option<RunOutput> {
    let openocd = openocd()?;
    let lab = BuspirateLab::start(config.clone()).expect("the Bus Pirate lab starts");
    let mut args: Vec<String> = Vec::new();
    if let Some(t) = transport {
        args.extend(["-c".into(), format!("transport select {t}")]);
    }
    args.extend(["-f".into(), target_cfg(config.chip).into()]);
    if config.chip == Chip::Stm32f4 {
        // As for remote_bitbang: the cfg's reset-start event sets a speed this adapter lacks.
        args.extend([
            "-c".into(),
            "stm32f4x.cpu configure -event reset-start {}".into(),
        ]);
    }
    for c in commands {
        args.extend(["-c".into(), (*c).into()]);
    }
    let t = Instant::now();
    let out = run_openocd_with(
        &openocd,
        &buspirate_interface_cfg(lab.port_path()),
        &args,
        Duration::from_secs(20),
    )
    .expect("openocd runs");
    eprintln!(
        "{} {:?} {transport:?}: exit {:?} in {:.2}s\n{}",
        config.chip,
        config.fault,
        out.exit,
        t.elapsed().as_secs_f64(),
        out.log
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

const HEALTHY: &[&str] = &["init", "halt 1000", "mdw 0x08000000 2", "shutdown"];

#[test]
fn healthy_board_over_jtag_and_swd() {
    for chip in Chip::ALL {
        let config = LabConfig::new(chip);
        let (dp_jtag, dp_swd, cpu) = match chip {
            Chip::Stm32f4 => ("0x4ba00477", "0x2ba01477", "Cortex-M4 r0p1"),
            Chip::Stm32f1 => ("0x3ba00477", "0x1ba01477", "Cortex-M3 r1p1"),
        };
        let Some(jtag) = session(&config, None, HEALTHY) else {
            return;
        };
        expect(
            &jtag,
            "auto-selecting first available session transport \"jtag\"",
        );
        expect(&jtag, "Buspirate JTAG Interface ready!");
        expect(&jtag, &format!("tap/device found: {dp_jtag}"));
        expect(&jtag, &format!("{cpu} processor detected"));
        expect(&jtag, "0x08000000: 20001000 08000189");
        assert_eq!(jtag.exit, Some(0), "{}", jtag.log);

        let swd = session(&config, Some("swd"), HEALTHY).unwrap();
        expect(&swd, "Buspirate SWD Interface ready!");
        expect(&swd, &format!("SWD DPIDR {dp_swd}"));
        expect(&swd, &format!("{cpu} processor detected"));
        expect(&swd, "0x08000000: 20001000 08000189");
        assert_eq!(swd.exit, Some(0), "{}", swd.log);
    }
}

#[test]
fn jtag_disabled_answers_on_swd_only() {
    let config = LabConfig::new(Chip::Stm32f4).with_fault(FaultId::JtagDisabled);
    let Some(jtag) = session(&config, None, &["init", "shutdown"]) else {
        return;
    };
    expect(&jtag, "JTAG scan chain interrogation failed: all ones");
    assert_ne!(jtag.exit, Some(0));
    let swd = session(&config, Some("swd"), HEALTHY).unwrap();
    expect(&swd, "SWD DPIDR 0x2ba01477");
    expect(&swd, "Cortex-M4 r0p1 processor detected");
    assert_eq!(swd.exit, Some(0), "{}", swd.log);
}

#[test]
fn firmware_that_takes_the_pins_blocks_swd_too() {
    let config = LabConfig::new(Chip::Stm32f1).with_fault(FaultId::DebugOnlyUnderReset);
    let Some(swd) = session(&config, Some("swd"), &["init", "shutdown"]) else {
        return;
    };
    expect(&swd, "Error connecting DP: cannot read IDR");
    assert_ne!(swd.exit, Some(0), "{}", swd.log);
    assert!(!swd.log.contains("processor detected"), "{}", swd.log);
}
