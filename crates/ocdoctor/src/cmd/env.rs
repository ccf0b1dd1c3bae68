//! `ocdoctor env`: this machine (probes, permissions, drivers, ports, installs), as text or as
//! the `ocdoctor.env/v1` snapshot.

use super::{UsageError, out};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct EnvArgs {
    /// Print the snapshot as JSON (schema ocdoctor.env/v1).
    #[arg(long)]
    json: bool,
    /// Also write the JSON snapshot to this file (to diagnose elsewhere with `--env`).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Read the machine under this root (a fixture tree) instead of `/`.
    #[arg(long, hide = true)]
    root: Option<PathBuf>,
    /// Extra TCP ports to check besides 3333/4444/6666.
    #[arg(long = "port")]
    ports: Vec<u16>,
}

pub fn run(args: EnvArgs) -> Result<u8, UsageError> {
    let mut opts = ocdoctor_env::CollectOptions::for_this_machine();
    if let Some(r) = args.root {
        opts.root = r;
    }
    opts.extra_ports = args.ports;
    let snap = ocdoctor_env::collect(&opts);
    if let Some(path) = args.save {
        ocdoctor_engine::write_atomically(&path, snap.to_json().as_bytes())
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    out(&if args.json {
        snap.to_json()
    } else {
        ocdoctor_env::render_text(&snap)
    });
    let problems = ocdoctor_env::problems(&snap);
    Ok(u8::from(
        problems
            .iter()
            .any(|p| p.severity == ocdoctor_env::Severity::Error),
    ))
}
