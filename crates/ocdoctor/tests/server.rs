//! `ocdoctor serve` with its real parts: the real binary on real TCP, a real SQLite file and a
//! real PostgreSQL cluster (the same suite on both), headless Chromium loading every page, many
//! concurrent uploaders, and a SIGKILL in the middle of them.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use support::http::{self, get, page, post_json};
use support::{Server, client_id, example_log, lying_report, token, upload_body};

const REPORTS: &str = "/api/v1/reports";

/// The XSS payloads an uploaded log carries into the pages.
const XSS_SCRIPT: &str = "<script>window.pwned=1</script>";
const XSS_IMG: &str = "<img src=x onerror=\"window.pwned=2\">";

fn upload(
    addr: SocketAddr,
    token: &str,
    rig: Option<&str>,
    command: Option<&str>,
    log: &str,
) -> Value {
    let r = post_json(
        addr,
        REPORTS,
        Some(token),
        &upload_body(&client_id(rand_n()), rig, command, log, lying_report()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["duplicate"], false);
    r.json()
}

fn rand_n() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

/// What `ocdoctor diagnose --no-env --format json` says about a log (the terminal's answer).
fn cli_diagnosis(log: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openocd.log");
    std::fs::write(&path, log).unwrap();
    let out = std::process::Command::new(support::bin())
        .args(["diagnose", "--no-env", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The log of `stlink-not-found.log` with other numbers: the same failure on another machine.
fn same_failure_elsewhere() -> String {
    example_log("stlink-not-found.log")
        .replace("2000 kHz", "4000 kHz")
        .replace("port 6666", "port 7666")
        .replace("port 4444", "port 5444")
}

/// The whole API and page suite against one database.
fn suite(db: &str) {
    let alpha = token(db, "alpha", None);
    let alpha_rig = token(db, "alpha", Some("rig-1"));
    let beta = token(db, "beta", None);
    let server = Server::start(db, &["--max-body-bytes", "262144"]);
    let a = server.addr;

    // Health, description, metrics.
    assert_eq!(get(a, "/healthz", None).status, 200);
    let spec = get(a, "/openapi.json", None).json();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/reports",
        "/api/v1/incidents",
        "/api/v1/incidents/{id}",
        "/api/v1/incidents/{id}/resolve",
        "/metrics",
        "/healthz",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }

    refusals(a, &alpha, &beta);

    // Uploads: the server diagnoses the log itself and ignores the client's lie.
    let stlink = example_log("stlink-not-found.log");
    let cmd = "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg";
    let first = upload(a, &alpha, Some("bench-2"), Some(cmd), &stlink);
    let id = first["id"].as_str().unwrap().to_string();
    let inc = get(a, &format!("/api/v1/incidents/{id}"), Some(&alpha)).json();
    let cli = cli_diagnosis(&stlink);
    assert_eq!(
        inc["report"]["causes"], cli["causes"],
        "the dashboard and the terminal disagree"
    );
    assert_eq!(rules_of(&inc["report"]), rules_of(&cli));
    assert_ne!(
        inc["cause"], "usb-permission",
        "the client's report was trusted"
    );
    assert_eq!(inc["cause"], cli["causes"][0]["cause"]);
    assert_eq!(inc["probe"], "ST-Link");
    assert_eq!(inc["target"], "stm32f4x");
    assert_eq!(inc["openocd_version"], "0.12.0");
    assert_eq!(inc["rig"], "bench-2");
    assert_eq!(inc["redaction"]["user"], 2);
    assert!(!inc["report"].to_string().contains("LIE from the client"));

    // Idempotent on the client id.
    let body = upload_body(
        &client_id(rand_n()),
        None,
        None,
        &example_log("port-in-use.log"),
        lying_report(),
    );
    let r1 = post_json(a, REPORTS, Some(&alpha), &body);
    let r2 = post_json(a, REPORTS, Some(&alpha), &body);
    assert_eq!(
        (r1.status, r2.status),
        (201, 200),
        "{} / {}",
        r1.body,
        r2.body
    );
    assert_eq!(r2.json()["duplicate"], true);
    assert_eq!(r1.json()["id"], r2.json()["id"]);
    // The same client id from another team is that team's own incident.
    let r3 = post_json(a, REPORTS, Some(&beta), &body);
    assert_eq!(r3.status, 201, "{}", r3.body);
    assert_ne!(r3.json()["id"], r1.json()["id"]);

    // A rig's token uploads as its rig only.
    let forced = upload(
        a,
        &alpha_rig,
        None,
        None,
        &example_log("idcode-mismatch.log"),
    );
    let forced = get(
        a,
        &format!("/api/v1/incidents/{}", forced["id"].as_str().unwrap()),
        Some(&alpha),
    )
    .json();
    assert_eq!(forced["rig"], "rig-1");
    assert_eq!(forced["target"], "stm32f1x");
    assert_eq!(forced["probe"], "remote_bitbang");
    let other_rig = post_json(
        a,
        REPORTS,
        Some(&alpha_rig),
        &upload_body(
            &client_id(rand_n()),
            Some("rig-2"),
            None,
            "x",
            lying_report(),
        ),
    );
    assert_eq!(other_rig.status, 403, "{}", other_rig.body);
    upload(
        a,
        &alpha,
        Some("bench-2"),
        None,
        &example_log("healthy.log"),
    );
    // NUL bytes and CRLF from a garbled serial console: stored (PostgreSQL's TEXT refuses NUL),
    // diagnosed as the terminal diagnoses them.
    let garbled_log = "Open On-Chip Debugger 0.12.0\r\n\0\0\u{1b}[31mError: open failed\r\n";
    let garbled = upload(a, &beta, None, Some("openocd\0 -f x.cfg"), garbled_log);
    let garbled = get(
        a,
        &format!("/api/v1/incidents/{}", garbled["id"].as_str().unwrap()),
        Some(&beta),
    )
    .json();
    assert_eq!(
        garbled["report"]["causes"],
        cli_diagnosis(garbled_log)["causes"]
    );
    let xss_id = upload(
        a,
        &alpha,
        Some("rig-1"),
        Some(&format!("openocd -c \"{XSS_SCRIPT}\"")),
        &xss_log(),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();

    filters(a, &alpha, &beta, &inc);
    let similar_id = resolution_and_similarity(a, &alpha, &beta, &id);
    pages(a, &alpha, &beta, &id, &xss_id, &similar_id);
    limits(a, &alpha, db);

    let m = get(a, "/metrics", None);
    assert_eq!(m.status, 200);
    assert!(
        m.body
            .contains("ocdoctor_uploads_total{result=\"created\"}"),
        "{}",
        m.body
    );
    assert!(m.body.contains("ocdoctor_incidents "), "{}", m.body);
    let created: u64 = m
        .body
        .lines()
        .find(|l| l.starts_with("ocdoctor_uploads_total{result=\"created\"}"))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(created >= 7, "{created}");
}

fn xss_log() -> String {
    format!(
        "Open On-Chip Debugger 0.12.0\nInfo : {XSS_SCRIPT}\nError: {XSS_IMG} open failed\nError: open failed\n"
    )
}

/// No token, an unknown token, another team: refused.
fn refusals(a: SocketAddr, alpha: &str, beta: &str) {
    let body = upload_body(
        &client_id(rand_n()),
        None,
        None,
        "Error: open failed\n",
        lying_report(),
    );
    let none = post_json(a, REPORTS, None, &body);
    assert_eq!(none.status, 401);
    assert!(none.header("WWW-Authenticate").is_some());
    assert_eq!(
        post_json(a, REPORTS, Some("ocd_not_a_token"), &body).status,
        401
    );
    assert_eq!(get(a, "/api/v1/incidents", None).status, 401);
    assert_eq!(get(a, "/api/v1/incidents", Some("wrong")).status, 401);
    let p = get(a, "/incidents", None);
    assert_eq!(p.status, 303);
    assert_eq!(p.header("location"), Some("/login"));
    assert_eq!(
        get(a, "/api/v1/incidents?team=beta", Some(alpha)).status,
        403
    );
    assert_eq!(
        get(a, "/api/v1/incidents?team=alpha", Some(alpha)).status,
        200
    );
    let _ = beta;
    // Bad bodies.
    for bad in [
        json!("not an object"),
        json!({"schema": "ocdoctor.upload/v2", "client_id": client_id(1), "log": "", "report": {"schema": "ocdoctor.report/v1"}}),
        json!({"schema": "ocdoctor.upload/v1", "client_id": "nope", "log": "", "report": {"schema": "ocdoctor.report/v1"}}),
        json!({"schema": "ocdoctor.upload/v1", "client_id": client_id(2), "log": "", "report": "{}"}),
        json!({"schema": "ocdoctor.upload/v1", "client_id": client_id(3), "rig": "a b", "log": "", "report": {"schema": "ocdoctor.report/v1"}}),
    ] {
        let r = post_json(a, REPORTS, Some(alpha), &bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
    let garbage = http::request(
        a,
        "POST",
        REPORTS,
        &[
            ("Authorization", &format!("Bearer {alpha}")),
            ("Content-Type", "application/json"),
        ],
        b"\xff\xfe{{{\x00",
    )
    .unwrap();
    assert_eq!(garbage.status, 400, "{}", garbage.body);
}

fn filters(a: SocketAddr, alpha: &str, beta: &str, inc: &Value) {
    let list = |q: &str, t: &str| {
        let r = get(a, &format!("/api/v1/incidents{q}"), Some(t));
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        r.json()
    };
    let all = list("", alpha);
    let total = all["total"].as_i64().unwrap();
    assert_eq!(total, 5, "{all}");
    let times: Vec<i64> = all["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["received_at"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let cause = inc["cause"].as_str().unwrap();
    let by_cause = list(&format!("?cause={cause}"), alpha);
    assert!(by_cause["total"].as_i64().unwrap() >= 1);
    assert!(
        by_cause["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["cause"] == cause)
    );
    assert!(by_cause["total"].as_i64().unwrap() < total);
    for (q, n) in [
        ("?rig=rig-1", 2),
        ("?probe=ST-Link", 1),
        ("?target=stm32f4x", 1),
        ("?openocd=0.12.0", 5),
        ("?rig=rig-1&target=stm32f1x", 1),
        ("?since=2000-01-01", 5),
        ("?since=7d", 5),
        ("?since=9999-01-01", 0),
        ("?limit=2", 5),
    ] {
        assert_eq!(list(q, alpha)["total"], n, "{q}");
    }
    assert_eq!(
        list("?limit=2", alpha)["incidents"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        get(a, "/api/v1/incidents?since=someday", Some(alpha)).status,
        400
    );
    assert_eq!(
        get(a, "/api/v1/incidents?limit=-1", Some(alpha)).status,
        400
    );
    // Another team sees only its own.
    assert_eq!(list("", beta)["total"], 2);
    let id = inc["id"].as_str().unwrap();
    assert_eq!(
        get(a, &format!("/api/v1/incidents/{id}"), Some(beta)).status,
        403
    );
    assert_eq!(
        get(
            a,
            "/api/v1/incidents/00000000-0000-4000-8000-000000000000",
            Some(alpha)
        )
        .status,
        404
    );
}

/// Resolve an incident; a new one with the same failure shows it, with what fixed it, and the
/// team prior counts it (within its bound). Returns the new incident's id.
fn resolution_and_similarity(a: SocketAddr, alpha: &str, beta: &str, id: &str) -> String {
    let path = format!("/api/v1/incidents/{id}/resolve");
    let fix = "Replugged the ST-Link into the rear USB port; <b>bold</b> stays text";
    assert_eq!(
        post_json(
            a,
            &path,
            Some(beta),
            &json!({"cause": "probe-not-found", "fix": "x"})
        )
        .status,
        403
    );
    assert_eq!(
        post_json(
            a,
            &path,
            Some(alpha),
            &json!({"cause": "no-such-cause", "fix": "x"})
        )
        .status,
        422
    );
    assert_eq!(
        post_json(
            a,
            &path,
            Some(alpha),
            &json!({"cause": "probe-not-found", "fix": "  "})
        )
        .status,
        422
    );
    assert_eq!(
        post_json(
            a,
            "/api/v1/incidents/00000000-0000-4000-8000-000000000000/resolve",
            Some(alpha),
            &json!({"cause": "probe-not-found", "fix": "x"})
        )
        .status,
        404
    );
    let r = post_json(
        a,
        &path,
        Some(alpha),
        &json!({"cause": "probe-not-found", "fix": fix}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let resolved = get(a, &format!("/api/v1/incidents/{id}"), Some(alpha)).json();
    assert_eq!(resolved["resolved"]["cause"], "probe-not-found");
    assert_eq!(resolved["resolved"]["fix"], fix);

    let new = upload(a, alpha, Some("bench-3"), None, &same_failure_elsewhere());
    let new_id = new["id"].as_str().unwrap().to_string();
    let v = get(a, &format!("/api/v1/incidents/{new_id}"), Some(alpha)).json();
    let similar = v["similar_resolved"].as_array().unwrap();
    assert_eq!(similar.len(), 1, "{v}");
    assert_eq!(similar[0]["id"], id);
    assert_eq!(similar[0]["fix"], fix);
    assert!(
        similar[0]["similarity"].as_f64().unwrap() > 0.9,
        "{}",
        similar[0]
    );
    // An unrelated failure is not "similar".
    let port = get(a, "/api/v1/incidents?cause=gdb-port-in-use", Some(alpha)).json();
    if let Some(pid) = port["incidents"][0]["id"].as_str() {
        let p = get(a, &format!("/api/v1/incidents/{pid}"), Some(alpha)).json();
        assert!(
            p["similar_resolved"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["id"] != id),
            "{p}"
        );
    }
    let prior = &v["team_prior"];
    assert_eq!(prior["resolved_incidents"], 1);
    let bound = prior["max_shift"].as_f64().unwrap();
    assert!(bound > 0.0 && bound < 0.5);
    let causes = prior["causes"].as_array().unwrap();
    assert!(!causes.is_empty());
    for c in causes {
        let (e, t) = (c["engine"].as_f64().unwrap(), c["team"].as_f64().unwrap());
        assert!((t - e).abs() <= bound + 1e-9, "{c}");
    }
    let pnf = causes
        .iter()
        .find(|c| c["cause"] == "probe-not-found")
        .expect("probe-not-found ranked");
    assert!(
        pnf["ratio"].as_f64().unwrap() > 1.0,
        "one resolved probe-not-found raises its ratio: {pnf}"
    );
    // Beta's incidents know nothing of alpha's resolution.
    let beta_list = get(a, "/api/v1/incidents", Some(beta)).json();
    let bid = beta_list["incidents"][0]["id"].as_str().unwrap();
    let b = get(a, &format!("/api/v1/incidents/{bid}"), Some(beta)).json();
    assert_eq!(b["team_prior"]["resolved_incidents"], 0);
    assert!(b["similar_resolved"].as_array().unwrap().is_empty());
    new_id
}

/// The pages as HTML over HTTP (the browser test renders them too).
fn pages(a: SocketAddr, alpha: &str, beta: &str, id: &str, xss_id: &str, similar_id: &str) {
    let bad = http::request(
        a,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"token=ocd_nope",
    )
    .unwrap();
    assert_eq!(bad.status, 401);
    let login = http::request(
        a,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={alpha}").as_bytes(),
    )
    .unwrap();
    assert_eq!(login.status, 303, "{}", login.body);
    let cookie = login.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let c = alpha;

    let list = page(a, "/incidents", c);
    assert_eq!(list.status, 200);
    assert!(
        list.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(
        list.body.contains(&format!("/incidents/{id}")),
        "{}",
        list.body
    );
    assert!(list.body.contains("6 incidents"), "{}", list.body);
    let filtered = page(a, "/incidents?rig=rig-1&cause=", c);
    assert!(filtered.body.contains("2 incidents"), "{}", filtered.body);
    assert!(!filtered.body.contains(&format!("/incidents/{id}\"")));

    let causes = page(a, "/causes", c);
    assert!(
        causes.body.contains("<svg class=\"chart\""),
        "{}",
        causes.body
    );
    assert!(causes.body.contains("probe-not-found"));
    let bd = page(a, "/breakdown", c);
    for want in [
        "ST-Link",
        "stm32f4x",
        "rig-1",
        "bench-2",
        "0.12.0",
        "<svg class=\"bar\"",
    ] {
        assert!(bd.body.contains(want), "breakdown lacks {want}");
    }

    let sim = page(a, &format!("/incidents/{similar_id}"), c);
    assert!(sim.body.contains("Similar resolved incidents"));
    assert!(
        sim.body.contains(
            "Replugged the ST-Link into the rear USB port; &lt;b&gt;bold&lt;/b&gt; stays text"
        ),
        "{}",
        sim.body
    );
    assert!(
        sim.body.contains(
            "Team prior: a bounded Bayesian update from this team&#39;s 1 resolved incident"
        ) || sim
            .body
            .contains("Team prior: a bounded Bayesian update from this team's 1 resolved incident"),
        "{}",
        sim.body
    );

    let xss = page(a, &format!("/incidents/{xss_id}"), c);
    assert_eq!(xss.status, 200);
    assert!(
        !xss.body.contains("<script"),
        "a script tag reached the page"
    );
    assert!(!xss.body.contains("<img"), "an img tag reached the page");
    assert!(
        xss.body
            .contains("&lt;script&gt;window.pwned=1&lt;/script&gt;")
    );
    assert!(
        xss.body
            .contains("&lt;img src=x onerror=&quot;window.pwned=2&quot;&gt;")
    );

    // The resolve form: same-origin post works, a cross-site one does not, other teams not at all.
    let form = "cause=probe-not-found&fix=Reseated+the+cable";
    let ct = ("Content-Type", "application/x-www-form-urlencoded");
    let cookie_h = format!("ocdoctor_token={alpha}");
    let evil = http::request(
        a,
        "POST",
        &format!("/incidents/{xss_id}/resolve"),
        &[ct, ("Cookie", &cookie_h), ("Origin", "http://evil.example")],
        form.as_bytes(),
    )
    .unwrap();
    assert_eq!(evil.status, 403);
    let origin = format!("http://{a}");
    let ok = http::request(
        a,
        "POST",
        &format!("/incidents/{xss_id}/resolve"),
        &[ct, ("Cookie", &cookie_h), ("Origin", &origin)],
        form.as_bytes(),
    )
    .unwrap();
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(
        page(a, &format!("/incidents/{xss_id}"), c)
            .body
            .contains("Resolved: probe-not-found")
    );
    let beta_cookie = format!("ocdoctor_token={beta}");
    let other = http::request(
        a,
        "POST",
        &format!("/incidents/{xss_id}/resolve"),
        &[ct, ("Cookie", &beta_cookie)],
        form.as_bytes(),
    )
    .unwrap();
    assert_eq!(other.status, 403);
    assert_eq!(page(a, &format!("/incidents/{id}"), beta).status, 403);
    assert_eq!(page(a, "/no/such/page", c).status, 404);
}

/// Body limit and the shared rate limit (two instances on one database).
fn limits(a: SocketAddr, alpha: &str, db: &str) {
    let big = "Info : padding line\n".repeat(20_000);
    let r = post_json(
        a,
        REPORTS,
        Some(alpha),
        &upload_body(&client_id(rand_n()), None, None, &big, lying_report()),
    );
    assert_eq!(r.status, 413, "{}", r.body);

    let limited = token(db, "gamma", None);
    // Windows of a day: wait out the last seconds of one so the test never straddles two.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now % 86_400 > 86_390 {
        std::thread::sleep(std::time::Duration::from_secs(86_400 - now % 86_400 + 1));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let one = Server::start(db, &["--rate-limit", "5", "--rate-window", "86400"]);
    let two = Server::start(db, &["--rate-limit", "5", "--rate-window", "86400"]);
    for _ in 0..3 {
        assert_eq!(
            get(one.addr, "/api/v1/incidents", Some(&limited)).status,
            200
        );
    }
    // The first instance writes its count to the database within a flush interval.
    let hash = sha256_hex(&limited);
    let window = (now / 86_400 * 86_400 * 1000) as i64;
    let started = std::time::Instant::now();
    while support::block_on(async {
        let d = ocdoctor_server::Db::open(db).await.unwrap();
        let n = d.rate_hits(&hash, window).await.unwrap();
        d.close().await;
        n
    }) < 3
    {
        assert!(
            started.elapsed().as_secs() < 10,
            "the first instance never wrote its count"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for _ in 0..2 {
        assert_eq!(
            get(two.addr, "/api/v1/incidents", Some(&limited)).status,
            200
        );
    }
    let refused = get(two.addr, "/api/v1/incidents", Some(&limited));
    assert_eq!(
        refused.status, 429,
        "the second instance did not count the first's requests"
    );
    let secs: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&secs));
    // And the first learns the second's count within a flush interval (500 ms).
    std::thread::sleep(std::time::Duration::from_millis(2000));
    assert_eq!(
        get(one.addr, "/api/v1/incidents", Some(&limited)).status,
        429
    );
    // Other tokens are not affected.
    assert_eq!(get(one.addr, "/api/v1/incidents", Some(alpha)).status, 200);
}

/// N uploaders × M reports at once: exactly N×M incidents, repeats stored once.
fn load(db: &str) {
    const N: usize = 8;
    const M: usize = 40;
    let t = token(db, "load", None);
    let server = Server::start(db, &[]);
    let logs = [
        "stlink-not-found.log",
        "port-in-use.log",
        "idcode-mismatch.log",
        "healthy.log",
    ]
    .map(example_log);
    let ids: Vec<String> = (0..N * M)
        .map(|i| client_id(1_000_000 + i as u64))
        .collect();
    std::thread::scope(|s| {
        for w in 0..N {
            let (ids, logs, t, addr) = (&ids, &logs, &t, server.addr);
            s.spawn(move || {
                for m in 0..M {
                    let i = w * M + m;
                    let body = upload_body(
                        &ids[i],
                        Some(&format!("rig-{w}")),
                        None,
                        &logs[i % 4],
                        lying_report(),
                    );
                    let r = post_json(addr, REPORTS, Some(t), &body);
                    assert_eq!(r.status, 201, "{}", r.body);
                    // Every tenth is sent twice, as a client retrying after a lost answer would.
                    if i % 10 == 0 {
                        let again = post_json(addr, REPORTS, Some(t), &body);
                        assert_eq!(again.status, 200, "{}", again.body);
                        assert_eq!(again.json()["id"], r.json()["id"]);
                    }
                }
            });
        }
    });
    let list = get(server.addr, "/api/v1/incidents?limit=1", Some(&t)).json();
    assert_eq!(list["total"], (N * M) as i64);
    let stored = support::block_on(async {
        let d = ocdoctor_server::Db::open(db).await.unwrap();
        let ids = d.client_ids("load").await.unwrap();
        let ok = d.integrity_check().await.unwrap();
        d.close().await;
        (ids, ok)
    });
    assert_eq!(stored.1, "ok");
    let mut got = stored.0;
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
}

/// SIGKILL the server while uploads stream in; restarted, it has every acknowledged upload and
/// the database is sound.
fn crash(db: &str) {
    let t = token(db, "crash", None);
    let mut server = Server::start(db, &[]);
    let addr = server.addr;
    let acked = std::sync::Mutex::new(Vec::<(String, String)>::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let log = example_log("stlink-not-found.log");
    std::thread::scope(|s| {
        for w in 0..4u64 {
            let (acked, stop, t, log) = (&acked, &stop, &t, &log);
            s.spawn(move || {
                for m in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let cid = client_id(2_000_000 + w * 100_000 + m);
                    match http::try_post_json(
                        addr,
                        REPORTS,
                        Some(t),
                        &upload_body(&cid, None, None, log, lying_report()),
                    ) {
                        Ok(r) if r.status == 201 => {
                            acked
                                .lock()
                                .unwrap()
                                .push((cid, r.json()["id"].as_str().unwrap().to_string()));
                        }
                        // The server died under this request: not acknowledged.
                        _ => break,
                    }
                }
            });
        }
        while acked.lock().unwrap().len() < 150 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        server.kill9();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let acked = acked.into_inner().unwrap();
    assert!(acked.len() >= 150);
    let (ok, stored) = support::block_on(async {
        let d = ocdoctor_server::Db::open(db).await.unwrap();
        let ok = d.integrity_check().await.unwrap();
        let ids = d.client_ids("crash").await.unwrap();
        d.close().await;
        (ok, ids)
    });
    assert_eq!(ok, "ok");
    let stored: std::collections::HashSet<String> = stored.into_iter().collect();
    let lost: Vec<&String> = acked
        .iter()
        .map(|(c, _)| c)
        .filter(|c| !stored.contains(*c))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged uploads lost after kill -9: {lost:?}",
        lost.len()
    );
    // Restarted, the server serves them.
    let again = Server::start(db, &[]);
    for (_, id) in acked.iter().step_by(25) {
        assert_eq!(
            get(again.addr, &format!("/api/v1/incidents/{id}"), Some(&t)).status,
            200
        );
    }
    assert!(
        get(again.addr, "/api/v1/incidents?limit=1", Some(&t)).json()["total"]
            .as_u64()
            .unwrap()
            >= acked.len() as u64
    );
}

/// The hex SHA-256 of a token, as the server stores it (computed here with `sha256sum`, not
/// the server's code).
fn sha256_hex(token: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(token.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn sqlite_db(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite:{}", dir.path().join(name).display())
}

#[test]
fn sqlite_suite() {
    let dir = tempfile::tempdir().unwrap();
    suite(&sqlite_db(&dir, "suite.db"));
}

#[test]
fn sqlite_load_and_kill9() {
    let dir = tempfile::tempdir().unwrap();
    load(&sqlite_db(&dir, "load.db"));
    crash(&sqlite_db(&dir, "crash.db"));
}

#[test]
fn postgres_suite_load_kill9_and_schema() {
    let Some(pg) = support::pg::Pg::start() else {
        return;
    };
    let suite_db = pg.database("suite");
    suite(&suite_db);
    load(&pg.database("load"));
    crash(&pg.database("crash"));
    // The one set of migrations gives both databases the same tables and columns.
    let dir = tempfile::tempdir().unwrap();
    let lite = sqlite_db(&dir, "schema.db");
    let (a, b) = support::block_on(async {
        let p = ocdoctor_server::Db::open(&suite_db).await.unwrap();
        let s = ocdoctor_server::Db::open(&lite).await.unwrap();
        let r = (p.schema().await.unwrap(), s.schema().await.unwrap());
        p.close().await;
        s.close().await;
        r
    });
    assert!(
        a.contains_key("incidents") && a.contains_key("tokens"),
        "{a:?}"
    );
    assert_eq!(a, b, "PostgreSQL and SQLite schemas differ");
    drop(pg);
}

#[test]
fn bad_database_urls_are_usage_errors() {
    let out = std::process::Command::new(support::bin())
        .args([
            "serve",
            "--database",
            "mysql://x@y/z",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sqlite:PATH"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad_team = std::process::Command::new(support::bin())
        .args([
            "serve",
            "--database",
            "sqlite::memory:",
            "--create-token",
            "no spaces",
        ])
        .output()
        .unwrap();
    assert_eq!(bad_team.status.code(), Some(2));
}

#[path = "server_support/browser.rs"]
mod browser;
