//! The knowledge base's own tests: every rule is well-formed, documented, and fires on its
//! `hit_*` fixtures and not on its `miss_*` fixtures; docs/rules is in sync.

use ocdoctor_core::infer::{EnvProblem, SourceProblem};
use ocdoctor_core::kb::{KnowledgeBase, Rule};
use ocdoctor_core::{Hints, diagnose, render, scanner};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures(rule: &Rule, prefix: &str) -> Vec<PathBuf> {
    let dir = root().join("rules").join(&rule.dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(prefix) && !n.ends_with(".env.json") && !n.ends_with(".problems.json")
            })
        })
        .collect();
    v.sort();
    v
}

/// A fixture `hit_x.log` may come with `hit_x.env.json` (the machine's problems, as `ocdoctor env`
/// reports them) and `hit_x.problems.json` (config / IDE problems, as `ocdoctor check` finds them),
/// for rules that join the log with them or match them alone.
fn hints_for(fixture: &Path) -> Hints {
    let read = |ext: &str| -> Vec<serde_json::Value> {
        let path = fixture.with_extension(ext);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return vec![];
        };
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        v.as_array()
            .unwrap_or_else(|| panic!("{}: a JSON array", path.display()))
            .clone()
    };
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let facts = |v: &serde_json::Value| -> Vec<(String, String)> {
        v.as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), s(v))).collect())
            .unwrap_or_default()
    };
    let env = read("env.json")
        .iter()
        .map(|p| EnvProblem {
            id: s(&p["id"]),
            cause: s(&p["cause"]),
            message: s(&p["message"]),
            facts: facts(&p["facts"]),
        })
        .collect();
    let problems = read("problems.json")
        .iter()
        .map(|p| SourceProblem {
            source: p["source"].as_str().unwrap_or("config").to_string(),
            id: s(&p["id"]),
            message: s(&p["message"]),
            path: p["path"].as_str().map(str::to_string),
            line: p["line"].as_u64().unwrap_or(0),
            column: p["column"].as_u64().unwrap_or(0),
            span: p["span"]
                .as_array()
                .and_then(|a| Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?))),
            text: s(&p["text"]),
            facts: facts(&p["facts"]),
            edit: p["edit"].as_str().map(str::to_string),
        })
        .collect();
    Hints {
        env,
        problems,
        ..Hints::default()
    }
}

fn fired_codes(fixture: &Path) -> BTreeSet<String> {
    let kb = KnowledgeBase::embedded();
    let scan = scanner().scan_bytes(&std::fs::read(fixture).unwrap());
    diagnose(kb, scan, &hints_for(fixture))
        .fired
        .iter()
        .map(|f| f.rule.code.clone())
        .collect()
}

