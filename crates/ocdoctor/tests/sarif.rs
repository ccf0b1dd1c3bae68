//! `check --format sarif` and `diagnose --format sarif` as CI runs them: valid against the
//! official SARIF 2.1.0 schema (vendored in ocdoctor-core's test data), one result per place
//! `check` points at, with UTF-16 columns, paths relative to the checkout.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ocdoctor-core/tests/data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(log: &Value) {
    let errs: Vec<String> = validator()
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errs.is_empty(), "{errs:#?}");
}

fn ocdoctor(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(args)
        .current_dir(dir)
        .env("OCDOCTOR_NO_CACHE", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn check_sarif_points_where_check_does_in_utf16_columns() {
    let dir = tempfile::tempdir().unwrap();
    // Multi-byte text before the problem: `板` is one UTF-16 unit and three bytes, `𝄞` two
    // units and four bytes.
    std::fs::write(
        dir.path().join("board.cfg"),
        "# carte d’évaluation 板\nset NAME \"é𝄞\"; adapter_khz 4000\nsource [find interface/stlink-v3.cfgx]\n",
    )
    .unwrap();
    let (code, sarif) = ocdoctor(dir.path(), &["check", "board.cfg", "--format", "sarif"]);
    assert_eq!(code, 1);
    let log: Value = serde_json::from_str(&sarif).unwrap();
    assert_valid(&log);
    let (_, json) = ocdoctor(dir.path(), &["check", "board.cfg", "--format", "json"]);
    let report: Value = serde_json::from_str(&json).unwrap();

    let run = &log["runs"][0];
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    let results = run["results"].as_array().unwrap();
    // Every finding's file evidence is a result at the same line.
    for f in report["findings"].as_array().unwrap() {
        for e in f["evidence"].as_array().unwrap() {
            if e["path"].as_str().is_some_and(|p| p.ends_with("board.cfg")) {
                let hit = results.iter().any(|r| {
                    r["ruleId"] == f["rule"]
                        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == e["line"]
                });
                assert!(
                    hit,
                    "no SARIF result for {} at line {}",
                    f["rule"], e["line"]
                );
            }
        }
    }
    let at = |rule: &str| {
        let r = results.iter().find(|r| r["ruleId"] == rule).unwrap();
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "board.cfg");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let g = &loc["region"];
        (
            g["startLine"].as_u64().unwrap(),
            g["startColumn"].as_u64().unwrap(),
            g["endLine"].as_u64().unwrap(),
            g["endColumn"].as_u64().unwrap(),
        )
    };
    // `adapter_khz` after `set NAME "é𝄞"; ` (15 characters, 16 UTF-16 units).
    assert_eq!(at("CFG106"), (2, 17, 2, 28));
    // The missing name inside `source [find …]`.
    assert_eq!(at("CFG101"), (3, 14, 3, 38));
    let r = results.iter().find(|r| r["ruleId"] == "CFG106").unwrap();
    assert_eq!(r["level"], "warning");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(
        rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "CFG106"
    );
}

#[test]
fn diagnose_sarif_points_at_the_log_lines() {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (code, sarif) = ocdoctor(
        &ws,
        &[
            "diagnose",
            "--no-env",
            "--format",
            "sarif",
            "examples/logs/stlink-not-found.log",
        ],
    );
    assert_eq!(code, 1);
    let log: Value = serde_json::from_str(&sarif).unwrap();
    assert_valid(&log);
    let text = std::fs::read_to_string(ws.join("examples/logs/stlink-not-found.log")).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let locs = r["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(r["relatedLocations"].as_array().into_iter().flatten());
        for l in locs {
            let p = &l["physicalLocation"];
            assert_eq!(
                p["artifactLocation"]["uri"],
                "examples/logs/stlink-not-found.log"
            );
            // The line the region names holds the evidence text.
            let n = p["region"]["startLine"].as_u64().unwrap() as usize;
            let line = text.lines().nth(n - 1).unwrap();
            let snippet = p["region"]["snippet"]["text"].as_str().unwrap();
            assert!(line.contains(snippet.trim()), "{line:?} vs {snippet:?}");
        }
    }
    // An unknown format is a usage error.
    let (code, _) = ocdoctor(&ws, &["check", "x.cfg", "--format", "sarif2"]);
    assert_eq!(code, 2);
}
