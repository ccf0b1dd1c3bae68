//! `ocdoctor env` on the real machine: a clean report without a USB bus, and the listeners of a
//! real openocd (dummy adapter, no hardware) named with its pid.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn ocdoctor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
}

#[test]
fn env_on_this_machine_never_panics_and_is_clean_without_a_usb_bus() {
    let out = ocdoctor().arg("env").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("ocdoctor env"), "{text}");
    if !std::path::Path::new("/sys/bus/usb").exists() && cfg!(target_os = "linux") {
        assert_eq!(
            out.status.code(),
            Some(0),
            "no USB bus is not an error: {text}"
        );
        assert!(text.contains("USB: no USB bus visible."), "{text}");
        assert!(text.contains("usb-not-visible"), "{text}");
    }
    let json = ocdoctor().args(["env", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["schema"], "ocdoctor.env/v1");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the openocd when the test ends, whatever happens.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

#[test]
#[cfg(target_os = "linux")]
fn env_names_a_real_openocd_holding_two_ports() {
    if Command::new("openocd").arg("--version").output().is_err() {
        eprintln!("skipped: no openocd on PATH");
        return;
    }
    let (tcl, telnet) = (free_port(), free_port());
    let child = Command::new("openocd")
        .args(["-c", "adapter driver dummy", "-c", "transport select jtag"])
        .args([
            "-c",
            "jtag newtap x cpu -irlen 4",
            "-c",
            "gdb_port disabled",
        ])
        .args([
            "-c",
            &format!("tcl_port {tcl}"),
            "-c",
            &format!("telnet_port {telnet}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = Guard(child);
    let pid = guard.0.id();
    let start = Instant::now();
    while !(listening(tcl) && listening(telnet)) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "openocd did not listen on {tcl}/{telnet}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = ocdoctor()
        .args(["env", "--json", "--port"])
        .arg(tcl.to_string())
        .arg("--port")
        .arg(telnet.to_string())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for port in [tcl, telnet] {
        let l = v["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["port"] == port)
            .unwrap_or_else(|| panic!("port {port} not reported: {:#}", v["listeners"]));
        assert_eq!(l["process"]["pid"], pid, "{l:#}");
        assert_eq!(l["process"]["name"], "openocd", "{l:#}");
    }
    drop(guard);
}

#[test]
#[cfg(target_os = "linux")]
fn run_joins_its_diagnosis_with_this_machine_unless_no_env() {
    if std::path::Path::new("/sys/bus/usb").exists()
        || Command::new("openocd").arg("--version").output().is_err()
    {
        eprintln!("skipped: needs a machine without a USB bus and an openocd");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("run.log");
    let go = |extra: &[&str]| {
        let out = ocdoctor()
            .args(["--color", "never", "run", "--log"])
            .arg(&log)
            .args(extra)
            .args([
                "--",
                "openocd",
                "-f",
                "interface/stlink.cfg",
                "-f",
                "target/stm32f1x.cfg",
            ])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
    };
    let joined = go(&[]);
    assert!(joined.contains("error[USB051]"), "{joined}");
    let alone = go(&["--no-env"]);
    assert!(!alone.contains("USB051"), "{alone}");
    assert!(alone.contains("PRB001"), "{alone}");
}
