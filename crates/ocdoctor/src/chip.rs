//! Chip identity inside the CLI: `ocdoctor idcode VALUE`, and the enrichment of idcode
//! findings in `diagnose` (which chip was found, which cfg fits, clone or noise).

use ocdoctor_chip::{
    MismatchKind, ScriptsIndex, classify_mismatch, explain_id_with, extract_from_log,
};
use ocdoctor_core::report::{FixOut, Report};
use std::path::PathBuf;

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

pub fn idcode(input: &str, scripts: Option<PathBuf>) -> Result<String, String> {
    let index = scripts_dir(scripts).map(|d| ScriptsIndex::build(&d));
    explain_id_with(input, index.as_ref()).map(|r| r.render_text() + "\n")
}

/// Add what the ids mean to idcode-mismatch findings: the right cfg, the clone fix, or the
/// warning that the bits are garbled. `log` is the whole log text.
pub fn enrich(report: &mut Report, log: &str) {
    let Some(f) = report
        .findings
        .iter_mut()
        .find(|f| f.cause == "idcode-mismatch")
    else {
        return;
    };
    let index = scripts_dir(None).map(|d| ScriptsIndex::build(&d));
    let ids = extract_from_log(log, None, index.as_ref());
    if ids.found.is_empty() {
        return;
    }
    match classify_mismatch(&ids.found, &ids.expected, &ids.context) {
        MismatchKind::Clone { entry, fix_line } => {
            f.explanation.push_str(&format!(
                " The ids match a known look-alike of the {} ({}), which the stock {} does not expect.",
                entry.genuine_family,
                entry.parts.join(" / "),
                entry.target_cfg
            ));
            // The clone fix replaces the rule's generic "accept the id" advice with the same line.
            f.fixes.retain(|x| !x.config.contains(&fix_line));
            f.fixes.insert(
                0,
                FixOut {
                    title: format!(
                        "It is a {}: accept its id ({})",
                        entry.family, entry.fix_where
                    ),
                    commands: vec![],
                    edits: vec![],
                    config: vec![fix_line],
                },
            );
        }
        MismatchKind::WrongConfig { suggestions } => {
            if let Some(best) = suggestions.first() {
                f.explanation.push_str(&format!(
                    " The chip answering is not the one the config describes; {} fits it best.",
                    best.cfg
                ));
            }
            for s in suggestions.iter().take(3) {
                let why = if s.why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", s.why.join("; "))
                };
                f.fixes.push(FixOut {
                    title: format!("Use {}{why}", s.cfg),
                    commands: vec![],
                    edits: vec![],
                    config: vec![s.fix_line.clone()],
                });
            }
        }
        MismatchKind::Noise { why } => {
            f.explanation.push_str(&format!(
                " But the ids look garbled ({}): that is a signal-integrity problem (wiring, speed), not a wrong config.",
                why.join("; ")
            ));
            f.checks.push("lower the adapter speed (adapter speed 100) and shorten the wires; see whether the ids stay the same".into());
        }
    }
}
