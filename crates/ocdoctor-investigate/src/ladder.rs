//! The ladder as data: `data/ladder.toml`, embedded at build time and checked when loaded.

use crate::InvestigateError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What a step's run (or reading) showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It connected: exit 0 and the diagnosis says ok.
    Ok,
    /// It failed as the first run did (same stage, same first cause).
    Same,
    /// It failed some other way.
    Different,
    /// A repeated step (`repeat = N`): the runs did not all end alike (some connected, or
    /// the failures differ), as noise on the wires does and a wrong setting never does.
    Varies,
}

/// A step that reads the first run's log or runs openocd once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    Run,
    Voltage,
}

/// Where a step's `add` goes in the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// After every config file and configuration command (wins over the target cfg).
    #[default]
    AfterConfig,
    /// Right after the interface cfg, before the target cfg.
    AfterInterface,
    /// Before everything (options such as `-d3`).
    Front,
}

/// Likelihood of one outcome per cause; `*` for the causes not named.
pub type Likelihoods = BTreeMap<String, f64>;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub kind: StepKind,
    /// Said to the user before the step runs.
    pub explain: String,
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub at: Placement,
    /// Replaces the default probe (`-c init -c shutdown`).
    #[serde(default)]
    pub probe: Option<Vec<String>>,
    /// The probe for a given transport (the one the first run used), instead of `probe`:
    /// reading ids is `scan_chain` on JTAG, a bare DAP's DPIDR on SWD.
    #[serde(default)]
    pub probe_for: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub interface_only: bool,
    #[serde(default)]
    pub needs: Option<String>,
    pub timeout_secs: u64,
    /// Run the step this many times (default 1). Its outcome is then `varies` when the runs
    /// and the first run did not all end alike, `same` when they did.
    #[serde(default = "one")]
    pub repeat: u32,
    #[serde(default)]
    pub ok: Likelihoods,
    #[serde(default)]
    pub same: Likelihoods,
    #[serde(default)]
    pub different: Likelihoods,
    #[serde(default)]
    pub varies: Likelihoods,
}

fn one() -> u32 {
    1
}

impl Step {
    /// The probe this step ends with when the session's transport is `transport`.
    pub fn probe(&self, transport: Option<&str>) -> Vec<String> {
        transport
            .and_then(|t| self.probe_for.get(t))
            .or(self.probe.as_ref())
            .cloned()
            .unwrap_or_else(|| ["-c", "init", "-c", "shutdown"].map(String::from).to_vec())
    }

    /// The likelihood of `outcome` under `cause`.
    pub fn likelihood(&self, outcome: Outcome, cause: &str) -> f64 {
        let table = match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Same => &self.same,
            Outcome::Different => &self.different,
            Outcome::Varies => &self.varies,
        };
        table
            .get(cause)
            .or_else(|| table.get("*"))
            .copied()
            .unwrap_or(1.0)
    }

    /// Every cause this step names, for the prior's floor.
    pub fn causes(&self) -> impl Iterator<Item = &str> {
        [&self.ok, &self.same, &self.different, &self.varies]
            .into_iter()
            .flat_map(|t| t.keys().map(String::as_str))
            .filter(|c| *c != "*")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LadderFile {
    step: Vec<Step>,
}

/// The ladder, first step first.
#[derive(Clone, Debug)]
pub struct Ladder {
    pub steps: Vec<Step>,
}

const LADDER: &str = include_str!("../data/ladder.toml");

impl Ladder {
    /// The ladder shipped with ocdoctor.
    pub fn builtin() -> Ladder {
        Ladder::parse(LADDER).expect("the shipped ladder is valid (checked by a unit test)")
    }

    /// Read a ladder from TOML text and check it: likelihoods are probabilities, a `run` step
    /// has a time bound, ids are unique.
    pub fn parse(text: &str) -> Result<Ladder, InvestigateError> {
        let file: LadderFile =
            toml::from_str(text).map_err(|e| InvestigateError::Ladder(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for s in &file.step {
            if !seen.insert(s.id.clone()) {
                return Err(InvestigateError::Ladder(format!("step {} twice", s.id)));
            }
            if s.kind == StepKind::Run && s.timeout_secs == 0 {
                return Err(InvestigateError::Ladder(format!(
                    "step {} runs openocd without a time bound",
                    s.id
                )));
            }
            if s.repeat == 0 || (s.repeat > 1 && s.kind != StepKind::Run) {
                return Err(InvestigateError::Ladder(format!(
                    "step {}: repeat = {} (a run step may repeat, at least once)",
                    s.id, s.repeat
                )));
            }
            if s.repeat == 1 && !s.varies.is_empty() {
                return Err(InvestigateError::Ladder(format!(
                    "step {}: only a repeated step (repeat > 1) can vary",
                    s.id
                )));
            }
            for t in [&s.ok, &s.same, &s.different, &s.varies] {
                if let Some((c, p)) = t.iter().find(|(_, p)| !(**p > 0.0 && **p <= 1.0)) {
                    return Err(InvestigateError::Ladder(format!(
                        "step {}: likelihood {p} for {c} is not in (0, 1]",
                        s.id
                    )));
                }
            }
        }
        if file.step.first().is_none_or(|s| s.kind != StepKind::Run) {
            return Err(InvestigateError::Ladder(
                "the first step must run the configuration as given".into(),
            ));
        }
        Ok(Ladder { steps: file.step })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_ladder_names_only_taxonomy_causes() {
        let ladder = Ladder::builtin();
        let kb = ocdoctor_core::KnowledgeBase::embedded();
        assert!(ladder.steps.len() >= 7);
        for s in &ladder.steps {
            for c in s.causes() {
                assert!(kb.cause(c).is_some(), "step {}: cause {c}", s.id);
            }
        }
    }

    #[test]
    fn bad_ladders_are_refused() {
        let no_bound = "[[step]]\nid = \"a\"\nkind = \"run\"\nexplain = \"x\"\ntimeout_secs = 0\n";
        assert!(Ladder::parse(no_bound).is_err());
        let bad_p = "[[step]]\nid = \"a\"\nkind = \"run\"\nexplain = \"x\"\ntimeout_secs = 1\n[step.ok]\nx = 2.0\n";
        assert!(Ladder::parse(bad_p).is_err());
        assert!(Ladder::parse("not toml [").is_err());
        let varies_once = "[[step]]\nid = \"a\"\nkind = \"run\"\nexplain = \"x\"\ntimeout_secs = 1\n[step.varies]\nx = 0.5\n";
        assert!(Ladder::parse(varies_once).is_err());
        let repeat_zero =
            "[[step]]\nid = \"a\"\nkind = \"run\"\nexplain = \"x\"\ntimeout_secs = 1\nrepeat = 0\n";
        assert!(Ladder::parse(repeat_zero).is_err());
    }
}
