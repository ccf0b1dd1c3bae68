//! `ocdoctor upload LOG --server URL --token T`: redact (by default), diagnose, and send one
//! report to a team dashboard (`ocdoctor serve`).
//!
//! The contract, shared with the server:
//! `POST {URL}/api/v1/reports`, `Authorization: Bearer T`, `Content-Type: application/json`,
//! body `{"schema":"ocdoctor.upload/v1","client_id":"<uuid v4>","rig":…,"command":…,
//! "log":"<redacted log>","report":<ocdoctor.report/v1 of the redacted log, no machine>,
//! "redaction":{"kind":count},"env":<ocdoctor.env/v1 snapshot, redacted; only with --env>}`.
//! Answers: 201 `{"id","duplicate":false}`, 200 `{"id",
//! "duplicate":true}` for a client id already stored, 401 bad token, 403 wrong team, 413 too
//! large, 429 rate limited (we wait for Retry-After and try again, three times at most).

use super::redact::{self, KeyOptions};
use std::path::PathBuf;
use std::time::Duration;

pub const SCHEMA: &str = "ocdoctor.upload/v1";

/// How often a 429 is retried, and the longest Retry-After we are willing to wait.
const MAX_RETRIES: u32 = 3;
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(clap::Args)]
pub struct UploadArgs {
    /// The OpenOCD log to upload (`-`: standard input).
    pub log: PathBuf,
    /// The dashboard, e.g. https://ocdoctor.example.com (the API path is added).
    #[arg(long, value_name = "URL", required_unless_present = "dry_run")]
    pub server: Option<String>,
    /// The upload token the server gave this rig or user.
    #[arg(
        long,
        value_name = "T",
        env = "OCDOCTOR_TOKEN",
        hide_env_values = true,
        required_unless_present = "dry_run"
    )]
    pub token: Option<String>,
    /// Which rig (bench, CI runner) the log comes from.
    #[arg(long, value_name = "NAME")]
    pub rig: Option<String>,
    /// The openocd command line that produced the log (redacted like the log).
    #[arg(long, value_name = "\"openocd ARGS…\"")]
    pub cmd: Option<String>,
    /// Send this machine snapshot (`ocdoctor env --save FILE`) with the log, redacted with it:
    /// a user, host or serial in the snapshot gets the same pseudonym in the log and command
    /// line. The report (and the server's) then joins the log with it, as `diagnose --env`.
    #[arg(long, value_name = "FILE")]
    pub env: Option<PathBuf>,
    /// Print exactly the JSON body that would be sent, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send the log as it is, with its user names, serials and paths (not recommended).
    #[arg(long)]
    pub no_redact: bool,
    /// The upload's id (default: a new UUID v4); the server stores one report per id, so a
    /// retried upload is not stored twice.
    #[arg(long, value_name = "UUID")]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub keys: KeyOptions,
}

pub fn run(args: UploadArgs) -> Result<u8, String> {
    let (label, log) = redact::read_input(Some(&args.log))?;
    let (body, manifest) = build_body(&args, label, log)?;
    if args.dry_run {
        println!("{body}");
        return Ok(0);
    }
    let (Some(server), Some(token)) = (&args.server, &args.token) else {
        return Err("--server and --token are needed to upload".into());
    };
    if !manifest.is_empty() {
        eprintln!("{}", redact::manifest_line(&manifest));
    }
    let answer = post(server, token, &body)?;
    println!(
        "{} {} as {}",
        if answer.duplicate {
            "already uploaded (same client id):"
        } else {
            "uploaded:"
        },
        args.log.display(),
        answer.id
    );
    Ok(0)
}

