//! Fit `rules/calibration.toml` on the labelled corpus and print the metrics table.
//!
//! Priors: corpus cause frequencies, add-one smoothed (every cause stays possible). Then the
//! temperature `scale`, the `unknown` prior, the `shrink` toward the prior, the weight of catalog
//! evidence and the `unknown` likelihood ratio of unexplained errors are chosen on a grid
//! (coordinate descent: two sweeps) to minimise Brier score + expected calibration error + top-3
//! misses (Brier is a proper scoring rule; the ECE term keeps the stated confidences honest),
//! among the fits that keep `tests/corpus.rs`' floors (cases 1–70 and 1–202). Last, the
//! `temperature`, which changes how sure the numbers sound but never the order, is chosen for
//! Brier + ECE alone.
//!
//! The figure that counts is the 5-fold cross-validation grouped by source project: every case
//! of one project (a GitHub repository, a forum) is in one fold, so the fit never sees the
//! project it is scored on — the nearest we get to "logs nobody here has seen".
//!
//! `cargo run --release -p ocdoctor-core --example calibrate [-- --write]`

use ocdoctor_core::KnowledgeBase;
use ocdoctor_core::eval::{
    Case, Metrics, evaluate_scanned, grouped_folds, load_cases, project_of, table,
};
use ocdoctor_core::kb::Calibration;
use ocdoctor_core::scan::ScanResult;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

const CORPUS: &str = include_str!("../tests/data/corpus/cases.jsonl");
const FOLDS: usize = 5;

fn priors(kb: &KnowledgeBase, cases: &[&Case]) -> BTreeMap<String, f64> {
    let mut counts: BTreeMap<String, f64> = kb
        .causes
        .iter()
        .filter(|c| c.id != "unknown")
        .map(|c| (c.id.clone(), 1.0))
        .collect();
    for c in cases {
        *counts.entry(c.cause.clone()).or_default() += 1.0;
    }
    let total: f64 = counts.values().sum();
    counts.values_mut().for_each(|v| *v /= total);
    counts
}

fn objective(m: &Metrics) -> f64 {
    m.brier + 1.5 * m.ece + 3.0 * (1.0 - m.top3_rate())
}

/// The ratchet of `tests/corpus.rs`: a fit that would break it is not admissible. Each floor:
/// (the first N cases of the corpus, OS as the corpus records it, top-1, top-3).
const FLOORS: [(usize, bool, f64, f64); 4] = [
    (70, false, 0.82, 0.95),
    (70, true, 0.85, 0.95),
    (202, false, 0.63, 0.87),
    (306, false, 0.60, 0.83),
];

/// Whether `cal` keeps the floors on the floored cases that are in `train`. `order`: a case's
/// position in the corpus.
fn keeps_floors(
    kb: &KnowledgeBase,
    train: &[&Case],
    scans: &[ScanResult],
    order: &BTreeMap<String, usize>,
    cal: &Calibration,
) -> bool {
    FLOORS.iter().all(|&(first, os, top1, top3)| {
        let (floored, floored_scans): (Vec<&Case>, Vec<ScanResult>) = train
            .iter()
            .zip(scans)
            .filter(|(c, _)| order.get(&c.id).is_some_and(|&i| i < first))
            .map(|(c, s)| (*c, s.clone()))
            .unzip();
        if floored.is_empty() {
            return true;
        }
        let m = evaluate_scanned(kb, &floored, &floored_scans, cal, os);
        m.top1_rate() >= top1 - 1e-9 && m.top3_rate() >= top3 - 1e-9
    })
}

/// Fit on `train`; among the grid, only fits that keep the original cases' floors count (when
/// none does, e.g. in a fold holding few of them, the best fit overall).
fn fit(
    kb: &KnowledgeBase,
    train: &[&Case],
    scans: &[ScanResult],
    order: &BTreeMap<String, usize>,
) -> Calibration {
    // `--no-floors`: to see what the floors cost (never with `--write`).
    let use_floors = !std::env::args().any(|a| a == "--no-floors");
    let constrained = fit_where(kb, train, scans, &|cal| {
        !use_floors || keeps_floors(kb, train, scans, order, cal)
    });
    let ranking = constrained.unwrap_or_else(|| {
        fit_where(kb, train, scans, &|_| true).expect("an unconstrained fit always exists")
    });
    fit_temperature(kb, train, scans, ranking)
}

