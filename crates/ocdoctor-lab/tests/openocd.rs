//! The lab against the real OpenOCD binary: healthy sessions on both chips
//! and every catalogue fault, checked against what OpenOCD 0.12.0 prints.
//!
//! Each test starts its own lab on an ephemeral port, so the harness runs
//! them in parallel. Every OpenOCD run is bounded by a timeout and reaped.
//! Without `openocd` on PATH the tests print a notice and pass.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ocdoctor_lab::{
    Chip, FaultId, Lab, LabConfig, RunOutput, catalogue, run_openocd, session_args, target_cfg,
};

const TIMEOUT: Duration = Duration::from_secs(20);

fn openocd() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("openocd"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!("NOTICE: `openocd` is not on PATH; skipping the real-OpenOCD lab test");
    }
    found
}

fn run_args(openocd: &Path, config: &LabConfig, args: &[String], timeout: Duration) -> RunOutput {
    let lab = Lab::start(config.clone(), None).expect("lab starts");
    let start = Instant::now();
    let out = run_openocd(openocd, lab.port(), args, timeout).expect("openocd runs");
    eprintln!(
        "{} {:?}: exit {:?}, timed out {}, {:.2}s",
        config.chip,
        config.fault,
        out.exit,
        out.timed_out,
        start.elapsed().as_secs_f64()
    );
    assert!(
        !openocd_still_running(lab.port()),
        "an openocd for port {} outlived run_openocd",
        lab.port()
    );
    lab.shutdown();
    out
}

/// Whether any process still has our lab's port on its command line
/// (Linux /proc; elsewhere this check is skipped).
fn openocd_still_running(port: u16) -> bool {
    let needle = format!("remote_bitbang port {port}\0");
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|p| {
        std::fs::read(p.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
    })
}

fn run(openocd: &Path, config: &LabConfig) -> RunOutput {
    let timeout = if config.fault == Some(FaultId::ApWaitForever) {
        // OpenOCD never gives up on its own here; the kill is part of the test.
        Duration::from_secs(3)
    } else {
        TIMEOUT
    };
    run_args(openocd, config, &session_args(config), timeout)
}

#[track_caller]
fn expect(out: &RunOutput, what: &str, needle: &str) {
    assert!(
        out.log.contains(needle),
        "{what}: expected {needle:?} in the OpenOCD log:\n{}",
        out.log
    );
}

fn healthy(chip: Chip, cpu: &str, device_id: &str, flash: &str) {
    let Some(openocd) = openocd() else { return };
    let config = LabConfig::new(chip);
    let start = Instant::now();
    let out = run(&openocd, &config);
    let took = start.elapsed();
    let what = chip.name();
    expect(&out, what, &format!("{cpu} processor detected"));
    expect(&out, what, "target has 6 breakpoints, 4 watchpoints");
    expect(&out, what, "halted due to debug-request");
    expect(&out, what, "pc: 0x08000188 msp: 0x20001000");
    expect(
        &out,
        what,
        "0x08000000: 20001000 08000189 08000189 08000189",
    );
    expect(&out, what, &format!("device id = {device_id}"));
    expect(&out, what, &format!("flash size = {flash}"));
    assert!(!out.log.contains("Error"), "{}", out.log);
    assert_eq!(out.exit, Some(0));
    // Typically 0.25 s; the bound leaves room for a loaded CI machine.
    assert!(
        took < Duration::from_secs(5),
        "healthy session took {took:?}"
    );
}

#[test]
fn healthy_stm32f4_examines_halts_reads_and_probes_flash() {
    healthy(Chip::Stm32f4, "Cortex-M4 r0p1", "0x10076413", "1024 KiB");
}

#[test]
fn healthy_stm32f1_examines_halts_reads_and_probes_flash() {
    healthy(Chip::Stm32f1, "Cortex-M3 r1p1", "0x20036410", "64 KiB");
}

#[test]
fn healthy_reset_halt_with_vector_catch() {
    let Some(openocd) = openocd() else { return };
    for chip in Chip::ALL {
        let config = LabConfig::new(chip);
        let mut args = session_args(&config);
        args.truncate(args.iter().position(|a| a == "init").unwrap() - 1);
        for c in ["init", "reset halt", "reg pc", "shutdown"] {
            args.extend(["-c".to_owned(), c.to_owned()]);
        }
        let out = run_args(&openocd, &config, &args, TIMEOUT);
        expect(&out, chip.name(), "halted due to");
        expect(&out, chip.name(), "pc (/32): 0x08000188");
        assert_eq!(out.exit, Some(0), "{}", out.log);
    }
}

