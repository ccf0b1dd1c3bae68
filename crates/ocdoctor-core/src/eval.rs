//! Accuracy and calibration on a labelled corpus: top-1, top-3, Brier score and expected
//! calibration error, overall and per cause. Used by the corpus test (a ratchet) and by the
//! `calibrate` example that fits `rules/calibration.toml`.

use crate::infer::{Hints, diagnose_calibrated};
use crate::kb::{Calibration, KnowledgeBase, Os};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Source {
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub id: String,
    #[serde(default)]
    pub source: Source,
    pub log: String,
    pub cause: String,
    #[serde(default)]
    pub secondary: Vec<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub label_confidence: Option<String>,
}

/// One JSON object per line; blank lines are skipped. A bad line is an error naming it.
pub fn load_cases(jsonl: &str) -> Result<Vec<Case>, String> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// The project a case's thread belongs to, for cross-validation grouped by source: cases from
/// one project share wording, versions and users, so a fold must not see its own project in
/// training. `github.com/owner/repo`, `sourceforge.net/p/<project>`, else the host name.
pub fn project_of(url: &str) -> String {
    let rest = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.");
    let parts: Vec<&str> = rest.split(['/', '?', '#']).collect();
    match parts.as_slice() {
        ["github.com", owner, repo, ..] | ["gitlab.com", owner, repo, ..] => {
            format!(
                "{}/{}/{}",
                parts[0],
                owner.to_ascii_lowercase(),
                repo.to_ascii_lowercase()
            )
        }
        ["sourceforge.net", "p", project, ..] => format!("sourceforge.net/p/{project}"),
        [host, ..] => host.to_ascii_lowercase(),
        [] => String::new(),
    }
}

/// Split cases into `k` folds with no project in two folds: projects largest first, each into
/// the fold with the fewest cases so far (deterministic). Returns the fold of each case.
pub fn grouped_folds(cases: &[Case], k: usize) -> Vec<usize> {
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for c in cases {
        *sizes.entry(project_of(&c.source.url)).or_default() += 1;
    }
    let mut projects: Vec<(String, usize)> = sizes.into_iter().collect();
    projects.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut load = vec![0usize; k.max(1)];
    let mut fold_of: BTreeMap<String, usize> = BTreeMap::new();
    for (p, n) in projects {
        let f = (0..load.len()).min_by_key(|i| (load[*i], *i)).unwrap_or(0);
        load[f] += n;
        fold_of.insert(p, f);
    }
    cases
        .iter()
        .map(|c| fold_of[&project_of(&c.source.url)])
        .collect()
}

/// The corpus' free-text `os` field ("Windows 10", "Ubuntu 22.04", "macOS") as an [`Os`].
pub fn os_of(text: Option<&str>) -> Option<Os> {
    let t = text?.to_ascii_lowercase();
    if t.contains("windows") || t.contains("wsl") {
        Some(Os::Windows)
    } else if t.contains("mac") {
        Some(Os::Macos)
    } else if [
        "linux",
        "ubuntu",
        "debian",
        "raspberry",
        "fedora",
        "arch",
        "mint",
        "manjaro",
    ]
    .iter()
    .any(|k| t.contains(k))
    {
        Some(Os::Linux)
    } else {
        None
    }
}

#[derive(Debug, Clone, Default)]
pub struct PerCause {
    pub n: usize,
    pub top1: usize,
    pub top3: usize,
}

/// (case id, expected cause, the top ranked causes) of a wrong top-1.
pub type Miss = (String, String, Vec<(String, f64)>);

#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub n: usize,
    pub top1: usize,
    pub top3: usize,
    /// Mean multi-class Brier score (0 = perfect, 2 = worst).
    pub brier: f64,
    /// Expected calibration error of the top-1 confidence, 10 equal-width bins.
    pub ece: f64,
    /// Mean negative log-likelihood of the true cause (for fitting).
    pub nll: f64,
    pub per_cause: BTreeMap<String, PerCause>,
    /// Reliability bins of the top-1 confidence: (cases, mean confidence, accuracy).
    pub bins: Vec<(usize, f64, f64)>,
    /// (case id, expected cause, ranked causes) of every case whose top-1 is wrong.
    pub misses: Vec<Miss>,
}

impl Metrics {
    pub fn top1_rate(&self) -> f64 {
        self.top1 as f64 / self.n.max(1) as f64
    }
    pub fn top3_rate(&self) -> f64 {
        self.top3 as f64 / self.n.max(1) as f64
    }
}

/// Diagnose every case and score the ranking. `os_hint`: give inference the OS the corpus
/// records (what `ocdoctor diagnose` knows on the user's own machine) instead of guessing it
/// from the log.
pub fn evaluate(kb: &KnowledgeBase, cases: &[Case], cal: &Calibration, os_hint: bool) -> Metrics {
    assert!(
        std::ptr::eq(kb, KnowledgeBase::embedded()),
        "evaluate() runs on the embedded knowledge base"
    );
    evaluate_with(crate::scanner(), kb, cases, cal, os_hint)
}

