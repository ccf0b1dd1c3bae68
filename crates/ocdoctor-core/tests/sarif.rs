//! `--format sarif` against the official SARIF 2.1.0 schema (OASIS, errata 01), vendored in
//! `tests/data/sarif-schema-2.1.0.json` from the oasis-tcs/sarif-spec repository
//! (`sarif-2.1/schema/sarif-schema-2.1.0.json`).

use ocdoctor_core::{diagnose_bytes, render};
use serde_json::Value;
use std::path::Path;

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn errors(v: &jsonschema::Validator, log: &Value) -> Vec<String> {
    v.iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn example_logs_give_valid_sarif_pointing_at_the_evidence() {
    let v = validator();
    let logs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/logs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&logs).unwrap() {
        let path = entry.unwrap().path();
        let label = format!(
            "examples/logs/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let report = diagnose_bytes(&std::fs::read(&path).unwrap(), Some(&label));
        let log: Value = serde_json::from_str(&render::sarif(&report)).unwrap();
        let errs = errors(&v, &log);
        assert!(errs.is_empty(), "{label}: {errs:#?}");
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        let shown: Vec<_> = report
            .findings
            .iter()
            .filter(|f| !f.evidence.is_empty())
            .collect();
        assert_eq!(
            results.len(),
            shown.len() + report.unexplained.len(),
            "{label}"
        );
        for (r, f) in results.iter().zip(&shown) {
            assert_eq!(r["ruleId"], f.rule.as_str());
            let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
            if let Some(i) = r["ruleIndex"].as_u64() {
                assert_eq!(rules[i as usize]["id"], f.rule.as_str());
            }
            let loc = &r["locations"][0]["physicalLocation"];
            assert_eq!(loc["artifactLocation"]["uri"], label.as_str());
            assert_eq!(loc["region"]["startLine"], f.evidence[0].line);
            assert_eq!(
                loc["region"]["snippet"]["text"],
                f.evidence[0].text.as_str()
            );
        }
        if report.outcome == "ok" && report.findings.is_empty() {
            assert!(results.is_empty(), "{label}");
        } else {
            assert!(!results.is_empty(), "{label}");
        }
        checked += 1;
    }
    assert!(checked >= 4);
}

#[test]
fn every_rule_is_a_driver_rule_with_its_docs() {
    let report = diagnose_bytes(b"Open On-Chip Debugger 0.12.0\nError: open failed\n", None);
    let log: Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    assert!(errors(&validator(), &log).is_empty());
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let kb = ocdoctor_core::KnowledgeBase::embedded();
    for rule in &kb.rules {
        let d = rules
            .iter()
            .find(|r| r["id"] == rule.code.as_str())
            .unwrap();
        assert_eq!(d["name"], rule.name.as_str());
        let md = d["help"]["markdown"].as_str().unwrap();
        // The same text as docs/rules/<CODE>.md.
        let doc = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/rules")
                .join(format!("{}.md", rule.code)),
        )
        .unwrap();
        assert_eq!(md.trim_end(), doc.trim_end(), "{}", rule.code);
    }
    // From standard input: no file to point at, still a valid result.
    let r = &log["runs"][0]["results"][0];
    assert!(r.get("locations").is_none());
    assert_eq!(r["level"], "error");
}

#[test]
fn the_schema_rejects_what_is_not_sarif() {
    let v = validator();
    let report = diagnose_bytes(b"Open On-Chip Debugger 0.12.0\nError: open failed\n", None);
    let mut log: Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!errors(&v, &log).is_empty());
    log["runs"][0]["results"][0]["level"] = "error".into();
    log["runs"][0]["columnKind"] = "bytes".into();
    assert!(!errors(&v, &log).is_empty());
}
