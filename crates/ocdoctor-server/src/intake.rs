//! An upload, from request body to the row the writer stores: validate the contract
//! (`ocdoctor.upload/v1`), diagnose the log with the server's engine, read probe and target,
//! sign the log for similarity.

use crate::db::{Incident, NewIncident, Summary};
use crate::{Diagnoser, auth, facts, similar};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const UPLOAD_SCHEMA: &str = "ocdoctor.upload/v1";
pub const REPORT_SCHEMA: &str = "ocdoctor.report/v1";

/// The upload contract (the `upload` client sends exactly this).
#[derive(Debug, Deserialize)]
pub struct Upload {
    pub schema: String,
    pub client_id: String,
    #[serde(default)]
    pub rig: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    pub log: String,
    /// The client's report: stored for reference, never used for the pages.
    pub report: serde_json::Value,
    /// What redaction replaced, by kind (counts only).
    #[serde(default)]
    pub redaction: BTreeMap<String, u64>,
    /// The uploading machine's snapshot (`ocdoctor.env/v1`, redacted with the log): the
    /// server joins the log with it, as `diagnose --env` does.
    #[serde(default)]
    pub env: Option<serde_json::Value>,
}

pub const ENV_SCHEMA: &str = "ocdoctor.env/v1";

/// Why an upload that parsed is still not stored.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// 400: the snapshot is not one the engine reads.
    #[error("env: {0}")]
    BadEnv(String),
    /// 500.
    #[error("no random numbers for an id: {0}")]
    Random(getrandom::Error),
}

/// Why an upload body is refused (400).
pub fn parse(body: &[u8]) -> Result<Upload, String> {
    let up: Upload = serde_json::from_slice(body)
        .map_err(|e| format!("not an upload ({UPLOAD_SCHEMA}): {e}"))?;
    if up.schema != UPLOAD_SCHEMA {
        return Err(format!(
            "schema {:?}: this server takes {UPLOAD_SCHEMA}",
            up.schema
        ));
    }
    if !auth::is_uuid(&up.client_id) {
        return Err("client_id must be a UUID (8-4-4-4-12 hex digits)".into());
    }
    if let Some(r) = up.rig.as_deref().filter(|r| !auth::valid_name(r)) {
        return Err(format!(
            "rig {r:?}: use 1-64 letters, digits, '-', '_' or '.'"
        ));
    }
    if up.command.as_ref().is_some_and(|c| c.len() > 8192) {
        return Err("command longer than 8192 bytes".into());
    }
    if let Some(env) = &up.env {
        let schema = env.get("schema").and_then(|s| s.as_str());
        if !env.is_object() || schema != Some(ENV_SCHEMA) {
            return Err(format!("env must be an {ENV_SCHEMA} object"));
        }
    }
    let schema = up.report.get("schema").and_then(|s| s.as_str());
    if !up.report.is_object() || schema != Some(REPORT_SCHEMA) {
        return Err(format!("report must be an {REPORT_SCHEMA} object"));
    }
    Ok(up)
}

/// The server's own reading of an upload.
pub fn analyze(
    diagnose: &Diagnoser,
    up: Upload,
    team: String,
    rig: Option<String>,
    received_at: i64,
) -> Result<NewIncident, IntakeError> {
    let env = up.env.as_ref().map(|e| e.to_string());
    let report = diagnose(up.log.as_bytes(), env.as_deref()).map_err(IntakeError::BadEnv)?;
    // PostgreSQL's TEXT cannot hold NUL (binary garbage in a log can): shown as U+FFFD. The
    // diagnosis above read the log as it came.
    let log = without_nul(up.log);
    let command = up.command.map(without_nul);
    let top = report.causes.first();
    let cause = match (top, report.outcome.as_str()) {
        (Some(c), _) => c.cause.clone(),
        (None, "ok") => "none".to_string(),
        (None, _) => "unknown".to_string(),
    };
    let summary = Summary {
        id: auth::new_id().map_err(IntakeError::Random)?,
        received_at,
        rig,
        probe: facts::probe(&log, command.as_deref()),
        target: facts::target(&log, command.as_deref()),
        openocd_version: report.openocd.as_ref().map(|o| o.version.clone()),
        outcome: report.outcome.clone(),
        stage: report.stage.clone(),
        cause,
        confidence: top.map_or(0.0, |c| c.confidence),
        title: report.findings.first().map(|f| f.title.clone()),
        resolved_cause: None,
        resolved_fix: None,
        resolved_at: None,
    };
    Ok(NewIncident {
        incident: Incident {
            summary,
            team,
            client_id: up.client_id,
            signature: similar::to_hex(&similar::signature(&log)),
            command,
            log,
            report: serde_json::to_string(&report).unwrap_or_else(|_| "{}".into()),
            redaction: serde_json::to_string(&up.redaction).unwrap_or_else(|_| "{}".into()),
            env: env.map(without_nul),
        },
        client_report: up.report.to_string(),
    })
}

fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text
    }
}