/// The temperature divides every log score: the order (and so top-1, top-3 and the floors)
/// stays; only how sure the numbers sound changes. Chosen for Brier + ECE alone.
fn fit_temperature(
    kb: &KnowledgeBase,
    train: &[&Case],
    scans: &[ScanResult],
    ranking: Calibration,
) -> Calibration {
    let score = |cal: &Calibration| {
        let m = evaluate_scanned(kb, train, scans, cal, false);
        m.brier + 1.5 * m.ece
    };
    let mut best = ranking.clone();
    let mut best_score = score(&best);
    for t in (5..=40).map(|t| t as f64 * 0.1) {
        let cal = Calibration {
            temperature: t,
            ..ranking.clone()
        };
        let s = score(&cal);
        if s < best_score {
            best_score = s;
            best = cal;
        }
    }
    best
}

fn fit_where(
    kb: &KnowledgeBase,
    train: &[&Case],
    scans: &[ScanResult],
    admissible: &dyn Fn(&Calibration) -> bool,
) -> Option<Calibration> {
    let pri = priors(kb, train);
    // The contract ranks `unknown` first when nothing is recognised (the posterior is then
    // the prior): its prior may not be below any cause's.
    let max_prior = pri.values().copied().fold(0.0, f64::max);
    let score = |cal: &Calibration| objective(&evaluate_scanned(kb, train, scans, cal, false));
    let mut best = Calibration {
        scale: 1.0,
        unknown_prior: 0.1_f64.max(max_prior),
        shrink: 0.0,
        catalog_weight: 0.5,
        unexplained_lr: 1.0,
        temperature: 1.0,
        priors: pri,
    };
    // The floors are checked only for a fit that would win (they cost a second evaluation).
    let mut best_score = if admissible(&best) {
        score(&best)
    } else {
        f64::INFINITY
    };
    let consider = |cal: Calibration, best: &mut Calibration, best_score: &mut f64| {
        let s = score(&cal);
        if s < *best_score && admissible(&cal) {
            *best_score = s;
            *best = cal;
        }
    };
    for _sweep in 0..2 {
        let base = best.clone();
        for s in 1..=40 {
            for u in [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]
                .into_iter()
                .filter(|u| *u >= max_prior)
            {
                for shrink in [0.0, 0.05, 0.1, 0.2] {
                    let cal = Calibration {
                        scale: s as f64 * 0.1,
                        unknown_prior: u,
                        shrink,
                        ..base.clone()
                    };
                    consider(cal, &mut best, &mut best_score);
                }
            }
        }
        let base = best.clone();
        for w in [0.0, 0.25, 0.5, 0.75, 1.0] {
            for lr in [1.0, 1.5, 2.0, 3.0, 5.0] {
                let cal = Calibration {
                    catalog_weight: w,
                    unexplained_lr: lr,
                    ..base.clone()
                };
                consider(cal, &mut best, &mut best_score);
            }
        }
    }
    best_score.is_finite().then_some(best)
}

