//! Real OpenOCD, no hardware: run the installed `openocd` in situations whose root cause is known
//! (no probe attached, a missing or broken config, a busy port...), capture what it prints (stdout
//! and stderr merged, in order), feed that to `ocdoctor diagnose - -f json` and check that the
//! expected taxonomy cause ranks first. The log is diagnosed alone (`--no-env`): the machine the
//! tests run on, and the openocd processes of the tests running beside, are not the scenario.
//!
//! Every openocd run is bounded by a timeout and killed + reaped on expiry or when its guard is
//! dropped (a failing assertion included). Every instance gets its own tcl/telnet/gdb ports, picked
//! free on 127.0.0.1, so the tests run in parallel. Logs are generated here and never saved.
//!
//! Without `openocd` on PATH the tests fail, unless `OCDOCTOR_SKIP_LIVE=1` is set.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// A run that should end on its own ends well within this; a hung one is killed.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

// ───────────────────────────── finding openocd ─────────────────────────────

/// The openocd binary, or `None` when the live tests are skipped (`OCDOCTOR_SKIP_LIVE=1`).
/// Panics with a clear message when it is missing and skipping was not asked for.
fn openocd() -> Option<PathBuf> {
    let skip = std::env::var("OCDOCTOR_SKIP_LIVE").is_ok_and(|v| v == "1");
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("openocd"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) if !skip => Some(p),
        _ if skip => {
            eprintln!("OCDOCTOR_SKIP_LIVE=1: skipping a live OpenOCD test");
            None
        }
        _ => panic!(
            "`openocd` is not on PATH: the live tests run the real OpenOCD (Debian/Ubuntu: `sudo apt-get install openocd`). \
             Set OCDOCTOR_SKIP_LIVE=1 to skip them."
        ),
    }
}

macro_rules! require_openocd {
    () => {
        match openocd() {
            Some(p) => p,
            None => return,
        }
    };
}

// ───────────────────────────── ports ─────────────────────────────

/// A TCP port that was free on 127.0.0.1 a moment ago and that no other test in this process got.
fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().expect("local_addr").port();
        drop(l);
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// Explicit server ports for one openocd instance.
struct Ports {
    gdb: u16,
    tcl: u16,
    telnet: u16,
}

impl Ports {
    fn fresh() -> Ports {
        Ports {
            gdb: free_port(),
            tcl: free_port(),
            telnet: free_port(),
        }
    }
    fn args(&self) -> Vec<String> {
        vec![
            "-c".into(),
            format!("gdb_port {}", self.gdb),
            "-c".into(),
            format!("tcl_port {}", self.tcl),
            "-c".into(),
            format!("telnet_port {}", self.telnet),
        ]
    }
}

// ───────────────────────────── running openocd ─────────────────────────────

/// A running openocd whose stdout and stderr go, merged and in order, to one unnamed-on-drop
/// temporary file. Dropping it kills and reaps the process.
struct Running {
    child: Option<Child>,
    out: tempfile::NamedTempFile,
    argv: String,
    _cwd: tempfile::TempDir,
}

impl Running {
    fn start(openocd: &Path, args: &[String]) -> Running {
        let out = tempfile::NamedTempFile::new().expect("temp file for the captured log");
        let w = std::fs::OpenOptions::new()
            .append(true)
            .open(out.path())
            .expect("open capture file");
        let w2 = w.try_clone().expect("clone capture handle");
        // An empty working directory: no stray openocd.cfg is picked up.
        let cwd = tempfile::tempdir().expect("temp dir");
        let child = Command::new(openocd)
            .args(args)
            .current_dir(cwd.path())
            .env_remove("OPENOCD_DEBUG_LEVEL")
            .stdin(Stdio::null())
            .stdout(Stdio::from(w))
            .stderr(Stdio::from(w2))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", openocd.display()));
        let argv = std::iter::once("openocd".to_string())
            .chain(args.iter().map(|a| {
                if a.contains(' ') {
                    format!("\"{a}\"")
                } else {
                    a.clone()
                }
            }))
            .collect::<Vec<_>>()
            .join(" ");
        Running {
            child: Some(child),
            out,
            argv,
            _cwd: cwd,
        }
    }

