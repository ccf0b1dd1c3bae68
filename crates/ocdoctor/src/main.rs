//! The `ocdoctor` command line: glue between the terminal and `ocdoctor-engine`. One file per
//! subcommand under `cmd/`; every decision is in a library crate or in `rules/`.

mod cmd;

use clap::{Parser, Subcommand, ValueEnum};
use ocdoctor_core::render;
use ocdoctor_engine::EngineError;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ocdoctor",
    version,
    about = "Diagnoses OpenOCD failures: ranked causes, the lines that prove them, the fix"
)]
struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose an OpenOCD log (a file, or standard input when FILE is omitted or `-`).
    Diagnose(cmd::diagnose::DiagnoseArgs),
    /// Replace private data in a log (user and host names, serials, addresses, e-mails, tokens,
    /// keys, private paths) by consistent pseudonyms: the text on stdout, the counts on stderr.
    Redact(cmd::redact::RedactArgs),
    /// Redact, diagnose and upload a log to a team dashboard (`ocdoctor serve`).
    Upload(cmd::upload::UploadArgs),
    /// The team dashboard: uploads, incidents, pages (SQLite file by default, or PostgreSQL).
    Serve(cmd::serve::ServeArgs),
    /// Check an OpenOCD configuration without running it: `check -- openocd ARGS…`,
    /// `check -f board/x.cfg -s DIR -c CMD` (openocd's options), or `check DIR|FILE` (a folder
    /// with .vscode/launch.json / *.launch / platformio.ini, one of those files, or a .cfg).
    /// Also takes --format text|json|markdown|sarif, --openocd PATH, --scripts DIR (anywhere).
    Check(cmd::check::CheckArgs),
    /// Show the edits `check` proposes as a unified diff (dry run), or write them with --apply
    /// (backup `<file>.orig`, atomic write) and check again. Same inputs as `check`; --apply,
    /// --format, --openocd, --scripts anywhere.
    Fix(cmd::check::CheckArgs),
    /// Run openocd exactly as given (same output, exit code, signals) and diagnose a failure.
    Run(cmd::run::RunArgs),
    /// Investigate a failure actively: a ladder of bounded openocd runs (lower speed, connect
    /// under reset, the other transport, idcode read-out, -d3), each explained and confirmed
    /// (--yes to skip), whose outcomes rank the causes. Never writes flash.
    Investigate(cmd::investigate::InvestigateArgs),
    /// Decode a JTAG IDCODE / DPIDR / CPUID / device id, or a pasted OpenOCD line, and say which
    /// config expects it.
    Idcode(cmd::idcode::IdcodeArgs),
    /// Look at this machine: USB probes, permissions, drivers, ports, OpenOCD installs.
    Env(cmd::env::EnvArgs),
    /// List every rule: code, name, cause, summary.
    Rules(cmd::rules::RulesArgs),
    /// Show a rule's documentation (by code, e.g. PRB001, or name).
    Explain(cmd::explain::ExplainArgs),
    /// Simulated JTAG targets with injected faults, for the real OpenOCD (remote_bitbang).
    #[command(subcommand)]
    Lab(cmd::lab::LabCommand),
    /// Serve the language server protocol on stdin/stdout (editors: see docs/editors.md).
    Lsp(cmd::lsp::LspArgs),
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// A user-facing failure: message on stderr, exit code 2.
struct UsageError(String);

impl From<EngineError> for UsageError {
    fn from(e: EngineError) -> UsageError {
        UsageError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = use_color(cli.color);
    let result = match cli.command {
        Command::Diagnose(a) => cmd::diagnose::run(a, color),
        Command::Redact(a) => cmd::redact::run(a).map_err(UsageError),
        Command::Upload(a) => cmd::upload::run(a).map_err(UsageError),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Check(a) => cmd::check::run(a, color),
        Command::Fix(a) => cmd::fix::run(a, color),
        Command::Run(a) => cmd::run::main(a, color),
        Command::Idcode(a) => cmd::idcode::run(a),
        Command::Investigate(a) => cmd::investigate::run(a),
        Command::Env(a) => cmd::env::run(a),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Lab(c) => cmd::lab::run(c, color),
        Command::Lsp(a) => cmd::lsp::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(UsageError(msg)) => {
            eprintln!("ocdoctor: error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn out(s: &str) {
    // A closed pipe (`ocdoctor … | head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(s.as_bytes());
}

fn render_report(report: &ocdoctor_core::Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => render::text(report, color),
        Format::Json => render::json(report),
        Format::Markdown => render::markdown(report),
        Format::Sarif => sarif(report),
    }
}

/// SARIF with the paths under the current directory (a checkout, in CI) relative to it.
fn sarif(report: &ocdoctor_core::Report) -> String {
    let cwd = std::env::current_dir().ok();
    ocdoctor_core::render_sarif::sarif_with_base(report, cwd.as_deref())
}
