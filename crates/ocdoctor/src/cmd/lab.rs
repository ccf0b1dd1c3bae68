//! `ocdoctor lab`: simulated JTAG targets with injected faults, for the real OpenOCD
//! (remote_bitbang): list the faults, serve one, or run openocd against one and diagnose it.

use super::{UsageError, out};
use ocdoctor_core::render;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum LabCommand {
    /// The fault catalogue, one line each.
    List,
    /// Serve a simulated target on 127.0.0.1 until interrupted; prints the openocd command.
    Serve {
        #[arg(long, default_value = "stm32f4")]
        chip: String,
        /// A fault id from `ocdoctor lab list`; none for a healthy target.
        #[arg(long)]
        fault: Option<String>,
        /// TCP port (default: an ephemeral one).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Run the real openocd against a fault and diagnose what it prints.
    Demo {
        /// A fault id from `ocdoctor lab list`, or `healthy`.
        fault: String,
        #[arg(long, default_value = "stm32f4")]
        chip: String,
        /// The openocd binary to run.
        #[arg(long, default_value = "openocd")]
        openocd: PathBuf,
    },
}

pub fn run(cmd: LabCommand, color: bool) -> Result<u8, UsageError> {
    match cmd {
        LabCommand::List => {
            let mut s = String::new();
            for f in ocdoctor_lab::catalogue() {
                let chips: Vec<&str> = f.chips.iter().map(|c| c.name()).collect();
                s += &format!(
                    "{:<24} {:<30} {:<16} {}\n",
                    f.id,
                    f.cause,
                    chips.join(","),
                    f.summary
                );
            }
            out(&s);
            Ok(0)
        }
        LabCommand::Serve { chip, fault, port } => {
            // Before the command is printed: a signal right after it must still clean up.
            let stop = StopSignals::register();
            let config = lab_config(&chip, fault.as_deref())?;
            let target = ocdoctor_lab::target_cfg(config.chip);
            let lab = ocdoctor_lab::Lab::start(config, port)
                .map_err(|e| UsageError(format!("cannot start the lab: {e}")))?;
            let cfg = write_lab_interface_cfg(lab.port())?;
            out(&format!(
                "lab listening on 127.0.0.1:{} (Ctrl-C to stop)\n\n  openocd -f {} -f {target}\n\n",
                lab.port(),
                cfg.display()
            ));
            let _ = std::io::stdout().flush();
            stop.wait();
            // The cfg is ours: leave no file behind in the temp folder.
            let _ = std::fs::remove_file(&cfg);
            drop(lab);
            Ok(0)
        }
        LabCommand::Demo {
            fault,
            chip,
            openocd,
        } => {
            let config = lab_config(&chip, Some(&fault))?;
            let lab = ocdoctor_lab::Lab::start(config.clone(), None)
                .map_err(|e| UsageError(format!("cannot start the lab: {e}")))?;
            // Shown as a command to copy: the interface cfg is written where openocd can read it.
            let iface = write_lab_interface_cfg(lab.port())?;
            let mut log = String::new();
            for (i, run) in ocdoctor_lab::session_plan(&config).iter().enumerate() {
                if i > 0 {
                    eprintln!("# again, connecting under reset (what the first failure suggests):");
                }
                eprintln!(
                    "$ {} -f {} {}",
                    openocd.display(),
                    ocdoctor_cfg::argv::shell_quote(&iface.display().to_string()),
                    run.args
                        .iter()
                        .map(|a| ocdoctor_cfg::argv::shell_quote(a))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                match ocdoctor_lab::run_openocd(&openocd, lab.port(), &run.args, run.timeout) {
                    Ok(o) => log.push_str(&o.log),
                    Err(e) => {
                        let _ = std::fs::remove_file(&iface);
                        return Err(UsageError(format!("cannot run {}: {e}", openocd.display())));
                    }
                }
            }
            let _ = std::fs::remove_file(&iface);
            drop(lab);
            out(&log);
            out("\n");
            let report = ocdoctor_engine::diagnose_bytes(log.as_bytes(), Some("openocd output"));
            out(&render::text(&report, color));
            Ok(report.exit_code() as u8)
        }
    }
}

fn lab_config(chip: &str, fault: Option<&str>) -> Result<ocdoctor_lab::LabConfig, UsageError> {
    let chip: ocdoctor_lab::Chip = chip
        .parse()
        .map_err(|_| UsageError(format!("unknown chip {chip:?}; try stm32f4 or stm32f1")))?;
    let mut config = ocdoctor_lab::LabConfig::new(chip);
    if let Some(f) = fault.filter(|f| *f != "healthy") {
        let id: ocdoctor_lab::FaultId = f.parse().map_err(|_| {
            UsageError(format!(
                "unknown fault {f:?}; `ocdoctor lab list` shows them"
            ))
        })?;
        if !id.info().chips.contains(&chip) {
            return Err(UsageError(format!(
                "fault {f} does not apply to {}",
                chip.name()
            )));
        }
        config = config.with_fault(id);
    }
    Ok(config)
}

/// The lab's interface cfg as a file, for a command a user can copy (`lab serve`, `lab demo`).
fn write_lab_interface_cfg(port: u16) -> Result<PathBuf, UsageError> {
    let cfg = std::env::temp_dir().join(format!("ocdoctor-lab-{port}.cfg"));
    std::fs::write(&cfg, ocdoctor_lab::interface_cfg(port))
        .map_err(|e| UsageError(format!("cannot write {}: {e}", cfg.display())))?;
    Ok(cfg)
}

/// SIGINT, SIGTERM and SIGHUP (Ctrl-C, `kill`, a closed terminal), caught from `register` on.
struct StopSignals {
    #[cfg(unix)]
    signals: Option<signal_hook::iterator::Signals>,
}

impl StopSignals {
    fn register() -> StopSignals {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            StopSignals {
                signals: signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).ok(),
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    /// Block until one arrives (without signal handling, until the default action ends us).
    fn wait(self) {
        #[cfg(unix)]
        if let Some(mut signals) = self.signals {
            let _ = signals.forever().next();
            return;
        }
        loop {
            std::thread::park();
        }
    }
}
