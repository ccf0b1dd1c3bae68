//! The command line as users and scripts see it: exit codes (0 no problem, 1 problems, 2 usage or
//! input error), the JSON report contract v1 (checked field by field, by hand), the markdown
//! format, no ANSI escapes when colour is off or output is piped, and hostile input that must
//! never panic.

use ocdoctor_core::kb::STAGES;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_dir() -> PathBuf {
    workspace().join("crates/ocdoctor-core/tests/data/runs")
}

/// A real ST-Link "open failed" log (OpenOCD 0.12).
fn stlink_log() -> PathBuf {
    workspace().join("rules/prb/PRB001-stlink-open-failed/hit_stlink_012.log")
}

/// A real complete good start-up (`init` + `shutdown`, gdb server listening).
fn healthy_log() -> PathBuf {
    run_dir().join("rbb_stm32f1_ok_init_shutdown.log")
}

fn ocdoctor() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocdoctor"));
    c.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR");
    c
}

/// Run with arguments; stdout is a pipe.
/// `diagnose` runs log-only here (`--no-env`): what this machine has attached (or runs) must not
/// change what these tests expect. The env join is tested on fixture snapshots.
fn with_no_env<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    if v.first() == Some(&"diagnose")
        && !v.iter().any(|a| a.starts_with("--env") || *a == "--no-env")
    {
        v.insert(1, "--no-env");
    }
    v
}

fn run(args: &[&str]) -> Output {
    ocdoctor()
        .args(with_no_env(args))
        .stdin(Stdio::null())
        .output()
        .expect("run ocdoctor")
}

/// Run with `input` on stdin.
fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = ocdoctor()
        .args(with_no_env(args))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ocdoctor");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    // Write from a thread: ocdoctor may print (and fill the stdout pipe) before reading it all.
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for ocdoctor");
    let _ = writer.join();
    out
}

fn show(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stdout: String = stdout.chars().take(20_000).collect();
    format!(
        "exit {:?}\n----- stdout -----\n{stdout}\n----- stderr -----\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", show(out)))
}

// ───────────────────────────── exit codes ─────────────────────────────

#[test]
fn healthy_log_exits_0() {
    let log = healthy_log();
    for fmt in ["text", "json", "markdown"] {
        let out = run(&["diagnose", "--format", fmt, log.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "format {fmt}\n{}", show(&out));
    }
    let out = run(&["diagnose", "-f", "json", log.to_str().unwrap()]);
    assert_eq!(json_of(&out)["outcome"], "ok", "{}", show(&out));
}

#[test]
fn failing_log_exits_1() {
    let log = stlink_log();
    for fmt in ["text", "json", "markdown"] {
        let out = run(&["diagnose", "--format", fmt, log.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "format {fmt}\n{}", show(&out));
    }
    let out = run_stdin(
        &["diagnose", "-", "-f", "json"],
        &std::fs::read(&log).unwrap(),
    );
    assert_eq!(out.status.code(), Some(1), "from stdin\n{}", show(&out));
    assert_eq!(json_of(&out)["outcome"], "failed", "{}", show(&out));
}

fn assert_usage_error(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: usage/input errors exit 2\n{}",
        show(out)
    );
    assert!(
        !out.stderr.is_empty(),
        "{what}: the message goes to stderr\n{}",
        show(out)
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: nothing on stdout\n{}",
        show(out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "{what}: a panic is not a usage error\n{}",
        show(out)
    );
}

#[test]
fn directory_is_batch_mode_one_json_line_per_log() {
    // A directory is a batch (tests/diagnose_batch.rs covers it): each of its logs, one JSON
    // line, exit 1 since some of these runs failed.
    let dir = run_dir();
    let out = run(&["diagnose", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let logs = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.is_file() && matches!(p.extension().and_then(|x| x.to_str()), Some("log" | "txt"))
        })
        .count();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), logs, "{}", show(&out));
    assert!(
        lines
            .iter()
            .all(|l| l["report"]["schema"] == "ocdoctor.report/v1")
    );
    // A batch has no markdown form.
    let out = run(&["diagnose", "-f", "markdown", dir.to_str().unwrap()]);
    assert_usage_error(&out, "a directory, markdown");
}

