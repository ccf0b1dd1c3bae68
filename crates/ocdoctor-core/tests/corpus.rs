//! Accuracy on real user failures (tests/data/corpus/cases.jsonl: public threads with the
//! cause the discussion established). A ratchet: the floors are what the knowledge base
//! reached; raise them as rules improve, never lower them.

use ocdoctor_core::KnowledgeBase;
use ocdoctor_core::eval::{evaluate, load_cases, table};

const CORPUS: &str = include_str!("data/corpus/cases.jsonl");

/// The corpus' first 70 cases are the original set the rules were written beside; its floors
/// stand. The cases after them came later (from threads no rule was written for) and are
/// scored as a whole with floors of their own.
const ORIGINAL_CASES: usize = 70;
/// Cases 1–202: the original 70 and the first growth (2026-12-06), log alone.
const FIRST_GROWTH_CASES: usize = 202;
const MIN_TOP1_202: f64 = 0.63;
const MIN_TOP3_202: f64 = 0.87;
// Cases 1–306 (the second growth of 2026-12-06), log alone. The 104 cases of that growth were
// scored before any rule was written beside them: 34 % top-1, 59 % top-3. Rules from OpenOCD's
// own message formats (issue 10, second pass) raised cases 1–306 from 53.3 % / 80.7 % to
// 60.8 % / 84.0 %.
const SECOND_GROWTH_CASES: usize = 306;
const MIN_TOP1_306: f64 = 0.60;
const MIN_TOP3_306: f64 = 0.84;
// Whole corpus (335 cases since the third growth of 2026-12-07), log alone. The 29 cases of that
// growth were scored before any rule was written beside them: 41 % top-1, 62 % top-3 (also with
// the second pass's rules alone, which were written without them); with the rules written after,
// the whole set stands at 60.6 % / 83.3 %. After the fifth and sixth growths (368 cases; blind:
// 6/13 and 3/10 top-1) and the rules written after them: 61.7 % / 84.5 %.
const MIN_TOP1_ALL: f64 = 0.61;
const MIN_TOP3_ALL: f64 = 0.84;
// Calibration is fitted on the whole corpus (rules/calibration.toml), so its ceiling is measured
// there. On the 202 cases of the first growth it was 0.05; the 104 harder cases that followed
// put cases 1–306 at 0.061 (5-fold grouped CV: 0.087 pooled); after issue 10's second pass
// 0.053 (CV: 0.080 pooled). The confidences on the original 70 run low (ECE 0.19,
// underconfident): the price of honest confidence on logs no rule was written beside.
const MAX_ECE_306: f64 = 0.065;
// The whole set after the third growth: 0.053.
const MAX_ECE_ALL: f64 = 0.065;

// Floors of the original 70 (ratchet). Log alone, OS guessed from the log:
const MIN_TOP1: f64 = 0.82;
const MIN_TOP3: f64 = 0.95;
// With the OS the user's machine reports (what `ocdoctor diagnose` knows locally):
const MIN_TOP1_OS: f64 = 0.85;
const MIN_TOP3_OS: f64 = 0.95;

#[test]
fn corpus_accuracy_and_calibration() {
    let kb = KnowledgeBase::embedded();
    let cases = load_cases(CORPUS).expect("corpus parses");
    assert!(cases.len() >= 70, "corpus has {} cases", cases.len());
    // The first 70 cases are the original corpus, whose floors stand; the whole corpus has its own.
    let original = &cases[..ORIGINAL_CASES];
    let log_only = evaluate(kb, original, &kb.calibration, false);
    let all = evaluate(kb, &cases, &kb.calibration, false);
    println!("{}", table("whole corpus, log only", &all));
    let first_growth = evaluate(kb, &cases[..FIRST_GROWTH_CASES], &kb.calibration, false);
    println!("{}", table("cases 1-202, log only", &first_growth));
    assert!(
        first_growth.top1_rate() >= MIN_TOP1_202 && first_growth.top3_rate() >= MIN_TOP3_202,
        "cases 1-202: top-1 {:.3} (floor {MIN_TOP1_202}), top-3 {:.3} (floor {MIN_TOP3_202})",
        first_growth.top1_rate(),
        first_growth.top3_rate()
    );
    let second_growth = evaluate(kb, &cases[..SECOND_GROWTH_CASES], &kb.calibration, false);
    println!("{}", table("cases 1-306, log only", &second_growth));
    assert!(
        second_growth.top1_rate() >= MIN_TOP1_306 && second_growth.top3_rate() >= MIN_TOP3_306,
        "cases 1-306: top-1 {:.3} (floor {MIN_TOP1_306}), top-3 {:.3} (floor {MIN_TOP3_306})",
        second_growth.top1_rate(),
        second_growth.top3_rate()
    );
    assert!(
        second_growth.ece <= MAX_ECE_306,
        "cases 1-306: ECE {:.3} rose above the ceiling {MAX_ECE_306}",
        second_growth.ece
    );
    let with_os = evaluate(kb, original, &kb.calibration, true);
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
        all.ece <= MAX_ECE_ALL,
        "ECE {:.3} rose above the ceiling {MAX_ECE_ALL}",
        all.ece
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
    assert!(
        all.top1_rate() >= MIN_TOP1_ALL && all.top3_rate() >= MIN_TOP3_ALL,
        "whole corpus: top-1 {:.3} (floor {MIN_TOP1_ALL}), top-3 {:.3} (floor {MIN_TOP3_ALL})",
        all.top1_rate(),
        all.top3_rate()
    );
}
