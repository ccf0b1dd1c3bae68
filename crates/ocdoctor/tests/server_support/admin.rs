//! Token scopes and revocation, and retention, on one database (SQLite and PostgreSQL run the
//! same functions): the real binary's `serve token …` and `serve prune`, real servers.

use super::support::http::{self, get, page, post_json};
use super::support::{Server, client_id, lying_report, scoped_token, serve_cli, upload_body};
use super::{REPORTS, rand_n, sha256_hex};
use serde_json::{Value, json};
use std::net::SocketAddr;

fn try_upload(a: SocketAddr, token: &str) -> http::Resp {
    post_json(
        a,
        REPORTS,
        Some(token),
        &upload_body(
            &client_id(rand_n()),
            None,
            None,
            &super::support::example_log("stlink-not-found.log"),
            lying_report(),
        ),
    )
}

fn login(a: SocketAddr, token: &str) -> u16 {
    http::request(
        a,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={token}").as_bytes(),
    )
    .unwrap()
    .status
}

/// Upload, read and admin tokens do what their scope says; `token list` shows no secret; a
/// revoked token is refused by two instances at once, on the API and the pages.
pub fn tokens(db: &str) {
    let (uploader, uploader_id) = scoped_token(db, "ops", Some("hil-3"), "upload");
    let (reader, reader_id) = scoped_token(db, "ops", None, "read");
    let (admin, admin_id) = scoped_token(db, "ops", None, "admin");
    let one = Server::start(db, &[]);
    let two = Server::start(db, &[]);
    let (a, b) = (one.addr, two.addr);

    // upload: POST only.
    let up = try_upload(a, &uploader);
    assert_eq!(up.status, 201, "{}", up.body);
    let id = up.json()["id"].as_str().unwrap().to_string();
    let refused = get(a, "/api/v1/incidents", Some(&uploader));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|h| h.contains("insufficient_scope")),
        "{:?}",
        refused.header("www-authenticate")
    );
    assert!(refused.json()["error"].as_str().unwrap().contains("read"));
    assert_eq!(
        get(a, &format!("/api/v1/incidents/{id}"), Some(&uploader)).status,
        403
    );
    assert_eq!(page(a, "/incidents", &uploader).status, 403);
    assert_eq!(login(a, &uploader), 403);

    // read: the pages, the GETs and resolving; no uploads.
    let list = get(b, "/api/v1/incidents", Some(&reader));
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json()["total"], 1);
    assert_eq!(list.json()["incidents"][0]["rig"], "hil-3");
    assert_eq!(try_upload(b, &reader).status, 403);
    assert_eq!(page(b, "/incidents", &reader).status, 200);
    assert_eq!(login(b, &reader), 303);
    let resolve = post_json(
        b,
        &format!("/api/v1/incidents/{id}/resolve"),
        Some(&reader),
        &json!({"cause": "probe-not-found", "fix": "replugged"}),
    );
    assert_eq!(resolve.status, 200, "{}", resolve.body);

    // admin: both.
    assert_eq!(try_upload(a, &admin).status, 201);
    assert_eq!(get(a, "/api/v1/incidents", Some(&admin)).json()["total"], 2);
    // The short form makes an admin token too.
    let (code, short, err) = serve_cli(db, &["--create-token", "ops"]);
    assert_eq!(code, 0, "{err}");
    let short = short.trim();
    assert_eq!(try_upload(b, short).status, 201);
    assert_eq!(get(b, "/api/v1/incidents", Some(short)).status, 200);

    // The list: ids, scopes, no secret and no hash.
    let (code, table, err) = serve_cli(db, &["token", "list", "--team", "ops"]);
    assert_eq!(code, 0, "{err}");
    for (tok, tid, scope) in [
        (&uploader, &uploader_id, "upload"),
        (&reader, &reader_id, "read"),
        (&admin, &admin_id, "admin"),
    ] {
        let line = table
            .lines()
            .find(|l| l.starts_with(tid.as_str()))
            .unwrap_or_else(|| panic!("{tid} not listed:\n{table}"));
        assert!(line.split_whitespace().any(|w| w == scope), "{line}");
        assert!(!table.contains(tok.as_str()), "a token secret is listed");
        assert!(!table.contains(&sha256_hex(tok)), "a token hash is listed");
    }
    assert!(table.lines().any(|l| l.contains("hil-3")), "{table}");
    let listed = |team: &str| -> Vec<Value> {
        let (code, out, err) = serve_cli(db, &["token", "list", "--team", team, "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    assert_eq!(listed("ops").len(), 4);
    assert!(listed("ops").iter().all(|t| t["revoked_at"].is_null()));
    assert!(listed("nobody").is_empty());

    // Revoke the reader: refused at once by both instances, on the API and the pages.
    let (code, out, err) = serve_cli(db, &["token", "revoke", &reader_id]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("revoked token {reader_id}").as_str()),
        "{err}"
    );
    for addr in [a, b] {
        let r = get(addr, "/api/v1/incidents", Some(&reader));
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains("revoked"),
            "{}",
            r.body
        );
        let p = page(addr, "/incidents", &reader);
        assert_eq!((p.status, p.header("location")), (303, Some("/login")));
        assert_eq!(login(addr, &reader), 401);
    }
    // The others still work.
    assert_eq!(get(b, "/api/v1/incidents", Some(&admin)).status, 200);
    assert_eq!(try_upload(a, &uploader).status, 201);
    let revoked: Vec<Value> = listed("ops")
        .into_iter()
        .filter(|t| !t["revoked_at"].is_null())
        .collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["id"], reader_id.as_str());
    let (code, out, _) = serve_cli(db, &["token", "revoke", &reader_id]);
    assert_eq!(code, 0);
    assert!(out.contains("already revoked"), "{out}");
    let (code, _, err) = serve_cli(db, &["token", "revoke", "000000000000"]);
    assert_eq!(code, 2);
    assert!(err.contains("no token with id"), "{err}");
    let (code, _, err) = serve_cli(
        db,
        &["token", "create", "--team", "ops", "--scope", "write"],
    );
    assert_eq!(code, 2, "{err}");
    env_snapshots(a, &admin);
}

