//! `ocdoctor serve`: the team dashboard (crate `ocdoctor-server`), diagnosing uploads with the
//! same engine path as `ocdoctor diagnose --no-env`.

use super::UsageError;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// `sqlite:PATH` (created when missing) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
    /// Default: the SQLite file `ocdoctor.db` in the current folder.
    #[arg(long, value_name = "URL", default_value = ocdoctor_server::DEFAULT_DATABASE)]
    database: String,
    /// Address to listen on (`0.0.0.0:8080` for the whole network; port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Make a bearer token for TEAM, print it once and exit (only its hash is stored).
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
}

pub fn run(args: ServeArgs) -> Result<u8, UsageError> {
    if let Some(team) = args.create_token {
        let token = ocdoctor_server::create_token(&args.database, &team, args.rig.as_deref())
            .map_err(|e| UsageError(e.to_string()))?;
        super::out(&format!("{token}\n"));
        return Ok(0);
    }
    let config = ocdoctor_server::Config {
        database: args.database,
        listen: args.listen,
        max_body_bytes: args.max_body_bytes,
        rate_limit: args.rate_limit,
        rate_window_secs: args.rate_window,
    };
    ocdoctor_server::serve(config, Arc::new(diagnose_upload))
        .map_err(|e| UsageError(e.to_string()))?;
    Ok(0)
}

/// An uploaded log, diagnosed as `diagnose --no-env` would: the machine that uploaded it is
/// not this one.
fn diagnose_upload(log: &[u8]) -> ocdoctor_core::Report {
    ocdoctor_engine::diagnose_bytes(log, Some("openocd.log"))
}