#[test]
fn missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-openocd.log");
    let out = run(&["diagnose", missing.to_str().unwrap()]);
    assert_usage_error(&out, "a missing file");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-openocd.log"),
        "the message names the file\n{}",
        show(&out)
    );
    let out = run(&["diagnose", "-f", "json", missing.to_str().unwrap()]);
    assert_usage_error(&out, "a missing file, json");
}

#[test]
fn unknown_rule_for_explain_exits_2() {
    let out = run(&["explain", "XYZ999"]);
    assert_usage_error(&out, "explain XYZ999");
    let out = run(&["explain", "no-such-rule-name"]);
    assert_usage_error(&out, "explain no-such-rule-name");
}

#[test]
fn explain_known_rule_exits_0() {
    let out = run(&["explain", "PRB001"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PRB001"),
        "{}",
        show(&out)
    );
}

#[test]
fn unknown_option_exits_2() {
    let out = run(&[
        "diagnose",
        "--no-such-option",
        stlink_log().to_str().unwrap(),
    ]);
    assert_usage_error(&out, "an unknown option");
    let out = run(&[
        "diagnose",
        "--format",
        "yaml",
        stlink_log().to_str().unwrap(),
    ]);
    assert_usage_error(&out, "an unknown format");
}

// ───────────────────────────── JSON contract v1 ─────────────────────────────

/// The taxonomy ids (rules/taxonomy.toml), read without a TOML parser: `id = "…"` lines.
fn taxonomy_ids() -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("rules/taxonomy.toml"))
        .expect("rules/taxonomy.toml");
    let ids: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("id = \"")
                .and_then(|r| r.strip_suffix('"'))
        })
        .map(str::to_string)
        .collect();
    assert!(ids.len() >= 10, "could not read the taxonomy ids: {ids:?}");
    ids
}

/// Collects contract violations with their JSON path.
struct Check {
    errors: Vec<String>,
}

impl Check {
    fn fail(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.errors.push(format!("{path}: {msg}"));
    }
    fn field<'a>(&mut self, v: &'a Value, path: &str, key: &str) -> Option<&'a Value> {
        match v.as_object() {
            None => {
                self.fail(path, "not an object");
                None
            }
            Some(o) => match o.get(key) {
                None => {
                    self.fail(&format!("{path}.{key}"), "missing");
                    None
                }
                Some(x) => Some(x),
            },
        }
    }
    fn string<'a>(&mut self, v: &'a Value, path: &str, key: &str) -> Option<&'a str> {
        let x = self.field(v, path, key)?;
        let s = x.as_str();
        if s.is_none() {
            self.fail(&format!("{path}.{key}"), format!("not a string: {x}"));
        }
        s
    }
    fn nonempty_string<'a>(&mut self, v: &'a Value, path: &str, key: &str) -> Option<&'a str> {
        let s = self.string(v, path, key)?;
        if s.trim().is_empty() {
            self.fail(&format!("{path}.{key}"), "empty");
        }
        Some(s)
    }
    fn string_or_null(&mut self, v: &Value, path: &str, key: &str) {
        if let Some(x) = self.field(v, path, key)
            && !(x.is_string() || x.is_null())
        {
            self.fail(
                &format!("{path}.{key}"),
                format!("neither a string nor null: {x}"),
            );
        }
    }
    fn array<'a>(&mut self, v: &'a Value, path: &str, key: &str) -> Option<&'a Vec<Value>> {
        let x = self.field(v, path, key)?;
        let a = x.as_array();
        if a.is_none() {
            self.fail(&format!("{path}.{key}"), format!("not an array: {x}"));
        }
        a
    }
    fn confidence(&mut self, v: &Value, path: &str) -> Option<f64> {
        let x = self.field(v, path, "confidence")?;
        match x.as_f64() {
            Some(c) if (0.0..=1.0).contains(&c) => Some(c),
            _ => {
                self.fail(
                    &format!("{path}.confidence"),
                    format!("not a number in [0, 1]: {x}"),
                );
                None
            }
        }
    }
    fn string_array(&mut self, v: &Value, path: &str, key: &str) {
        if let Some(a) = self.array(v, path, key) {
            for (i, s) in a.iter().enumerate() {
                if !s.is_string() {
                    self.fail(&format!("{path}.{key}[{i}]"), format!("not a string: {s}"));
                }
            }
        }
    }
}

