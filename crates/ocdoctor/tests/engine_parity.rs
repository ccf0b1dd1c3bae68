//! The library and the CLI give the same report: `ocdoctor_engine::diagnose_bytes` against
//! `ocdoctor diagnose --no-env --format json` on real logs, including logs whose unexpected
//! idcodes go through the chip-identity reading (rule TGT054, the clone and wrong-config
//! readings).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example logs, this crate's idcode logs, and every 8th rule fixture log.
fn logs() -> Vec<PathBuf> {
    let ws = workspace();
    let mut out = Vec::new();
    for dir in [
        ws.join("examples/logs"),
        ws.join("crates/ocdoctor/tests/data"),
    ] {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        v.sort();
        out.extend(v);
    }
    let mut fixtures = Vec::new();
    for area in std::fs::read_dir(ws.join("rules")).unwrap() {
        let area = area.unwrap().path();
        let Ok(rules) = std::fs::read_dir(&area) else {
            continue;
        };
        for rule in rules {
            let Ok(files) = std::fs::read_dir(rule.unwrap().path()) else {
                continue;
            };
            for f in files {
                let p = f.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with("hit_") && name.ends_with(".log") {
                    fixtures.push(p);
                }
            }
        }
    }
    fixtures.sort();
    out.extend(fixtures.into_iter().step_by(8));
    out
}

#[test]
fn diagnose_bytes_is_the_cli_report() {
    let logs = logs();
    assert!(logs.len() > 40, "only {} logs", logs.len());
    let mut with_chip_reading = 0;
    for log in &logs {
        let label = log.display().to_string();
        let out = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
            .args(["diagnose", "--no-env", "--format", "json"])
            .arg(log)
            .output()
            .expect("run ocdoctor");
        let cli = String::from_utf8(out.stdout).expect("utf-8 json");
        let bytes = std::fs::read(log).unwrap();
        let report = ocdoctor_engine::diagnose_bytes(&bytes, Some(&label));
        let lib = ocdoctor_core::render::json(&report);
        assert_eq!(cli, lib, "{label}: the CLI and the library disagree");
        assert_eq!(
            out.status.code(),
            Some(report.exit_code()),
            "{label}: exit code"
        );
        if report.findings.iter().any(|f| f.rule == "TGT054")
            || report.findings.iter().any(|f| {
                f.cause == "idcode-mismatch" && f.fixes.iter().any(|x| x.title.starts_with("Use "))
            })
        {
            with_chip_reading += 1;
        }
    }
    // The chip reading is part of what is compared, not only the plain scan.
    assert!(
        with_chip_reading >= 2,
        "{with_chip_reading} logs with a chip reading"
    );
}
