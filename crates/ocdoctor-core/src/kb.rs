//! The knowledge base: rules, facts and the taxonomy, loaded from the TOML files under
//! `rules/` (embedded at build time, see `build.rs`).
//!
//! A rule is data: matchers on log lines, the taxonomy cause its evidence supports and how
//! strongly (a likelihood ratio), conditions, docs and fixes. Facts are named line patterns
//! that are not findings themselves (the banner, "clock speed", "Listening on port … for gdb")
//! and mark how far OpenOCD got; rules can require or exclude them.

use crate::logline::Level;
use crate::version::{Version, VersionReq};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

include!(concat!(env!("OUT_DIR"), "/kb_files.rs"));

/// One rule file's contents: TOML text, or the values build.rs embedded (`kb_tree`).
#[derive(Clone, Copy)]
enum Source<'a> {
    Toml(&'a str),
    Embedded(crate::kb_tree::At),
}

impl Source<'_> {
    fn parse<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        match self {
            Source::Toml(text) => toml::from_str(text).map_err(|e| e.to_string()),
            Source::Embedded(at) => at.parse(),
        }
    }
}

/// The stages of an OpenOCD run, in the order OpenOCD goes through them.
pub const STAGES: [&str; 9] = [
    "startup",
    "config",
    "adapter-init",
    "transport",
    "target-connect",
    "examine",
    "gdb-server",
    "flash",
    "session",
];

pub fn stage_index(stage: &str) -> Option<usize> {
    STAGES.iter().position(|s| *s == stage)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Evidence that shifts the ranking but is not worth showing as a finding on its own.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The operating system a log came from, guessed from paths and prompts in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Windows,
    Macos,
    Unknown,
}

/// Conditions shared by rules, matchers and fixes. Empty means "always".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// OpenOCD version range; an unknown version satisfies it only if `unknown_version` is true.
    #[serde(default, deserialize_with = "de_req")]
    pub versions: Option<VersionReq>,
    #[serde(default)]
    pub unknown_version: Option<bool>,
    /// Operating systems; include `"unknown"` to also hold when the OS cannot be told.
    #[serde(default)]
    pub os: Vec<Os>,
    /// Build flavors (`upstream`, `espressif`, …).
    #[serde(default)]
    pub flavor: Vec<String>,
    /// Facts that must all have been seen.
    #[serde(default)]
    pub facts: Vec<String>,
    /// Facts that must not have been seen.
    #[serde(default)]
    pub not_facts: Vec<String>,
    /// Rules (codes) that must not have fired: a more specific explanation wins.
    #[serde(default)]
    pub not_rules: Vec<String>,
    /// Environment problems (ids from `ocdoctor env`, e.g. `usb-no-access`) of which at least
    /// one must be present. Rules with this condition join the log with the machine.
    #[serde(default)]
    pub env: Vec<String>,
}

fn de_req<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<VersionReq>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| VersionReq::parse(&s).map_err(serde::de::Error::custom))
        .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Anchor {
    Start,
    Whole,
}

impl Anchor {
    /// The pattern as run on a message by the second pass.
    pub fn wrap(anchor: Option<Anchor>, re: &str) -> String {
        match anchor {
            None => re.to_string(),
            Some(Anchor::Start) => crate::anchor_form::at_start(re),
            Some(Anchor::Whole) => crate::anchor_form::whole(re),
        }
    }
}

