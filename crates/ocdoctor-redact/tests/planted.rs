//! The planted-secret corpus (tests/data/planted): logs shaped like Linux, macOS and Windows
//! OpenOCD / shell / IDE output and an env snapshot, with every kind of private value planted
//! (secrets.toml lists them). One run over all of them, as `ocdoctor upload` makes it: nothing
//! planted survives, each value gets one pseudonym everywhere, the manifest counts every kind,
//! and the diagnosis of each redacted log is the diagnosis of the planted one.
//!
//! Every case of the labelled corpus (crates/ocdoctor-core/tests/data/corpus/cases.jsonl)
//! diagnoses the same redacted. The corpus cases (crates/ocdoctor-core/tests/data/corpus) get the same secrets
//! planted where their posters had already put placeholders (`/home/user`, `user@host`).

use ocdoctor_core::eval::load_cases;
use ocdoctor_redact::{Kind, Redactor};
use std::collections::BTreeMap;
use std::path::Path;

const KEY: &[u8] = b"planted corpus key: 32 bytes ok!";
const FILES: &[&str] = &[
    "linux-stlink.log",
    "macos-cmsis-dap.log",
    "windows-vscode.log",
    "env-snapshot.json",
];
const CORPUS: &str = include_str!("../../ocdoctor-core/tests/data/corpus/cases.jsonl");

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/planted"))
}

