//! `ocdoctor run -- openocd …` is indistinguishable from openocd: same bytes on the same
//! streams, same exit status, signals forwarded; plus a diagnosis on stderr when the run fails.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn have_openocd() -> bool {
    if Command::new("openocd").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("OCDOCTOR_SKIP_LIVE").is_some(),
        "openocd is not installed (set OCDOCTOR_SKIP_LIVE=1 to skip)"
    );
    false
}

fn quiet_ports() -> Vec<&'static str> {
    vec![
        "-c",
        "gdb_port disabled",
        "-c",
        "tcl_port disabled",
        "-c",
        "telnet_port disabled",
    ]
}

fn direct(args: &[&str]) -> Output {
    Command::new("openocd")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openocd runs")
}

fn wrapped(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .current_dir(dir)
        .arg("run")
        .arg("--")
        .arg("openocd")
        .args(args)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .output()
        .expect("ocdoctor runs")
}

/// The wrapper's stderr is OpenOCD's stderr followed, on failure, by the diagnosis.
fn split_diagnosis(stderr: &[u8]) -> (&[u8], Option<String>) {
    let marker = b"\n\xe2\x94\x80\xe2\x94\x80 ocdoctor (";
    match stderr.windows(marker.len()).position(|w| w == marker) {
        Some(i) => (
            &stderr[..i],
            Some(String::from_utf8_lossy(&stderr[i..]).into_owned()),
        ),
        None => (stderr, None),
    }
}

#[test]
fn same_bytes_and_exit_codes_as_openocd() {
    if !have_openocd() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let scenarios: Vec<(Vec<&str>, bool)> = vec![
        (vec!["--version"], false),
        (vec!["--help"], false),
        (vec!["-f", "interface/doesnotexist.cfg"], true),
        (vec!["-c", "adaptr driver dummy"], true),
        (vec!["-d", "3"], true),
        (vec!["--bogus-option"], true),
        (
            [
                vec!["-f", "interface/stlink.cfg", "-f", "target/stm32f4x.cfg"],
                quiet_ports(),
            ]
            .concat(),
            true,
        ),
        (
            [
                vec!["-f", "interface/jlink.cfg", "-f", "target/stm32f1x.cfg"],
                quiet_ports(),
            ]
            .concat(),
            true,
        ),
        (
            [
                vec!["-f", "interface/cmsis-dap.cfg", "-f", "target/rp2040.cfg"],
                quiet_ports(),
            ]
            .concat(),
            true,
        ),
        (
            [
                vec!["-c", "adapter driver dummy", "-c", "transport select jtag"],
                quiet_ports(),
                vec!["-c", "shutdown"],
            ]
            .concat(),
            false,
        ),
        (vec!["-c", "exit"], true),
        (
            [vec!["-f", "target/stm32f4x.cfg"], quiet_ports()].concat(),
            true,
        ),
    ];
    for (args, expect_diagnosis) in &scenarios {
        let d = direct(args);
        let w = wrapped(args, tmp.path());
        assert_eq!(
            w.status.code(),
            d.status.code(),
            "exit code differs for {args:?}"
        );
        assert_eq!(w.stdout, d.stdout, "stdout differs for {args:?}");
        let (openocd_part, diagnosis) = split_diagnosis(&w.stderr);
        assert_eq!(
            without_ms(openocd_part),
            without_ms(&d.stderr),
            "stderr differs for {args:?}"
        );
        assert_eq!(
            diagnosis.is_some(),
            *expect_diagnosis,
            "diagnosis shown = {} for {args:?}: {diagnosis:?}",
            diagnosis.is_some()
        );
        let kept = std::fs::read(tmp.path().join(".ocdoctor/last.log")).expect("log kept");
        assert_eq!(
            without_ms(&kept).len(),
            without_ms(&[d.stdout.clone(), d.stderr.clone()].concat()).len(),
            "kept log for {args:?}"
        );
    }
}