/// The body, and the redaction counts.
fn build_body(
    args: &UploadArgs,
    label: Option<String>,
    log: String,
) -> Result<(String, std::collections::BTreeMap<String, u64>), String> {
    let snapshot = match &args.env {
        Some(path) => Some(ocdoctor_engine::log::load_snapshot(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let (log, label, command, env, manifest) = if args.no_redact {
        eprintln!(
            "ocdoctor: warning: --no-redact: the log leaves as it is, with any user and host \
             names, probe serials, addresses and paths in it"
        );
        (log, label, args.cmd.clone(), snapshot, Default::default())
    } else {
        let mut r = redact::redactor(&args.keys)?;
        // One run: a name first seen in the command line or the snapshot is replaced in the
        // log too, and the other way round.
        // The snapshot as this version writes it: fields it does not know are left out, so
        // nothing unread leaves.
        let env = match snapshot {
            Some(snap) => Some((to_json(&snap)?, snap)),
            None => None,
        };
        if let Some((_, snap)) = &env {
            know_snapshot_names(&mut r, snap);
        }
        if let Some(c) = &args.cmd {
            r.learn(c);
        }
        r.learn(&log);
        if let Some((value, _)) = &env {
            for_each_string(&mut value.clone(), &mut |t| r.learn(t));
        }
        let log = r.redact(&log);
        let label = label.map(|l| r.redact(&l));
        let command = args.cmd.as_ref().map(|c| r.redact(c));
        let env = match env {
            Some((mut value, _)) => {
                for_each_string(&mut value, &mut |t| *t = r.redact(t));
                Some(
                    serde_json::from_value::<ocdoctor_env::EnvSnapshot>(value)
                        .map_err(|e| format!("internal error: the redacted snapshot: {e}"))?,
                )
            }
            None => None,
        };
        (log, label, command, env, r.manifest().clone())
    };
    // What `diagnose --no-env` (or `diagnose --env SNAPSHOT`) says of what leaves.
    let report = match &env {
        None => ocdoctor_engine::diagnose_bytes(log.as_bytes(), label.as_deref()),
        Some(snap) => ocdoctor_engine::diagnose(
            ocdoctor_engine::read_log_bytes(log.as_bytes(), label.as_deref()),
            &ocdoctor_engine::DiagnoseOptions {
                machine: ocdoctor_engine::Machine::Snapshot(Box::new(snap.clone())),
                ..Default::default()
            },
        )
        .map_err(|e| e.to_string())?,
    };
    let report: serde_json::Value = serde_json::from_str(&ocdoctor_core::render::json(&report))
        .map_err(|e| format!("internal error: the report is not JSON: {e}"))?;
    let client_id = match &args.client_id {
        Some(id) => id.clone(),
        None => uuid_v4()?,
    };
    let mut body = serde_json::json!({
        "schema": SCHEMA,
        "client_id": client_id,
        "rig": args.rig,
        "command": command,
        "log": log,
        "report": report,
        "redaction": manifest,
    });
    if let Some(snap) = &env {
        body["env"] = to_json(snap)?;
    }
    Ok((body.to_string(), manifest))
}

fn to_json(snap: &ocdoctor_env::EnvSnapshot) -> Result<serde_json::Value, String> {
    serde_json::to_value(snap).map_err(|e| format!("internal error: the snapshot is not JSON: {e}"))
}

/// The names a snapshot holds as values of their own (no path or prompt around them to
/// recognise them by): replaced wherever they appear, in the log and command line too.
fn know_snapshot_names(r: &mut ocdoctor_redact::Redactor, snap: &ocdoctor_env::EnvSnapshot) {
    use ocdoctor_redact::Kind;
    if let Some(name) = &snap.user.name {
        r.know(Kind::User, name);
    }
    for d in &snap.usb.devices {
        if let Some(serial) = &d.serial {
            r.know(Kind::Serial, serial);
        }
        if let Some(owner) = d.node.as_ref().and_then(|n| n.owner.as_ref()) {
            r.know(Kind::User, owner);
        }
    }
}

/// Every string inside a JSON value (object keys are field names and stay).
fn for_each_string(value: &mut serde_json::Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| for_each_string(v, f)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| for_each_string(v, f)),
        _ => {}
    }
}

/// A random (version 4) UUID.
fn uuid_v4() -> Result<String, String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| format!("no randomness for a client id: {e}"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// What the server said to a stored upload.
#[derive(serde::Deserialize)]
struct Answer {
    id: String,
    #[serde(default)]
    duplicate: bool,
}

fn post(server: &str, token: &str, body: &str) -> Result<Answer, String> {
    let url = format!("{}/api/v1/reports", server.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("ocdoctor/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut tries = 0;
    loop {
        let mut resp = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        match status {
            200 | 201 => {
                return serde_json::from_str(&text).map_err(|e| {
                    format!("{url} answered {status} but not with {{\"id\", \"duplicate\"}}: {e}")
                });
            }
            429 if tries < MAX_RETRIES => {
                tries += 1;
                let wait = Duration::from_secs(retry_after.unwrap_or(1)).min(MAX_RETRY_AFTER);
                eprintln!(
                    "ocdoctor: the server is busy (429); trying again in {} s ({tries}/{MAX_RETRIES})",
                    wait.as_secs()
                );
                std::thread::sleep(wait);
            }
            _ => return Err(refusal(&url, status, &text, body.len())),
        }
    }
}

/// A refused upload, said plainly.
fn refusal(url: &str, status: u16, text: &str, body_len: usize) -> String {
    let why = match status {
        401 => "the server does not accept this token (401): check --token".to_string(),
        403 => "this token may not upload here (403): it belongs to another team or rig".into(),
        413 => format!("the upload ({body_len} bytes) is larger than the server accepts (413)"),
        429 => format!("the server is still rate limiting after {MAX_RETRIES} retries (429)"),
        _ => format!("{url} answered {status}"),
    };
    let detail: String = text.trim().chars().take(300).collect();
    if detail.is_empty() {
        why
    } else {
        format!("{why}: {detail}")
    }
}
