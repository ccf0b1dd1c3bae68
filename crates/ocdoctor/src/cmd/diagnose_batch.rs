//! `ocdoctor diagnose DIR|FILE… [--jobs N]`: many logs (a farm's nightly), each diagnosed by the
//! same engine call as a single file, on N worker threads. Output: one line per log in sorted
//! path order, each printed as soon as every log before it is done:
//! `{"path": "...", "report": {…report v1…}}`, or `{"path": "...", "error": "..."}` for a log
//! that could not be read (the batch goes on). `--format text`: one summary line per log.
//! Exit status: 0 every log ok, 1 any log failed, has a problem or could not be read, 2 a
//! usage error or no log readable.

use super::diagnose::{DiagnoseArgs, diagnose_log, options};
use super::{Format, UsageError, out};
use ocdoctor_engine::{DiagnoseOptions, Report};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// A log to diagnose, or a directory that could not be listed (reported like a bad log).
struct Item {
    path: PathBuf,
    unlisted: Option<String>,
    bytes: u64,
}

impl Item {
    /// A file to diagnose, with its size for the progress bar (0 when it cannot be read: the
    /// diagnosis then reports why).
    fn file(path: PathBuf) -> Item {
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        Item {
            path,
            unlisted: None,
            bytes,
        }
    }
}

/// A progress bar is drawn (on a terminal) for at least this many logs...
const PROGRESS_MIN_LOGS: usize = 16;
/// ...or this many bytes in all.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

pub fn run(args: &DiagnoseArgs, color: bool) -> Result<u8, UsageError> {
    let text = match args.format {
        None | Some(Format::Json) => false,
        Some(Format::Text) => true,
        Some(_) => {
            return Err(UsageError(
                "batch mode prints one line per log: --format json (the default) or text".into(),
            ));
        }
    };
    let items = collect(&args.files);
    if items.is_empty() {
        return Err(UsageError(format!(
            "no log found: no .log or .txt file under {}",
            show_paths(&args.files)
        )));
    }
    let mut opts = options(args)?;
    // Every log is joined with the same machine: read it once.
    opts.machine = opts.machine.read_now();
    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .min(items.len());
    let total_bytes: u64 = items.iter().map(|i| i.bytes).sum();
    let progress = (std::io::stderr().is_terminal()
        && (items.len() >= PROGRESS_MIN_LOGS || total_bytes >= PROGRESS_MIN_BYTES))
        .then(|| progress_bar(items.len()));

    let (tx, rx) = mpsc::channel::<(usize, Result<Report, String>)>();
    let next = AtomicUsize::new(0);
    let mut tally = Tally::default();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (items, next, opts) = (&items, &next, &opts);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if tx.send((i, diagnose_one(item, args, opts))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results arrive in any order; each is printed once all before it are.
        let mut waiting = BTreeMap::new();
        let mut printed = 0;
        for (i, result) in rx {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&printed) {
                let line = tally.line(&items[printed].path, &result, text, color);
                match &progress {
                    Some(bar) => {
                        bar.suspend(|| out(&line));
                        bar.inc(1);
                    }
                    None => out(&line),
                }
                printed += 1;
            }
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(tally.exit_code())
}

/// The logs the paths name, sorted and without repeats: every file named, and under every
/// directory (recursively) each file whose extension is `log` or `txt`.
fn collect(paths: &[PathBuf]) -> Vec<Item> {
    let mut items = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut items);
        } else {
            items.push(Item::file(path.clone()));
        }
    }
    items.sort_by(|a, b| a.path.cmp(&b.path));
    items.dedup_by(|a, b| a.path == b.path);
    items
}

fn walk(dir: &Path, items: &mut Vec<Item>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            items.push(Item {
                path: dir.to_path_buf(),
                unlisted: Some(format!("cannot list {}: {e}", dir.display())),
                bytes: 0,
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // A symlink to a directory is not followed (no loops); one to a file is a file.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            walk(&path, items);
        } else if is_log_name(&path) {
            items.push(Item::file(path));
        }
    }
}

/// The names batch mode takes from a directory: `*.log` and `*.txt` (IDE consoles saved).
fn is_log_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("log") || e.eq_ignore_ascii_case("txt"))
}

fn diagnose_one(
    item: &Item,
    args: &DiagnoseArgs,
    opts: &DiagnoseOptions,
) -> Result<Report, String> {
    if let Some(why) = &item.unlisted {
        return Err(why.clone());
    }
    let log = ocdoctor_engine::read_log_file(&item.path).map_err(|e| e.to_string())?;
    diagnose_log(log, args, opts).map_err(|UsageError(e)| e)
}

/// What the batch found so far, for its exit status.
#[derive(Default)]
struct Tally {
    read: usize,
    problems: usize,
    errors: usize,
}

impl Tally {
    /// The output line of one log (newline included), counted.
    fn line(
        &mut self,
        path: &Path,
        result: &Result<Report, String>,
        text: bool,
        color: bool,
    ) -> String {
        let shown = path.display().to_string();
        match result {
            Ok(report) => {
                self.read += 1;
                if report.exit_code() != 0 {
                    self.problems += 1;
                }
                if text {
                    summary_line(&shown, report, color)
                } else {
                    let report = serde_json::to_string(report).expect("a report always serialises");
                    format!("{{\"path\":{},\"report\":{report}}}\n", json_string(&shown))
                }
            }
            Err(why) => {
                self.errors += 1;
                if text {
                    format!("{shown}: error: {why}\n")
                } else {
                    format!(
                        "{{\"path\":{},\"error\":{}}}\n",
                        json_string(&shown),
                        json_string(why)
                    )
                }
            }
        }
    }

    fn exit_code(&self) -> u8 {
        if self.read == 0 {
            2
        } else if self.problems + self.errors > 0 {
            1
        } else {
            0
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serialises")
}

/// `PATH: OUTCOME [at STAGE]: CAUSE NN %` — one log of a batch in `--format text`.
fn summary_line(path: &str, report: &Report, color: bool) -> String {
    let mut line = format!("{path}: {}", paint_outcome(&report.outcome, color));
    if let Some(stage) = &report.stage {
        line.push_str(&format!(" at {stage}"));
    }
    if report.outcome != "ok" {
        if let Some(top) = report.causes.first() {
            line.push_str(&format!(": {} {:.0} %", top.cause, top.confidence * 100.0));
        }
    }
    line.push('\n');
    line
}

fn paint_outcome(outcome: &str, color: bool) -> String {
    let style = match outcome {
        "ok" => anstyle::AnsiColor::Green.on_default(),
        "failed" => anstyle::AnsiColor::Red.on_default().bold(),
        _ => anstyle::AnsiColor::Yellow.on_default(),
    };
    if color {
        format!("{}{outcome}{}", style.render(), style.render_reset())
    } else {
        outcome.to_string()
    }
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn progress_bar(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} logs  {elapsed} (eta {eta})")
    {
        bar.set_style(style);
    }
    bar
}
