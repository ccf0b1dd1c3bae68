//! # ocdoctor-investigate: active diagnosis
//!
//! When the log alone cannot separate the causes ("the target is silent or flaky"), run the
//! experiments a user would try by hand, safely, and let their outcomes rank the causes.
//!
//! * [`ladder`]: the steps as data (`data/ladder.toml`): each one change to the openocd
//!   command line, a time bound, and per outcome (ok / same failure / different failure) a
//!   likelihood per taxonomy cause.
//! * [`command`]: the user's command line split into its configuration (kept) and its
//!   actions (dropped: every step brings its own probe, `-c init -c shutdown`, so the ladder
//!   never writes flash, option bytes or memory), and each step's command built from it.
//! * [`runner`]: one real openocd child per step, killed at its time bound.
//! * [`investigate`]: the first run's diagnosis is the prior; each outcome multiplies it by
//!   the step's likelihoods. The ladder ends at the first step that connects (that change is
//!   the fix) or at its last step.

pub mod command;
pub mod ladder;
mod report;
pub mod runner;

pub use command::BaseCommand;
pub use ladder::{Ladder, Outcome, Step, StepKind};
pub use report::{FixThatWorked, Investigation, RankedCause, StepRecord, StepStatus, text};

use ocdoctor_core::Report;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum InvestigateError {
    #[error("the investigation ladder is invalid: {0}")]
    Ladder(String),
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error(
        "nothing to investigate: give the openocd command line (`-- openocd -f …`) or a log (`--from LOG`)"
    )]
    NoInput,
}

/// What to investigate.
pub struct Request {
    pub ladder: Ladder,
    /// The openocd command line, program first.
    pub command: Option<Vec<String>>,
    /// A log of the failure, used instead of the first run.
    pub from_log: Option<Vec<u8>>,
}

/// A step about to run: shown to the user, who may decline it.
pub struct Planned<'a> {
    pub step: &'a Step,
    /// The explanation with its placeholders filled.
    pub explain: String,
    /// The full command (program first).
    pub argv: Vec<String>,
}

/// The smallest prior a cause the ladder knows keeps, so that an experiment can raise a
/// cause the log did not suspect (firmware that disables the pins looks like a dead wire).
const PRIOR_FLOOR: f64 = 0.02;

/// Run the ladder. `ask` is called before each run (false: skip it); `tell` after each step.
pub fn investigate(
    req: &Request,
    mut ask: impl FnMut(&Planned) -> bool,
    mut tell: impl FnMut(&StepRecord),
) -> Result<Investigation, InvestigateError> {
    if req.command.is_none() && req.from_log.is_none() {
        return Err(InvestigateError::NoInput);
    }
    let base = req.command.as_deref().map(BaseCommand::parse);
    let mut state = State::default();
    let mut records = Vec::new();
    let mut fix = None;
    for (i, step) in req.ladder.steps.iter().enumerate() {
        let record = if i == 0 {
            first_step(req, base.as_ref(), step, &mut state, &mut ask)?
        } else if state.done {
            continue;
        } else {
            later_step(base.as_ref(), step, &mut state, &mut ask)?
        };
        if let Some(outcome) = record.outcome {
            if i > 0 {
                state.update(step, outcome);
            }
            if outcome == Outcome::Ok {
                state.done = true;
                if i > 0 {
                    fix = Some(FixThatWorked {
                        step: step.id.clone(),
                        command: record.command.clone().unwrap_or_default(),
                    });
                }
            }
        }
        tell(&record);
        records.push(record);
    }
    let healthy = records.first().and_then(|r| r.outcome) == Some(Outcome::Ok);
    Ok(Investigation {
        schema: "ocdoctor.investigation/v1",
        command: req.command.as_ref().map(|c| shell_join(c)),
        dropped: base.map(|b| b.dropped).unwrap_or_default(),
        outcome: if healthy { "ok" } else { "failed" }.into(),
        ladder: records,
        causes: if healthy { Vec::new() } else { state.ranked() },
        fix,
    })
}

/// The posterior and what the first run showed.
#[derive(Default)]
struct State {
    posterior: BTreeMap<String, f64>,
    /// For each cause: the step that raised it most, and by how much.
    raised_by: BTreeMap<String, (String, f64)>,
    /// (stage, first cause) of the first failure.
    signature: Option<(Option<String>, Option<String>)>,
    log: String,
    done: bool,
}

impl State {
    fn prior(&mut self, report: &Report, ladder_causes: impl Iterator<Item = String>) {
        for c in &report.causes {
            self.posterior.insert(c.cause.clone(), c.confidence);
        }
        for c in ladder_causes {
            let p = self.posterior.entry(c).or_insert(0.0);
            *p = p.max(PRIOR_FLOOR);
        }
        self.normalise();
    }