fn secrets() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(dir().join("secrets.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

fn inputs() -> Vec<(&'static str, String)> {
    FILES
        .iter()
        .map(|f| (*f, std::fs::read_to_string(dir().join(f)).unwrap()))
        .collect()
}

/// Redact every input in one run: learn from all first, then redact each.
fn redact_all(key: &[u8]) -> (Vec<String>, BTreeMap<String, u64>, Redactor) {
    let mut r = Redactor::new(key, &[]).unwrap();
    let inputs = inputs();
    for (_, text) in &inputs {
        r.learn(text);
    }
    let out = inputs.iter().map(|(_, t)| r.redact(t)).collect();
    let manifest = r.manifest().clone();
    (out, manifest, r)
}

/// What must not move: outcome, stage, the ranked causes with their confidences, the rules fired.
type Diagnosis = (String, Option<String>, Vec<(String, String)>, Vec<String>);

fn diagnosis(log: &str) -> Diagnosis {
    let r = ocdoctor_core::diagnose_bytes(log.as_bytes(), Some("openocd.log"));
    (
        r.outcome,
        r.stage,
        r.causes
            .iter()
            .map(|c| (c.cause.clone(), format!("{:.9}", c.confidence)))
            .collect(),
        r.findings.iter().map(|f| f.rule.clone()).collect(),
    )
}

#[test]
fn nothing_planted_survives_and_every_kind_is_counted() {
    let secrets = secrets();
    let inputs = inputs();
    let (outputs, manifest, _) = redact_all(KEY);
    for (kind, values) in &secrets {
        for v in values {
            assert!(
                inputs.iter().any(|(_, t)| t.contains(v.as_str())),
                "{kind} {v:?} is not planted in any file"
            );
            for ((file, _), out) in inputs.iter().zip(&outputs) {
                assert!(
                    !out.contains(v.as_str()),
                    "{kind} {v:?} leaks in {file}:\n{out}"
                );
            }
        }
        assert!(
            manifest.get(kind).is_some_and(|n| *n > 0),
            "kind {kind} not in the manifest {manifest:?}"
        );
    }
    // The manifest holds counts only: no original value appears in its keys.
    let printed = format!("{manifest:?}");
    for v in secrets.values().flatten() {
        assert!(!printed.contains(v.as_str()));
    }
}

#[test]
fn what_the_diagnosis_reads_survives() {
    let (outputs, _, _) = redact_all(KEY);
    let all = outputs.join("\n");
    for keep in [
        "interface/stlink.cfg",
        "target/stm32f4x.cfg",
        "interface/cmsis-dap.cfg",
        "Open On-Chip Debugger 0.12.0+dev-gebec950-dirty (2024-09-27-16:29)",
        "VID:PID=0x2e8a:0x000c",
        "lsusb -v -d 0483:3748",
        "Listening on port 6666 for tcl connections",
        "Error: libusb_open() failed with LIBUSB_ERROR_NOT_SUPPORTED",
        "Error: Error connecting DP: cannot read IDR",
        "Location ID: 0x01100000",
        "/.pico-sdk/openocd/0.12.0+dev/scripts",
        "extended-remote host-",
        ":3333",
        "http://openocd.org/doc/doxygen/bugs.html",
    ] {
        assert!(all.contains(keep), "{keep:?} was changed:\n{all}");
    }
}

#[test]
fn one_value_one_pseudonym_across_inputs() {
    let inputs = inputs();
    let (outputs, _, mut r) = redact_all(KEY);
    // The user's name is in the log's prompt and paths and in the snapshot's user record; the
    // probe serial in lsusb, udev and the snapshot: each gets one name in all of them.
    for (kind, value, files) in [
        (Kind::User, "alice.smith", &[0, 3][..]),
        (Kind::Serial, "066DFF485550755187034646", &[0, 3][..]),
        (Kind::Serial, "0670FF505150898387183532", &[2][..]),
        (Kind::Host, "build-box-07", &[0][..]),
    ] {
        let p = r.pseudonym(&kind, value);
        for &f in files {
            // An e-mail address holding the name is replaced as an e-mail, whole.
            let in_email = format!("{value}@acme-widgets.example");
            let planted =
                inputs[f].1.matches(value).count() - inputs[f].1.matches(&in_email).count();
            assert!(planted > 0, "{value} not in {}", inputs[f].0);
            assert_eq!(
                outputs[f].matches(p.as_str()).count(),
                planted,
                "{value} -> {p} in {}",
                inputs[f].0
            );
        }
    }
    // Another run with the same key writes the same text; another key, other names.
    assert_eq!(redact_all(KEY).0, outputs);
    let other = redact_all(b"a different key, also 32 bytes!!").0;
    assert_ne!(other, outputs);
    assert!(!other[0].contains(&r.pseudonym(&Kind::User, "alice.smith")));
}

#[test]
fn planted_logs_diagnose_the_same_redacted() {
    let inputs = inputs();
    let (outputs, _, _) = redact_all(KEY);
    for ((file, planted), out) in inputs.iter().zip(&outputs) {
        if file.ends_with(".log") {
            let before = diagnosis(planted);
            assert_ne!(before.0, "ok", "{file} should show a failure");
            assert_eq!(before, diagnosis(out), "{file}");
        }
    }
}

#[test]
fn every_corpus_case_diagnoses_the_same_after_redaction() {
    let cases = load_cases(CORPUS).expect("corpus parses");
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut changed = Vec::new();
    let mut redacted_cases = 0;
    for case in &cases {
        let mut r = Redactor::new(KEY, &[]).unwrap();
        let safe = r.redact(&case.log);
        if safe != case.log {
            redacted_cases += 1;
        }
        let (before, after) = (diagnosis(&case.log), diagnosis(&safe));
        if before != after {
            changed.push(format!(
                "{}:\n  before {before:?}\n  after  {after:?}",
                case.id
            ));
        }
    }
    assert!(
        changed.is_empty(),
        "{} cases changed:\n{}",
        changed.len(),
        changed.join("\n")
    );
    // The corpus' posters already hid much, but not all: the test must see real redactions.
    assert!(
        redacted_cases >= 30,
        "only {redacted_cases} cases had anything to redact"
    );
}

/// Secrets written over the placeholders the corpus' posters used, per OS.
const PLANTS: &[(&str, &str)] = &[
    ("/home/user", "/home/alice.smith"),
    ("/Users/user", "/Users/Alice Smith"),
    (r"C:\Users\user", r"C:\Users\Jörg Müller"),
    (r"C:\\Users\\user", r"C:\\Users\\Jörg Müller"),
    ("C:/Users/user", "C:/Users/jmueller"),
    ("user@host", "alice.smith@build-box-07"),
];

#[test]
fn corpus_cases_with_planted_names_leak_nothing_and_diagnose_the_same() {
    let cases = load_cases(CORPUS).unwrap();
    let mut planted_cases = 0;
    for case in &cases {
        let mut log = case.log.clone();
        for (from, to) in PLANTS {
            log = log.replace(from, to);
        }
        if log == case.log {
            continue;
        }
        planted_cases += 1;
        let mut r = Redactor::new(KEY, &[]).unwrap();
        let out = r.redact(&log);
        for secret in [
            "alice.smith",
            "Alice Smith",
            "Jörg Müller",
            "jmueller",
            "build-box-07",
        ] {
            assert!(!out.contains(secret), "{}: {secret} leaks:\n{out}", case.id);
        }
        assert_eq!(diagnosis(&log), diagnosis(&out), "{}", case.id);
    }
    assert!(
        planted_cases >= 20,
        "only {planted_cases} cases had placeholders"
    );
}
