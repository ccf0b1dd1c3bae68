//! The `ocdoctor` command line: glue between the terminal and `ocdoctor-core`.

mod check;
mod chip;
mod envjoin;
mod run;
mod serve;

use clap::{Parser, Subcommand, ValueEnum};
use ocdoctor_core::{KnowledgeBase, render};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
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
    Diagnose {
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
    },
    /// Check an OpenOCD configuration without running it: `check -- openocd ARGS…`,
    /// `check -f board/x.cfg -s DIR -c CMD` (openocd's options), or `check DIR|FILE` (a folder
    /// with .vscode/launch.json / *.launch / platformio.ini, one of those files, or a .cfg).
    /// Also takes --format text|json|markdown, --openocd PATH, --scripts DIR (anywhere).
    Check {
        /// What to check (see above).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "INPUT"
        )]
        args: Vec<String>,
    },
    /// Show the edits `check` proposes as a unified diff (dry run), or write them with --apply
    /// (backup `<file>.orig`, atomic write) and check again. Same inputs as `check`.
    Fix {
        /// What to fix: the same inputs as `check`; --apply, --format, --openocd, --scripts anywhere.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "INPUT"
        )]
        args: Vec<String>,
    },
    /// Run openocd exactly as given (same output, exit code, signals) and diagnose a failure.
    Run {
        /// Also keep the full log here (default: .ocdoctor/last.log).
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// Diagnose the log alone; never look at this machine (give it before `--`).
        #[arg(long)]
        no_env: bool,
        /// The command: `ocdoctor run -- openocd -f board/x.cfg`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Decode a JTAG IDCODE / DPIDR / CPUID / device id, or a pasted OpenOCD line, and say which
    /// config expects it.
    Idcode {
        /// `0x2ba01477`, `2ba01477`, decimal, or a whole OpenOCD line.
        #[arg(required = true, num_args = 1..)]
        value: Vec<String>,
        /// The OpenOCD scripts folder to search for configs expecting the id.
        #[arg(long, value_name = "DIR")]
        scripts: Option<PathBuf>,
    },
    /// Look at this machine: USB probes, permissions, drivers, ports, OpenOCD installs.
    Env {
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
    },
    /// List every rule: code, name, cause, summary.
    Rules {
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show a rule's documentation (by code, e.g. PRB001, or name).
    Explain { rule: String },
    /// Simulated JTAG targets with injected faults, for the real OpenOCD (remote_bitbang).
    #[command(subcommand)]
    Lab(LabCommand),
    /// The team dashboard: uploads, incidents, pages (SQLite file by default, or PostgreSQL).
    Serve(serve::ServeArgs),
}

#[derive(Subcommand)]
enum LabCommand {
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

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = use_color(cli.color);
    match run(cli.command, color) {
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

fn run(cmd: Command, color: bool) -> Result<u8, UsageError> {
    match cmd {
        Command::Diagnose {
            file,
            format,
            no_env,
            env,
            cmd,
        } => {
            let Scanned { scan, label, text } = scan_input(file.as_deref())?;
            let log_version = scan.banner.as_ref().map(|b| b.version.to_string());
            let mut hints = match (no_env, env) {
                (true, _) => ocdoctor_core::Hints::default(),
                (false, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
                    let snap = ocdoctor_env::EnvSnapshot::from_json(&text).map_err(|e| {
                        UsageError(format!(
                            "{} is not an ocdoctor env snapshot: {e}",
                            path.display()
                        ))
                    })?;
                    envjoin::hints_from_env(&snap, log_version.as_deref())
                }
                (false, None) => {
                    let mut opts = ocdoctor_env::CollectOptions::for_this_machine();
                    // Diagnosing needs the probes and ports, not the versions of every install.
                    opts.run_binaries = false;
                    envjoin::hints_from_env(&ocdoctor_env::collect(&opts), log_version.as_deref())
                }
            };
            if let Some(line) = cmd {
                hints.problems =
                    check::problems_of_command(&line, log_version, &check::Options::default())
                        .map_err(UsageError)?;
            }
            let text = text.map(|t| String::from_utf8_lossy(&t).into_owned());
            let report = chip::report_for_log(scan, label.as_deref(), hints, text.as_deref());
            out(&match format {
                Format::Text => render::text(&report, color),
                Format::Json => render::json(&report),
                Format::Markdown => render::markdown(&report),
            });
            Ok(report.exit_code() as u8)
        }
        Command::Rules { format } => {
            let kb = KnowledgeBase::embedded();
            match format {
                Format::Json => {
                    let rows: Vec<_> = kb
                        .rules
                        .iter()
                        .map(|r| serde_json::json!({"code": r.code, "name": r.name, "cause": r.cause, "severity": r.severity.as_str(), "summary": r.summary}))
                        .collect();
                    out(&(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"));
                }
                Format::Markdown => {
                    let mut s =
                        String::from("| code | name | cause | summary |\n|---|---|---|---|\n");
                    for r in &kb.rules {
                        s += &format!(
                            "| [{0}](docs/rules/{0}.md) | {1} | `{2}` | {3} |\n",
                            r.code, r.name, r.cause, r.summary
                        );
                    }
                    out(&s);
                }
                Format::Text => {
                    let w = kb.rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
                    let cw = kb.rules.iter().map(|r| r.cause.len()).max().unwrap_or(0);
                    let mut s = String::new();
                    for r in &kb.rules {
                        s += &format!(
                            "{}  {:w$}  {:cw$}  {}\n",
                            r.code, r.name, r.cause, r.summary
                        );
                    }
                    out(&s);
                }
            }
            Ok(0)
        }
        Command::Lab(cmd) => lab(cmd, color),
        Command::Serve(args) => serve::run(args),
        Command::Check { args } => check_cmd(args, false, color),
        Command::Fix { args } => check_cmd(args, true, color),
        Command::Idcode { value, scripts } => {
            out(&chip::idcode(&value.join(" "), scripts).map_err(UsageError)?);
            Ok(0)
        }
        Command::Run {
            log,
            no_env,
            command,
        } => {
            let code = run::run(run::RunOptions {
                argv: command,
                log,
                color,
                env: !no_env,
            })
            .map_err(UsageError)?;
            std::process::exit(code);
        }
        Command::Env {
            json,
            save,
            root,
            ports,
        } => {
            let mut opts = ocdoctor_env::CollectOptions::for_this_machine();
            if let Some(r) = root {
                opts.root = r;
            }
            opts.extra_ports = ports;
            let snap = ocdoctor_env::collect(&opts);
            if let Some(path) = save {
                write_atomically(&path, snap.to_json().as_bytes())
                    .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
            }
            out(&if json {
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
        Command::Explain { rule } => {
            let kb = KnowledgeBase::embedded();
            match render::rule_doc(kb, &rule) {
                Some(doc) => {
                    out(&doc);
                    Ok(0)
                }
                None => Err(UsageError(format!(
                    "no rule {rule:?}; `ocdoctor rules` lists them"
                ))),
            }
        }
    }
}

/// Scan a file or stdin in a streaming way (constant memory whatever the size).
/// What `diagnose` read: the scan, a label for the input, and the log text itself when it is
/// small enough to keep (chip-identity enrichment reads it again).
struct Scanned {
    scan: ocdoctor_core::ScanResult,
    label: Option<String>,
    text: Option<Vec<u8>>,
}

/// Keep at most this much of the log in memory for enrichment; bigger logs are only scanned.
pub(crate) const KEEP_LOG_BYTES: usize = 16 << 20;

/// A reader that hands bytes to the scanner and keeps a copy of the first `KEEP_LOG_BYTES`.
struct Tee<R> {
    inner: R,
    copy: Option<Vec<u8>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = self.copy.as_mut() {
            if c.len() + n > KEEP_LOG_BYTES {
                self.copy = None;
            } else {
                c.extend_from_slice(&buf[..n]);
            }
        }
        Ok(n)
    }
}

/// Scan a file or stdin in a streaming way (constant memory whatever the size).
fn scan_input(file: Option<&std::path::Path>) -> Result<Scanned, UsageError> {
    let sc = ocdoctor_core::scanner();
    let (reader, label): (Box<dyn Read>, Option<String>) = match file {
        Some(p) if p.as_os_str() != "-" => {
            let label = p.display().to_string();
            if p.is_dir() {
                return Err(UsageError(format!(
                    "{label} is a directory; give the log file inside it"
                )));
            }
            let f = std::fs::File::open(p)
                .map_err(|e| UsageError(format!("cannot open {label}: {e}")))?;
            (Box::new(f), Some(label))
        }
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(UsageError(
                    "no log given: pass a file (`ocdoctor diagnose openocd.log`) or pipe one (`openocd … 2>&1 | ocdoctor diagnose`)".into(),
                ));
            }
            (Box::new(stdin), None)
        }
    };
    let mut tee = Tee {
        inner: reader,
        copy: Some(Vec::new()),
    };
    let what = label.clone().unwrap_or_else(|| "standard input".into());
    let scan = sc
        .scan_reader(&mut tee)
        .map_err(|e| UsageError(format!("cannot read {what}: {e}")))?;
    Ok(Scanned {
        scan,
        label,
        text: tee.copy,
    })
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

fn lab(cmd: LabCommand, color: bool) -> Result<u8, UsageError> {
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
            let report = chip::report_for_log(
                ocdoctor_core::scanner().scan_bytes(log.as_bytes()),
                Some("openocd output"),
                ocdoctor_core::Hints::default(),
                Some(&log),
            );
            out(&render::text(&report, color));
            Ok(report.exit_code() as u8)
        }
    }
}

/// The lab's interface cfg as a file, for a command a user can copy (`lab serve`, `lab demo`).
fn write_lab_interface_cfg(port: u16) -> Result<std::path::PathBuf, UsageError> {
    let cfg = std::env::temp_dir().join(format!("ocdoctor-lab-{port}.cfg"));
    std::fs::write(&cfg, ocdoctor_lab::interface_cfg(port))
        .map_err(|e| UsageError(format!("cannot write {}: {e}", cfg.display())))?;
    Ok(cfg)
}

fn render_report(report: &ocdoctor_core::Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => render::text(report, color),
        Format::Json => render::json(report),
        Format::Markdown => render::markdown(report),
    }
}

/// `check` and `fix`: the free arguments hold our options and the inputs.
fn check_cmd(mut args: Vec<String>, fix: bool, color: bool) -> Result<u8, UsageError> {
    let format = match check::take_option(&mut args, "format", true).as_deref() {
        None | Some("text") => Format::Text,
        Some("json") => Format::Json,
        Some("markdown") => Format::Markdown,
        Some(other) => {
            return Err(UsageError(format!(
                "--format {other:?}: use text, json or markdown"
            )));
        }
    };
    let opts = check::Options {
        openocd: check::take_option(&mut args, "openocd", true).map(PathBuf::from),
        scripts: check::take_option(&mut args, "scripts", true).map(PathBuf::from),
    };
    let apply = fix && check::take_option(&mut args, "apply", false).is_some();
    // Hidden: the raw problems, as the rules' `*.problems.json` fixtures hold them.
    let raw = check::take_option(&mut args, "problems-json", false).is_some();
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    check::prefetch_version(&opts);
    let inputs = check::parse_inputs(&args).map_err(UsageError)?;
    let checked = check::check(&inputs, &opts).map_err(UsageError)?;
    if raw {
        out(&check::problems_json(&checked.problems));
        return Ok(0);
    }
    if !fix {
        let report = check::report(&checked, None);
        out(&render_report(&report, format, color));
        return Ok(check::exit_code(&report));
    }
    let plan = check::plan(&checked.edits);
    if plan.is_empty() {
        out("ocdoctor fix: no edit to make\n");
    }
    if !apply {
        for (path, old, new) in &plan {
            out(&check::diff(path, old, new));
        }
        if !plan.is_empty() {
            out(
                "\n(dry run: `ocdoctor fix --apply …` writes these edits, keeping a .orig backup)\n",
            );
        }
        return Ok(u8::from(!plan.is_empty()));
    }
    for (path, backup) in check::apply(&plan).map_err(UsageError)? {
        out(&format!(
            "fixed {} (backup: {})\n",
            path.display(),
            backup.display()
        ));
    }
    // What remains.
    let checked = check::check(&inputs, &opts).map_err(UsageError)?;
    let report = check::report(&checked, None);
    out(&render_report(&report, format, color));
    Ok(check::exit_code(&report))
}

/// Write through a temporary file in the same folder and rename it over the target, so a
/// crash never leaves a half-written file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    // A symlinked file is edited where it lives: replacing the link by a regular file would
    // leave the real config unchanged.
    let path = if path.is_symlink() {
        std::fs::canonicalize(path)?
    } else {
        path.to_path_buf()
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    // Per process: two ocdoctor runs writing the same file must not share a temp file.
    let tmp = dir.join(format!(
        ".{}.ocdoctor-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        // The edited file keeps its mode (an executable script stays executable, a private
        // file stays private).
        if let Ok(meta) = std::fs::metadata(&path) {
            f.set_permissions(meta.permissions())?;
        }
        // On disk before it replaces the original: a crash leaves the old file or the new one.
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &path)?;
    // The rename itself is durable once the folder is synced (best effort: not every
    // platform can open a folder).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