/// One log matcher of a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogMatch {
    /// A Rust regex applied to the message (the text after `Error: ` and the `-d3` header).
    /// Named groups become placeholders for titles and fixes.
    #[serde(default)]
    pub regex: String,
    /// Instead of `regex`: a problem id from the config or IDE checks (`missing-file`,
    /// `deprecated-command`, `gdb-port-mismatch`…); each such problem is evidence.
    #[serde(default)]
    pub problem: Option<String>,
    /// With `problem`: only problems from this source (`config` or `ide`).
    #[serde(default)]
    pub source: Option<String>,
    /// The rule's lines must number at least this many for this matcher to count (e.g. many
    /// WAIT retries, where one is harmless).
    #[serde(default)]
    pub min_count: Option<u64>,
    /// Instead of `regex`: a fact id; the fact's first line is the evidence. Lets several
    /// rules (e.g. the ones that join the log with the machine) share one pattern.
    #[serde(default)]
    pub fact: Option<String>,
    /// `"start"`: the message must start with the match; `"whole"`: the whole message must
    /// match. (Anchors inside `regex` are refused: the scanner's first pass runs the pattern
    /// over the raw buffer, where `^`/`\A` would not mean "start of the message".)
    #[serde(default)]
    pub anchor: Option<Anchor>,
    /// Levels the line may have; default: every level but `debug`.
    #[serde(default)]
    pub level: Vec<String>,
    /// Likelihood ratio this line gives the rule's cause (overrides the rule's `strength`).
    #[serde(default)]
    pub strength: Option<f64>,
    /// Likelihood ratios for other causes when this matcher is the strongest that matched
    /// (overrides the rule's `also`).
    #[serde(default)]
    pub also: Option<BTreeMap<String, f64>>,
    /// `"<table>:<capture>"` (`"commands:cmd"`, `"cfg_files:file"`, `"flash_drivers:driver"`):
    /// the line counts only when the captured name exists in a release newer than the build
    /// that ran (or only in a fork), per `rules/versions/`; the release becomes the `{since}`
    /// placeholder.
    #[serde(default)]
    pub newer_than_build: Option<String>,
    #[serde(default, flatten)]
    pub when: When,
}

impl LogMatch {
    /// The table and capture of `newer_than_build`, if set and well formed.
    pub fn newer_than_build(&self) -> Option<(crate::releases::Table, &str)> {
        let (table, capture) = self.newer_than_build.as_deref()?.split_once(':')?;
        Some((crate::releases::Table::parse(table)?, capture))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    pub what: String,
    pub why: String,
    pub fix: String,
    pub example: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    pub title: String,
    #[serde(default)]
    pub commands: Vec<String>,
    /// Config lines to add or change (shown as text until the config model can make patches).
    #[serde(default)]
    pub config: Vec<String>,
    #[serde(default, flatten)]
    pub when: When,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub code: String,
    pub name: String,
    pub cause: String,
    pub severity: Severity,
    /// The stage the run was in when this evidence appears.
    #[serde(default)]
    pub stage: Option<String>,
    /// Rules in one group describe one event (several lines OpenOCD prints for one failure):
    /// per cause only the strongest of them counts.
    #[serde(default)]
    pub group: Option<String>,
    pub summary: String,
    /// The finding's title; `{name}` placeholders come from the matcher's named groups.
    pub title: String,
    /// Two or three sentences for the finding.
    pub explanation: String,
    /// Default likelihood ratio for the rule's cause.
    pub strength: f64,
    /// Likelihood ratios this same evidence gives other causes (the ambiguity of a line).
    #[serde(default)]
    pub also: BTreeMap<String, f64>,
    /// The check that would separate this cause from the ones in `also`.
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub when: When,
    #[serde(rename = "match", default)]
    pub matchers: Vec<LogMatch>,
    pub docs: Docs,
    #[serde(rename = "fix", default)]
    pub fixes: Vec<Fix>,
    /// Folder of the rule, relative to `rules/` (filled by the loader).
    #[serde(skip)]
    pub dir: String,
}

/// A named line pattern that is not a finding: a stage marker or a condition for rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactDef {
    pub id: String,
    pub regex: String,
    #[serde(default)]
    pub level: Vec<String>,
    /// Seeing this line means the run reached this stage.
    #[serde(default)]
    pub stage: Option<String>,
    /// Seeing this line means the run succeeded at what it was doing (e.g. the gdb server is
    /// listening, or the flash was verified).
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Cause {
    pub id: String,
    pub meaning: String,
    #[serde(default)]
    pub evidence: String,
    pub log_visible: bool,
}

/// Prior weight of each cause and the calibration temperature, fitted on the corpus.
#[derive(Debug, Clone, Deserialize)]
pub struct Calibration {
    /// Multiplies every log likelihood ratio (a temperature, fitted on the corpus).
    pub scale: f64,
    /// Prior probability of "none of the known causes" relative to the causes' priors.
    pub unknown_prior: f64,
    /// Shrinks the posterior toward the prior: `(1 - shrink) · posterior + shrink · prior`.
    /// Evidence rules are written by people and are sometimes wrong with high strength; the
    /// shrink keeps "96 %" from meaning 80 %.
    #[serde(default)]
    pub shrink: f64,
    /// Multiplies the log likelihood ratios of catalog evidence (an `Error` line no rule
    /// explains, weighed by the subsystem that prints it): weaker than a rule's.
    #[serde(default = "one")]
    pub catalog_weight: f64,
    /// Likelihood ratio for `unknown` when an `Error` line neither a rule nor the catalog
    /// knows is in the log: something happened that the evidence does not cover.
    #[serde(default = "one")]
    pub unexplained_lr: f64,
    /// Divides every cause's log score (prior and evidence together) before they become
    /// probabilities: it changes how sure the ranking sounds, never its order. `scale` and the
    /// others decide the order (fitted for top-1/top-3); `temperature` is fitted after them for
    /// honest confidences (expected calibration error, Brier).
    #[serde(default = "one")]
    pub temperature: f64,
    pub priors: BTreeMap<String, f64>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug)]
