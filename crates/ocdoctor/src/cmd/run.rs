//! `ocdoctor run -- openocd …`: a transparent wrapper. OpenOCD's bytes go to the same streams,
//! unbuffered and unchanged; stdin is passed through (gdb `pipe` mode); signals are forwarded;
//! the exit status is OpenOCD's. Meanwhile the output is scanned, and when the run has failed —
//! including failures after which OpenOCD keeps running (scan-chain errors, a failed examine,
//! a busy gdb port) — the diagnosis goes to stderr as soon as it is certain. The full log is
//! kept in `.ocdoctor/last.log` (or `--log FILE`).

use ocdoctor_core::{Hints, render, scanner};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the output must stay quiet after an error before the failure counts as certain
/// (OpenOCD prints a failure's lines in one burst).
const QUIET_AFTER_ERROR: Duration = Duration::from_millis(300);

/// How long OpenOCD's output is only passed through and held before scanning starts.
const STARTUP_GRACE: Duration = Duration::from_millis(400);

enum Chunk {
    Out(Vec<u8>),
    Err(Vec<u8>),
    Eof,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Also keep the full log here (default: .ocdoctor/last.log).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Diagnose the log alone; never look at this machine (give it before `--`).
    #[arg(long)]
    no_env: bool,
    /// The command: `ocdoctor run -- openocd -f board/x.cfg`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    command: Vec<String>,
}

/// Run and exit with OpenOCD's status (this never returns on success).
pub fn main(args: RunArgs, color: bool) -> Result<u8, super::UsageError> {
    let code = run(RunOptions {
        argv: args.command,
        log: args.log,
        color,
        env: !args.no_env,
    })
    .map_err(super::UsageError)?;
    std::process::exit(code);
}

pub struct RunOptions {
    pub argv: Vec<String>,
    pub log: Option<PathBuf>,
    pub color: bool,
    /// Join a diagnosis with this machine (`ocdoctor env`); off with `run --no-env`.
    pub env: bool,
}

