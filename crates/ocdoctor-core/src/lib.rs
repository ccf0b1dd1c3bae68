//! ocdoctor's engine: read an OpenOCD log, match the knowledge base, infer ranked causes,
//! render a report. Pure: no I/O beyond the reader it is given; never panics on input.
//!
//! ```
//! let report = ocdoctor_core::diagnose_bytes(b"Open On-Chip Debugger 0.12.0\nError: open failed\n", None);
//! assert_eq!(report.outcome, "failed");
//! ```

mod anchor_form;
mod automata;
pub mod catalog;
mod catalog_rows;
pub mod decode;
pub mod eval;
pub mod infer;
pub mod kb;
mod kb_tree;
mod literal_table;
mod literals;
pub mod logline;
mod prefixes;
pub mod releases;
pub mod render;
pub mod render_sarif;
pub mod report;
pub mod scan;
#[cfg(test)]
mod test_logs;
pub mod version;
pub mod wording;

use std::sync::LazyLock;

pub use infer::{Diagnosis, EnvProblem, Hints, SourceProblem, diagnose};
pub use kb::KnowledgeBase;
pub use report::Report;
pub use scan::{ScanResult, Scanner};

/// The scanner for the embedded knowledge base, compiled once.
pub fn scanner() -> &'static Scanner {
    static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
        Scanner::new(KnowledgeBase::embedded())
            .unwrap_or_else(|e| panic!("embedded knowledge base: {e}"))
    });
    &SCANNER
}

/// Scan and infer a log held in memory. `path` is only used to label evidence. This is the bare
/// scan: `ocdoctor_engine::diagnose_bytes` adds the chip-identity reading and is what
/// `ocdoctor diagnose --no-env` reports.
pub fn diagnose_bytes(log: &[u8], path: Option<&str>) -> Report {
    diagnose_with(log, path, &Hints::default())
}

pub fn diagnose_with(log: &[u8], path: Option<&str>, hints: &Hints) -> Report {
    let sc = scanner();
    let scan = sc.scan_bytes(log);
    report_from_scan(scan, path, hints)
}

/// The report of a static check (no log): config and IDE problems only.
pub fn report_from_problems(inputs: Vec<report::Input>, hints: &Hints) -> Report {
    let kb = KnowledgeBase::embedded();
    // An empty scan of the knowledge base's shape: compiling the scanner for a check
    // that reads no log would dominate its run time.
    let empty = ScanResult {
        rules: vec![scan::RuleHits::default(); kb.rules.len()],
        facts: vec![None; kb.facts.len()],
        ..ScanResult::default()
    };
    // No failed run to explain either: "unknown" stands for a failure whose cause left no
    // recognisable line, which a static check cannot have. It keeps the smallest prior, so a
    // problem the check did find is not outranked by it.
    let mut cal = kb.calibration.clone();
    cal.unknown_prior = cal.priors.values().copied().fold(f64::INFINITY, f64::min);
    let mut d = infer::diagnose_calibrated(kb, empty, hints, &cal);
    // No run to explain: a check that found nothing has no causes to rank (not even the
    // base rates a failed, unexplained run gets).
    if d.fired.is_empty() {
        d.causes.clear();
    }
    report::build(&d, inputs, None)
}

/// Build the report from a finished scan (the CLI scans files in a streaming way).
pub fn report_from_scan(scan: ScanResult, path: Option<&str>, hints: &Hints) -> Report {
    let kb = KnowledgeBase::embedded();
    let d = diagnose(kb, scan, hints);
    let inputs = vec![report::Input {
        kind: "log".into(),
        path: path.map(str::to_string),
        config: None,
        command: None,
    }];
    report::build(&d, inputs, path)
}
