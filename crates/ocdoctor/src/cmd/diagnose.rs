//! `ocdoctor diagnose [FILE]`: a log (a file or standard input), joined with this machine, a
//! saved snapshot, or nothing, and with the command line that produced it.

use super::{Format, UsageError, out, render_report};
use ocdoctor_engine::{DiagnoseOptions, Machine, ReadLog, check};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DiagnoseArgs {
    /// The log: OpenOCD's output, or an IDE console saved to a file.
    file: Option<PathBuf>,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Diagnose the log alone; never look at this machine.
    #[arg(long, conflicts_with = "env")]
    no_env: bool,
    /// Join the log with a snapshot saved by `ocdoctor env --save` (instead of this machine).
    #[arg(long, value_name = "SNAPSHOT.json")]
    env: Option<PathBuf>,
    /// The openocd command line that produced the log: its config is checked and joined.
    #[arg(long, value_name = "\"openocd ARGS…\"")]
    cmd: Option<String>,
}

pub fn run(args: DiagnoseArgs, color: bool) -> Result<u8, UsageError> {
    let log = read_input(args.file.as_deref())?;
    let machine = match (args.no_env, args.env) {
        (true, _) => Machine::None,
        (false, Some(path)) => {
            Machine::Snapshot(Box::new(ocdoctor_engine::log::load_snapshot(&path)?))
        }
        (false, None) => Machine::ThisMachine,
    };
    let opts = DiagnoseOptions {
        machine,
        command: args.cmd,
        check: check::Options::default(),
    };
    let report = ocdoctor_engine::diagnose(log, &opts)?;
    out(&render_report(&report, args.format, color));
    Ok(report.exit_code() as u8)
}

/// Read the log: a file, or standard input (`-` or no file).
fn read_input(file: Option<&Path>) -> Result<ReadLog, UsageError> {
    match file {
        Some(p) if p.as_os_str() != "-" => Ok(ocdoctor_engine::read_log_file(p)?),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(UsageError(
                    "no log given: pass a file (`ocdoctor diagnose openocd.log`) or pipe one (`openocd … 2>&1 | ocdoctor diagnose`)".into(),
                ));
            }
            let log = ocdoctor_engine::read_log(stdin.lock(), None)?;
            // `openocd … | ocdoctor diagnose`: OpenOCD writes its log to stderr, so without
            // `2>&1` nothing arrives. An empty input is no diagnosis ("no known failure").
            if log.scan.bytes == 0 {
                return Err(UsageError(
                    "standard input was empty: OpenOCD writes its log to stderr, so pipe both streams: `openocd … 2>&1 | ocdoctor diagnose`".into(),
                ));
            }
            Ok(log)
        }
    }
}
