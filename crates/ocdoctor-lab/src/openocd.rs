//! Running the real OpenOCD against a lab: its interface config, the target
//! config per chip, and a bounded runner that never leaves a process behind.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{Chip, LabConfig};

/// OpenOCD config text for the lab's adapter: remote_bitbang on 127.0.0.1
/// at `port`, with OpenOCD's own gdb/telnet/tcl servers disabled so that
/// parallel runs never compete for ports.
pub fn interface_cfg(port: u16) -> String {
    format!(
        "# remote_bitbang adapter pointed at an ocdoctor lab on loopback; no servers opened\n\
         adapter driver remote_bitbang\n\
         remote_bitbang host 127.0.0.1\n\
         remote_bitbang port {port}\n\
         gdb_port disabled\n\
         telnet_port disabled\n\
         tcl_port disabled\n"
    )
}

/// The stock OpenOCD target config for a chip (relative to its scripts dir).
pub fn target_cfg(chip: Chip) -> &'static str {
    match chip {
        Chip::Stm32f4 => "target/stm32f4x.cfg",
        Chip::Stm32f1 => "target/stm32f1x.cfg",
    }
}

/// OpenOCD arguments (after the interface part) for a demonstration of
/// `config`: the target config, then the fault's commands from the catalogue
/// (or a healthy session: examine, halt, read memory, probe flash).
pub fn session_args(config: &LabConfig) -> Vec<String> {
    const HEALTHY: &[&str] = &[
        "init",
        "halt 1000",
        "mdw 0x08000000 4",
        "flash probe 0",
        "resume",
        "shutdown",
    ];
    let mut args = vec!["-f".to_owned(), target_cfg(config.chip).to_owned()];
    if config.chip == Chip::Stm32f4 {
        // stm32f4x.cfg changes the adapter speed in its reset-start event,
        // which remote_bitbang refuses at run time; drop that event so that
        // reset commands show the fault, not the speed error.
        args.extend([
            "-c".to_owned(),
            "stm32f4x.cpu configure -event reset-start {}".to_owned(),
        ]);
    }
    let commands = config.fault.map_or(HEALTHY, |f| f.info().commands);
    for c in commands {
        args.extend(["-c".to_owned(), (*c).to_owned()]);
    }
    args
}

/// One OpenOCD run of a demonstration: its arguments (after the interface part) and how long
/// it may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRun {
    pub args: Vec<String>,
    pub timeout: Duration,
}

/// The runs that demonstrate `config`, as `ocdoctor lab demo` and the lab matrix test both do
/// them: [`session_args`], bounded by the fault's `run_secs`, and for faults that only a retry
/// under reset tells apart, that retry (`reset_config srst_only srst_nogate connect_assert_srst`
/// before `init`). Their logs are meant to be read as one.
pub fn session_plan(config: &LabConfig) -> Vec<SessionRun> {
    let info = config.fault.map(|f| f.info());
    let timeout = Duration::from_secs(info.map_or(20, |i| i.run_secs));
    let first = session_args(config);
    let mut plan = vec![SessionRun {
        args: first.clone(),
        timeout,
    }];
    if info.is_some_and(|i| i.retry_under_reset) {
        let mut args = first;
        let at = args
            .iter()
            .position(|a| a == "init")
            .map_or(args.len(), |i| i - 1);
        let under_reset = [
            "-c",
            "reset_config srst_only srst_nogate connect_assert_srst",
            "-c",
            "reset_config",
        ];
        args.splice(at..at, under_reset.iter().map(|s| s.to_string()));
        plan.push(SessionRun { args, timeout });
    }
    plan
}

/// What an OpenOCD run left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    /// stdout and stderr merged in the order OpenOCD wrote them.
    pub log: String,
    /// The exit code; `None` when killed (by us on timeout, or by a signal).
    pub exit: Option<i32>,
    pub timed_out: bool,
}

/// Run `openocd` with the lab's interface config for `lab_port`, then
/// `args`. The run is bounded by `timeout`: on expiry the child is killed and
/// reaped before this returns.
pub fn run_openocd<S: AsRef<OsStr>>(
    openocd: &Path,
    lab_port: u16,
    args: &[S],
    timeout: Duration,
) -> io::Result<RunOutput> {
    run_openocd_with(openocd, &interface_cfg(lab_port), args, timeout)
}

/// [`run_openocd`] with any interface config text (each line becomes a `-c`), such as
/// `buspirate_interface_cfg` for the Bus Pirate lab.
pub fn run_openocd_with<S: AsRef<OsStr>>(
    openocd: &Path,
    interface: &str,
    args: &[S],
    timeout: Duration,
) -> io::Result<RunOutput> {
    // One file as both stdout and stderr keeps OpenOCD's interleaving exact
    // and cannot dead-lock the way two undrained pipes can.
    let log_path = unique_log_path();
    let log_file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&log_path)?;
    let mut cmd = Command::new(openocd);
    for line in interface.lines() {
        if !line.starts_with('#') && !line.trim().is_empty() {
            cmd.arg("-c").arg(line);
        }
    }
    cmd.args(args);
    let result = run_bounded(cmd, &log_file, timeout);
    let log = fs::read(&log_path);
    let _ = fs::remove_file(&log_path);
    let (exit, timed_out) = result?;
    Ok(RunOutput {
        log: String::from_utf8_lossy(&log?).into_owned(),
        exit: exit.and_then(|s| s.code()),
        timed_out,
    })
}

/// Run `cmd` with stdout and stderr into `log`; kill and reap it at
/// `timeout`. Returns the exit status (`None` if we killed it) and whether
/// the timeout expired.
fn run_bounded(
    mut cmd: Command,
    log: &File,
    timeout: Duration,
) -> io::Result<(Option<ExitStatus>, bool)> {
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?);
    let mut child = cmd.spawn()?;
    drop(cmd); // close our copies of the log descriptors
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok((Some(status), false)),
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            // kill() fails only if the child has just exited; wait() reaps
            // it either way, so no zombie is left behind.
            let _ = child.kill();
            child.wait()?;
            return Ok((None, true));
        }
        thread::sleep(pause.min(timeout - elapsed));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn unique_log_path() -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!(
        "ocdoctor-lab-{}-{n}-{nanos}.log",
        std::process::id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_cfg_is_loopback_only() {
        let cfg = interface_cfg(4321);
        assert!(cfg.contains("adapter driver remote_bitbang"));
        assert!(cfg.contains("remote_bitbang host 127.0.0.1\n"));
        assert!(cfg.contains("remote_bitbang port 4321\n"));
        for server in ["gdb_port", "telnet_port", "tcl_port"] {
            assert!(cfg.contains(&format!("{server} disabled")));
        }
    }

    #[test]
    fn timeout_kills_and_reaps() {
        let path = unique_log_path();
        let log = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "echo started; exec sleep 30"]);
        let start = Instant::now();
        let (status, timed_out) = run_bounded(cmd, &log, Duration::from_millis(300)).unwrap();
        assert!(timed_out);
        assert_eq!(status, None);
        assert!(start.elapsed() < Duration::from_secs(5));

        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "exit 3"]);
        let (status, timed_out) = run_bounded(cmd, &log, Duration::from_secs(10)).unwrap();
        assert!(!timed_out);
        assert_eq!(status.and_then(|s| s.code()), Some(3));
        drop(log);
        let written = fs::read_to_string(&path).unwrap();
        let _ = fs::remove_file(&path);
        assert_eq!(written, "started\n");
    }
}