    /// What it printed so far (lossy UTF-8).
    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.out.path()).unwrap_or_default()).into_owned()
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Wait until `needle` shows up in the output. Returns false if the process exited or the
    /// timeout passed first.
    fn wait_for(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if self.try_status().is_some() || Instant::now() >= deadline {
                return self.log().contains(needle);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the exit (killing it at the deadline) and return what it printed.
    fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let mut timed_out = false;
        let status = loop {
            if let Some(s) = self.try_status() {
                break Some(s);
            }
            if Instant::now() >= deadline {
                timed_out = true;
                break self.kill();
            }
            thread::sleep(Duration::from_millis(20));
        };
        self.child = None;
        Finished {
            log: self.log(),
            status,
            timed_out,
            argv: self.argv.clone(),
        }
    }

    /// Kill and reap; the exit status.
    fn kill(&mut self) -> Option<ExitStatus> {
        let mut c = self.child.take()?;
        let _ = c.kill();
        c.wait().ok()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A finished (or killed) openocd run.
struct Finished {
    log: String,
    status: Option<ExitStatus>,
    timed_out: bool,
    argv: String,
}

impl Finished {
    fn describe(&self) -> String {
        let how = match (&self.status, self.timed_out) {
            (_, true) => "killed by the test (its timeout, or a deliberate stop)".to_string(),
            (Some(s), _) => format!("{s}"),
            (None, _) => "unknown exit".to_string(),
        };
        format!(
            "$ {}\n# {how}\n----- captured log -----\n{}\n----- end of log -----",
            self.argv, self.log
        )
    }
}

fn run_openocd(openocd: &Path, args: &[String]) -> Finished {
    Running::start(openocd, args).finish(RUN_TIMEOUT)
}

fn strs(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Explicit fresh ports first, then the scenario's own arguments.
fn with_ports(scenario: &[&str]) -> Vec<String> {
    let mut v = Ports::fresh().args();
    v.extend(strs(scenario));
    v
}

// ───────────────────────────── diagnosing ─────────────────────────────

struct Diagnosis {
    report: serde_json::Value,
    raw: String,
    exit: Option<i32>,
}

impl Diagnosis {
    fn first_cause(&self) -> Option<&str> {
        self.report["causes"]
            .get(0)
            .and_then(|c| c["cause"].as_str())
    }
    fn outcome(&self) -> Option<&str> {
        self.report["outcome"].as_str()
    }
    fn ranking(&self) -> String {
        self.report["causes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .take(4)
                    .map(|c| format!("{} {}", c["cause"].as_str().unwrap_or("?"), c["confidence"]))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    }
}

/// `ocdoctor diagnose - -f json --no-env` on the log, through stdin.
fn diagnose(log: &str) -> Diagnosis {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        // The log alone: this machine (no USB bus, the other tests' openocd processes) is not
        // part of the scenario.
        .args(["diagnose", "-", "-f", "json", "--no-env"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ocdoctor");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = log.as_bytes().to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for ocdoctor");
    let _ = writer.join();
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = serde_json::from_str(&raw).unwrap_or_else(|e| {
        panic!(
            "ocdoctor did not print JSON ({e}); exit {:?}\nstdout:\n{raw}\nstderr:\n{}\nlog:\n{log}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Diagnosis {
        report,
        raw,
        exit: out.status.code(),
    }
}

/// The scenario check: the run printed what this scenario is about (`marker`), and ocdoctor
/// ranks `cause` first, says the run failed and exits 1.
/// Run the installed openocd with `args` (ports moved out of the way) and require the failure
/// `marker` diagnosed as `cause` first. Skips when openocd is absent (see `openocd()`).
fn scenario(args: &[&str], marker: &str, cause: &str) {
    let Some(oc) = openocd() else { return };
    let run = run_openocd(&oc, &with_ports(args));
    expect_failure(&run, marker, cause);
}

fn expect_failure(run: &Finished, marker: &str, cause: &str) {
    assert!(
        run.log.contains(marker),
        "the scenario did not happen: openocd's output lacks {marker:?} (is a probe attached, or is this another OpenOCD version?)\n{}",
        run.describe()
    );
    let d = diagnose(&run.log);
    let ok = d.first_cause() == Some(cause) && d.outcome() == Some("failed") && d.exit == Some(1);
    assert!(
        ok,
        "expected cause {cause:?} first, outcome \"failed\", exit 1; got first {:?} (ranking: {}), outcome {:?}, exit {:?}\n{}\n----- report -----\n{}",
        d.first_cause(),
        d.ranking(),
        d.outcome(),
        d.exit,
        run.describe(),
        d.raw
    );
}

// ───────────────────────────── probe not found ─────────────────────────────

#[test]
fn stlink_without_probe_is_probe_not_found() {
    scenario(
        &["-f", "interface/stlink.cfg", "-f", "target/stm32f4x.cfg"],
        "open failed",
        "probe-not-found",
    );
}

#[test]
fn stlink_dap_without_probe_is_probe_not_found() {
    scenario(
        &[
            "-f",
            "interface/stlink-dap.cfg",
            "-f",
            "target/stm32f4x.cfg",
        ],
        "open failed",
        "probe-not-found",
    );
}

#[test]
fn jlink_without_probe_is_probe_not_found() {
    scenario(
        &[
            "-f",
            "interface/jlink.cfg",
            "-c",
            "transport select swd",
            "-f",
            "target/nrf52.cfg",
        ],
        "No J-Link device found",
        "probe-not-found",
    );
}

#[test]
fn cmsis_dap_without_probe_is_probe_not_found() {
    scenario(
        &["-f", "interface/cmsis-dap.cfg", "-f", "target/rp2040.cfg"],
        "unable to find a matching CMSIS-DAP device",
        "probe-not-found",
    );
}

#[test]
fn ftdi_olimex_without_probe_is_probe_not_found() {
    scenario(
        &[
            "-f",
            "interface/ftdi/olimex-arm-usb-ocd-h.cfg",
            "-f",
            "target/stm32f1x.cfg",
        ],
        "unable to open ftdi device",
        "probe-not-found",
    );
}

#[test]
fn ftdi_esp32_wrover_board_without_probe_is_probe_not_found() {
    scenario(
        &["-f", "board/esp32-wrover-kit-3.3v.cfg"],
        "unable to open ftdi device",
        "probe-not-found",
    );
}

#[test]
fn esp_usb_jtag_without_probe_is_probe_not_found() {
    scenario(
        &[
            "-c",
            "adapter driver esp_usb_jtag",
            "-f",
            "target/esp32s3.cfg",
        ],
        "esp_usb_jtag: could not find or open device",
        "probe-not-found",
    );
}

#[test]
fn xds110_without_probe_is_probe_not_found() {
    scenario(
        &["-f", "board/ti_cc26x2_launchpad.cfg"],
        "XDS110: failed to connect",
        "probe-not-found",
    );
}

/// remote_bitbang to a port nobody listens on: the "adapter" (a simulator, a remote probe
/// server) is not there.
#[test]
fn remote_bitbang_to_closed_port_is_probe_not_found() {
    let oc = require_openocd!();
    let closed = free_port(); // bound and released: nothing listens there
    let rbb_port = format!("remote_bitbang port {closed}");
    let run = run_openocd(
        &oc,
        &with_ports(&[
            "-c",
            "adapter driver remote_bitbang",
            "-c",
            "remote_bitbang host 127.0.0.1",
            "-c",
            &rbb_port,
            "-f",
            "target/stm32f1x.cfg",
        ]),
    );
    expect_failure(&run, "Failed to connect", "probe-not-found");
}

// ───────────────────────────── configuration ─────────────────────────────

#[test]
fn missing_interface_cfg_is_config_not_found() {
    scenario(
        &["-f", "interface/doesnotexist.cfg"],
        "Can't find interface/doesnotexist.cfg",
        "config-not-found",
    );
}

#[test]
fn typo_in_command_is_config_error() {
    scenario(
        &["-c", "adaptr driver dummy"],
        "invalid command name \"adaptr\"",
        "config-error",
    );
}

/// A misspelt subcommand (`adapter speeed`): OpenOCD 0.12 prints the group's usage and exits 1
/// without an error line of its own.
#[test]
fn typo_in_subcommand_is_config_error() {
    scenario(
        &["-c", "adapter driver dummy", "-c", "adapter speeed 1000"],
        "  adapter speed [khz]",
        "config-error",
    );
}

/// A 0.10-era config file: `interface` still works in 0.12 (with a DEPRECATED! echo), but
/// `jtag_khz` was removed in 0.12 and now fails as an invalid command inside the file.
#[test]
fn removed_command_in_old_cfg_file_is_deprecated_config() {
    let oc = require_openocd!();
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = dir.path().join("old-board.cfg");
    std::fs::write(
        &cfg,
        "# written for OpenOCD 0.10\ninterface dummy\njtag_khz 1000\n",
    )
    .expect("write cfg");
    let cfg = cfg.display().to_string();
    let run = run_openocd(&oc, &with_ports(&["-f", &cfg]));
    expect_failure(
        &run,
        "invalid command name \"jtag_khz\"",
        "deprecated-config",
    );
}

/// The same removed command given with `-c` (no file, no traceback).
#[test]
fn removed_command_on_command_line_is_deprecated_config() {
    scenario(
        &[
            "-c",
            "adapter driver dummy",
            "-c",
            "stlink_serial 0668FF123456",
        ],
        "invalid command name \"stlink_serial\"",
        "deprecated-config",
    );
}

/// A target cfg with no interface before it. OpenOCD exits 0 here, yet nothing ran.
#[test]
fn target_without_interface_is_config_error() {
    scenario(
        &["-f", "target/stm32f4x.cfg"],
        "Debug adapter does not support any transports",
        "config-error",
    );
}

#[test]
fn transport_selected_twice_is_transport_mismatch() {
    scenario(
        &[
            "-c",
            "adapter driver dummy",
            "-c",
            "transport select jtag",
            "-c",
            "transport select swd",
        ],
        "Can't change session's transport",
        "transport-mismatch",
    );
}

/// `-d 3` (with a space) makes `3` a stray argument.
#[test]
fn debug_level_with_space_is_config_error() {
    let oc = require_openocd!();
    let mut args = strs(&["-d", "3"]);
    args.extend(with_ports(&[
        "-c",
        "adapter driver dummy",
        "-c",
        "shutdown",
    ]));
    let run = run_openocd(&oc, &args);
    expect_failure(&run, "Unexpected command line argument: 3", "config-error");
}

// ───────────────────────────── busy ports ─────────────────────────────

/// Dummy adapter, one TAP, no target: configures, runs `init` (with a garbage chain) and stays up.
const DUMMY_JTAG: &[&str] = &[
    "-c",
    "adapter driver dummy",
    "-c",
    "transport select jtag",
    "-c",
    "jtag newtap x cpu -irlen 4",
];

/// remote_bitbang to the one-TAP simulator (see `mod tap`, a fresh one per call) with a MIPS
/// target on that TAP: `init` is clean and the gdb server starts.
fn sim_target() -> Vec<String> {
    let port = tap::serve_one();
    strs(&[
        "-c",
        "adapter driver remote_bitbang",
        "-c",
        "remote_bitbang host 127.0.0.1",
        "-c",
        &format!("remote_bitbang port {port}"),
        "-c",
        "transport select jtag",
        "-c",
        "jtag newtap x cpu -irlen 4 -expected-id 0x4ba00477",
        "-c",
        "target create x.cpu mips_m4k -chain-position x.cpu",
    ])
}

fn args_with(ports: &Ports, rest: &[&str]) -> Vec<String> {
    let mut v = ports.args();
    v.extend(strs(rest));
    v
}

fn args_with_owned(ports: &Ports, rest: &[String]) -> Vec<String> {
    let mut v = ports.args();
    v.extend_from_slice(rest);
    v
}

/// Start the holder and wait until it listens; panics with its log if it does not.
fn start_holder(oc: &Path, args: &[String], listening: &str) -> Running {
    let mut holder = Running::start(oc, args);
    if !holder.wait_for(listening, RUN_TIMEOUT) {
        let log = holder.log();
        panic!(
            "the first openocd never printed {listening:?}:\n$ {}\n{log}",
            holder.argv
        );
    }
    holder
}

/// A first openocd holds one server port (`tcl` or `telnet`); a second one wants the same port.
fn busy_server_port(kind: &str) {
    let oc = require_openocd!();
    let a = Ports::fresh();
    let port = if kind == "tcl" { a.tcl } else { a.telnet };
    let _holder = start_holder(
        &oc,
        &args_with(&a, DUMMY_JTAG),
        &format!("Listening on port {port} for {kind}"),
    );
    let b = if kind == "tcl" {
        Ports {
            tcl: port,
            ..Ports::fresh()
        }
    } else {
        Ports {
            telnet: port,
            ..Ports::fresh()
        }
    };
    let run = Running::start(&oc, &args_with(&b, DUMMY_JTAG)).finish(RUN_TIMEOUT);
    expect_failure(
        &run,
        &format!("couldn't bind {kind} to socket on port {port}"),
        "port-in-use",
    );
}

#[test]
fn busy_tcl_port_is_port_in_use() {
    busy_server_port("tcl");
}

#[test]
fn busy_telnet_port_is_port_in_use() {
    busy_server_port("telnet");
}

/// In 0.12 a gdb port that cannot be bound is not fatal: the second openocd logs the error and
/// runs on without a gdb server. Both instances talk to their own one-TAP simulator, so the
/// second one's log is clean but for the bind error. Give it time to print the error, then kill
/// it and diagnose what it printed.
#[test]
fn busy_gdb_port_is_port_in_use() {
    let oc = require_openocd!();
    let a = Ports::fresh();
    let listening = format!("Listening on port {} for gdb", a.gdb);
    let _holder = start_holder(&oc, &args_with_owned(&a, &sim_target()), &listening);
    let b = Ports {
        gdb: a.gdb,
        ..Ports::fresh()
    };
    let mut second = Running::start(&oc, &args_with_owned(&b, &sim_target()));
    let marker = format!("couldn't bind gdb to socket on port {}", a.gdb);
    if second.wait_for(&marker, RUN_TIMEOUT) {
        // Let it print whatever follows the bind error, then stop it.
        thread::sleep(Duration::from_millis(300));
    }
    let run = second.finish(Duration::ZERO);
    expect_failure(&run, &marker, "port-in-use");
}

// ───────────────────────────── a healthy run ─────────────────────────────

/// A one-TAP JTAG chain behind OpenOCD's remote_bitbang protocol: IDCODE and BYPASS only,
/// IR length 4, IR capture 0b0001. Enough for a clean `init` with no errors.
mod tap {
    use super::*;

    const IDCODE: u32 = 0x4ba0_0477;
    const IRLEN: u32 = 4;
    const IR_IDCODE: u32 = 0b1110;

    #[derive(Copy, Clone, PartialEq, Eq)]
    enum S {
        Tlr,
        Rti,
        SelDr,
        CapDr,
        ShDr,
        Ex1Dr,
        PDr,
        Ex2Dr,
        UpdDr,
        SelIr,
        CapIr,
        ShIr,
        Ex1Ir,
        PIr,
        Ex2Ir,
        UpdIr,
    }

    fn next(s: S, tms: bool) -> S {
        use S::*;
        match (s, tms) {
            (Tlr, false) | (Rti, false) | (UpdDr, false) | (UpdIr, false) => Rti,
            (Tlr, true) | (SelIr, true) => Tlr,
            (Rti, true) | (UpdDr, true) | (UpdIr, true) => SelDr,
            (SelDr, false) => CapDr,
            (SelDr, true) => SelIr,
            (CapDr, false) | (ShDr, false) | (Ex2Dr, false) => ShDr,
            (CapDr, true) | (ShDr, true) => Ex1Dr,
            (Ex1Dr, false) | (PDr, false) => PDr,
            (Ex1Dr, true) | (Ex2Dr, true) => UpdDr,
            (PDr, true) => Ex2Dr,
            (SelIr, false) => CapIr,
            (CapIr, false) | (ShIr, false) | (Ex2Ir, false) => ShIr,
            (CapIr, true) | (ShIr, true) => Ex1Ir,
            (Ex1Ir, false) | (PIr, false) => PIr,
            (Ex1Ir, true) | (Ex2Ir, true) => UpdIr,
            (PIr, true) => Ex2Ir,
        }
    }

    struct Tap {
        state: S,
        tck: bool,
        tms: bool,
        tdi: bool,
        ir: u32,
        ir_sr: u32,
        dr_sr: u32,
        dr_len: u32,
    }

    impl Tap {
        fn new() -> Tap {
            Tap {
                state: S::Tlr,
                tck: false,
                tms: false,
                tdi: false,
                ir: IR_IDCODE,
                ir_sr: 0,
                dr_sr: 0,
                dr_len: 1,
            }
        }
        fn tdo(&self) -> bool {
            match self.state {
                S::ShDr => self.dr_sr & 1 == 1,
                S::ShIr => self.ir_sr & 1 == 1,
                _ => true,
            }
        }
        fn rising_edge(&mut self) {
            let tdi = u32::from(self.tdi);
            match self.state {
                S::Tlr => self.ir = IR_IDCODE,
                S::CapDr => {
                    (self.dr_sr, self.dr_len) = if self.ir == IR_IDCODE {
                        (IDCODE, 32)
                    } else {
                        (0, 1)
                    };
                }
                S::ShDr => self.dr_sr = (self.dr_sr >> 1) | (tdi << (self.dr_len - 1)),
                S::CapIr => self.ir_sr = 0b0001,
                S::ShIr => self.ir_sr = (self.ir_sr >> 1) | (tdi << (IRLEN - 1)),
                S::UpdIr => self.ir = self.ir_sr,
                _ => {}
            }
            self.state = next(self.state, self.tms);
        }
    }

    /// Serve one connection on a fresh 127.0.0.1 port; returns the port.
    pub fn serve_one() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the TAP simulator");
        let port = listener.local_addr().expect("local_addr").port();
        thread::spawn(move || {
            // Stop waiting if openocd never connects, so the thread cannot outlive the test for long.
            listener.set_nonblocking(true).ok();
            let deadline = Instant::now() + RUN_TIMEOUT;
            let conn = loop {
                match listener.accept() {
                    Ok((c, _)) => break c,
                    Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                    Err(_) => return,
                }
            };
            conn.set_nonblocking(false).ok();
            conn.set_read_timeout(Some(RUN_TIMEOUT)).ok();
            handle(conn);
        });
        port
    }

    fn handle(mut conn: TcpStream) {
        let _ = conn.set_nodelay(true);
        let mut tap = Tap::new();
        let mut buf = [0u8; 4096];
        let mut out = Vec::new();
        loop {
            let n = match conn.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            for &c in &buf[..n] {
                match c {
                    b'0'..=b'7' => {
                        let v = c - b'0';
                        let tck = v & 4 != 0;
                        tap.tms = v & 2 != 0;
                        tap.tdi = v & 1 != 0;
                        if tck && !tap.tck {
                            tap.rising_edge();
                        }
                        tap.tck = tck;
                    }
                    b'R' => out.push(if tap.tdo() { b'1' } else { b'0' }),
                    // 'r'..'u': reset lines, value - 'r' = trst << 1 | srst; TRST resets the TAP.
                    b't' | b'u' => {
                        tap.state = S::Tlr;
                        tap.ir = IR_IDCODE;
                    }
                    b'Q' => return,
                    _ => {}
                }
            }
            if !out.is_empty() {
                if conn.write_all(&out).is_err() {
                    return;
                }
                out.clear();
            }
        }
    }
}

/// A clean start-up and shutdown through remote_bitbang to a one-TAP chain with a MIPS target
/// on it (its examine asks nothing of the TAP that this one cannot answer): the chain is found,
/// the gdb server listens, no error. ocdoctor must say the run is fine (outcome "ok", exit 0)
/// and not invent problems.
#[test]
fn healthy_run_is_ok() {
    let oc = require_openocd!();
    let ports = Ports::fresh();
    let gdb_listening = format!("Listening on port {} for gdb connections", ports.gdb);
    let mut args = args_with_owned(&ports, &sim_target());
    args.extend(strs(&["-c", "init", "-c", "shutdown"]));
    let run = run_openocd(&oc, &args);
    assert!(
        run.log
            .contains("JTAG tap: x.cpu tap/device found: 0x4ba00477")
            && run.log.contains(&gdb_listening)
            && !run.log.contains("Error")
            && run.status.is_some_and(|s| s.success()),
        "the healthy run was not clean:\n{}",
        run.describe()
    );
    let d = diagnose(&run.log);
    assert!(
        d.outcome() == Some("ok") && d.exit == Some(0),
        "a clean run must be reported as ok with exit 0; got outcome {:?}, exit {:?}, ranking: {}\n{}\n----- report -----\n{}",
        d.outcome(),
        d.exit,
        d.ranking(),
        run.describe(),
        d.raw
    );
}

/// The banner of the installed Debian/upstream 0.12.0 build is read as version 0.12.0, upstream.
#[test]
fn banner_version_and_flavor() {
    let oc = require_openocd!();
    let run = run_openocd(&oc, &with_ports(&["-f", "interface/doesnotexist.cfg"]));
    let d = diagnose(&run.log);
    let banner = run_openocd(&oc, &strs(&["--version"])).log;
    if !banner.starts_with("Open On-Chip Debugger 0.12.0\n") {
        eprintln!("not the plain 0.12.0 build ({banner:?}); the flavor check only applies to it");
        return;
    }
    assert_eq!(
        d.report["openocd"]["version"],
        "0.12.0",
        "{}\n{}",
        run.describe(),
        d.raw
    );
    assert_eq!(
        d.report["openocd"]["flavor"],
        "upstream",
        "a plain `Open On-Chip Debugger 0.12.0` banner is an upstream build\n{}\n{}",
        run.describe(),
        d.raw
    );
}
