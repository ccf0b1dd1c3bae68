//! `ocdoctor serve`: the team dashboard (crate `ocdoctor-server`), diagnosing uploads with the
//! same engine path as `ocdoctor diagnose --no-env`; `serve token …` manages its tokens and
//! `serve prune` applies a retention, both straight on the database.

use super::UsageError;
use ocdoctor_server::Scope;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(subcommand)]
    command: Option<ServeCommand>,
    /// `sqlite:PATH` (created when missing) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
    /// Default: the SQLite file `ocdoctor.db` in the current folder.
    #[arg(long, value_name = "URL", default_value = ocdoctor_server::DEFAULT_DATABASE, global = true)]
    database: String,
    /// Address to listen on (`0.0.0.0:8080` for the whole network; port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Make an admin token for TEAM, print it once and exit (the short form of
    /// `serve token create --team TEAM --scope admin`).
    #[arg(long, value_name = "TEAM")]
    create_token: Option<String>,
    /// With --create-token: the token may only upload as this rig.
    #[arg(long, value_name = "NAME", requires = "create_token")]
    rig: Option<String>,
    /// Largest accepted request body (an upload with its log), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_body_bytes: usize,
    /// Requests per token per --rate-window (shared by every instance on the database).
    #[arg(long, value_name = "N", default_value_t = 6000)]
    rate_limit: u64,
    /// The rate limit's window, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    rate_window: u64,
    /// Delete incidents (with their logs) of the UTC days more than N days before today: at
    /// start, then every hour, in batches of 500.
    #[arg(long, value_name = "N")]
    retain_days: Option<u32>,
}

#[derive(clap::Subcommand)]
enum ServeCommand {
    /// Bearer tokens: create (shown once, stored hashed), list (no secrets), revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Delete incidents older than --retain-days now, and exit (what `serve --retain-days`
    /// does every hour).
    Prune {
        /// Keep the incidents of the last N UTC days before today (and today's).
        #[arg(long, value_name = "N", required = true)]
        retain_days: u32,
    },
}

#[derive(clap::Subcommand)]
enum TokenCommand {
    /// Make a token: the token on stdout (once; only its SHA-256 is stored), its id on stderr.
    Create {
        /// The team whose incidents the token uploads and reads.
        #[arg(long, value_name = "TEAM")]
        team: String,
        /// The token may only upload as this rig.
        #[arg(long, value_name = "NAME")]
        rig: Option<String>,
        /// upload: POST reports only; read: the pages, the JSON GETs and resolving; admin: both.
        #[arg(long, value_parser = ["upload", "read", "admin"], default_value = "admin")]
        scope: String,
    },
    /// Every token's id, team, rig, scope, creation and revocation (never the secret).
    List {
        /// Only this team's tokens.
        #[arg(long, value_name = "TEAM")]
        team: Option<String>,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Refuse a token from the next request on, on every instance (it stays listed).
    Revoke {
        /// The id `token list` shows (12 hex digits).
        id: String,
    },
}

pub fn run(args: ServeArgs) -> Result<u8, UsageError> {
    let usage = |e: ocdoctor_server::ServerError| UsageError(e.to_string());
    let db = args.database.as_str();
    match args.command {
        Some(ServeCommand::Token(t)) => return token(db, t).map_err(usage),
        Some(ServeCommand::Prune { retain_days }) => {
            let p = ocdoctor_server::prune_now(db, retain_days).map_err(usage)?;
            super::out(&format!(
                "deleted {} incidents from before {} ({} batches)\n",
                p.incidents,
                ocdoctor_server::time::date(p.first_day_kept),
                p.batches
            ));
            return Ok(0);
        }
        None => {}
    }
    if let Some(team) = args.create_token {
        let made = ocdoctor_server::create_token(db, &team, args.rig.as_deref(), Scope::Admin)
            .map_err(usage)?;
        super::out(&format!("{}\n", made.token));
        return Ok(0);
    }
    let config = ocdoctor_server::Config {
        database: args.database,
        listen: args.listen,
        max_body_bytes: args.max_body_bytes,
        rate_limit: args.rate_limit,
        rate_window_secs: args.rate_window,
        retain_days: args.retain_days,
    };
    ocdoctor_server::serve(config, Arc::new(diagnose_upload)).map_err(usage)?;
    Ok(0)
}

fn token(db: &str, command: TokenCommand) -> Result<u8, ocdoctor_server::ServerError> {
    match command {
        TokenCommand::Create { team, rig, scope } => {
            // The value parser took only known names.
            let scope = Scope::from_name(&scope).unwrap_or(Scope::Upload);
            let made = ocdoctor_server::create_token(db, &team, rig.as_deref(), scope)?;
            eprintln!(
                "ocdoctor: token {} for team {team}{}, scope {} (shown once: only its hash is stored)",
                made.id,
                rig.map(|r| format!(", rig {r}")).unwrap_or_default(),
                scope.name()
            );
            super::out(&format!("{}\n", made.token));
        }
        TokenCommand::List { team, json } => {
            let tokens = ocdoctor_server::list_tokens(db, team.as_deref())?;
            if json {
                let text = serde_json::to_string_pretty(&tokens).unwrap_or_else(|_| "[]".into());
                super::out(&format!("{text}\n"));
            } else {
                super::out(&token_table(&tokens));
            }
        }
        TokenCommand::Revoke { id } => {
            let message = match ocdoctor_server::revoke_token(db, id.trim())? {
                ocdoctor_server::Revoked::Now => format!("revoked token {id}\n"),
                ocdoctor_server::Revoked::Already(at) => format!(
                    "token {id} was already revoked at {}\n",
                    ocdoctor_server::time::rfc3339(at)
                ),
            };
            super::out(&message);
        }
    }
    Ok(0)
}

/// `ID TEAM RIG SCOPE CREATED REVOKED`, aligned.
fn token_table(tokens: &[ocdoctor_server::TokenInfo]) -> String {
    let when = |ms: Option<i64>| ms.map_or("-".to_string(), ocdoctor_server::time::rfc3339);
    let mut rows = vec![[
        "ID".to_string(),
        "TEAM".into(),
        "RIG".into(),
        "SCOPE".into(),
        "CREATED".into(),
        "REVOKED".into(),
    ]];
    for t in tokens {
        rows.push([
            t.id.clone(),
            t.team.clone(),
            t.rig.clone().unwrap_or_else(|| "-".into()),
            t.scope.clone(),
            when(Some(t.created_at)),
            when(t.revoked_at),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// An uploaded log, diagnosed as `diagnose --no-env` would (the machine that uploaded it is
/// not this one), or as `diagnose --env SNAPSHOT` when the upload carries its machine's.
fn diagnose_upload(log: &[u8], env: Option<&str>) -> Result<ocdoctor_core::Report, String> {
    let label = Some("openocd.log");
    let Some(env) = env else {
        return Ok(ocdoctor_engine::diagnose_bytes(log, label));
    };
    let snap = ocdoctor_env::EnvSnapshot::from_json(env)?;
    let options = ocdoctor_engine::DiagnoseOptions {
        machine: ocdoctor_engine::Machine::Snapshot(Box::new(snap)),
        ..Default::default()
    };
    ocdoctor_engine::diagnose(ocdoctor_engine::read_log_bytes(log, label), &options)
        .map_err(|e| e.to_string())
}