fn main() {
    let kb = KnowledgeBase::embedded();
    let sc = ocdoctor_core::scanner();
    let cases = load_cases(CORPUS).expect("corpus parses");
    let scans: Vec<ScanResult> = cases
        .iter()
        .map(|c| sc.scan_bytes(c.log.as_bytes()))
        .collect();
    let all: Vec<&Case> = cases.iter().collect();
    let order: BTreeMap<String, usize> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    let cal = fit(kb, &all, &scans, &order);
    let m: Metrics = evaluate_scanned(kb, &all, &scans, &cal, false);
    println!(
        "fitted: scale {:.2}, unknown_prior {}, shrink {}, catalog_weight {}, unexplained_lr {}, temperature {:.1}",
        cal.scale,
        cal.unknown_prior,
        cal.shrink,
        cal.catalog_weight,
        cal.unexplained_lr,
        cal.temperature
    );
    println!("{}", table("in-sample (log only)", &m));
    println!(
        "{}",
        table(
            "in-sample (log + OS)",
            &evaluate_scanned(kb, &all, &scans, &cal, true)
        )
    );

    // 5-fold cross-validation of the whole fitting procedure, grouped by source project.
    let folds = grouped_folds(&cases, FOLDS);
    let projects: BTreeSet<String> = cases.iter().map(|c| project_of(&c.source.url)).collect();
    let (mut top1, mut top3, mut n) = (0usize, 0usize, 0usize);
    let (mut brier, mut ece) = (0.0, 0.0);
    // Reliability bins pooled over the folds: (cases, summed confidence, summed correct).
    let mut pooled_bins: Vec<(usize, f64, f64)> = Vec::new();
    let mut pooled_misses = Vec::new();
    for fold in 0..FOLDS {
        let pick = |test: bool| -> (Vec<&Case>, Vec<ScanResult>) {
            cases
                .iter()
                .zip(&scans)
                .zip(&folds)
                .filter(|(_, f)| (**f == fold) == test)
                .map(|((c, s), _)| (c, s.clone()))
                .unzip()
        };
        let (train, train_scans) = pick(false);
        let (test, test_scans) = pick(true);
        let c = fit(kb, &train, &train_scans, &order);
        let m = evaluate_scanned(kb, &test, &test_scans, &c, false);
        println!(
            "  fold {fold}: n={} top-1 {:.1}% top-3 {:.1}% ECE {:.3} (scale {:.1}, catalog_weight {}, unexplained_lr {})",
            m.n,
            100.0 * m.top1_rate(),
            100.0 * m.top3_rate(),
            m.ece,
            c.scale,
            c.catalog_weight,
            c.unexplained_lr
        );
        top1 += m.top1;
        top3 += m.top3;
        n += m.n;
        brier += m.brier * m.n as f64;
        ece += m.ece * m.n as f64;
        pooled_bins.resize(m.bins.len().max(pooled_bins.len()), (0, 0.0, 0.0));
        for (p, &(k, conf, acc)) in pooled_bins.iter_mut().zip(&m.bins) {
            p.0 += k;
            p.1 += conf * k as f64;
            p.2 += acc * k as f64;
        }
        pooled_misses.extend(m.misses);
    }
    println!(
        "5-fold CV grouped by source project ({} projects, {} cases, log only): top-1 {:.1}% · top-3 {:.1}% · Brier {:.3} · ECE pooled {:.3} (mean of folds {:.3})",
        projects.len(),
        n,
        100.0 * top1 as f64 / n as f64,
        100.0 * top3 as f64 / n as f64,
        brier / n as f64,
        pooled_bins
            .iter()
            .map(|(_, c, a)| (c - a).abs())
            .sum::<f64>()
            / n as f64,
        ece / n as f64
    );
    if std::env::args().any(|a| a == "--misses") {
        for (id, want, got) in &pooled_misses {
            let got: Vec<String> = got
                .iter()
                .map(|(c, p)| format!("{c} {:.0}%", p * 100.0))
                .collect();
            println!("    cv miss {id}: want {want}; got {}", got.join(", "));
        }
    }

    if std::env::args().any(|a| a == "--write") && !std::env::args().any(|a| a == "--no-floors") {
        let mut s = String::from(
            "# Fitted on the labelled corpus by `cargo run --release -p ocdoctor-core --example calibrate -- --write`.\n",
        );
        let _ = writeln!(
            s,
            "# Priors: add-one smoothed corpus frequencies; the rest minimise Brier + ECE + top-3 misses on the corpus,\n# among the fits that keep tests/corpus.rs' floors (cases 1-70, 1-202)."
        );
        let _ = writeln!(
            s,
            "scale = {:.2}\nunknown_prior = {}\nshrink = {}\ncatalog_weight = {}\nunexplained_lr = {}\ntemperature = {:.1}\n\n[priors]",
            cal.scale,
            cal.unknown_prior,
            cal.shrink,
            cal.catalog_weight,
            cal.unexplained_lr,
            cal.temperature
        );
        for (c, p) in &cal.priors {
            let _ = writeln!(s, "{c} = {p:.4}");
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/calibration.toml");
        std::fs::write(path, s).expect("write rules/calibration.toml");
        println!("wrote {path}");
    }
}
