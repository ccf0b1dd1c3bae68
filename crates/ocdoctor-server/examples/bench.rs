//! The server benchmark (`bench/server.sh` runs it; figures in the issue notes):
//!
//! ```text
//! bench seed   DATABASE TEAM N        # N incidents straight into the database (last 90 days)
//! bench upload URL TOKEN SECONDS C    # C keep-alive connections uploading for SECONDS: uploads/s
//! bench pages  URL TOKEN ROUNDS       # every page ROUNDS times: median and p95 latency
//! ```
//!
//! Uploads carry the repository's example logs, each with a fresh client id, so every one is a
//! new incident (diagnosed and committed), not an idempotent repeat.

use ocdoctor_server::db::{Db, NewIncident};
use ocdoctor_server::intake::{self, Upload};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LOGS: [&str; 4] = [
    include_str!("../../../examples/logs/stlink-not-found.log"),
    include_str!("../../../examples/logs/port-in-use.log"),
    include_str!("../../../examples/logs/idcode-mismatch.log"),
    include_str!("../../../examples/logs/healthy.log"),
];
const COMMANDS: [&str; 4] = [
    "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg",
    "openocd -f interface/cmsis-dap.cfg -f target/rp2040.cfg",
    "openocd -f interface/jlink.cfg -f target/stm32f1x.cfg",
    "openocd -f interface/ftdi/olimex-arm-usb-ocd-h.cfg -f target/nrf52.cfg",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let a = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    match args.first().map(String::as_str) {
        Some("seed") => rt.block_on(seed(&a(1), &a(2), a(3).parse().unwrap_or_else(|_| usage()))),
        Some("upload") => rt.block_on(upload(
            &a(1),
            &a(2),
            a(3).parse().unwrap_or_else(|_| usage()),
            a(4).parse().unwrap_or_else(|_| usage()),
        )),
        Some("pages") => rt.block_on(pages(
            &a(1),
            &a(2),
            a(3).parse().unwrap_or_else(|_| usage()),
        )),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: bench seed DATABASE TEAM N | upload URL TOKEN SECONDS CONNECTIONS | pages URL TOKEN ROUNDS"
    );
    std::process::exit(2)
}

fn uuid(n: u64) -> String {
    let salt = std::process::id() as u64;
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        salt as u32,
        n & 0xffff_ffff_ffff
    )
}

fn upload_json(n: u64) -> String {
    let i = (n % 4) as usize;
    serde_json::json!({
        "schema": "ocdoctor.upload/v1", "client_id": uuid(n), "rig": format!("rig-{}", n % 12),
        "command": COMMANDS[i], "log": LOGS[i],
        "report": {"schema": "ocdoctor.report/v1"}, "redaction": {"user": 1},
    })
    .to_string()
}

/// Rows made the way the server makes them (each distinct log diagnosed once), then copied
/// with their own ids, times and rigs; 1 % resolved.
async fn seed(database: &str, team: &str, n: u64) {
    let db = Db::open(database).await.expect("open the database");
    let diagnose: ocdoctor_server::Diagnoser = Arc::new(|log: &[u8], _env: Option<&str>| {
        Ok(ocdoctor_core::diagnose_bytes(log, Some("openocd.log")))
    });
    let now = ocdoctor_server::time::now_ms();
    let templates: Vec<NewIncident> = (0..4)
        .map(|i| {
            let up: Upload = serde_json::from_str(&upload_json(i)).expect("upload");
            intake::analyze(&diagnose, up, team.to_string(), None, now).expect("analyze")
        })
        .collect();
    let started = Instant::now();
    let mut k = 0u64;
    while k < n {
        let batch: Vec<NewIncident> = (k..(k + 1000).min(n))
            .map(|j| {
                let mut r = templates[(j % 4) as usize].clone();
                let i = &mut r.incident;
                i.summary.id = format!("seed-{}-{j}", std::process::id());
                i.client_id = uuid(10_000_000 + j);
                i.summary.rig = Some(format!("rig-{}", j % 12));
                // Spread over 90 days, newest last.
                i.summary.received_at = now - ((n - j) as i64 * 90 * 86_400_000 / n as i64);
                r
            })
            .collect();
        let refs: Vec<&NewIncident> = batch.iter().collect();
        db.insert_batch(&refs).await.expect("insert");
        for r in batch
            .iter()
            .filter(|r| r.incident.client_id.ends_with("00"))
        {
            let s = &r.incident.summary;
            db.resolve(&s.id, &s.cause, "reseated the probe cable", now)
                .await
                .expect("resolve");
        }
        k += batch.len() as u64;
    }
    println!(
        "seeded {n} incidents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    db.close().await;
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(host: &str) -> Conn {
        Conn {
            stream: TcpStream::connect(host).await.expect("connect"),
            host: host.into(),
            buf: Vec::new(),
        }
    }

    /// Status code of one request (the body is read and dropped).
    async fn call(&mut self, method: &str, path: &str, token: &str, body: &str) -> u16 {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream.write_all(req.as_bytes()).await.expect("write");
        self.buf.clear();
        let mut chunk = [0u8; 65536];
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if self.buf.len() >= end + 4 + len {
                    return head
                        .split(' ')
                        .nth(1)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(0);
                }
            }
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn host_of(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

async fn upload(url: &str, token: &str, seconds: u64, connections: u64) {
    let host = host_of(url);
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (host, token, next, done) =
            (host.clone(), token.to_string(), next.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&host).await;
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let status = c
                    .call("POST", "/api/v1/reports", &token, &upload_json(n))
                    .await;
                assert_eq!(status, 201, "upload refused");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("uploader");
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{n} uploads in {secs:.1} s over {connections} connections: {:.0} uploads/s",
        n as f64 / secs
    );
}

async fn pages(url: &str, token: &str, rounds: usize) {
    let host = host_of(url);
    let mut c = Conn::open(&host).await;
    // An incident to open: the newest.
    let paths = [
        "/incidents",
        "/incidents?cause=probe-not-found",
        "/incidents?rig=rig-3&offset=500",
        "/causes",
        "/causes?days=90",
        "/breakdown",
        "/breakdown?since=365d",
        "/api/v1/incidents?limit=50",
    ];
    let newest = {
        let mut s = TcpStream::connect(&host).await.expect("connect");
        let req = format!(
            "GET /api/v1/incidents?limit=1 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        let text = String::from_utf8_lossy(&out).to_string();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("{}").to_string();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["incidents"][0]["id"].as_str().unwrap_or("").to_string()
    };
    let incident = format!("/incidents/{newest}");
    println!("{:<40} {:>10} {:>10}", "page", "median ms", "p95 ms");
    for p in paths.iter().copied().chain([incident.as_str()]) {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            let status = c.call("GET", p, token, "").await;
            assert_eq!(status, 200, "{p}");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
        println!(
            "{:<40} {:>10.1} {:>10.1}",
            p.chars().take(40).collect::<String>(),
            times[times.len() / 2],
            p95
        );
    }
}
