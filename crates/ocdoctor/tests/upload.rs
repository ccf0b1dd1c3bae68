//! `ocdoctor upload` against a real HTTP peer: a small server on 127.0.0.1 (std::net, in a
//! thread) that records each request and answers what the test scripts (201, 200, 401, 403,
//! 413, 429 with Retry-After). The body must be the `ocdoctor.upload/v1` contract, redacted,
//! and exactly what `--dry-run` prints.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn planted() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ocdoctor-redact/tests/data/planted")
}

fn secrets() -> Vec<String> {
    let text = std::fs::read_to_string(planted().join("secrets.toml")).unwrap();
    let table: BTreeMap<String, Vec<String>> = toml::from_str(&text).unwrap();
    table.into_values().flatten().collect()
}

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A scripted answer: status, extra headers, body.
type Answer = (u16, &'static str, &'static str);

/// Serve the answers in order (the last one repeats), recording every request.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(answers: Vec<Answer>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                seen.lock().unwrap().push(req);
                let (status, headers, body) = answers[i.min(answers.len() - 1)];
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Server { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn upload(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .arg("upload")
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("OCDOCTOR_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn log() -> String {
    planted()
        .join("linux-stlink.log")
        .to_str()
        .unwrap()
        .to_string()
}

const CMD: &str = "openocd -s /home/alice.smith/clients/acme-widget/fw/scripts -f interface/stlink.cfg -c \"hla_serial 066DFF485550755187034646\" -f target/stm32f4x.cfg";

#[test]
fn a_redacted_report_is_stored_and_the_dry_run_shows_those_bytes() {
    let cfg = tempfile::tempdir().unwrap();
    let server = Server::start(vec![(201, "", r#"{"id":"r-1","duplicate":false}"#)]);
    let id = "5b3c0a8e-3f1d-4b7a-9c2e-1d2f3a4b5c6d";
    let common = ["--rig", "bench-3", "--cmd", CMD, "--client-id", id];
    let mut args = vec![
        log(),
        "--server".into(),
        server.url.clone(),
        "--token".into(),
        "T0k3n".into(),
    ];
    args.extend(common.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = upload(cfg.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("uploaded:"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("r-1"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/api/v1/reports")
    );
    assert_eq!(req.headers["authorization"], "Bearer T0k3n");
    assert_eq!(req.headers["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["schema"], "ocdoctor.upload/v1");
    assert_eq!(body["client_id"], id);
    assert_eq!(body["rig"], "bench-3");
    assert_eq!(body["report"]["schema"], "ocdoctor.report/v1");
    let sent = String::from_utf8_lossy(&req.body);
    for s in secrets() {
        assert!(!sent.contains(&s), "{s:?} was sent");
    }
    let command = body["command"].as_str().unwrap();
    assert!(command.contains("-f interface/stlink.cfg") && command.contains("hla_serial serial-"));
    // Consistent across fields: the serial of the command line has the log's pseudonym.
    let serial = command
        .split("hla_serial ")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(body["log"].as_str().unwrap().contains(serial), "{serial}");
    let counts = body["redaction"].as_object().unwrap();
    for kind in [
        "user",
        "host",
        "serial",
        "token",
        "ip",
        "mac",
        "email",
        "private-key",
        "path",
    ] {
        assert!(counts[kind].as_u64().unwrap() > 0, "{kind}: {counts:?}");
    }
    // The report is what `diagnose --no-env --format json` says of the redacted log.
    let redacted = cfg.path().join("redacted.log");
    std::fs::write(&redacted, body["log"].as_str().unwrap()).unwrap();
    let diag = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args([
            "diagnose",
            "--no-env",
            "--format",
            "json",
            redacted.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let diag: Value = serde_json::from_slice(&diag.stdout).unwrap();
    for field in [
        "outcome",
        "stage",
        "causes",
        "findings",
        "openocd",
        "unexplained",
    ] {
        let strip = |v: &Value| v.to_string().replace(redacted.to_str().unwrap(), "LOG");
        let sent = body["report"][field].to_string();
        let label = body["report"]["inputs"][0]["path"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(sent.replace(&label, "LOG"), strip(&diag[field]), "{field}");
    }
    // --dry-run prints exactly those bytes and sends nothing.
    let mut dry = vec![log(), "--dry-run".into()];
    dry.extend(common.iter().map(|s| s.to_string()));
    let dry: Vec<&str> = dry.iter().map(String::as_str).collect();
    let out = upload(cfg.path(), &dry);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, [req.body.as_slice(), b"\n"].concat());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn duplicates_refusals_and_rate_limits() {
    let cfg = tempfile::tempdir().unwrap();
    let run = |server: &Server, extra: &[&str]| {
        let mut args = vec![
            log(),
            "--server".into(),
            server.url.clone(),
            "--token".into(),
            "t".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        upload(cfg.path(), &args)
    };
    let dup = Server::start(vec![(200, "", r#"{"id":"r-7","duplicate":true}"#)]);
    let out = run(
        &dup,
        &["--client-id", "5b3c0a8e-3f1d-4b7a-9c2e-1d2f3a4b5c6d"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already uploaded"));

    for (status, word) in [(401, "token"), (403, "another team"), (413, "larger")] {
        let s = Server::start(vec![(status, "", r#"{"error":"no"}"#)]);
        let out = run(&s, &[]);
        assert_eq!(out.status.code(), Some(2), "{status}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(word) && err.contains(&status.to_string()),
            "{status}: {err}"
        );
        assert_eq!(s.requests().len(), 1, "{status} is not retried");
    }

    // 429 with Retry-After: 1, then stored: waited at least that long, two requests.
    let busy = Server::start(vec![
        (429, "Retry-After: 1\r\n", r#"{"error":"slow down"}"#),
        (201, "", r#"{"id":"r-9","duplicate":false}"#),
    ]);
    let started = Instant::now();
    let out = run(&busy, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    let reqs = busy.requests();
    assert_eq!(reqs.len(), 2);
    // A retry is the same upload: the same client id, so the server stores it once.
    assert_eq!(reqs[0].body, reqs[1].body);

    // Always 429: three retries, then a clear error.
    let never = Server::start(vec![(429, "Retry-After: 0\r\n", "{}")]);
    let out = run(&never, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rate limiting"));
    assert_eq!(never.requests().len(), 4);

    // Nobody listening: a clear error, not a panic.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = upload(cfg.path(), &[&log(), "--server", &url, "--token", "t"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}

#[test]
fn no_redact_sends_the_log_as_it_is_with_a_warning() {
    let cfg = tempfile::tempdir().unwrap();
    let out = upload(cfg.path(), &[&log(), "--dry-run", "--no-redact"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: --no-redact"));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        body["log"].as_str().unwrap(),
        std::fs::read_to_string(log()).unwrap()
    );
    assert_eq!(body["redaction"], serde_json::json!({}));
    assert_eq!(body["rig"], Value::Null);
    assert_eq!(body["command"], Value::Null);
    // A fresh UUID v4 per upload.
    let id = body["client_id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    let again: Value =
        serde_json::from_slice(&upload(cfg.path(), &[&log(), "--dry-run"]).stdout).unwrap();
    assert_ne!(again["client_id"], body["client_id"]);
    // Without --dry-run, the server and token are required.
    let out = upload(cfg.path(), &[&log()]);
    assert_eq!(out.status.code(), Some(2));
}

/// A machine snapshot with planted names: a user, a probe serial (as the snapshot holds them,
/// with nothing around them) and a host in a process's command line.
pub const ENV_USER: &str = "zeldaqa";
pub const ENV_SERIAL: &str = "QX7734ZELDA0091";
pub const ENV_HOST: &str = "zelda-bench.local";

fn planted_env(dir: &Path) -> (PathBuf, PathBuf, String) {
    let snap = serde_json::json!({
        "schema": "ocdoctor.env/v1",
        "os": "linux",
        "root": "/",
        "user": {"uid": 1000, "gid": 1000, "name": ENV_USER, "groups": [{"gid": 46, "name": "plugdev"}], "source": "process"},
        "usb": {"bus_visible": true, "devices": [{"sysfs_name": "1-2", "vendor_id": "0483", "product_id": "3748",
            "product": "STM32 STLink", "serial": ENV_SERIAL}]},
        "processes": [{"pid": 4242, "comm": "openocd", "cmdline": format!("openocd -c \"bindto {ENV_HOST}\""), "kind": "openocd"}],
    });
    let env = dir.join("snap.json");
    std::fs::write(&env, snap.to_string()).unwrap();
    // In the log the serial and the user have no context a redactor could know them by.
    let log = dir.join("openocd.log");
    std::fs::write(
        &log,
        format!(
            "Open On-Chip Debugger 0.12.0\nInfo : probe {ENV_SERIAL} claimed for {ENV_USER}\n\
             Info : Listening on {ENV_HOST}:3333\nError: open failed\n"
        ),
    )
    .unwrap();
    let cmd = format!(
        "openocd -s /home/{ENV_USER}/scripts -f interface/stlink.cfg -c \"adapter serial {ENV_SERIAL}\""
    );
    (env, log, cmd)
}

#[test]
fn env_snapshot_names_get_the_same_pseudonym_in_log_command_and_snapshot() {
    let cfg = tempfile::tempdir().unwrap();
    let (env, log, cmd) = planted_env(cfg.path());
    let (env, log) = (env.to_str().unwrap(), log.to_str().unwrap());
    let out = upload(cfg.path(), &[log, "--dry-run", "--cmd", &cmd, "--env", env]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = String::from_utf8_lossy(&out.stdout).to_string();
    for planted in [ENV_USER, ENV_SERIAL, ENV_HOST, "zelda"] {
        assert!(!sent.contains(planted), "{planted:?} was sent: {sent}");
    }
    let body: Value = serde_json::from_str(&sent).unwrap();
    let (log_text, command) = (
        body["log"].as_str().unwrap(),
        body["command"].as_str().unwrap(),
    );
    let snap = &body["env"];
    assert_eq!(snap["schema"], "ocdoctor.env/v1");
    let user = snap["user"]["name"].as_str().unwrap();
    let serial = snap["usb"]["devices"][0]["serial"].as_str().unwrap();
    assert!(
        user.starts_with("user-") && serial.starts_with("serial-"),
        "{user} {serial}"
    );
    for (what, text) in [("log", log_text), ("command", command)] {
        assert!(
            text.contains(user),
            "{what} lacks the snapshot's {user}: {text}"
        );
        assert!(
            text.contains(serial),
            "{what} lacks the snapshot's {serial}: {text}"
        );
    }
    let host_in_snap = snap["processes"][0]["cmdline"].as_str().unwrap();
    let host = host_in_snap
        .split("bindto ")
        .nth(1)
        .unwrap()
        .trim_end_matches('"');
    assert!(host.starts_with("host-"), "{host_in_snap}");
    assert!(
        log_text.contains(&format!("Listening on {host}:3333")),
        "{log_text}"
    );
    // The report joins the log with the (redacted) snapshot, as `diagnose --env` does.
    let (sent_log, sent_env) = (cfg.path().join("sent.log"), cfg.path().join("sent.json"));
    std::fs::write(&sent_log, log_text).unwrap();
    std::fs::write(&sent_env, snap.to_string()).unwrap();
    let diag = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(["diagnose", "--format", "json", "--env"])
        .args([&sent_env, &sent_log])
        .output()
        .unwrap();
    let diag: Value = serde_json::from_slice(&diag.stdout).unwrap();
    assert_eq!(body["report"]["causes"], diag["causes"]);
    let rules = |r: &Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(rules(&body["report"]), rules(&diag));
    // Without the snapshot, the bare serial in the log has nothing to be known by.
    let alone: Value =
        serde_json::from_slice(&upload(cfg.path(), &[log, "--dry-run"]).stdout).unwrap();
    assert!(alone["log"].as_str().unwrap().contains(ENV_SERIAL));
    assert!(alone.get("env").is_none());
    // Not a snapshot: a clear error.
    let out = upload(cfg.path(), &[log, "--dry-run", "--env", log]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("snapshot"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