pub fn evaluate_with(
    scanner: &crate::scan::Scanner,
    kb: &KnowledgeBase,
    cases: &[Case],
    cal: &Calibration,
    os_hint: bool,
) -> Metrics {
    let scans: Vec<crate::scan::ScanResult> = cases
        .iter()
        .map(|c| scanner.scan_bytes(c.log.as_bytes()))
        .collect();
    let cases: Vec<&Case> = cases.iter().collect();
    evaluate_scanned(kb, &cases, &scans, cal, os_hint)
}

/// [`evaluate_with`] on logs scanned once (`scans[i]` is the scan of `cases[i]`): fitting the
/// calibration evaluates the same corpus thousands of times.
pub fn evaluate_scanned(
    kb: &KnowledgeBase,
    cases: &[&Case],
    scans: &[crate::scan::ScanResult],
    cal: &Calibration,
    os_hint: bool,
) -> Metrics {
    let mut m = Metrics::default();
    let mut bins = vec![(0usize, 0.0f64, 0usize); 10]; // (count, sum conf, correct)
    for (case, scan) in cases.iter().zip(scans) {
        let hints = Hints {
            os: if os_hint {
                os_of(case.os.as_deref())
            } else {
                None
            },
            ..Hints::default()
        };
        let d = diagnose_calibrated(kb, scan.clone(), &hints, cal);
        let ranked: Vec<(String, f64)> = if d.causes.is_empty() {
            vec![("unknown".to_string(), 1.0)]
        } else {
            d.causes.clone()
        };
        let pos = ranked.iter().position(|(c, _)| *c == case.cause);
        let pc = m.per_cause.entry(case.cause.clone()).or_default();
        pc.n += 1;
        m.n += 1;
        if pos == Some(0) {
            m.top1 += 1;
            pc.top1 += 1;
        } else {
            m.misses.push((
                case.id.clone(),
                case.cause.clone(),
                ranked.iter().take(3).cloned().collect(),
            ));
        }
        if pos.is_some_and(|p| p < 3) {
            m.top3 += 1;
            pc.top3 += 1;
        }
        let p_true = ranked
            .iter()
            .find(|(c, _)| *c == case.cause)
            .map_or(0.0, |x| x.1);
        let sum_sq: f64 = ranked
            .iter()
            .filter(|(c, _)| *c != case.cause)
            .map(|(_, p)| p * p)
            .sum();
        m.brier += (1.0 - p_true).powi(2) + sum_sq;
        m.nll += -(p_true.max(1e-4)).ln();
        let conf = ranked[0].1;
        let b = ((conf * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += conf;
        bins[b].2 += usize::from(pos == Some(0));
    }
    let n = m.n.max(1) as f64;
    m.brier /= n;
    m.nll /= n;
    m.bins = bins
        .iter()
        .map(|b| {
            (
                b.0,
                if b.0 > 0 { b.1 / b.0 as f64 } else { 0.0 },
                if b.0 > 0 {
                    b.2 as f64 / b.0 as f64
                } else {
                    0.0
                },
            )
        })
        .collect();
    m.ece = bins
        .iter()
        .filter(|b| b.0 > 0)
        .map(|b| (b.0 as f64 / n) * (b.2 as f64 / b.0 as f64 - b.1 / b.0 as f64).abs())
        .sum();
    m
}

/// The table the corpus test prints.
pub fn table(title: &str, m: &Metrics) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{title}: n={} top-1 {:.1}% · top-3 {:.1}% · Brier {:.3} · ECE {:.3} · NLL {:.3}",
        m.n,
        100.0 * m.top1_rate(),
        100.0 * m.top3_rate(),
        m.brier,
        m.ece,
        m.nll
    );
    let _ = writeln!(
        s,
        "  {:<30} {:>3} {:>7} {:>7}",
        "cause", "n", "top-1", "top-3"
    );
    for (c, p) in &m.per_cause {
        let _ = writeln!(
            s,
            "  {:<30} {:>3} {:>6.0}% {:>6.0}%",
            c,
            p.n,
            100.0 * p.top1 as f64 / p.n as f64,
            100.0 * p.top3 as f64 / p.n as f64
        );
    }
    let _ = writeln!(
        s,
        "  reliability (top-1 confidence bin: cases, mean confidence → accuracy):"
    );
    for (i, (n, conf, acc)) in m.bins.iter().enumerate().filter(|(_, b)| b.0 > 0) {
        let _ = writeln!(
            s,
            "    {:.1}-{:.1}: {n:>3}  {conf:.2} → {acc:.2}",
            i as f64 / 10.0,
            (i + 1) as f64 / 10.0
        );
    }
    if !m.misses.is_empty() {
        let _ = writeln!(s, "  top-1 misses:");
        for (id, want, got) in &m.misses {
            let got: Vec<String> = got
                .iter()
                .map(|(c, p)| format!("{c} {:.0}%", p * 100.0))
                .collect();
            let _ = writeln!(s, "    {id}: want {want}; got {}", got.join(", "));
        }
    }
    s
}
