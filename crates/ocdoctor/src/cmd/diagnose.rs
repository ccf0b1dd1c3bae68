//! `ocdoctor diagnose [FILE]`: a log (a file or standard input), joined with this machine, a
//! saved snapshot, or nothing, and with the command line that produced it. Several files or a
//! directory: batch mode (`diagnose_batch`), one JSON line per log.

use super::{Format, UsageError, out, render_report};
use ocdoctor_engine::{DiagnoseOptions, Machine, ReadLog, Report, check};
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DiagnoseArgs {
    /// The log: OpenOCD's output, or an IDE console saved to a file. Several files, or a
    /// directory (its `.log` and `.txt` files, recursively): batch mode, one JSON line per log.
    #[arg(value_name = "FILE|DIR")]
    pub(super) files: Vec<PathBuf>,
    /// Output format (default text; in batch mode json, one line per log, or text, one summary
    /// line per log).
    #[arg(long, short = 'f', value_enum)]
    pub(super) format: Option<Format>,
    /// Diagnose the log alone; never look at this machine.
    #[arg(long, conflicts_with = "env")]
    no_env: bool,
    /// Join the log with a snapshot saved by `ocdoctor env --save` (instead of this machine).
    #[arg(long, value_name = "SNAPSHOT.json")]
    env: Option<PathBuf>,
    /// The openocd command line that produced the log: its config is checked and joined.
    #[arg(long, value_name = "\"openocd ARGS…\"")]
    cmd: Option<String>,
    /// Replace user and host names, serials, addresses, tokens and private paths in the
    /// report by pseudonyms (forum-ready with --format markdown).
    #[arg(long)]
    redact: bool,
    #[command(flatten)]
    redaction: super::redact::KeyOptions,
    /// Batch mode: diagnose this many logs at once (default: the available cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub(super) jobs: Option<NonZeroUsize>,
}

pub fn run(args: DiagnoseArgs, color: bool) -> Result<u8, UsageError> {
    if args.files.len() > 1 || args.files.first().is_some_and(|p| p.is_dir()) {
        return super::diagnose_batch::run(&args, color);
    }
    if args.jobs.is_some() {
        return Err(UsageError(
            "--jobs is for batch mode: give several logs or a directory".into(),
        ));
    }
    let log = read_input(args.files.first().map(PathBuf::as_path))?;
    let opts = options(&args)?;
    let report = diagnose_log(log, &args, &opts)?;
    out(&render_report(
        &report,
        args.format.unwrap_or(Format::Text),
        color,
    ));
    Ok(report.exit_code() as u8)
}

/// What the engine joins each log with, from the arguments.
pub(super) fn options(args: &DiagnoseArgs) -> Result<DiagnoseOptions, UsageError> {
    let machine = match (args.no_env, &args.env) {
        (true, _) => Machine::None,
        (false, Some(path)) => {
            Machine::Snapshot(Box::new(ocdoctor_engine::log::load_snapshot(path)?))
        }
        (false, None) => Machine::ThisMachine,
    };
    Ok(DiagnoseOptions {
        machine,
        command: args.cmd.clone(),
        check: check::Options::default(),
    })
}

/// The report of one log read: the engine's diagnosis, redacted when asked. Batch mode calls
/// this for each log, so every log gets the single-file report.
pub(super) fn diagnose_log(
    log: ReadLog,
    args: &DiagnoseArgs,
    opts: &DiagnoseOptions,
) -> Result<Report, UsageError> {
    // The log's text, for redaction's consistent pseudonyms (the engine takes the log).
    let text = args
        .redact
        .then(|| {
            log.text
                .as_deref()
                .map(|t| String::from_utf8_lossy(t).into_owned())
        })
        .flatten();
    let mut report = ocdoctor_engine::diagnose(log, opts)?;
    if args.redact {
        let sources = [text.as_deref(), args.cmd.as_deref()];
        super::redact::redact_diagnosis(&mut report, &args.redaction, &sources)
            .map_err(UsageError)?;
    }
    Ok(report)
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