/// Every required key and the type of every field of the v1 report (DESIGN.md, "contract v1").
/// Extra keys are allowed (additive changes only).
fn contract_violations(r: &Value, exit: Option<i32>) -> Vec<String> {
    let causes_ok = taxonomy_ids();
    let mut c = Check { errors: vec![] };
    if !r.is_object() {
        c.fail("$", "the report is not a JSON object");
        return c.errors;
    }
    if let Some(s) = c.string(r, "$", "schema")
        && s != "ocdoctor.report/v1"
    {
        c.fail("$.schema", format!("{s:?} is not \"ocdoctor.report/v1\""));
    }
    if let Some(tool) = c.field(r, "$", "tool") {
        if let Some(n) = c.string(tool, "$.tool", "name")
            && n != "ocdoctor"
        {
            c.fail("$.tool.name", format!("{n:?}"));
        }
        c.nonempty_string(tool, "$.tool", "version");
    }
    if let Some(inputs) = c.array(r, "$", "inputs") {
        if inputs.is_empty() {
            c.fail("$.inputs", "empty: the log itself is an input");
        }
        for (i, inp) in inputs.iter().enumerate() {
            let p = format!("$.inputs[{i}]");
            c.nonempty_string(inp, &p, "kind");
            c.string_or_null(inp, &p, "path");
        }
    }
    if let Some(oc) = c.field(r, "$", "openocd") {
        // null when there is no banner; else version and flavor, each a string or null.
        if !oc.is_null() {
            c.string_or_null(oc, "$.openocd", "version");
            c.string_or_null(oc, "$.openocd", "flavor");
        }
    }
    if let Some(stage) = c.field(r, "$", "stage")
        && !(stage.is_null() || stage.as_str().is_some_and(|s| STAGES.contains(&s)))
    {
        c.fail(
            "$.stage",
            format!("not null nor one of {STAGES:?}: {stage}"),
        );
    }
    let outcome = c.string(r, "$", "outcome").map(str::to_string);
    if let Some(o) = &outcome
        && !["failed", "ok", "unknown"].contains(&o.as_str())
    {
        c.fail("$.outcome", format!("{o:?} is not failed|ok|unknown"));
    }
    let mut prev = f64::INFINITY;
    let causes = c.array(r, "$", "causes").cloned().unwrap_or_default();
    for (i, cause) in causes.iter().enumerate() {
        let p = format!("$.causes[{i}]");
        if let Some(id) = c.string(cause, &p, "cause")
            && id != "unknown"
            && !causes_ok.iter().any(|t| t == id)
        {
            c.fail(
                &format!("{p}.cause"),
                format!("{id:?} is not a taxonomy id"),
            );
        }
        if let Some(conf) = c.confidence(cause, &p) {
            if conf > prev + 1e-9 {
                c.fail(&p, "causes are not ranked highest first");
            }
            prev = conf;
        }
    }
    let mut prev = f64::INFINITY;
    let findings = c.array(r, "$", "findings").cloned().unwrap_or_default();
    for (i, f) in findings.iter().enumerate() {
        let p = format!("$.findings[{i}]");
        if let Some(code) = c.string(f, &p, "rule") {
            let b = code.as_bytes();
            let well_formed = b.len() == 6
                && b[..3].iter().all(u8::is_ascii_uppercase)
                && b[3..].iter().all(u8::is_ascii_digit);
            if !well_formed {
                c.fail(
                    &format!("{p}.rule"),
                    format!("{code:?} is not AREA + 3 digits"),
                );
            }
        }
        c.nonempty_string(f, &p, "name");
        if let Some(id) = c.string(f, &p, "cause")
            && !causes_ok.iter().any(|t| t == id)
        {
            c.fail(
                &format!("{p}.cause"),
                format!("{id:?} is not a taxonomy id"),
            );
        }
        if let Some(conf) = c.confidence(f, &p) {
            if conf > prev + 1e-9 {
                c.fail(&p, "findings are not ordered by confidence");
            }
            prev = conf;
        }
        if let Some(s) = c.string(f, &p, "severity")
            && !["error", "warning", "info"].contains(&s)
        {
            c.fail(
                &format!("{p}.severity"),
                format!("{s:?} is not error|warning|info"),
            );
        }
        c.nonempty_string(f, &p, "title");
        c.string(f, &p, "explanation");
        if let Some(ev) = c.array(f, &p, "evidence") {
            if ev.is_empty() {
                c.fail(&format!("{p}.evidence"), "a finding without evidence");
            }
            for (j, e) in ev.iter().enumerate() {
                let q = format!("{p}.evidence[{j}]");
                c.nonempty_string(e, &q, "source");
                c.string_or_null(e, &q, "path");
                if let Some(line) = c.field(e, &q, "line")
                    && line.as_u64().is_none_or(|n| n == 0)
                {
                    c.fail(
                        &format!("{q}.line"),
                        format!("not a 1-based line number: {line}"),
                    );
                }
                c.string(e, &q, "text");
                if let Some(span) = e.get("span")
                    && !span.is_null()
                {
                    let ok = span.as_array().is_some_and(|a| {
                        a.len() == 2
                            && a.iter().all(Value::is_u64)
                            && a[0].as_u64() <= a[1].as_u64()
                    }) || (span["start"].is_u64() && span["end"].is_u64());
                    if !ok {
                        c.fail(&format!("{q}.span"), format!("not a byte range: {span}"));
                    }
                }
            }
        }
        if let Some(fixes) = c.array(f, &p, "fixes") {
            for (j, fx) in fixes.iter().enumerate() {
                let q = format!("{p}.fixes[{j}]");
                c.nonempty_string(fx, &q, "title");
                c.string_array(fx, &q, "commands");
                c.array(fx, &q, "edits");
            }
        }
        c.string_array(f, &p, "checks");
    }
    match outcome.as_deref() {
        Some("failed") | Some("unknown") if causes.is_empty() => {
            c.fail("$.causes", "empty: with no evidence it must say `unknown`")
        }
        Some("failed") if !findings.is_empty() && causes.len() < 3 => {
            c.fail("$.causes", "with evidence, at least the top 3 causes")
        }
        _ => {}
    }
    match (outcome.as_deref(), exit) {
        (Some("failed"), Some(1)) | (Some("ok"), Some(0)) | (Some("unknown"), Some(0 | 1)) => {}
        (o, e) => c.fail("exit code", format!("outcome {o:?} with exit {e:?}")),
    }
    c.errors
}

