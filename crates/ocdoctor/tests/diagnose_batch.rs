//! Batch mode, `ocdoctor diagnose DIR|FILE… [--jobs N]`, on real logs copied into a temp dir:
//! one JSON line per log in sorted path order, each report the single-file `diagnose` of that
//! file, unreadable files as error lines without stopping the batch, the same output whatever
//! the number of workers, and the exit status.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Real logs: the examples, and OpenOCD runs of several probes and outcomes.
const LOGS: &[&str] = &[
    "examples/logs/healthy.log",
    "examples/logs/idcode-mismatch.log",
    "examples/logs/port-in-use.log",
    "examples/logs/stlink-not-found.log",
    "crates/ocdoctor-core/tests/data/runs/stlink_stm32f4.log",
    "crates/ocdoctor-core/tests/data/runs/cmsis_dap_rp2040.log",
    "crates/ocdoctor-core/tests/data/runs/xds110_cc26x2.log",
    "crates/ocdoctor-core/tests/data/runs/dummy_jtag_init_ok_d3.log",
    "crates/ocdoctor-core/tests/data/runs/rbb_stm32f1_ok_init_shutdown.log",
];

/// The healthy ones among them.
const OK_LOGS: &[&str] = &[
    "examples/logs/healthy.log",
    "crates/ocdoctor-core/tests/data/runs/rbb_stm32f1_ok_init_shutdown.log",
];

fn ocdoctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run ocdoctor")
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A temp dir with `logs` copied in: the first half at the top, the rest under `nested/deeper/`,
/// and a file batch mode must skip (not `.log`/`.txt`). The `.txt` copy of the first log stands
/// for an IDE console saved as text. Returns the dir and the paths of the logs in it, sorted.
fn log_dir(logs: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("nested/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    let mut copied = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let name = Path::new(log).file_name().unwrap();
        let to = if i < logs.len() / 2 {
            dir.path().join(name)
        } else {
            deep.join(name)
        };
        std::fs::copy(workspace().join(log), &to).unwrap();
        copied.push(to);
    }
    let console = dir.path().join("ide-console.txt");
    std::fs::copy(workspace().join(logs[0]), &console).unwrap();
    copied.push(console);
    std::fs::write(dir.path().join("README.md"), "not a log\n").unwrap();
    copied.sort();
    (dir, copied)
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

fn path_of(line: &Value) -> &str {
    line["path"].as_str().expect("every line has its path")
}

#[test]
fn n_logs_give_n_lines_each_the_single_file_report() {
    let (dir, logs) = log_dir(LOGS);
    let out = ocdoctor(&["diagnose", "--no-env", dir.path().to_str().unwrap()]);
    // Some of these logs are failures: exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let got = lines(&out);
    assert_eq!(got.len(), logs.len(), "one line per log\n{}", show(&out));
    for (line, log) in got.iter().zip(&logs) {
        assert_eq!(path_of(line), log.to_str().unwrap(), "sorted path order");
        let single = ocdoctor(&["diagnose", "--no-env", "-f", "json", log.to_str().unwrap()]);
        let single_report: Value = serde_json::from_slice(&single.stdout).unwrap();
        assert_eq!(
            line["report"],
            single_report,
            "the batch report of {} is its single-file report",
            log.display()
        );
        assert!(line.get("error").is_none());
    }
    // The failures are diagnosed, not just listed.
    let failed = got
        .iter()
        .filter(|l| l["report"]["outcome"] == "failed")
        .count();
    assert!(failed >= 5, "{failed} failures\n{}", show(&out));
}

#[test]
fn an_unreadable_file_gives_an_error_line_and_the_others_still_come() {
    let (dir, logs) = log_dir(&LOGS[..4]);
    // A dangling symlink in the directory, and a named file that does not exist.
    let gone = dir.path().join("gone.log");
    std::os::unix::fs::symlink(dir.path().join("deleted-since.log"), &gone).unwrap();
    let missing = dir.path().join("missing.log");
    let out = ocdoctor(&[
        "diagnose",
        "--no-env",
        dir.path().to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let got = lines(&out);
    let mut want: Vec<PathBuf> = logs.clone();
    want.push(gone.clone());
    want.push(missing.clone());
    want.sort();
    let paths: Vec<&str> = got.iter().map(path_of).collect();
    let want: Vec<&str> = want.iter().map(|p| p.to_str().unwrap()).collect();
    assert_eq!(paths, want, "{}", show(&out));
    for line in &got {
        let bad = [&gone, &missing]
            .iter()
            .any(|p| p.to_str() == Some(path_of(line)));
        if bad {
            let why = line["error"].as_str().expect("an error line");
            assert!(
                why.contains(path_of(line)),
                "the error names the file: {why}"
            );
            assert!(line.get("report").is_none());
        } else {
            assert_eq!(line["report"]["schema"], "ocdoctor.report/v1", "{line}");
        }
    }
}

#[test]
fn one_worker_and_four_give_the_same_output() {
    let (dir, _) = log_dir(LOGS);
    let d = dir.path().to_str().unwrap();
    let one = ocdoctor(&["diagnose", "--no-env", "--jobs", "1", d]);
    let four = ocdoctor(&["diagnose", "--no-env", "--jobs", "4", d]);
    assert_eq!(one.status.code(), four.status.code());
    assert!(!one.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&one.stdout),
        String::from_utf8_lossy(&four.stdout)
    );
    let text_one = ocdoctor(&["diagnose", "--no-env", "-f", "text", "-j", "1", d]);
    let text_four = ocdoctor(&["diagnose", "--no-env", "-f", "text", "-j", "4", d]);
    assert_eq!(text_one.stdout, text_four.stdout);
}

#[test]
fn healthy_logs_exit_0_and_text_is_one_summary_line_each() {
    let (dir, logs) = log_dir(OK_LOGS);
    let d = dir.path().to_str().unwrap();
    let out = ocdoctor(&["diagnose", "--no-env", d]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(lines(&out).iter().all(|l| l["report"]["outcome"] == "ok"));
    let text = ocdoctor(&["diagnose", "--no-env", "--color", "never", "-f", "text", d]);
    assert_eq!(text.status.code(), Some(0), "{}", show(&text));
    let want: Vec<String> = logs
        .iter()
        .map(|p| format!("{}: ok", p.display()))
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&text.stdout)
            .lines()
            .collect::<Vec<_>>(),
        want
    );
}

#[test]
fn usage_errors_exit_2() {
    let (dir, _) = log_dir(OK_LOGS);
    let d = dir.path().to_str().unwrap();
    let md = ocdoctor(&["diagnose", "--no-env", "-f", "markdown", d]);
    assert_eq!(md.status.code(), Some(2), "{}", show(&md));
    assert!(md.stdout.is_empty());
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.md"), "no log here\n").unwrap();
    let none = ocdoctor(&["diagnose", "--no-env", empty.path().to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(2), "{}", show(&none));
    // Nothing readable at all: the error lines, and 2.
    let missing = empty.path().join("a.log");
    let also = empty.path().join("b.log");
    let unread = ocdoctor(&[
        "diagnose",
        "--no-env",
        missing.to_str().unwrap(),
        also.to_str().unwrap(),
    ]);
    assert_eq!(unread.status.code(), Some(2), "{}", show(&unread));
    assert_eq!(lines(&unread).len(), 2);
}