#[test]
fn every_rule_fires_on_its_hits_and_not_on_its_misses() {
    let kb = KnowledgeBase::embedded();
    let mut failures = Vec::new();
    for rule in &kb.rules {
        let hits = fixtures(rule, "hit_");
        let misses = fixtures(rule, "miss_");
        if hits.is_empty() {
            failures.push(format!(
                "{}: no hit_* fixture in rules/{}",
                rule.code, rule.dir
            ));
        }
        if misses.is_empty() {
            failures.push(format!(
                "{}: no miss_* fixture in rules/{}",
                rule.code, rule.dir
            ));
        }
        for h in hits {
            let fired = fired_codes(&h);
            if !fired.contains(&rule.code) {
                failures.push(format!(
                    "{}: did not fire on {} (fired: {fired:?})",
                    rule.code,
                    h.display()
                ));
            }
        }
        for m in misses {
            let fired = fired_codes(&m);
            if fired.contains(&rule.code) {
                failures.push(format!("{}: fired on {}", rule.code, m.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn registry_is_well_formed() {
    let kb = KnowledgeBase::embedded();
    let code_re = regex::Regex::new(r"^(CFG|PRB|USB|NET|IDE|TGT|FLS|LOG)\d{3}$").unwrap();
    let name_re = regex::Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").unwrap();
    let mut names = BTreeSet::new();
    for r in &kb.rules {
        assert!(
            code_re.is_match(&r.code),
            "{}: code must be AREA + 3 digits",
            r.code
        );
        assert!(
            name_re.is_match(&r.name),
            "{}: name {:?} must be kebab-case",
            r.code,
            r.name
        );
        assert!(
            names.insert(r.name.clone()),
            "{}: name {} used twice",
            r.code,
            r.name
        );
        let folder = r.dir.rsplit('/').next().unwrap();
        assert_eq!(
            folder,
            format!("{}-{}", r.code, r.name),
            "folder must be <code>-<name>"
        );
        let area = r.dir.split('/').next().unwrap();
        assert_eq!(
            area.to_uppercase(),
            r.code[..3],
            "{}: lives in rules/{area}/",
            r.code
        );
        assert!(
            !r.summary.is_empty() && !r.summary.ends_with('.'),
            "{}: summary without final period",
            r.code
        );
        // Lower-case start (clippy's convention), except for names such as OpenOCD or J-Link.
        let first = r.summary.split_whitespace().next().unwrap_or("");
        let is_name = first
            .chars()
            .skip(1)
            .any(|c| c.is_uppercase() || c == '-' || c.is_ascii_digit());
        assert!(
            first.chars().next().unwrap().is_lowercase() || is_name,
            "{}: summary starts lower-case",
            r.code
        );
        for (field, text) in [
            ("what", &r.docs.what),
            ("why", &r.docs.why),
            ("fix", &r.docs.fix),
            ("example", &r.docs.example),
        ] {
            assert!(!text.trim().is_empty(), "{}: docs.{field} is empty", r.code);
        }
        assert!(
            !r.explanation.trim().is_empty(),
            "{}: explanation is empty",
            r.code
        );
    }
}

#[test]
fn every_cause_a_log_can_show_has_a_rule() {
    let kb = KnowledgeBase::embedded();
    let covered: BTreeSet<&str> = kb.rules.iter().map(|r| r.cause.as_str()).collect();
    let missing: Vec<&str> = kb
        .causes
        .iter()
        .filter(|c| c.log_visible && !covered.contains(c.id.as_str()))
        .map(|c| c.id.as_str())
        .collect();
    assert!(missing.is_empty(), "causes without a rule: {missing:?}");
}

#[test]
fn generated_rule_docs_are_in_sync() {
    let kb = KnowledgeBase::embedded();
    let dir = root().join("docs/rules");
    let bless = std::env::var_os("OCDOCTOR_BLESS").is_some();
    let mut stale = Vec::new();
    let mut expected = BTreeSet::new();
    let mut index = String::from(
        "# Rules\n\nGenerated from `rules/*/*/rule.toml` by `OCDOCTOR_BLESS=1 cargo test -p ocdoctor-core --test kb`.\n\n| code | name | cause | summary |\n|---|---|---|---|\n",
    );
    for r in &kb.rules {
        index += &format!(
            "| [{0}]({0}.md) | {1} | `{2}` | {3} |\n",
            r.code, r.name, r.cause, r.summary
        );
    }
    let mut files: Vec<(String, String)> = kb
        .rules
        .iter()
        .map(|r| {
            (
                format!("{}.md", r.code),
                render::rule_doc(kb, &r.code).unwrap(),
            )
        })
        .collect();
    files.push(("README.md".into(), index));
    for (name, text) in files {
        expected.insert(name.clone());
        let path = dir.join(&name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, text).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if !expected.contains(&n) {
                if bless {
                    std::fs::remove_file(e.path()).unwrap();
                } else {
                    stale.push(format!("{n} (no such rule)"));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is stale: {stale:?}; run OCDOCTOR_BLESS=1 cargo test -p ocdoctor-core --test kb"
    );
}

#[test]
fn every_pattern_compiles_and_cannot_match_empty() {
    // An empty-matching pattern would make every line a candidate of the first pass.
    let kb = KnowledgeBase::embedded();
    let mut bad = Vec::new();
    let fact_res = kb
        .facts
        .iter()
        .map(|f| (format!("fact {}", f.id), f.regex.clone()));
    let rule_res = kb.rules.iter().flat_map(|r| {
        r.matchers
            .iter()
            .filter(|m| m.fact.is_none() && m.problem.is_none())
            .map(move |m| (r.code.clone(), m.regex.clone()))
    });
    for (who, re) in fact_res.chain(rule_res) {
        match regex::Regex::new(&re) {
            Ok(r) if r.is_match("") => bad.push(format!("{who}: {re:?} matches the empty string")),
            Ok(_) => {}
            Err(e) => bad.push(format!("{who}: {e}")),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(scanner().kb().rules.len() == kb.rules.len());
}

#[test]
fn embedded_knowledge_base_passes_the_full_validation() {
    // Start-up skips the regex syntax check (the scanner's compile would fail anyway); run it here.
    KnowledgeBase::embedded().check_patterns().unwrap();
}

/// A join key the log names (0.12's `… on port 6666`) picks, among the machine's problems of the
/// joined kind, the ones that agree: with 4444 and 6666 both held, the tcl failure is about 6666.
#[test]
fn a_join_key_in_the_log_selects_the_agreeing_machine_problem() {
    let held = |port: &str, service: &str| EnvProblem {
        id: "port-held".into(),
        cause: "port-in-use".into(),
        message: format!("port {port} ({service}) is held by openocd (pid 4242)"),
        facts: vec![
            ("port".into(), port.into()),
            ("holder_pid".into(), "4242".into()),
            ("holder".into(), "openocd".into()),
        ],
    };
    let hints = Hints {
        env: vec![held("4444", "telnet"), held("6666", "tcl")],
        ..Hints::default()
    };
    let log = b"Open On-Chip Debugger 0.12.0\nError: couldn't bind tcl to socket on port 6666: Address already in use\n";
    let kb = KnowledgeBase::embedded();
    let d = diagnose(kb, scanner().scan_bytes(log), &hints);
    let f = d
        .fired
        .iter()
        .find(|f| f.rule.code == "NET050")
        .expect("NET050 joins the log with the machine");
    assert!(
        f.captures.iter().any(|(k, v)| k == "port" && v == "6666"),
        "{:?}",
        f.captures
    );
    assert_eq!(
        f.env_lines,
        vec!["port 6666 (tcl) is held by openocd (pid 4242)"]
    );
}