    fn normalise(&mut self) {
        let total: f64 = self.posterior.values().sum();
        if total > 0.0 {
            self.posterior.values_mut().for_each(|p| *p /= total);
        }
    }

    fn update(&mut self, step: &Step, outcome: Outcome) {
        let before = self.posterior.clone();
        for (c, p) in self.posterior.iter_mut() {
            *p *= step.likelihood(outcome, c);
        }
        self.normalise();
        for (c, p) in &self.posterior {
            let gain = p - before.get(c).copied().unwrap_or(0.0);
            let best = self.raised_by.get(c).map_or(0.0, |(_, g)| *g);
            if gain > 0.005 && gain > best {
                self.raised_by.insert(c.clone(), (step.id.clone(), gain));
            }
        }
    }

    fn ranked(&self) -> Vec<RankedCause> {
        let mut v: Vec<RankedCause> = self
            .posterior
            .iter()
            .map(|(c, p)| RankedCause {
                cause: c.clone(),
                confidence: (p * 1000.0).floor() / 1000.0,
                proved_by: self.raised_by.get(c).map(|(s, _)| s.clone()),
            })
            .collect();
        v.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(a.cause.cmp(&b.cause))
        });
        v.truncate(5);
        v
    }

    fn classify(&self, report: &Report, exit: Option<i32>) -> Outcome {
        if exit == Some(0) && report.outcome != "failed" {
            return Outcome::Ok;
        }
        let sig = signature(report);
        if self.signature.as_ref() == Some(&sig) {
            Outcome::Same
        } else {
            Outcome::Different
        }
    }
}

fn signature(report: &Report) -> (Option<String>, Option<String>) {
    (
        report.stage.clone(),
        report.causes.first().map(|c| c.cause.clone()),
    )
}

fn first_step(
    req: &Request,
    base: Option<&BaseCommand>,
    step: &Step,
    state: &mut State,
    ask: &mut impl FnMut(&Planned) -> bool,
) -> Result<StepRecord, InvestigateError> {
    let ladder_causes: Vec<String> = req
        .ladder
        .steps
        .iter()
        .flat_map(|s| s.causes().map(String::from).collect::<Vec<_>>())
        .collect();
    if let Some(log) = &req.from_log {
        let report = ocdoctor_engine::diagnose_bytes(log, Some("--from log"));
        let mut record = StepRecord::new(step, step.explain.clone(), None);
        record.status = StepStatus::FromLog;
        let outcome = if report.outcome == "failed" {
            Outcome::Same
        } else {
            Outcome::Ok
        };
        record.observe(&report, outcome);
        state.signature = Some(signature(&report));
        state.log = String::from_utf8_lossy(log).into_owned();
        state.prior(&report, ladder_causes.into_iter());
        return Ok(record);
    }
    let base = base.ok_or(InvestigateError::NoInput)?;
    let (record, report) = run_step(base, step, &[], state, true, ask)?;
    if let Some(report) = report {
        state.signature = Some(signature(&report));
        state.prior(&report, ladder_causes.into_iter());
    } else {
        state.done = true;
    }
    Ok(record)
}

fn later_step(
    base: Option<&BaseCommand>,
    step: &Step,
    state: &mut State,
    ask: &mut impl FnMut(&Planned) -> bool,
) -> Result<StepRecord, InvestigateError> {
    if step.kind == StepKind::Voltage {
        let mut record = StepRecord::new(step, step.explain.clone(), None);
        match target_voltage(&state.log) {
            Some(v) => {
                record.status = StepStatus::Read;
                record.outcome = Some(if v >= 1.5 { Outcome::Ok } else { Outcome::Same });
                record.showed = format!("the probe reports {v:.2} V");
            }
            None => {
                record.status = StepStatus::Skipped;
                record.showed = "the probe does not report the target voltage".into();
            }
        }
        return Ok(record);
    }
    let mut vars = Vec::new();
    if step.needs.as_deref() == Some("other-transport") {
        match other_transport(&state.log) {
            Some(t) if base.is_some_and(BaseCommand::has_interface_cfg) => {
                vars.push(("other_transport".to_string(), t))
            }
            _ => {
                let mut record = StepRecord::new(step, step.explain.clone(), None);
                record.status = StepStatus::Skipped;
                record.showed =
                    "the adapter has one transport (or its interface cfg is not a separate -f)"
                        .into();
                return Ok(record);
            }
        }
    }
    let Some(base) = base else {
        let mut record = StepRecord::new(step, step.explain.clone(), None);
        record.status = StepStatus::Skipped;
        record.showed = "not run: no command line given (`-- openocd …`)".into();
        return Ok(record);
    };
    let (mut record, report) = run_step(base, step, &vars, state, false, ask)?;
    if let Some(report) = report {
        let outcome = state.classify(&report, record.exit);
        record.observe(&report, outcome);
    }
    Ok(record)
}