/// An upload with its machine snapshot: stored, shown, and joined into the server's diagnosis
/// as `diagnose --env` joins it; a document that is not a snapshot is refused.
fn env_snapshots(a: SocketAddr, token: &str) {
    let snap = json!({
        "schema": "ocdoctor.env/v1", "os": "linux", "root": "/",
        "user": {"uid": 1000, "gid": 1000, "name": "user-3f9a", "groups": [], "source": "process"},
        "usb": {"bus_visible": true, "devices": [{"sysfs_name": "1-2", "vendor_id": "0483",
            "product_id": "3748", "product": "STM32 STLink", "serial": "serial-1b2c"}]},
    });
    let log = super::support::example_log("stlink-not-found.log");
    let mut body = upload_body(&client_id(rand_n()), None, None, &log, lying_report());
    body["env"] = snap.clone();
    let r = post_json(a, REPORTS, Some(token), &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let inc = get(a, &format!("/api/v1/incidents/{id}"), Some(token)).json();
    assert_eq!(inc["env"], snap);
    let dir = tempfile::tempdir().unwrap();
    let (log_file, env_file) = (dir.path().join("openocd.log"), dir.path().join("snap.json"));
    std::fs::write(&log_file, &log).unwrap();
    std::fs::write(&env_file, snap.to_string()).unwrap();
    let out = std::process::Command::new(super::support::bin())
        .args(["diagnose", "--format", "json", "--env"])
        .args([&env_file, &log_file])
        .output()
        .unwrap();
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        inc["report"]["causes"], cli["causes"],
        "the server did not join the snapshot"
    );
    let alone = super::cli_diagnosis(&log);
    assert_ne!(
        cli["findings"], alone["findings"],
        "the snapshot changes nothing here, so this test proves nothing"
    );
    for bad in [
        json!("snap"),
        json!({"schema": "ocdoctor.env/v0"}),
        json!({"schema": "ocdoctor.env/v1", "user": 5}),
    ] {
        let mut body = upload_body(&client_id(rand_n()), None, None, &log, lying_report());
        body["env"] = bad;
        assert_eq!(post_json(a, REPORTS, Some(token), &body).status, 400);
    }
}

