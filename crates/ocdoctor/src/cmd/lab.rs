//! `ocdoctor lab`: simulated JTAG targets with injected faults, for the real OpenOCD
//! (remote_bitbang, or vdebug for an OpenOCD built with it): list the faults, serve one, or run
//! openocd against one and diagnose it.

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
        /// The adapter protocol: remote_bitbang (Debian's openocd) or vdebug (an openocd built
        /// with --enable-vdebug, see .ci/build-openocd-vdebug.sh; `adapter speed` reaches it).
        #[arg(long, default_value = "remote_bitbang")]
        adapter: String,
    },
    /// Run the real openocd against a fault and diagnose what it prints.
    Demo {
        /// A fault id from `ocdoctor lab list`, or `healthy`.
        fault: String,
        #[arg(long, default_value = "stm32f4")]
        chip: String,
        /// The openocd binary to run (default: `openocd`; for vdebug, the one
        /// .ci/build-openocd-vdebug.sh installs, or $OCDOCTOR_VDEBUG_OPENOCD).
        #[arg(long)]
        openocd: Option<PathBuf>,
        /// The adapter protocol: remote_bitbang or vdebug (see `lab serve --help`).
        #[arg(long, default_value = "remote_bitbang")]
        adapter: String,
        /// `adapter speed` in kHz, set after the target cfg (reaches the board over vdebug only).
        #[arg(long)]
        speed: Option<u32>,
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
        LabCommand::Serve {
            chip,
            fault,
            port,
            adapter,
        } => {
            // Before the command is printed: a signal right after it must still clean up.
            let stop = StopSignals::register();
            let config = lab_config(&chip, fault.as_deref())?;
            let adapter = lab_adapter(&adapter)?;
            let target = ocdoctor_lab::target_cfg(config.chip);
            let lab = ocdoctor_lab::Lab::start_on(config, port, adapter)
                .map_err(|e| UsageError(format!("cannot start the lab: {e}")))?;
            let (cfg, _) = write_lab_interface_cfg(lab.port(), adapter)?;
            let openocd = match adapter {
                ocdoctor_lab::LabAdapter::RemoteBitbang => "openocd".to_string(),
                ocdoctor_lab::LabAdapter::Vdebug => ocdoctor_lab::vdebug_openocd()
                    .unwrap_or_else(|| ocdoctor_lab::VDEBUG_OPENOCD_DEFAULT.into())
                    .display()
                    .to_string(),
            };
            out(&format!(
                "lab listening on 127.0.0.1:{} (Ctrl-C to stop)\n\n  {openocd} -f {} -f {target}\n\n",
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
            adapter,
            speed,
        } => {
            let config = lab_config(&chip, Some(&fault))?;
            let adapter = lab_adapter(&adapter)?;
            let openocd = match (openocd, adapter) {
                (Some(p), _) => p,
                (None, ocdoctor_lab::LabAdapter::RemoteBitbang) => PathBuf::from("openocd"),
                (None, ocdoctor_lab::LabAdapter::Vdebug) => ocdoctor_lab::vdebug_openocd()
                    .ok_or_else(|| {
                        UsageError(format!(
                            "no openocd with the vdebug driver at {} (build it with \
                             .ci/build-openocd-vdebug.sh, or pass --openocd)",
                            ocdoctor_lab::VDEBUG_OPENOCD_DEFAULT
                        ))
                    })?,
            };
            let lab = ocdoctor_lab::Lab::start_on(config.clone(), None, adapter)
                .map_err(|e| UsageError(format!("cannot start the lab: {e}")))?;
            // Shown as a command to copy: the interface cfg is written where openocd can read it.
            let (iface, iface_text) = write_lab_interface_cfg(lab.port(), adapter)?;
            let mut plan = ocdoctor_lab::session_plan(&config);
            if let Some(khz) = speed {
                for run in &mut plan {
                    // After the target cfg (which sets its own speed), before the commands.
                    let at = run
                        .args
                        .iter()
                        .position(|a| a == "init")
                        .map_or(2, |i| i - 1);
                    let add = ["-c".to_string(), format!("adapter speed {khz}")];
                    run.args.splice(at..at, add);
                }
            }
            let mut log = String::new();
            for (i, run) in plan.iter().enumerate() {
                if i > 0 {
                    eprintln!("# again, connecting under reset (what the first failure suggests):");
                }
                eprintln!(
                    "$ {} -f {} {}",
                    openocd.display(),
                    ocdoctor_cfg::argv::shell_quote(&iface.display().to_string()),
                    ocdoctor_cfg::argv::shell_join(&run.args)
                );
                match ocdoctor_lab::run_openocd_with(&openocd, &iface_text, &run.args, run.timeout)
                {
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

fn lab_adapter(name: &str) -> Result<ocdoctor_lab::LabAdapter, UsageError> {
    match name {
        "remote_bitbang" | "remote-bitbang" => Ok(ocdoctor_lab::LabAdapter::RemoteBitbang),
        "vdebug" => Ok(ocdoctor_lab::LabAdapter::Vdebug),
        _ => Err(UsageError(format!(
            "unknown adapter {name:?}; try remote_bitbang or vdebug"
        ))),
    }
}

/// The lab's interface cfg as a file, for a command a user can copy (`lab serve`, `lab demo`).
/// Returns the file and its text (what openocd is run with, without reading the file back).
fn write_lab_interface_cfg(
    port: u16,
    adapter: ocdoctor_lab::LabAdapter,
) -> Result<(PathBuf, String), UsageError> {
    let cfg = std::env::temp_dir().join(format!("ocdoctor-lab-{port}.cfg"));
    let text = adapter.interface_cfg(port);
    std::fs::write(&cfg, &text)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", cfg.display())))?;
    Ok((cfg, text))
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
