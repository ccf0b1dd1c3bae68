//! One bounded openocd run: a real child process, stdout and stderr into one file (OpenOCD's
//! interleaving kept, no pipe to dead-lock on), killed and reaped at its time bound.

use std::fs::{self, File};
use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// What a run left behind.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub log: Vec<u8>,
    /// `None` when killed (by us at the time bound, or by a signal).
    pub exit: Option<i32>,
    pub timed_out: bool,
    pub elapsed: Duration,
}

pub fn run_bounded(program: &str, args: &[String], timeout: Duration) -> io::Result<RunOutput> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let path: PathBuf = std::env::temp_dir().join(format!(
        "ocdoctor-investigate-{}-{}.log",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    let result = wait_bounded(program, args, timeout, &file);
    let log = fs::read(&path);
    let _ = fs::remove_file(&path);
    let (exit, timed_out, elapsed) = result?;
    Ok(RunOutput {
        log: log?,
        exit,
        timed_out,
        elapsed,
    })
}

fn wait_bounded(
    program: &str,
    args: &[String],
    timeout: Duration,
    log: &File,
) -> io::Result<(Option<i32>, bool, Duration)> {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .spawn()?;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status.code(), false, start.elapsed()));
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            // kill() fails only if it has just exited; wait() reaps it either way.
            let _ = child.kill();
            child.wait()?;
            return Ok((None, true, start.elapsed()));
        }
        thread::sleep(pause.min(timeout - elapsed));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hanging_child_is_killed_at_its_bound() {
        let args = ["-c".to_string(), "echo started; exec sleep 30".to_string()];
        let out = run_bounded("/bin/sh", &args, Duration::from_millis(300)).unwrap();
        assert!(out.timed_out);
        assert_eq!(out.exit, None);
        assert_eq!(out.log, b"started\n");
        assert!(out.elapsed < Duration::from_secs(5));
    }
}
