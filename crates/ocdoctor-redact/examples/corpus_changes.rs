//! What redaction changes in the labelled corpus, line by line (to review for over-redaction):
//! `cargo run -p ocdoctor-redact --example corpus_changes`.

use ocdoctor_core::eval::load_cases;
use ocdoctor_redact::Redactor;

const CORPUS: &str = include_str!("../../ocdoctor-core/tests/data/corpus/cases.jsonl");

fn main() {
    let cases = load_cases(CORPUS).expect("corpus parses");
    let mut totals = std::collections::BTreeMap::<String, u64>::new();
    for case in &cases {
        let mut r = Redactor::new(b"example key, any 16+ bytes", &[]).expect("key");
        let safe = r.redact(&case.log);
        for (a, b) in case.log.lines().zip(safe.lines()) {
            if a != b {
                println!("{}\n  - {a}\n  + {b}", case.id);
            }
        }
        for (k, n) in r.manifest() {
            *totals.entry(k.clone()).or_default() += n;
        }
    }
    println!("replaced, by kind: {totals:?}");
}