/// An incident as the server stores it, received `days_ago` days before now.
fn backdated(team: &str, days_ago: i64, n: u64) -> ocdoctor_server::db::NewIncident {
    let now = ocdoctor_server::time::now_ms();
    ocdoctor_server::db::NewIncident {
        incident: ocdoctor_server::db::Incident {
            summary: ocdoctor_server::db::Summary {
                id: client_id(9_000_000 + n),
                received_at: now - days_ago * ocdoctor_server::time::DAY_MS,
                rig: Some(format!("rig-{}", n % 3)),
                probe: Some("ST-Link".into()),
                target: Some("stm32f4x".into()),
                openocd_version: Some("0.12.0".into()),
                outcome: "failed".into(),
                stage: None,
                cause: "probe-not-found".into(),
                confidence: 0.9,
                title: None,
                resolved_cause: None,
                resolved_fix: None,
                resolved_at: None,
            },
            team: team.into(),
            client_id: client_id(8_000_000 + n),
            signature: String::new(),
            command: None,
            log: format!("Error: open failed ({n})\n"),
            report: "{}".into(),
            redaction: "{}".into(),
            env: None,
        },
        client_report: "{}".into(),
    }
}

fn insert(db: &str, rows: &[ocdoctor_server::db::NewIncident]) {
    super::support::block_on(async {
        let d = ocdoctor_server::Db::open(db).await.unwrap();
        for chunk in rows.chunks(200) {
            let refs: Vec<&_> = chunk.iter().collect();
            d.insert_batch(&refs).await.unwrap();
        }
        d.close().await;
    });
}

fn counts(db: &str) -> (std::collections::BTreeMap<String, i64>, i64) {
    super::support::block_on(async {
        let d = ocdoctor_server::Db::open(db).await.unwrap();
        let rows = d.row_counts().await.unwrap();
        let grouped: i64 = d
            .groups("keep", 0)
            .await
            .unwrap()
            .iter()
            .map(|g| g.count)
            .sum();
        d.close().await;
        (rows, grouped)
    })
}

/// `serve prune --retain-days 30` and `serve --retain-days 30`: backdated incidents go with
/// their bodies and per-day counts, in batches; the recent ones stay.
pub fn retention(db: &str) {
    let (t, _) = scoped_token(db, "keep", None, "admin");
    let old: Vec<_> = (0..1_100)
        .map(|n| backdated("keep", 40 + (n as i64 % 5), n))
        .collect();
    let recent: Vec<_> = (0..10).map(|n| backdated("keep", 5, 50_000 + n)).collect();
    insert(db, &old);
    insert(db, &recent);
    let (before, grouped) = counts(db);
    assert_eq!(before["incidents"], 1_110);
    assert_eq!(before["incident_bodies"], 1_110);
    assert_eq!(grouped, 1_110);

    let (code, _, err) = serve_cli(db, &["prune", "--retain-days", "0"]);
    assert_eq!(code, 2, "{err}");
    let (code, out, err) = serve_cli(db, &["prune", "--retain-days", "30"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("deleted 1100 incidents from before "),
        "{out}"
    );
    assert!(out.contains("(3 batches)"), "{out}");
    let (after, grouped) = counts(db);
    assert_eq!(after["incidents"], 10, "{after:?}");
    assert_eq!(after["incident_bodies"], 10, "{after:?}");
    assert_eq!(grouped, 10, "the breakdowns still count deleted incidents");

    let server = Server::start(db, &["--retain-days", "30"]);
    let fresh = try_upload(server.addr, &t);
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    let gone = &old[0].incident.summary.id;
    assert_eq!(
        get(server.addr, &format!("/api/v1/incidents/{gone}"), Some(&t)).status,
        404
    );
    let kept = &recent[0].incident.summary.id;
    assert_eq!(
        get(server.addr, &format!("/api/v1/incidents/{kept}"), Some(&t)).status,
        200
    );
    drop(server);

    // A running server prunes on its own (at start, then hourly).
    insert(
        db,
        &(0..20)
            .map(|n| backdated("keep", 31, 70_000 + n))
            .collect::<Vec<_>>(),
    );
    assert_eq!(counts(db).0["incidents"], 31);
    let server = Server::start(db, &["--retain-days", "30"]);
    let started = std::time::Instant::now();
    while counts(db).0["incidents"] != 11 {
        assert!(
            started.elapsed().as_secs() < 20,
            "serve --retain-days did not prune"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        get(server.addr, "/api/v1/incidents", Some(&t)).json()["total"],
        11
    );
}