/// Send `signal` to the wrapper only (as an IDE's stop button does) while OpenOCD serves; the
/// wrapper must pass it on and die the way OpenOCD died (0.12: SIGTERM → 143, SIGHUP → 129).
#[cfg(unix)]
fn signal_reaches_openocd(signal: &str, number: i32) {
    use std::os::unix::process::ExitStatusExt;
    if !have_openocd() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tcl = format!("tcl_port {port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .current_dir(tmp.path())
        .args([
            "run",
            "--",
            "openocd",
            "-c",
            "adapter driver dummy",
            "-c",
            "transport select jtag",
        ])
        .args([
            "-c",
            "gdb_port disabled",
            "-c",
            "telnet_port disabled",
            "-c",
            &tcl,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "openocd never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("wrapper did not stop on SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.signal() == Some(number) || status.code() == Some(128 + number),
        "SIG{signal}: status {status:?}"
    );
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "openocd still running after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL cannot be forwarded: the kernel stops OpenOCD with the wrapper (parent-death
/// signal), so no orphan keeps the probe and the ports.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_of_the_wrapper_leaves_no_openocd_behind() {
    signal_reaches_openocd("KILL", 9);
}

#[cfg(unix)]
#[test]
fn sigterm_reaches_openocd_and_the_status_matches() {
    signal_reaches_openocd("TERM", 15);
}

#[cfg(unix)]
#[test]
fn sighup_reaches_openocd_and_the_status_matches() {
    signal_reaches_openocd("HUP", 1);
}

/// `-d3` lines carry milliseconds since start, which differ between any two runs.
fn without_ms(b: &[u8]) -> String {
    let re = regex_lite_ms();
    re.replace_all(&String::from_utf8_lossy(b), "$1 ${2}MS ")
        .into_owned()
}

fn regex_lite_ms() -> regex::Regex {
    regex::Regex::new(r"(?m)^(User |Debug|Info |Warn |Error): (\d+ )\d+ ").unwrap()
}

/// A JTAG id mismatch does not stop OpenOCD: it keeps serving gdb. The wrapper must say so
/// while OpenOCD runs, without killing it.
#[test]
fn failure_that_keeps_openocd_running_is_diagnosed_while_it_runs() {
    use std::io::{BufRead, BufReader};
    if !have_openocd() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let config = ocdoctor_lab::LabConfig::new(ocdoctor_lab::Chip::Stm32f4)
        .with_fault("wrong-chip".parse().unwrap());
    let lab = ocdoctor_lab::Lab::start(config, None).unwrap();
    let cfg = tmp.path().join("lab.cfg");
    std::fs::write(&cfg, ocdoctor_lab::interface_cfg(lab.port())).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .current_dir(tmp.path())
        .args([
            "run",
            "--",
            "openocd",
            "-f",
            cfg.to_str().unwrap(),
            "-f",
            "target/stm32f4x.cfg",
        ])
        .args([
            "-c",
            "gdb_port disabled",
            "-c",
            "telnet_port disabled",
            "-c",
            "tcl_port disabled",
            "-c",
            "init",
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.contains("idcode-mismatch") {
                let _ = tx.send(text.clone());
            }
        }
        let _ = tx.send(text);
    });
    let got = rx.recv_timeout(Duration::from_secs(15));
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let text = got.expect("the wrapper printed something");
    assert!(
        text.contains("ocdoctor (OpenOCD is still running)"),
        "no live diagnosis:\n{text}"
    );
    assert!(text.contains("idcode-mismatch"), "wrong diagnosis:\n{text}");
    assert!(still_running, "the wrapper must not stop OpenOCD");
}

/// gdb's `target remote | ocdoctor run -- openocd -c "gdb_port pipe" …`: the remote protocol
/// flows through the wrapper's stdin/stdout untouched.
#[test]
fn gdb_pipe_mode_works_through_the_wrapper() {
    if !have_openocd() {
        return;
    }
    if Command::new("gdb-multiarch")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("OCDOCTOR_SKIP_LIVE").is_some(),
            "gdb-multiarch is not installed (apt-get install gdb-multiarch)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let lab = ocdoctor_lab::Lab::start(
        ocdoctor_lab::LabConfig::new(ocdoctor_lab::Chip::Stm32f4),
        None,
    )
    .unwrap();
    let cfg = tmp.path().join("lab.cfg");
    std::fs::write(&cfg, ocdoctor_lab::interface_cfg(lab.port())).unwrap();
    let remote = format!(
        "target remote | {} run --log {} -- openocd -f {} -f target/stm32f4x.cfg -c 'stm32f4x.cpu configure -event reset-start {{}}' -c 'gdb_port pipe' -c 'tcl_port disabled' -c 'telnet_port disabled'",
        env!("CARGO_BIN_EXE_ocdoctor"),
        tmp.path().join("pipe.log").display(),
        cfg.display()
    );
    let out = Command::new("timeout")
        .args([
            "60",
            "gdb-multiarch",
            "-nx",
            "-batch",
            "-ex",
            "set architecture arm",
            "-ex",
            &remote,
        ])
        .args(["-ex", "monitor halt", "-ex", "x/2wx 0x08000000"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // The lab's flash starts with the vector table: initial SP 0x20001000, reset vector 0x08000189.
    assert!(
        text.contains("0x20001000") && text.contains("0x08000189"),
        "gdb read no memory through the pipe:\n{text}"
    );
    let log = std::fs::read_to_string(tmp.path().join("pipe.log")).unwrap();
    assert!(
        log.contains("Open On-Chip Debugger"),
        "the wrapper kept OpenOCD's stderr: {log}"
    );
}
