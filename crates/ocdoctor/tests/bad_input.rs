//! Inputs a new user gives ocdoctor that it must survive and answer right (issue 11): typos in
//! command names, include cycles, executables and blobs given as cfgs, Cortex-Debug's helper
//! script, logs saved by PowerShell (UTF-16LE), CR-only and NUL-separated logs, very long
//! lines, and `openocd | ocdoctor diagnose` without `2>&1`. Real files, the real binary, the
//! installed `openocd` and its scripts.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ocdoctor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(args)
        .current_dir(dir)
        .env("OCDOCTOR_NO_CACHE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run ocdoctor")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_misspelt_command_in_a_cfg_is_found_and_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("board.cfg");
    std::fs::write(
        &cfg,
        "source [find interface/stlink.cfg]\ntransprt select hla_swd\nsource [find target/stm32f4x.cfg]\n",
    )
    .unwrap();
    let out = ocdoctor(dir.path(), &["check", "board.cfg", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let r = json(&out);
    assert_eq!(
        rules(&r).first().map(String::as_str),
        Some("CFG124"),
        "{r:#}"
    );
    let f = &r["findings"][0];
    assert!(
        f["title"].as_str().unwrap().contains("`transport`"),
        "{f:#}"
    );
    assert_eq!(f["evidence"][0]["line"], 2);
    // OpenOCD agrees it is fatal.
    let real = Command::new("openocd")
        .args(["-f", cfg.to_str().unwrap(), "-c", "shutdown"])
        .output()
        .expect("openocd");
    assert!(
        String::from_utf8_lossy(&real.stderr).contains("invalid command name \"transprt\""),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    // The edit renames it, and the file then checks clean of it.
    let out = ocdoctor(
        dir.path(),
        &["fix", "--apply", "board.cfg", "--format", "json"],
    );
    assert!(
        std::fs::read_to_string(&cfg)
            .unwrap()
            .contains("\ntransport select hla_swd\n")
    );
    // `--format json`: one `ocdoctor.fix/v1` object, the re-check's report in it.
    let doc = json(&out);
    assert_eq!(doc["schema"], "ocdoctor.fix/v1", "{doc:#}");
    assert_eq!(doc["written"].as_array().map(Vec::len), Some(1), "{doc:#}");
    let after = &doc["report"];
    assert!(!rules(after).contains(&"CFG124".to_string()), "{after:#}");
}

#[test]
fn a_misspelt_command_on_the_command_line_gets_the_corrected_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = ocdoctor(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--",
            "openocd",
            "-f",
            "interface/stlink.cfg",
            "-c",
            "adaptr speed 1000",
            "-f",
            "target/stm32f4x.cfg",
        ],
    );
    let r = json(&out);
    assert_eq!(
        rules(&r).first().map(String::as_str),
        Some("CFG124"),
        "{r:#}"
    );
    let fixes = r["findings"][0]["fixes"].to_string();
    assert!(fixes.contains("adapter speed 1000"), "{fixes}");
}

#[test]
fn an_include_cycle_is_reported_as_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("board.cfg"), "source [find common.cfg]\n").unwrap();
    std::fs::write(
        dir.path().join("common.cfg"),
        "adapter driver ft232r\nsource [find board.cfg]\n",
    )
    .unwrap();
    let out = ocdoctor(
        dir.path(),
        &["check", "-s", ".", "-f", "board.cfg", "--format", "json"],
    );
    let r = json(&out);
    let found = rules(&r);
    assert_eq!(found.first().map(String::as_str), Some("CFG125"), "{r:#}");
    // Its consequences (the same adapter again and again, "no adapter") are not findings.
    assert!(
        !found.iter().any(|c| c == "CFG110" || c == "CFG111"),
        "{found:?}"
    );
    assert!(
        r["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("board.cfg →")
    );
    // A guarded re-include is no cycle.
    std::fs::write(
        dir.path().join("common.cfg"),
        "if {![info exists _C]} {\n set _C 1\n adapter driver ft232r\n source [find board.cfg]\n}\n",
    )
    .unwrap();
    let r = json(&ocdoctor(
        dir.path(),
        &["check", "-s", ".", "-f", "board.cfg", "--format", "json"],
    ));
    assert!(!rules(&r).contains(&"CFG125".to_string()), "{r:#}");
}

