//! `ocdoctor redact` and `diagnose --redact` as a user runs them: the planted-secret logs of
//! crates/ocdoctor-redact/tests/data/planted leak nothing, the key is made once (mode 0600) and
//! makes the same pseudonyms every run, `--key-file` and `--patterns` work, bad input gets a
//! clear error, and a redacted diagnosis ranks the same causes as the original.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn planted() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ocdoctor-redact/tests/data/planted")
}

fn secrets() -> Vec<String> {
    let text = std::fs::read_to_string(planted().join("secrets.toml")).unwrap();
    let table: BTreeMap<String, Vec<String>> = toml::from_str(&text).unwrap();
    table.into_values().flatten().collect()
}

/// ocdoctor with its own config folder (the key lives there) and no machine names of ours.
fn ocdoctor(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocdoctor"));
    c.env("XDG_CONFIG_HOME", config)
        .env_remove("USER")
        .env_remove("USERNAME")
        .env_remove("LOGNAME")
        .stdin(Stdio::null());
    c
}

fn run(config: &Path, args: &[&str]) -> Output {
    ocdoctor(config).args(args).output().expect("run ocdoctor")
}

fn run_stdin(config: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = ocdoctor(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn redact_leaks_nothing_and_keeps_one_key() {
    let cfg = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for file in [
        "linux-stlink.log",
        "macos-cmsis-dap.log",
        "windows-vscode.log",
        "env-snapshot.json",
    ] {
        let path = planted().join(file);
        let out = run(cfg.path(), &["redact", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        for s in secrets() {
            assert!(!text.contains(&s), "{s:?} leaks from {file}");
        }
        // The manifest: counts by kind on stderr, never a value.
        let err = stderr(&out);
        assert!(err.contains("redacted: ") && err.contains(" user"), "{err}");
        for s in secrets() {
            assert!(!err.contains(&s), "{s:?} in the manifest");
        }
        outputs.push(text);
    }
    let key = cfg.path().join("ocdoctor/redact.key");
    let meta = std::fs::metadata(&key).expect("the key was made");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(std::fs::read_to_string(&key).unwrap().trim().len(), 64);
    // Same key, same text; from standard input too.
    let log = planted().join("linux-stlink.log");
    let again = run_stdin(cfg.path(), &["redact", "-"], &std::fs::read(&log).unwrap());
    assert_eq!(stdout(&again), outputs[0]);
    // Another key, other pseudonyms.
    let other_key = cfg.path().join("other.key");
    std::fs::write(&other_key, "another secret key, long enough\n").unwrap();
    let other = run(
        cfg.path(),
        &[
            "redact",
            "--key-file",
            other_key.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(other.status.code(), Some(0));
    assert_ne!(stdout(&other), outputs[0]);
    let short_key = cfg.path().join("short.key");
    std::fs::write(&short_key, "short").unwrap();
    let short = run(
        cfg.path(),
        &[
            "redact",
            "--key-file",
            short_key.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(stderr(&short).contains("at least 16"), "{}", stderr(&short));
}

#[test]
fn user_patterns_from_a_file() {
    let cfg = tempfile::tempdir().unwrap();
    let patterns = cfg.path().join("patterns.toml");
    std::fs::write(
        &patterns,
        "[[pattern]]\nregex = 'ticket (?P<value>ACME-[0-9]+)'\nkind = \"ticket\"\n\n[[pattern]]\nregex = 'MotorCtl'\nkind = \"product\"\n",
    )
    .unwrap();
    let out = run_stdin(
        cfg.path(),
        &["redact", "--patterns", patterns.to_str().unwrap(), "-"],
        b"Info : see ticket ACME-1234 for the MotorCtl board\nError: open failed\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains("ACME-1234") && !text.contains("MotorCtl"),
        "{text}"
    );
    assert!(text.contains("see ticket ticket-") && text.contains("Error: open failed\n"));
    assert!(
        stderr(&out).contains("1 product, 1 ticket"),
        "{}",
        stderr(&out)
    );
    // A broken file or regex is a clear usage error.
    for bad in [
        "[[pattern]]\nregex = '('\nkind = 'x'\n",
        "pattern = 3\n",
        "[[pattern]]\nregex = 'x'\nkind = 'Bad Kind'\n",
    ] {
        std::fs::write(&patterns, bad).unwrap();
        let out = run_stdin(
            cfg.path(),
            &["redact", "--patterns", patterns.to_str().unwrap(), "-"],
            b"x\n",
        );
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            stderr(&out).starts_with("ocdoctor: error: "),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn hostile_input_is_handled() {
    let cfg = tempfile::tempdir().unwrap();
    // Invalid UTF-8, NUL bytes and CRLF: no panic, lines and line ends kept.
    let input = b"Error: open failed\r\n\xff\xfe\x00garbage /home/alice.smith/acme/x.elf\r\nInfo : done\r\n";
    let out = run_stdin(cfg.path(), &["redact", "-"], input);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("Error: open failed\r\n") && text.ends_with("Info : done\r\n"));
    assert!(
        !text.contains("alice.smith") && !text.contains("acme"),
        "{text}"
    );
    let missing = run(cfg.path(), &["redact", "/nonexistent/openocd.log"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot open /nonexistent/openocd.log"));
    let dir = run(cfg.path(), &["redact", cfg.path().to_str().unwrap()]);
    assert_eq!(dir.status.code(), Some(2));
}

#[test]
fn diagnose_redact_hides_names_and_keeps_the_diagnosis() {
    let cfg = tempfile::tempdir().unwrap();
    // The log saved under a home folder: its path in the report is private too.
    let home = cfg.path().join("Users/alice.smith/acme-widget");
    std::fs::create_dir_all(&home).unwrap();
    let log = home.join("openocd.log");
    std::fs::copy(planted().join("linux-stlink.log"), &log).unwrap();
    let log = log.to_str().unwrap();
    let plain = run(
        cfg.path(),
        &["diagnose", "--no-env", "--format", "json", log],
    );
    let redacted = run(
        cfg.path(),
        &["diagnose", "--no-env", "--redact", "--format", "json", log],
    );
    assert_eq!(plain.status.code(), redacted.status.code());
    assert_eq!(redacted.status.code(), Some(1), "{}", stderr(&redacted));
    let (p, r): (Value, Value) = (
        serde_json::from_slice(&plain.stdout).unwrap(),
        serde_json::from_slice(&redacted.stdout).unwrap(),
    );
    for field in ["outcome", "stage", "causes", "openocd"] {
        assert_eq!(p[field], r[field], "{field}");
    }
    let rules = |v: &Value| -> Vec<Value> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].clone())
            .collect()
    };
    assert_eq!(rules(&p), rules(&r));
    let text = String::from_utf8_lossy(&redacted.stdout);
    assert!(String::from_utf8_lossy(&plain.stdout).contains("alice.smith"));
    for s in secrets() {
        assert!(!text.contains(&s), "{s:?} in the redacted report");
    }
    assert!(
        r["inputs"][0]["path"]
            .as_str()
            .unwrap()
            .contains("/Users/user-")
    );
    assert!(
        stderr(&redacted).contains("redacted: "),
        "{}",
        stderr(&redacted)
    );
    // Markdown too (the forum format).
    let md = run(
        cfg.path(),
        &[
            "diagnose", "--no-env", "--redact", "--format", "markdown", log,
        ],
    );
    let md = stdout(&md);
    assert!(md.contains("## OpenOCD diagnosis"));
    for s in secrets() {
        assert!(!md.contains(&s), "{s:?} in the markdown");
    }
}
