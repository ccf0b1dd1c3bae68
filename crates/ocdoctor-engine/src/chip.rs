//! Chip identity: `ocdoctor idcode VALUE`, and the enrichment of idcode findings in a log's
//! report (which chip was found, which cfg fits, clone or noise).

use ocdoctor_chip::decode::is_arm_debug_port;
use ocdoctor_chip::{
    LogIds, MismatchKind, ScriptsIndex, classify_mismatch, explain_id_with, extract_from_log,
};
use ocdoctor_core::report::{FixOut, Report};
use ocdoctor_core::{Hints, ScanResult, SourceProblem};
use std::path::PathBuf;

ocdoctor_cfg::problem_ids! {
    /// The problems the engine itself finds in a log (source `log`), besides the scan's rule
    /// hits: the chip-identity reading's garbled ids (rule TGT054).
    pub enum LogProblemId {
        IdcodeGarbled = "idcode-garbled",
    }
}

/// The installed scripts tree to index: `OPENOCD_SCRIPTS`, then the usual install places.
pub fn scripts_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| std::env::var_os("OPENOCD_SCRIPTS").map(PathBuf::from))
        .into_iter()
        .chain(
            [
                "/usr/share/openocd/scripts",
                "/usr/local/share/openocd/scripts",
                "/opt/homebrew/share/openocd/scripts",
            ]
            .map(PathBuf::from),
        )
        .find(|d| d.is_dir())
}

/// `ocdoctor idcode`: what an id (or a pasted OpenOCD line) means, as text.
pub fn idcode(input: &str, scripts: Option<PathBuf>) -> Result<String, crate::EngineError> {
    let index = scripts_dir(scripts).map(|d| ScriptsIndex::build(&d));
    explain_id_with(input, index.as_ref())
        .map(|r| r.render_text() + "\n")
        .map_err(crate::EngineError::BadId)
}

/// The installed scripts' index, built once per process: `serve` diagnoses many logs, and
/// indexing the scripts tree costs far more than diagnosing one.
fn installed_index() -> Option<&'static ScriptsIndex> {
    static INDEX: std::sync::OnceLock<Option<ScriptsIndex>> = std::sync::OnceLock::new();
    INDEX
        .get_or_init(|| scripts_dir(None).map(|d| ScriptsIndex::build(&d)))
        .as_ref()
}

/// What names the chip when the id read names only ARM's debug port.
const WHAT_NAMES_THE_CHIP: &str = "What names the chip: the id your target cfg expects (the `expected 1 of 1: 0x…` line OpenOCD prints after UNEXPECTED, or the `-expected-id` / `set CPUTAPID` value in the target cfg you load), the marking on the package, or the part's own id register once it connects (the flash driver's `device id = 0x…` line; the ROM table's part number in `dap info`).";

/// The check that reads the chip's own id.
const CHIP_ID_CHECK: &str = "find the id the target cfg expects (`-expected-id` or `set CPUTAPID` in it) and compare it with the one found; then read the chip's own id: the flash driver's `device id` line, or `dap info` in the telnet console";

/// What the ids in a log mean, read once per diagnosis.
pub struct IdReading {
    kind: MismatchKind,
    /// Every id found and every id expected is ARM's own debug-port id (designer 0x23b).
    only_arm_debug_ports: bool,
    /// 1-based line of the first UNEXPECTED line, and its text.
    line: u64,
    text: String,
}