/// Run one step (after asking); the record and the diagnosis of its log.
fn run_step(
    base: &BaseCommand,
    step: &Step,
    vars: &[(String, String)],
    state: &mut State,
    first: bool,
    ask: &mut impl FnMut(&Planned) -> bool,
) -> Result<(StepRecord, Option<Report>), InvestigateError> {
    let mut argv = vec![base.program.clone()];
    argv.extend(base.for_step(step, vars));
    let explain = vars.iter().fold(step.explain.clone(), |acc, (k, v)| {
        acc.replace(&format!("{{{k}}}"), v)
    });
    let planned = Planned {
        step,
        explain: explain.clone(),
        argv: argv.clone(),
    };
    let mut record = StepRecord::new(step, explain, Some(shell_join(&argv)));
    if !ask(&planned) {
        record.status = StepStatus::Declined;
        record.showed = "not run (declined)".into();
        return Ok((record, None));
    }
    let out = runner::run_bounded(
        &base.program,
        &argv[1..],
        Duration::from_secs(step.timeout_secs),
    )
    .map_err(|source| InvestigateError::Spawn {
        program: base.program.clone(),
        source,
    })?;
    record.status = StepStatus::Ran;
    record.exit = out.exit;
    record.timed_out = out.timed_out;
    record.secs = (out.elapsed.as_secs_f64() * 100.0).round() / 100.0;
    let report = ocdoctor_engine::diagnose_bytes(&out.log, Some(&step.id));
    if first {
        state.log = String::from_utf8_lossy(&out.log).into_owned();
        let outcome = if out.exit == Some(0) && report.outcome != "failed" {
            Outcome::Ok
        } else {
            Outcome::Same
        };
        record.observe(&report, outcome);
    }
    Ok((record, Some(report)))
}

/// The target voltage a probe printed: ST-Link `Target voltage: 3.24`, J-Link `VTarget = 3.300 V`.
pub fn target_voltage(log: &str) -> Option<f64> {
    log.lines().find_map(|l| {
        let lower = l.to_ascii_lowercase();
        let at = lower
            .find("target voltage")
            .or_else(|| lower.find("vtarget"))?;
        let rest = &l[at..];
        let value = rest.split([':', '=']).nth(1)?.trim();
        let number: String = value
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        number.parse().ok()
    })
}

/// The transport the adapter did not choose, when the log shows it chose one of two.
pub fn other_transport(log: &str) -> Option<String> {
    let marker = "auto-selecting first available session transport \"";
    let chosen = log.lines().find_map(|l| {
        let rest = &l[l.find(marker)? + marker.len()..];
        Some(rest[..rest.find('"')?].to_string())
    })?;
    if chosen.contains("swd") {
        Some(chosen.replace("swd", "jtag"))
    } else if chosen.contains("jtag") {
        Some(chosen.replace("jtag", "swd"))
    } else {
        None
    }
}

fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voltage_and_transport_are_read_from_real_wording() {
        assert_eq!(
            target_voltage("Info : Target voltage: 3.248710"),
            Some(3.24871)
        );
        assert_eq!(target_voltage("Info : VTarget = 0.000 V"), Some(0.0));
        assert_eq!(
            target_voltage("Info : only one transport option; autoselect 'jtag'"),
            None
        );
        let st = "Info : auto-selecting first available session transport \"hla_swd\". To override use 'transport select <transport>'.";
        assert_eq!(other_transport(st).as_deref(), Some("hla_jtag"));
        assert_eq!(
            other_transport("Info : only one transport option; autoselect 'jtag'"),
            None
        );
    }

    #[test]
    fn from_log_alone_reads_the_voltage_and_runs_nothing() {
        let log = b"Open On-Chip Debugger 0.12.0\nInfo : STLINK V2J37S7 (API v2) VID:PID 0483:3748\nInfo : Target voltage: 0.012345\nError: init mode failed (unable to connect to the target)\n";
        let req = Request {
            ladder: Ladder::builtin(),
            command: None,
            from_log: Some(log.to_vec()),
        };
        let mut asked = 0;
        let inv = investigate(
            &req,
            |_| {
                asked += 1;
                true
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(asked, 0, "nothing may run without a command line");
        assert_eq!(inv.ladder[0].status, StepStatus::FromLog);
        let v = inv
            .ladder
            .iter()
            .find(|r| r.step == "target-voltage")
            .unwrap();
        assert_eq!(v.outcome, Some(Outcome::Same));
        assert_eq!(inv.causes[0].cause, "target-unpowered", "{inv:?}");
        assert_eq!(inv.causes[0].proved_by.as_deref(), Some("target-voltage"));
        assert!(
            inv.ladder
                .iter()
                .skip(2)
                .all(|r| r.status == StepStatus::Skipped)
        );
    }
}