fn assert_contract(out: &Output, what: &str) -> Value {
    let r = json_of(out);
    let errs = contract_violations(&r, out.status.code());
    assert!(
        errs.is_empty(),
        "{what}: the report breaks contract v1:\n  {}\n{}",
        errs.join("\n  "),
        show(out)
    );
    r
}

#[test]
fn json_report_follows_contract_v1_for_every_run_log() {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(run_dir())
        .expect("crates/ocdoctor-core/tests/data/runs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    logs.push(stlink_log());
    assert!(
        logs.len() > 20,
        "expected the real run logs, found {}",
        logs.len()
    );
    // Each run pays the knowledge base's start-up (about half a second in a debug build): run
    // them on two threads.
    let (even, odd): (Vec<_>, Vec<_>) = logs
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let runs: Vec<(PathBuf, Output)> = [even, odd]
        .map(|part| {
            thread::spawn(move || {
                part.into_iter()
                    .map(|(_, log)| {
                        let out = run(&["diagnose", "--format", "json", log.to_str().unwrap()]);
                        (log, out)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .into_iter()
        .flat_map(|h| h.join().expect("a diagnosing thread panicked"))
        .collect();
    let mut failures = vec![];
    for (log, out) in &runs {
        let r = match serde_json::from_slice::<Value>(&out.stdout) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: not JSON ({e})\n{}", log.display(), show(out)));
                continue;
            }
        };
        let errs = contract_violations(&r, out.status.code());
        if !errs.is_empty() {
            failures.push(format!("{}:\n  {}", log.display(), errs.join("\n  ")));
        }
        // The file is named in the inputs.
        let named = r["inputs"].as_array().is_some_and(|a| {
            a.iter().any(|i| {
                i["kind"] == "log" && i["path"].as_str().is_some_and(|p| p.ends_with(".log"))
            })
        });
        if !named {
            failures.push(format!(
                "{}: inputs do not name the log file: {}",
                log.display(),
                r["inputs"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} logs:\n{}",
        failures.len(),
        logs.len(),
        failures.join("\n")
    );
}

#[test]
fn json_report_for_a_failure_has_evidence_and_fix() {
    let log = stlink_log();
    let out = run(&[
        "diagnose",
        "--no-env",
        "--format",
        "json",
        log.to_str().unwrap(),
    ]);
    let r = assert_contract(&out, "stlink open failed");
    assert_eq!(r["outcome"], "failed", "{}", show(&out));
    assert_eq!(r["causes"][0]["cause"], "probe-not-found", "{}", show(&out));
    let f = &r["findings"][0];
    assert_eq!(f["cause"], "probe-not-found", "{}", show(&out));
    let ev = &f["evidence"][0];
    assert_eq!(
        ev["line"],
        10,
        "evidence points at `Error: open failed`\n{}",
        show(&out)
    );
    assert_eq!(ev["text"], "Error: open failed", "{}", show(&out));
    assert!(
        f["fixes"].as_array().is_some_and(|a| !a.is_empty()),
        "a fix is offered\n{}",
        show(&out)
    );
    assert_eq!(r["openocd"]["version"], "0.12.0", "{}", show(&out));
    assert_eq!(r["stage"], "adapter-init", "{}", show(&out));
}

#[test]
fn json_report_for_a_healthy_run_invents_nothing() {
    let out = run(&[
        "diagnose",
        "--format",
        "json",
        healthy_log().to_str().unwrap(),
    ]);
    let r = assert_contract(&out, "healthy run");
    assert_eq!(r["outcome"], "ok", "{}", show(&out));
    let errors = r["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["severity"] == "error").count());
    assert_eq!(
        errors,
        Some(0),
        "no error finding on a clean run\n{}",
        show(&out)
    );
}

// ───────────────────────────── markdown ─────────────────────────────

#[test]
fn markdown_format_is_markdown() {
    let out = run(&[
        "diagnose",
        "--format",
        "markdown",
        stlink_log().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let md = String::from_utf8(out.stdout.clone()).expect("markdown is UTF-8");
    assert!(md.lines().any(|l| l.starts_with('#')), "a heading\n{md}");
    assert!(md.contains("PRB001"), "names the rule\n{md}");
    assert!(md.contains("probe-not-found"), "names the cause\n{md}");
    assert!(md.contains("open failed"), "quotes the evidence\n{md}");
    assert_eq!(
        md.matches("```").count() % 2,
        0,
        "code fences are balanced\n{md}"
    );
    assert!(!md.contains('\x1b'), "no ANSI escapes in markdown\n{md}");
    let out = run(&[
        "diagnose",
        "--format",
        "markdown",
        healthy_log().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        !out.stdout.is_empty(),
        "something is said about a healthy run\n{}",
        show(&out)
    );
}

// ───────────────────────────── colour ─────────────────────────────

#[test]
fn piped_output_has_no_ansi_escapes() {
    // stdout is a pipe here: `auto` must not colour.
    for log in [stlink_log(), healthy_log()] {
        for args in [vec!["diagnose"], vec!["diagnose", "--color", "auto"]] {
            let mut a = args.clone();
            a.push(log.to_str().unwrap());
            let out = run(&a);
            assert!(!out.stdout.is_empty(), "{}", show(&out));
            assert!(
                !out.stdout.contains(&0x1b),
                "ANSI escape in piped output of {a:?}\n{}",
                show(&out)
            );
            assert!(
                !out.stderr.contains(&0x1b),
                "ANSI escape on stderr of {a:?}\n{}",
                show(&out)
            );
        }
    }
    for args in [vec!["rules"], vec!["explain", "PRB001"]] {
        let out = run(&args);
        assert!(
            !out.stdout.contains(&0x1b),
            "ANSI escape in piped output of {args:?}\n{}",
            show(&out)
        );
    }
}

#[test]
fn no_color_means_no_ansi_escapes() {
    let log = stlink_log();
    for args in [
        vec!["diagnose", log.to_str().unwrap()],
        vec!["diagnose", "--color", "never", log.to_str().unwrap()],
    ] {
        let out = ocdoctor()
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        assert!(
            !out.stdout.contains(&0x1b),
            "ANSI escape with NO_COLOR=1 {args:?}\n{}",
            show(&out)
        );
        assert!(
            !out.stderr.contains(&0x1b),
            "ANSI escape on stderr with NO_COLOR=1\n{}",
            show(&out)
        );
    }
    // The check above is not vacuous: forced colour does colour.
    let out = run(&["diagnose", "--color", "always", log.to_str().unwrap()]);
    assert!(
        out.stdout.contains(&0x1b),
        "--color always should colour\n{}",
        show(&out)
    );
}

// ───────────────────────────── hostile input ─────────────────────────────

/// Diagnose `input` from stdin and from a file, in every format: never a panic, exit 0 or 1,
/// JSON that keeps the contract. Returns the JSON report (stdin run).
fn survives(name: &str, input: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.log");
    std::fs::write(&file, input).unwrap();
    let mut report = Value::Null;
    // JSON from the file (joined with this machine, the default) and from stdin; text and
    // markdown from stdin.
    let mut outs = vec![(
        "file",
        "json",
        run(&["diagnose", "--format", "json", file.to_str().unwrap()]),
    )];
    for fmt in ["json", "text", "markdown"] {
        // The log alone (`--no-env`), so the causes asserted on below do not depend on this machine.
        outs.push((
            "stdin",
            fmt,
            run_stdin(&["diagnose", "-", "--no-env", "--format", fmt], input),
        ));
    }
    for &(how, fmt, ref out) in &outs {
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(1)),
            "{name} ({how}, {fmt}): must exit 0 or 1, never panic (101) or die\n{}",
            show(out)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{name} ({how}, {fmt})\n{}",
            show(out)
        );
        if fmt == "json" {
            let r = assert_contract(out, &format!("{name} ({how})"));
            if how == "stdin" {
                report = r;
            }
        }
    }
    report
}

#[test]
fn empty_input_is_not_a_crash() {
    // An empty file is a report (nothing to diagnose is not a failure).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.log");
    std::fs::write(&file, b"").unwrap();
    let out = run(&["diagnose", "--format", "json", file.to_str().unwrap()]);
    let r = assert_contract(&out, "empty file");
    assert_ne!(
        r["outcome"], "failed",
        "nothing to diagnose is not a failure\n{r}"
    );
    // Empty standard input is `openocd … | ocdoctor diagnose` without `2>&1` (OpenOCD logs to
    // stderr): exit 2 and say how to pipe it, never "no known failure" and exit 0 (issue 11).
    for fmt in ["text", "json"] {
        let out = run_stdin(&["diagnose", "--no-env", "--format", fmt], b"");
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("2>&1"), "{err}");
        assert!(out.stdout.is_empty(), "{}", show(&out));
    }
}

#[test]
fn binary_garbage_is_not_a_crash() {
    // Deterministic pseudo-random bytes (xorshift), newlines included. Kept small: high-entropy
    // bytes are slow for the regex engine in a debug build (about 0.1 ms per byte).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..16 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    survives("binary garbage", &bytes);
}

#[test]
fn invalid_utf8_is_not_a_crash() {
    let mut log = std::fs::read(stlink_log()).unwrap();
    // Latin-1 bytes, a lone continuation byte, a truncated sequence and an overlong form.
    log.splice(0..0, b"caf\xe9 \x80 \xe2\x82 \xc0\xaf\n".iter().copied());
    let pos = log.len() - 5;
    log.splice(pos..pos, b"\xff\xfe".iter().copied());
    survives("invalid UTF-8", &log);
}

#[test]
fn nul_bytes_are_not_a_crash() {
    let log = std::fs::read(stlink_log()).unwrap();
    let with_nuls: Vec<u8> = log
        .iter()
        .flat_map(|&b| if b == b'\n' { vec![0, b'\n'] } else { vec![b] })
        .collect();
    survives("NUL bytes", &with_nuls);
    survives("only NULs", &[0u8; 4096]);
}

#[test]
fn crlf_log_is_diagnosed_like_lf() {
    let log = std::fs::read_to_string(stlink_log()).unwrap();
    let crlf = log.replace('\n', "\r\n");
    let r = survives("CRLF", crlf.as_bytes());
    assert_eq!(
        r["causes"][0]["cause"], "probe-not-found",
        "a Windows log is the same log\n{r:#}"
    );
    assert_eq!(
        r["findings"][0]["evidence"][0]["text"], "Error: open failed",
        "no \\r in the evidence\n{r:#}"
    );
}

#[test]
fn ansi_coloured_log_is_diagnosed_like_plain() {
    // As an IDE console or `unbuffer` would save it.
    let log = std::fs::read_to_string(stlink_log()).unwrap();
    let coloured: String = log
        .lines()
        .map(|l| {
            if l.starts_with("Error") {
                format!("\x1b[1;31m{l}\x1b[0m\n")
            } else if l.starts_with("Info") {
                format!("\x1b[32m{l}\x1b[0m\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let r = survives("ANSI colour codes", coloured.as_bytes());
    assert_eq!(
        r["causes"][0]["cause"], "probe-not-found",
        "colour codes hide nothing\n{r:#}"
    );
}

#[test]
fn truncated_log_is_not_a_crash() {
    let log = std::fs::read(stlink_log()).unwrap();
    // Cut in the middle of the last line, and in the middle of the banner.
    let cut = log.len() - 8;
    survives("truncated at the end", &log[..cut]);
    survives("truncated in the banner", &log[..20]);
    // A multi-byte character cut in half at the end.
    let mut half = log.clone();
    half.extend_from_slice("Error: \u{2014}".as_bytes());
    half.pop();
    survives("truncated UTF-8", &half);
}

#[test]
fn huge_single_line_is_not_a_crash() {
    // 20 MB, one line, no newline at the end; a real failure line before it.
    let mut input = std::fs::read(stlink_log()).unwrap();
    input.extend(std::iter::repeat_n(b'A', 20 * 1024 * 1024));
    let out = run_stdin(&["diagnose", "-", "--no-env", "--format", "json"], &input);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "20 MB line\n{}",
        show(&out)
    );
    let r = assert_contract(&out, "20 MB line");
    assert_eq!(
        r["causes"][0]["cause"],
        "probe-not-found",
        "the lines before it still count\n{}",
        show(&out)
    );
    // And a 20 MB line that ends with what looks like an error.
    let mut input = vec![b'x'; 20 * 1024 * 1024];
    input.extend_from_slice(b" Error: open failed\n");
    let out = run_stdin(&["diagnose", "-", "--no-env", "--format", "json"], &input);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "20 MB line + error\n{}",
        show(&out)
    );
    assert_contract(&out, "20 MB line + error");
}

/// The hand-written contract check is not vacuous: it rejects broken reports.
#[test]
fn contract_check_rejects_broken_reports() {
    let out = run(&[
        "diagnose",
        "--format",
        "json",
        stlink_log().to_str().unwrap(),
    ]);
    let good = json_of(&out);
    assert!(contract_violations(&good, Some(1)).is_empty());
    type Breaker = Box<dyn Fn(&mut Value)>;
    let breakers: Vec<(&str, Breaker)> = vec![
        (
            "schema",
            Box::new(|r| r["schema"] = "ocdoctor.report/v2".into()),
        ),
        (
            "no tool",
            Box::new(|r| _ = r.as_object_mut().unwrap().remove("tool")),
        ),
        ("outcome", Box::new(|r| r["outcome"] = "broken".into())),
        ("stage", Box::new(|r| r["stage"] = "flashing".into())),
        (
            "cause id",
            Box::new(|r| r["causes"][0]["cause"] = "cosmic-rays".into()),
        ),
        (
            "confidence",
            Box::new(|r| r["causes"][0]["confidence"] = 1.5.into()),
        ),
        (
            "ranking",
            Box::new(|r| r["causes"].as_array_mut().unwrap().reverse()),
        ),
        (
            "line",
            Box::new(|r| r["findings"][0]["evidence"][0]["line"] = 0.into()),
        ),
        (
            "severity",
            Box::new(|r| r["findings"][0]["severity"] = "fatal".into()),
        ),
        (
            "commands",
            Box::new(|r| r["findings"][0]["fixes"][0]["commands"] = "lsusb".into()),
        ),
        (
            "rule code",
            Box::new(|r| r["findings"][0]["rule"] = "prb1".into()),
        ),
    ];
    for (what, f) in breakers {
        let mut bad = good.clone();
        f(&mut bad);
        assert!(
            !contract_violations(&bad, Some(1)).is_empty(),
            "the check missed: {what}"
        );
    }
    assert!(
        !contract_violations(&good, Some(0)).is_empty(),
        "the check missed: failed with exit 0"
    );
}

/// `lab serve` prints a command whose interface cfg exists while it serves, answers on its port,
/// and removes the cfg when stopped with SIGTERM or SIGINT.
#[cfg(unix)]
#[test]
fn lab_serve_serves_then_cleans_up_on_a_stop_signal() {
    use std::io::{BufRead, BufReader};
    for signal in ["TERM", "INT"] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = ocdoctor()
            .args(["lab", "serve", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let cfg = loop {
            let line = lines.next().expect("lab serve prints its command").unwrap();
            if let Some(rest) = line.trim().strip_prefix("openocd -f ") {
                break PathBuf::from(rest.split_whitespace().next().unwrap());
            }
        };
        assert!(
            cfg.is_file(),
            "{} should exist while serving",
            cfg.display()
        );
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "SIG{signal}: {status:?}");
        assert!(!cfg.exists(), "SIG{signal} left {} behind", cfg.display());
    }
}

/// `lab demo --adapter vdebug`: the vdebug-enabled openocd (`.ci/build-openocd-vdebug.sh`)
/// against `slow-clock-only` fails at the target cfg's speed and connects with `--speed 100`.
#[test]
fn lab_demo_over_vdebug_follows_the_adapter_speed() {
    if ocdoctor_lab::vdebug_openocd_for_test().is_none() {
        return;
    }
    let fast = run(&["lab", "demo", "slow-clock-only", "--adapter", "vdebug"]);
    let text = show(&fast);
    assert_eq!(fast.status.code(), Some(1), "{text}");
    assert!(text.contains("UNEXPECTED: 0x974008ef"), "{text}");
    let slow = run(&[
        "lab",
        "demo",
        "slow-clock-only",
        "--adapter",
        "vdebug",
        "--speed",
        "100",
    ]);
    let text = show(&slow);
    assert_eq!(slow.status.code(), Some(0), "{text}");
    assert!(text.contains("adapter speed 100"), "{text}");
    assert!(text.contains("processor detected"), "{text}");
    let bad = run(&["lab", "demo", "healthy", "--adapter", "usb"]);
    assert_eq!(bad.status.code(), Some(2), "{}", show(&bad));
}
