//! What the server tests share: the real `ocdoctor serve` process, a throwaway PostgreSQL
//! cluster, an HTTP client, uploads built from the repository's example logs.

#![allow(dead_code)]

pub mod http;
pub mod pg;
pub mod webdriver;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ocdoctor")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn example_log(name: &str) -> String {
    std::fs::read_to_string(repo().join("examples/logs").join(name))
        .unwrap_or_else(|e| panic!("examples/logs/{name}: {e}"))
}

/// A running `ocdoctor serve` on a free port.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub fn start(database: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ocdoctor serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        lines.read_line(&mut line).expect("read the startup line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in the startup line {line:?}"));
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while lines.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Server { child, addr }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `ocdoctor serve --create-token TEAM [--rig R]`: the printed token.
pub fn token(database: &str, team: &str, rig: Option<&str>) -> String {
    let mut cmd = Command::new(bin());
    cmd.args(["serve", "--database", database, "--create-token", team]);
    if let Some(r) = rig {
        cmd.args(["--rig", r]);
    }
    let out = cmd.output().expect("run --create-token");
    assert!(
        out.status.success(),
        "--create-token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string();
    assert!(token.starts_with("ocd_"), "{token}");
    token
}

/// A fresh client id (UUID layout) from a counter and the process id: unique within a run.
pub fn client_id(n: u64) -> String {
    let p = u64::from(std::process::id());
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (t >> 32) as u32,
        (t >> 16) as u16,
        p & 0xfff,
        (n >> 48) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

/// An upload body as the `upload` client sends it, with the client's own (not trusted) report.
pub fn upload_body(
    id: &str,
    rig: Option<&str>,
    command: Option<&str>,
    log: &str,
    report: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "schema": "ocdoctor.upload/v1",
        "client_id": id,
        "rig": rig,
        "command": command,
        "log": log,
        "report": report,
        "redaction": {"user": 2, "serial": 1},
    })
}

/// A client report, deliberately wrong: the server must not believe it.
pub fn lying_report() -> serde_json::Value {
    serde_json::json!({
        "schema": "ocdoctor.report/v1",
        "outcome": "failed",
        "causes": [{"cause": "usb-permission", "confidence": 0.99}],
        "findings": [{"rule": "USB001", "title": "LIE from the client", "evidence": []}],
    })
}

/// Run a future on a small runtime (the tests open the database directly to check it).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}