#[test]
fn an_executable_or_a_blob_as_cfg_is_a_clear_error_after_a_bounded_read() {
    let dir = tempfile::tempdir().unwrap();
    let openocd = which("openocd");
    let out = ocdoctor(dir.path(), &["check", "-f", openocd.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not an OpenOCD config script") && err.contains("ELF"),
        "{err}"
    );
    // 9 MiB of pseudo-random bytes: over the size limit, refused before being read.
    let blob = dir.path().join("blob.cfg");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let bytes: Vec<u8> = (0..9 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&blob, &bytes).unwrap();
    let out = ocdoctor(dir.path(), &["check", "blob.cfg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bytes; a config script is text"));
    // A small one: binary, read in its first 64 KiB.
    std::fs::write(&blob, &bytes[..100_000]).unwrap();
    let out = ocdoctor(dir.path(), &["check", "blob.cfg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("binary data, not text"));
}

fn which(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not on PATH"))
}

#[test]
fn a_cortex_debug_project_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".vscode")).unwrap();
    std::fs::write(
        dir.path().join(".vscode/launch.json"),
        r#"{
  "version": "0.2.0",
  "configurations": [
    {
      "name": "Debug",
      "type": "cortex-debug",
      "request": "launch",
      "servertype": "openocd",
      "cwd": "${workspaceFolder}",
      "executable": "build/app.elf",
      "configFiles": ["interface/stlink.cfg", "target/stm32f4x.cfg"]
    }
  ]
}
"#,
    )
    .unwrap();
    let out = ocdoctor(dir.path(), &["check", ".", "--format", "json"]);
    let r = json(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert!(rules(&r).is_empty(), "{r:#}");
    // The text report says so without talking about a log.
    let text = String::from_utf8_lossy(&ocdoctor(dir.path(), &["check", "."]).stdout).into_owned();
    assert!(text.starts_with("ok: no problem found in"), "{text}");
    assert!(!text.contains("the log"), "{text}");
}

#[test]
fn check_wording_never_talks_about_a_log() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.cfg"),
        "adapter driver ft232r\ntransprt select jtag\n",
    )
    .unwrap();
    let text =
        String::from_utf8_lossy(&ocdoctor(dir.path(), &["check", "t.cfg"]).stdout).into_owned();
    assert!(text.contains("OpenOCD would fail"), "{text}");
    assert!(
        !text.contains("the log") && !text.contains("OpenOCD failed"),
        "{text}"
    );
}

fn stlink_log() -> Vec<u8> {
    std::fs::read(workspace().join("rules/prb/PRB001-stlink-open-failed/hit_stlink_012.log"))
        .unwrap()
}

/// Diagnose `log` through standard input, written in small chunks like a pipe.
fn diagnose_stdin(log: &[u8]) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(["diagnose", "--no-env", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = log.to_vec();
    let writer = std::thread::spawn(move || {
        for c in data.chunks(1000) {
            if stdin.write_all(c).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    json(&out)
}

/// (rule, first evidence line) of each finding.
fn evidence(r: &Value) -> Vec<(String, u64)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["evidence"][0]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn logs_in_other_encodings_and_line_ends_read_the_same() {
    let plain = stlink_log();
    let want = evidence(&diagnose_stdin(&plain));
    assert!(want.iter().any(|(r, _)| r == "PRB001"), "{want:?}");
    let text = String::from_utf8(plain.clone()).unwrap();
    // PowerShell's `openocd … 2>&1 > log.txt`: UTF-16LE with a BOM, CRLF.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.replace('\n', "\r\n").encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(evidence(&diagnose_stdin(&utf16)), want, "UTF-16LE");
    let cr_only = text.replace('\n', "\r");
    assert_eq!(
        evidence(&diagnose_stdin(cr_only.as_bytes())),
        want,
        "CR-only"
    );
    let nul = text.replace('\n', "\0");
    assert_eq!(
        evidence(&diagnose_stdin(nul.as_bytes())),
        want,
        "NUL-separated"
    );
}

#[test]
fn a_line_over_64_kib_is_read_and_counted_once() {
    let plain = stlink_log();
    let want = evidence(&diagnose_stdin(&plain));
    // A 200 KiB line first (a hex dump, a progress bar): everything after it is one line later.
    let mut long = b"Debug: ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 200 * 1024));
    long.push(b'\n');
    long.extend_from_slice(&plain);
    let got = evidence(&diagnose_stdin(&long));
    let shifted: Vec<(String, u64)> = want.iter().map(|(r, l)| (r.clone(), l + 1)).collect();
    assert_eq!(got, shifted);
    // From a file the same line is inside one read block (the other code path).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.log");
    std::fs::write(&file, &long).unwrap();
    let out = ocdoctor(
        dir.path(),
        &["diagnose", "--no-env", "--format", "json", "long.log"],
    );
    assert_eq!(evidence(&json(&out)), shifted);
    // A long line that is itself evidence: matched inside it, at its own line number.
    let mut lines = String::from_utf8(stlink_log()).unwrap();
    lines.push_str(&format!("Error: {}\n", "y".repeat(150 * 1024)));
    lines.push_str(&format!("{} Error: open failed\n", "z".repeat(150 * 1024)));
    let r = diagnose_stdin(lines.as_bytes());
    assert!(r["findings"].as_array().is_some(), "{r:#}");
}