pub struct KnowledgeBase {
    pub rules: Vec<Rule>,
    pub facts: Vec<FactDef>,
    pub causes: Vec<Cause>,
    pub calibration: Calibration,
}

#[derive(Deserialize)]
struct FactsFile {
    fact: Vec<FactDef>,
}
#[derive(Deserialize)]
struct TaxonomyFile {
    cause: Vec<Cause>,
}

/// Parse a level list (`["error", "warn"]`); empty means every level except debug.
pub fn parse_levels(names: &[String]) -> Result<Vec<Level>, String> {
    if names.is_empty() {
        return Ok(vec![
            Level::Error,
            Level::Warn,
            Level::Info,
            Level::User,
            Level::Plain,
        ]);
    }
    names
        .iter()
        .map(|n| Level::from_name(n).ok_or_else(|| format!("unknown level {n:?}")))
        .collect()
}

impl KnowledgeBase {
    /// The knowledge base compiled into this binary.
    pub fn embedded() -> &'static KnowledgeBase {
        static KB: LazyLock<KnowledgeBase> = LazyLock::new(|| {
            // build.rs already parsed the TOML (a broken rule file fails the build) and embedded
            // its values as static tables, read without parsing text; pattern syntax is
            // checked by the scanner's compile and by the kb tests, not on every start.
            let files = crate::kb_tree::files().map(|(path, at)| (path, Source::Embedded(at)));
            KnowledgeBase::load(files, false)
                .unwrap_or_else(|e| panic!("embedded knowledge base: {e}"))
        });
        &KB
    }

    /// Load from `(path relative to rules/, contents)` pairs and validate everything that can
    /// be checked without a log: unique codes, known causes and facts, compiling regexes.
    pub fn from_files(files: &[(&str, &str)]) -> Result<KnowledgeBase, String> {
        let files = files.iter().map(|&(path, text)| (path, Source::Toml(text)));
        Self::load(files, true)
    }

    fn load<'a>(
        files: impl Iterator<Item = (&'a str, Source<'a>)>,
        check_patterns: bool,
    ) -> Result<KnowledgeBase, String> {
        let mut rules = Vec::new();
        let mut facts = Vec::new();
        let mut causes = Vec::new();
        let mut calibration = None;
        for (path, source) in files {
            let at = |e: String| format!("rules/{path}: {e}");
            match path {
                p if p == "facts.toml" || p.ends_with("/facts.toml") => {
                    facts.extend(source.parse::<FactsFile>().map_err(at)?.fact)
                }
                "taxonomy.toml" => causes = source.parse::<TaxonomyFile>().map_err(at)?.cause,
                "calibration.toml" => {
                    calibration = Some(source.parse::<Calibration>().map_err(at)?)
                }
                p if p.ends_with("/rule.toml") => {
                    let mut rule: Rule = source.parse().map_err(at)?;
                    rule.dir = p.trim_end_matches("/rule.toml").to_string();
                    rules.push(rule);
                }
                _ => {}
            }
        }
        let calibration = calibration.ok_or("rules/calibration.toml is missing")?;
        let kb = KnowledgeBase {
            rules,
            facts,
            causes,
            calibration,
        };
        kb.validate(check_patterns)?;
        Ok(kb)
    }

    /// Check every regex's syntax (the embedded knowledge base skips this at start-up).
    pub fn check_patterns(&self) -> Result<(), String> {
        self.validate(true)
    }

    fn validate(&self, check_patterns: bool) -> Result<(), String> {
        let cause_ids: HashSet<&str> = self.causes.iter().map(|c| c.id.as_str()).collect();
        let fact_ids: HashSet<&str> = self
            .facts
            .iter()
            .map(|f| f.id.as_str())
            .chain(DERIVED_FACTS.iter().copied())
            .collect();
        let codes: HashSet<&str> = self.rules.iter().map(|r| r.code.as_str()).collect();
        let mut seen = HashSet::new();
        let check_regex = |where_: &str, re: &str| -> Result<(), String> {
            if re.starts_with('^')
                || re.starts_with("\\A")
                || re.ends_with('$')
                || re.ends_with("\\z")
            {
                return Err(format!(
                    "{where_}: regex {re:?} must not carry anchors; use `anchor = \"start\"|\"whole\"`"
                ));
            }
            // Syntax only: compiling ~500 regexes here would double the start-up time; the
            // scanner compiles them, and the kb tests check each one (empty matches included).
            if !check_patterns {
                return Ok(());
            }
            regex_syntax::Parser::new()
                .parse(re)
                .map(|_| ())
                .map_err(|e| format!("{where_}: regex {re:?}: {e}"))
        };
        let check_when = |where_: &str, w: &When| -> Result<(), String> {
            for f in w.facts.iter().chain(&w.not_facts) {
                if !fact_ids.contains(f.as_str()) {
                    return Err(format!("{where_}: unknown fact {f:?}"));
                }
            }
            for r in &w.not_rules {
                if !codes.contains(r.as_str()) {
                    return Err(format!("{where_}: unknown rule {r:?} in not_rules"));
                }
            }
            Ok(())
        };
        let mut fact_seen = HashSet::new();
        for f in &self.facts {
            if !fact_seen.insert(f.id.as_str()) {
                return Err(format!("fact {}: defined twice", f.id));
            }
            check_regex(&format!("fact {}", f.id), &f.regex)?;
            parse_levels(&f.level).map_err(|e| format!("fact {}: {e}", f.id))?;
            if let Some(s) = &f.stage {
                stage_index(s).ok_or_else(|| format!("fact {}: unknown stage {s:?}", f.id))?;
            }
        }
        for r in &self.rules {
            let w = format!("rule {} ({})", r.code, r.dir);
            if !seen.insert(r.code.as_str()) {
                return Err(format!("{w}: duplicate code"));
            }
            if !cause_ids.contains(r.cause.as_str()) {
                return Err(format!("{w}: cause {:?} is not in the taxonomy", r.cause));
            }
            for c in r.also.keys() {
                if !cause_ids.contains(c.as_str()) {
                    return Err(format!("{w}: also-cause {c:?} is not in the taxonomy"));
                }
            }
            if let Some(s) = &r.stage {
                stage_index(s).ok_or_else(|| format!("{w}: unknown stage {s:?}"))?;
            }
            if r.matchers.is_empty() {
                return Err(format!("{w}: no [[match]]"));
            }
            if !is_ratio(r.strength) || r.also.values().any(|v| !is_ratio(*v)) {
                return Err(format!("{w}: likelihood ratios must be > 0"));
            }
            check_when(&w, &r.when)?;
            for m in &r.matchers {
                if m.problem.is_some() {
                    if !m.regex.is_empty() || m.fact.is_some() {
                        return Err(format!(
                            "{w}: a matcher has one of `regex`, `fact`, `problem`"
                        ));
                    }
                    continue;
                }
                match &m.fact {
                    Some(f) if m.regex.is_empty() => {
                        if !fact_ids.contains(f.as_str()) {
                            return Err(format!("{w}: matcher names unknown fact {f:?}"));
                        }
                    }
                    Some(_) => {
                        return Err(format!(
                            "{w}: a matcher has either `regex` or `fact`, not both"
                        ));
                    }
                    None => check_regex(&w, &m.regex)?,
                }
                for (c, v) in m.also.iter().flatten() {
                    if !cause_ids.contains(c.as_str()) || !is_ratio(*v) {
                        return Err(format!(
                            "{w}: matcher also-cause {c:?} unknown or ratio not > 0"
                        ));
                    }
                }
                parse_levels(&m.level).map_err(|e| format!("{w}: {e}"))?;
                check_when(&w, &m.when)?;
                if let Some(spec) = &m.newer_than_build {
                    let Some((_, capture)) = m.newer_than_build() else {
                        return Err(format!(
                            "{w}: newer_than_build {spec:?} is not \"commands:<group>\", \"cfg_files:<group>\" or \"flash_drivers:<group>\""
                        ));
                    };
                    if !m.regex.contains(&format!("(?P<{capture}>")) {
                        return Err(format!(
                            "{w}: newer_than_build names the group {capture:?}, which the regex lacks"
                        ));
                    }
                }
            }
            for f in &r.fixes {
                check_when(&w, &f.when)?;
            }
        }
        for c in self.calibration.priors.keys() {
            if !cause_ids.contains(c.as_str()) {
                return Err(format!("calibration.toml: unknown cause {c:?}"));
            }
        }
        Ok(())
    }

    pub fn rule(&self, code_or_name: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
    }

    pub fn cause(&self, id: &str) -> Option<&Cause> {
        self.causes.iter().find(|c| c.id == id)
    }
}