/// Run a fault on every chip it applies to; check the catalogue's line and
/// whatever else characterises it.
fn check_fault(fault: FaultId) {
    let Some(openocd) = openocd() else { return };
    let info = fault.info();
    for &chip in info.chips {
        let config = LabConfig::new(chip).with_fault(fault);
        let out = run(&openocd, &config);
        let what = format!("{chip} {fault}");
        expect(&out, &what, info.openocd_says);
        extra_checks(&openocd, &config, &out, &what);
    }
}

fn extra_checks(openocd: &Path, config: &LabConfig, out: &RunOutput, what: &str) {
    let chip = config.chip;
    let device_id = match chip {
        Chip::Stm32f4 => "0x10076413",
        Chip::Stm32f1 => "0x20036410",
    };
    match config.fault {
        Some(FaultId::TdoStuckHigh) => expect(out, what, "IR capture error; saw 0x0f not 0x01"),
        Some(FaultId::TdoStuckLow) => expect(out, what, "IR capture error; saw 0x00 not 0x01"),
        Some(FaultId::NoServer) => {
            assert_eq!(out.exit, Some(1));
            assert!(!out.log.contains("remote_bitbang driver initialized"));
        }
        Some(FaultId::DropMidSession) => {
            // OpenOCD 0.12 aborts on its own assertion: killed by SIGABRT.
            assert_ne!(out.exit, Some(0), "{}", out.log);
            assert!(!out.timed_out);
        }
        Some(FaultId::WrongChip) => {
            let (found, cpu) = match chip {
                Chip::Stm32f4 => ("0x3ba00477", "Cortex-M3 r1p1"),
                Chip::Stm32f1 => ("0x4ba00477", "Cortex-M4 r0p1"),
            };
            expect(out, what, &format!("UNEXPECTED: {found}"));
            expect(out, what, "Trying to use configured scan chain anyway...");
            // As on real hardware, the session goes on with the other core.
            expect(out, what, &format!("{cpu} processor detected"));
        }
        Some(FaultId::CloneIdcode) => {
            expect(out, what, "expected 1 of 1: 0x3ba00477");
            expect(out, what, "Cortex-M3 r2p1 processor detected");
        }
        Some(FaultId::ExtraTap) => expect(out, what, "JTAG tap: auto0.tap tap/device found"),
        Some(FaultId::MissingTap) => expect(out, what, "IR capture error; saw 0x1f not 0x01"),
        Some(FaultId::BitFlips) => {
            // Same seed, same flips: the run is reproducible.
            let again = run(openocd, config);
            let found = |o: &RunOutput| {
                o.log
                    .lines()
                    .filter(|l| l.contains("tap/device found") || l.contains("end of chain"))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            assert_eq!(found(out), found(&again));
            let other = run(openocd, &config.clone().with_seed(config.seed + 1));
            assert_ne!(found(out), found(&other), "another seed, other flips");
        }
        Some(FaultId::DpNoPowerupAck) => {
            expect(out, what, "Command 'dap init' failed");
            assert_eq!(out.exit, Some(1));
        }
        Some(FaultId::ApWaitN) => {
            expect(out, what, "processor detected");
            expect(out, what, "0x20000000: 00000000 00000000");
            assert_eq!(out.exit, Some(0));
        }
        Some(FaultId::ApWaitForever) => {
            assert!(out.timed_out, "{}", out.log);
            assert_eq!(out.exit, None);
            assert!(!out.log.contains("processor detected"));
        }
        Some(FaultId::CoreNeverHalts | FaultId::DebugDisabled) => {
            expect(out, what, "processor detected");
            assert_eq!(out.exit, Some(1));
        }
        Some(FaultId::MemoryFaultRange) => {
            expect(out, what, "Failed to write memory at 0x20000000");
            expect(out, what, "JTAG-DP STICKY ERROR");
        }
        Some(FaultId::RdpLocked) => {
            // The probe still works: the device id and size are readable.
            expect(out, what, &format!("device id = {device_id}"));
            expect(out, what, "JTAG-DP STICKY ERROR");
        }
        Some(FaultId::DebugOnlyUnderReset) => {
            // Connecting under reset gets through, as on the real thing.
            let mut args = vec!["-f".to_owned(), target_cfg(chip).to_owned()];
            if chip == Chip::Stm32f4 {
                args.extend([
                    "-c".into(),
                    "stm32f4x.cpu configure -event reset-start {}".into(),
                ]);
            }
            for c in [
                "reset_config srst_only srst_nogate connect_assert_srst",
                "init",
                "reset halt",
                "mdw 0x08000000 2",
                "shutdown",
            ] {
                args.extend(["-c".to_owned(), c.to_owned()]);
            }
            let rescued = run_args(openocd, config, &args, TIMEOUT);
            expect(&rescued, what, "processor detected");
            expect(&rescued, what, "halted due to");
            expect(&rescued, what, "0x08000000: 20001000 08000189");
            assert_eq!(rescued.exit, Some(0), "{}", rescued.log);
        }
        Some(FaultId::JtagDisabled) => {
            // Over JTAG it is a dead wire, even under reset (SWD: tests/buspirate.rs).
            expect(out, what, "IR capture error; saw 0x0f not 0x01");
            assert_ne!(out.exit, Some(0));
        }
        Some(FaultId::SlowClockOnly) => {
            // remote_bitbang has no clock control: the board sees full speed, TDO is late, and
            // a lower `adapter speed` never reaches it (over vdebug it does: tests/vdebug.rs).
            expect(out, what, "IR capture error; saw 0x03 not 0x01");
            assert_ne!(out.exit, Some(0));
        }
        Some(FaultId::WrongIrlen | FaultId::BadIrCapture) | None => {}
    }
}

macro_rules! fault_tests {
    ($($name:ident => $fault:ident,)*) => {
        $(
            #[test]
            fn $name() {
                check_fault(FaultId::$fault);
            }
        )*

        /// Adding a fault to the catalogue without a test here fails.
        #[test]
        fn every_catalogue_fault_has_a_test() {
            let tested = [$(FaultId::$fault),*];
            for f in catalogue() {
                assert!(tested.contains(&f.fault), "no OpenOCD test for {}", f.id);
            }
        }
    };
}

fault_tests! {
    fault_tdo_stuck_high => TdoStuckHigh,
    fault_tdo_stuck_low => TdoStuckLow,
    fault_no_server => NoServer,
    fault_drop_mid_session => DropMidSession,
    fault_wrong_chip => WrongChip,
    fault_clone_idcode => CloneIdcode,
    fault_wrong_irlen => WrongIrlen,
    fault_bad_ir_capture => BadIrCapture,
    fault_extra_tap => ExtraTap,
    fault_missing_tap => MissingTap,
    fault_bit_flips => BitFlips,
    fault_dp_no_powerup_ack => DpNoPowerupAck,
    fault_ap_wait_n => ApWaitN,
    fault_ap_wait_forever => ApWaitForever,
    fault_core_never_halts => CoreNeverHalts,
    fault_debug_disabled => DebugDisabled,
    fault_memory_fault_range => MemoryFaultRange,
    fault_rdp_locked => RdpLocked,
    fault_debug_only_under_reset => DebugOnlyUnderReset,
    fault_jtag_disabled => JtagDisabled,
    fault_slow_clock_only => SlowClockOnly,
}

/// The server itself, without OpenOCD: replies, garbage, quit, shutdown.
#[test]
fn server_protocol_and_clean_shutdown() {
    let lab = Lab::start(LabConfig::default(), None).unwrap();
    let port = lab.port();
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Reset the TAP (5 x TMS high), go to Shift-DR and read the first bit of
    // the IDCODE (0x4ba00477 has bit 0 set); garbage bytes are ignored.
    let mut bytes = Vec::new();
    for _ in 0..5 {
        bytes.extend_from_slice(b"26");
    }
    bytes.extend_from_slice(b"04\xff\x00zz2604040R");
    conn.write_all(&bytes).unwrap();
    let mut reply = [0u8; 1];
    conn.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"1");
    // A second client waits while the first is served; quitting frees it.
    conn.write_all(b"Q").unwrap();
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    let mut second = TcpStream::connect(("127.0.0.1", port)).unwrap();
    second.write_all(b"R").unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    second.read_exact(&mut reply).unwrap();
    // Shut down with a client still connected: the thread ends, the port closes.
    let start = Instant::now();
    drop(lab);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(second.read(&mut reply).unwrap_or(0), 0, "connection cut");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port closed"
    );
}

#[test]
fn no_server_port_refuses() {
    let lab = Lab::start(LabConfig::default().with_fault(FaultId::NoServer), None).unwrap();
    assert!(TcpStream::connect(("127.0.0.1", lab.port())).is_err());
}
