//! `ocdoctor investigate -- openocd …` (and `--from LOG`): the ladder of bounded, reversible
//! openocd runs of `ocdoctor-investigate`, each explained and confirmed before it runs.

use super::{UsageError, out};
use ocdoctor_investigate::{Ladder, Planned, Request, investigate};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct InvestigateArgs {
    /// A log of the failure: used instead of the first run (the ladder still needs the command
    /// line to run its steps).
    #[arg(long, value_name = "LOG")]
    from: Option<PathBuf>,
    /// Run every step without asking.
    #[arg(long)]
    yes: bool,
    #[arg(long, short = 'f', value_enum, default_value_t = InvestigateFormat::Text)]
    format: InvestigateFormat,
    /// The openocd command line: `-- openocd -f interface/… -f target/…`.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Copy, Clone, PartialEq, Eq, clap::ValueEnum)]
pub enum InvestigateFormat {
    Text,
    Json,
}

pub fn run(args: InvestigateArgs) -> Result<u8, UsageError> {
    let from_log = match &args.from {
        Some(p) => Some(
            std::fs::read(p)
                .map_err(|e| UsageError(format!("cannot read {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let req = Request {
        ladder: Ladder::builtin(),
        command: (!args.command.is_empty()).then(|| args.command.clone()),
        from_log,
    };
    let interactive = std::io::stdin().is_terminal();
    let yes = args.yes;
    let ask = |p: &Planned| {
        eprintln!("\n# {}: {}\n$ {}", p.step.id, p.explain, p.argv.join(" "));
        if yes {
            return true;
        }
        if !interactive {
            eprintln!("(not a terminal: not run; pass --yes to run the steps)");
            return false;
        }
        eprint!("Run it? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes")
    };
    let tell = |r: &ocdoctor_investigate::StepRecord| eprintln!("  -> {}", r.showed);
    let inv = investigate(&req, ask, tell).map_err(|e| UsageError(e.to_string()))?;
    match args.format {
        InvestigateFormat::Text => out(&ocdoctor_investigate::text(&inv)),
        InvestigateFormat::Json => out(&inv.json()),
    }
    Ok(inv.exit_code())
}