/// Returns the process exit code to use (OpenOCD's), or an error message (exit 2).
pub fn run(opts: RunOptions) -> Result<i32, String> {
    let Some((program, args)) = opts.argv.split_first() else {
        return Err("nothing to run: `ocdoctor run -- openocd -f …`".into());
    };
    let log_path = opts
        .log
        .clone()
        .unwrap_or_else(|| PathBuf::from(".ocdoctor/last.log"));
    let mut log_file = open_log(&log_path);

    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(target_os = "linux")]
    die_with_the_wrapper(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    #[cfg(unix)]
    let _forwarder = forward_signals(child.id());

    let (tx, rx) = mpsc::channel::<Chunk>();
    let mut readers = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            pump(&mut out, &mut std::io::stdout(), &tx, Chunk::Out)
        }));
    }
    if let Some(mut err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            pump(&mut err, &mut std::io::stderr(), &tx, Chunk::Err)
        }));
    }
    drop(tx);

    // OpenOCD's start-up (adapter, chain scan, examine, the ready line) happens in its first
    // few hundred milliseconds. Compiling the scanner (~25 ms of CPU) right then competes with
    // it on a small machine, so the chunks are only held (and logged) until start-up is over.
    let mut open_streams = readers.len();
    let mut held: Vec<Vec<u8>> = Vec::new();
    let grace_end = Instant::now() + STARTUP_GRACE;
    while open_streams > 0 {
        let left = grace_end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match rx.recv_timeout(left) {
            Ok(Chunk::Out(b) | Chunk::Err(b)) => {
                log_bytes(&mut log_file, &b);
                held.push(b);
            }
            Ok(Chunk::Eof) => open_streams -= 1,
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => open_streams = 0,
        }
    }
    let sc = scanner();
    let mut scan = sc.start();
    for b in held {
        scan.feed(&b);
    }
    let mut last_error_at: Option<Instant> = None;
    let mut errors_seen = 0u64;
    let mut diagnosed_errors = 0u64;
    while open_streams > 0 {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Chunk::Out(b) | Chunk::Err(b)) => {
                scan.feed(&b);
                log_bytes(&mut log_file, &b);
            }
            Ok(Chunk::Eof) => open_streams -= 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        // Has the run failed while OpenOCD keeps running? Decide once the burst of error lines
        // is over, so the diagnosis does not interleave with OpenOCD's own lines.
        // Borrowed, not cloned: this runs for every chunk OpenOCD writes.
        let so_far = scan.so_far();
        let peek_errors = so_far.first_error.is_some() as u64 + so_far.unexplained_error_count;
        if peek_errors > errors_seen {
            errors_seen = peek_errors;
            last_error_at = Some(Instant::now());
        }
        if errors_seen > diagnosed_errors
            && last_error_at.is_some_and(|t| t.elapsed() >= QUIET_AFTER_ERROR)
        {
            let snapshot = scan.peek();
            let report = ocdoctor_core::report_from_scan(
                snapshot.clone(),
                Some(&log_path.display().to_string()),
                &Hints::default(),
            );
            if report.outcome == "failed" {
                let report = with_env(report, snapshot, &log_path, opts.env, None);
                print_diagnosis(&report, opts.color, "OpenOCD is still running");
            }
            diagnosed_errors = errors_seen;
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {program}: {e}"))?;
    if let Some(f) = log_file.as_mut() {
        let _ = f.flush();
    }

    let result = scan.finish();
    // The chip-identity reading needs the text; the log file holds it (skipped when huge).
    let text = std::fs::metadata(&log_path)
        .ok()
        .filter(|m| m.len() <= ocdoctor_engine::log::KEEP_LOG_BYTES as u64)
        .and_then(|_| std::fs::read(&log_path).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let reading = text
        .as_deref()
        .and_then(ocdoctor_engine::chip::IdReading::of);
    let report = ocdoctor_engine::chip::report_with_reading(
        result.clone(),
        Some(&log_path.display().to_string()),
        Hints::default(),
        reading.as_ref(),
    );
    // A non-zero exit with nothing recognised (`--help` exits 255) is not worth a diagnosis.
    let failed = report.outcome == "failed" || (!status.success() && !report.findings.is_empty());
    let already_said =
        diagnosed_errors > 0 && errors_seen == diagnosed_errors && report.outcome == "failed";
    if failed && !already_said {
        let report = with_env(report, result, &log_path, opts.env, reading.as_ref());
        print_diagnosis(&report, opts.color, "OpenOCD exited");
    }
    Ok(exit_code_of(status))
}

/// Copy one of OpenOCD's streams to ours as soon as bytes arrive (the pass-through never waits
/// for the scanner), then hand a copy to the main loop for scanning and the log file.
fn pump(
    r: &mut dyn Read,
    out: &mut dyn Write,
    tx: &mpsc::Sender<Chunk>,
    wrap: fn(Vec<u8>) -> Chunk,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let _ = out.write_all(&buf[..n]);
                let _ = out.flush();
                if tx.send(wrap(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Chunk::Eof);
}

fn open_log(path: &Path) -> Option<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    // The log is a convenience: failing to keep it must not stop OpenOCD from running.
    std::fs::File::create(path).ok()
}

fn log_bytes(f: &mut Option<std::fs::File>, b: &[u8]) {
    if let Some(file) = f.as_mut() {
        if file.write_all(b).is_err() {
            *f = None;
        }
    }
}

/// The log alone decides whether there is a diagnosis to print (no machine reads while OpenOCD
/// runs); only then is the machine looked at (`ocdoctor env`, including the installs'
/// `--version`) and the log joined with it.
fn with_env(
    report: ocdoctor_core::Report,
    scan: ocdoctor_core::ScanResult,
    log_path: &Path,
    env: bool,
    reading: Option<&ocdoctor_engine::chip::IdReading>,
) -> ocdoctor_core::Report {
    if !env {
        return report;
    }
    let opts = ocdoctor_env::CollectOptions::for_this_machine();
    let version = scan.banner.as_ref().map(|b| b.version.to_string());
    let hints =
        ocdoctor_engine::envjoin::hints_from_env(&ocdoctor_env::collect(&opts), version.as_deref());
    ocdoctor_engine::chip::report_with_reading(
        scan,
        Some(&log_path.display().to_string()),
        hints,
        reading,
    )
}

fn print_diagnosis(report: &ocdoctor_core::Report, color: bool, when: &str) {
    let color = color && std::io::stderr().is_terminal();
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "\n── ocdoctor ({when}) ──");
    let _ = e.write_all(render::text(report, color).as_bytes());
    let _ = e.flush();
}

#[cfg(unix)]
fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        // Die the way OpenOCD died, so the caller sees the same wait status.
        let _ = signal_hook::low_level::emulate_default_handler(sig);
        return 128 + sig;
    }
    status.code().unwrap_or(1)
}

#[cfg(not(unix))]
fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

/// Forward SIGINT, SIGTERM and SIGHUP to OpenOCD. A terminal's Ctrl-C already reaches the
/// whole process group; an IDE's `kill` reaches only us, so we pass it on.
#[cfg(unix)]
fn forward_signals(child: u32) -> Option<std::thread::JoinHandle<()>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).ok()?;
    let pid = rustix::process::Pid::from_raw(i32::try_from(child).ok()?)?;
    Some(std::thread::spawn(move || {
        for sig in signals.forever() {
            let s = match sig {
                SIGINT => rustix::process::Signal::INT,
                SIGTERM => rustix::process::Signal::TERM,
                _ => rustix::process::Signal::HUP,
            };
            let _ = rustix::process::kill_process(pid, s);
        }
    }))
}

/// An IDE that stops a session with SIGKILL kills only us: without this, OpenOCD would run on,
/// orphaned, holding the probe and the gdb port. The kernel sends it SIGTERM when we die.
// `pre_exec` has no safe equivalent; this is the one place the workspace allows `unsafe`.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_the_wrapper(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let wrapper = rustix::process::getpid();
    // SAFETY: the closure runs in the forked child before exec and only makes two system
    // calls (prctl, getppid); it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))?;
            // The wrapper may have died between fork and prctl: then nobody would signal us.
            if rustix::process::getppid() != Some(wrapper) {
                return Err(std::io::Error::other("ocdoctor run exited while starting"));
            }
            Ok(())
        });
    }
}