/// What the conditions of a [`When`] are evaluated against.
/// Facts no line pattern can express, set by inference from the whole scan:
/// `error-logged` = at least one line has the error level.
pub const DERIVED_FACTS: &[&str] = &["error-logged"];

pub struct Context<'a> {
    pub version: Option<Version>,
    pub flavor: Option<&'a str>,
    pub os: Os,
    pub facts: &'a HashSet<String>,
    pub fired_rules: &'a HashSet<String>,
    /// Ids of the environment problems present (empty when no snapshot was given).
    pub env: &'a HashSet<String>,
}

impl When {
    pub fn holds(&self, cx: &Context<'_>) -> bool {
        if let Some(req) = &self.versions {
            match cx.version {
                Some(v) if !req.matches(v) => return false,
                None if !self.unknown_version.unwrap_or(false) => return false,
                _ => {}
            }
        }
        if !self.os.is_empty() && !self.os.contains(&cx.os) {
            return false;
        }
        if !self.flavor.is_empty()
            && !cx
                .flavor
                .is_some_and(|f| self.flavor.iter().any(|x| x == f))
        {
            return false;
        }
        if !self.env.is_empty() && !self.env.iter().any(|p| cx.env.contains(p)) {
            return false;
        }
        self.facts.iter().all(|f| cx.facts.contains(f))
            && !self.not_facts.iter().any(|f| cx.facts.contains(f))
            && !self.not_rules.iter().any(|r| cx.fired_rules.contains(r))
    }

    /// No condition at all: the conditions hold for every log.
    pub fn is_always(&self) -> bool {
        self.versions.is_none()
            && self.os.is_empty()
            && self.flavor.is_empty()
            && self.env.is_empty()
            && self.facts.is_empty()
            && self.not_facts.is_empty()
            && self.not_rules.is_empty()
    }

    /// Whether the conditions look at which other rules fired (evaluated in a second pass).
    pub fn depends_on_rules(&self) -> bool {
        !self.not_rules.is_empty()
    }
}

/// A likelihood ratio must be a positive number (NaN is not).
fn is_ratio(x: f64) -> bool {
    x > 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The static tables build.rs embeds load the knowledge base the TOML files say, to the
    /// last field (`{:?}` prints every one, floats exactly).
    #[test]
    fn the_embedded_tables_load_what_the_toml_files_say() {
        let from_toml = KnowledgeBase::from_files(KB_FILES).unwrap();
        assert!(from_toml.rules.len() > 100, "{}", from_toml.rules.len());
        assert_eq!(
            format!("{:?}", KnowledgeBase::embedded()),
            format!("{from_toml:?}")
        );
    }
}
