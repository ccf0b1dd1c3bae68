//! Accuracy on real user failures (tests/data/corpus/cases.jsonl: public threads with the
//! cause the discussion established). A ratchet: the floors are what the knowledge base
//! reached; raise them as rules improve, never lower them.

use ocdoctor_core::KnowledgeBase;
use ocdoctor_core::eval::{evaluate, load_cases, table};

const CORPUS: &str = include_str!("data/corpus/cases.jsonl");

// Floors (ratchet). Log alone, OS guessed from the log:
const MIN_TOP1: f64 = 0.82;
const MIN_TOP3: f64 = 0.95;
const MAX_ECE: f64 = 0.05;
// With the OS the user's machine reports (what `ocdoctor diagnose` knows locally):
const MIN_TOP1_OS: f64 = 0.85;
const MIN_TOP3_OS: f64 = 0.95;

#[test]
fn corpus_accuracy_and_calibration() {
    let kb = KnowledgeBase::embedded();
    let cases = load_cases(CORPUS).expect("corpus parses");
    assert!(cases.len() >= 70, "corpus has {} cases", cases.len());
    let log_only = evaluate(kb, &cases, &kb.calibration, false);
    let with_os = evaluate(kb, &cases, &kb.calibration, true);
    println!("{}", table("corpus, log only", &log_only));
    println!("{}", table("corpus, log + OS", &with_os));
    assert!(
        log_only.top1_rate() >= MIN_TOP1,
        "top-1 {:.3} fell below the floor {MIN_TOP1}",
        log_only.top1_rate()
    );
    assert!(
        log_only.top3_rate() >= MIN_TOP3,
        "top-3 {:.3} fell below the floor {MIN_TOP3}",
        log_only.top3_rate()
    );
    assert!(
        log_only.ece <= MAX_ECE,
        "ECE {:.3} rose above the ceiling {MAX_ECE}",
        log_only.ece
    );
    assert!(
        with_os.top1_rate() >= MIN_TOP1_OS,
        "top-1 with OS {:.3} fell below {MIN_TOP1_OS}",
        with_os.top1_rate()
    );
    assert!(
        with_os.top3_rate() >= MIN_TOP3_OS,
        "top-3 with OS {:.3} fell below {MIN_TOP3_OS}",
        with_os.top3_rate()
    );
}