impl IdReading {
    /// `None` when the log reports no unexpected id (the common case costs one substring search;
    /// the installed scripts are only indexed when there is something to compare).
    pub fn of(log: &str) -> Option<IdReading> {
        if !log.contains("UNEXPECTED") {
            return None;
        }
        let ids = extract_from_log(log, None, installed_index());
        if ids.found.is_empty() {
            return None;
        }
        let (line, text) = log
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("UNEXPECTED"))
            .map(|(i, l)| (i as u64 + 1, l))?;
        Some(IdReading::from_ids(&ids, line, text))
    }

    /// The reading of the ids a log holds; `line` and `text` are its first UNEXPECTED line.
    fn from_ids(ids: &LogIds, line: u64, text: &str) -> IdReading {
        IdReading {
            kind: classify_mismatch(&ids.found, &ids.expected, &ids.context),
            only_arm_debug_ports: ids
                .found
                .iter()
                .chain(&ids.expected)
                .all(|&id| is_arm_debug_port(id)),
            line,
            text: text.trim_end().to_string(),
        }
    }

    /// The same reading from some of a log's lines, each with its 1-based number: the lines
    /// `crate::log` keeps of a log too big to keep whole.
    pub fn of_lines(lines: &[(u64, String)]) -> Option<IdReading> {
        let (line, first) = lines.iter().find(|(_, l)| l.contains("UNEXPECTED"))?;
        let joined = lines
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let ids = extract_from_log(&joined, None, installed_index());
        if ids.found.is_empty() {
            return None;
        }
        Some(IdReading::from_ids(&ids, *line, first))
    }

    /// Garbled ids are evidence of their own (rule TGT054, signal integrity): they go into
    /// inference instead of being a footnote to an "idcode mismatch".
    pub fn problems(&self, path: Option<&str>) -> Vec<SourceProblem> {
        let MismatchKind::Noise { why } = &self.kind else {
            return vec![];
        };
        vec![SourceProblem {
            source: "log".into(),
            id: LogProblemId::IdcodeGarbled.to_string(),
            message: why.join("; "),
            path: path.map(str::to_string),
            line: self.line,
            column: 0,
            span: None,
            text: self.text.clone(),
            facts: vec![("why".into(), why.join("; "))],
            edit: None,
        }]
    }

    /// Add what the ids mean to the idcode-mismatch finding: the clone fix, or the cfgs that
    /// fit the chip that answered.
    pub fn enrich(&self, report: &mut Report) {
        let Some(f) = report
            .findings
            .iter_mut()
            .find(|f| f.cause == "idcode-mismatch")
        else {
            return;
        };
        match &self.kind {
            MismatchKind::Clone { entry, fix_line } => {
                f.explanation.push_str(&format!(
                    " The ids match a known look-alike of the {} ({}), which the stock {} does not expect.",
                    entry.genuine_family,
                    entry.parts.join(" / "),
                    entry.target_cfg
                ));
                // The clone fix replaces the rule's generic "accept the id" advice.
                f.fixes.retain(|x| !x.config.contains(fix_line));
                f.fixes.insert(
                    0,
                    FixOut {
                        title: format!(
                            "It is a {}: accept its id ({})",
                            entry.family, entry.fix_where
                        ),
                        commands: vec![],
                        edits: vec![],
                        config: vec![fix_line.clone()],
                    },
                );
            }
            MismatchKind::DebugPortOnly { found, port } => {
                f.explanation.push_str(&format!(
                    " 0x{found:08x} is ARM's own debug-port id ({port}; designer 0x23b, ARM Ltd), which chips of many vendors carry unchanged: it names the debug port, not the chip, and no target cfg can be picked from it. {WHAT_NAMES_THE_CHIP}"
                ));
                f.checks.insert(0, CHIP_ID_CHECK.to_string());
            }
            MismatchKind::WrongConfig { suggestions } => {
                let Some(best) = suggestions.first() else {
                    // Another debug port than the cfg expects (an M0's SW-DP where an M4's was
                    // expected): the cfg is for another core, but ARM's ids name no vendor.
                    if self.only_arm_debug_ports {
                        f.explanation.push_str(&format!(
                            " The id found and the one expected are both ARM's own debug-port ids (designer 0x23b), which chips of many vendors share: the chip has another core or debug port than the cfg was written for, but the id does not say which chip it is. {WHAT_NAMES_THE_CHIP}"
                        ));
                        f.checks.insert(0, CHIP_ID_CHECK.to_string());
                    }
                    return;
                };
                f.explanation.push_str(&format!(
                    " The chip answering is not the one the config describes; {} fits it best.",
                    best.cfg
                ));
                // A dev id (DBGMCU or an ST boundary-scan TAP) names the family: accepting the
                // foreign id would run another chip's target code, so that advice goes.
                if best.expected_id.is_none() {
                    f.fixes
                        .retain(|x| !x.config.iter().any(|c| c.contains("CPUTAPID")));
                }
                // Only the cfgs that fit about as well as the best: a list of every cfg that
                // happens to declare the id is noise.
                let fitting = suggestions
                    .iter()
                    .filter(|s| s.score >= best.score - 1.0)
                    .take(3);
                for (i, s) in fitting.enumerate() {
                    let why = if s.why.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", s.why.join("; "))
                    };
                    f.fixes.insert(
                        i,
                        FixOut {
                            title: format!("Use {}{why}", s.cfg),
                            commands: vec![],
                            edits: vec![],
                            config: vec![s.fix_line.clone()],
                        },
                    );
                }
            }
            // Rule TGT054 carries the explanation; TGT005 does not fire on garbled ids.
            MismatchKind::Noise { .. } => {}
        }
    }
}

/// The report of a log, with the chip-identity reading: garbled ids are evidence before
/// inference, clone and wrong-config readings shape the idcode finding after it. `log` is the
/// text when it was small enough to keep.
pub fn report_for_log(
    scan: ScanResult,
    path: Option<&str>,
    hints: Hints,
    log: Option<&str>,
) -> Report {
    report_with_reading(scan, path, hints, log.and_then(IdReading::of).as_ref())
}

/// [`report_for_log`] with the reading already made (a caller that builds two reports of one
/// log, with and without the machine, reads the ids and indexes the scripts once).
pub fn report_with_reading(
    scan: ScanResult,
    path: Option<&str>,
    mut hints: Hints,
    reading: Option<&IdReading>,
) -> Report {
    if let Some(r) = reading {
        hints.problems.extend(r.problems(path));
    }
    let mut report = ocdoctor_core::report_from_scan(scan, path, &hints);
    if let Some(r) = reading {
        r.enrich(&mut report);
    }
    report
}
