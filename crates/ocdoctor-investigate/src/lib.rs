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
//!   the fix) or at its last step. A step with `repeat = N` runs N times and its outcome is
//!   `varies` when the runs and the first run did not all end alike (noise on the wires) or
//!   `same`. A step's probe may depend on the session's transport ([`session_transport`]):
//!   the `idcode` step scans the JTAG chain, or reads a bare debug port's DPIDR over SWD.
//!
//! The README says which faults the lab proves each step against, and why no simulated fault
//! can answer only at a lower adapter speed with Debian's OpenOCD 0.12 (no adapter a test can
//! provide there carries the speed to the device; driver by driver).

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
    /// How the first run ended, for the repeated steps to compare with.
    first_result: Option<RunResult>,
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

    /// A repeated step's outcome: `varies` unless its runs all ended as the first run did.
    /// Says in `record.showed` how many ways they ended and one message that came and went.
    fn compare_repeats(&self, runs: &[(Report, RunResult)], record: &mut StepRecord) -> Outcome {
        let mut distinct: Vec<&RunResult> = Vec::new();
        for r in self.first_result.iter().chain(runs.iter().map(|(_, r)| r)) {
            if !distinct.contains(&r) {
                distinct.push(r);
            }
        }
        let total = runs.len() + usize::from(self.first_result.is_some());
        let connected = runs.iter().filter(|(_, r)| r.connected).count();
        if distinct.len() <= 1 {
            record.showed = format!("{total} runs, all ended alike: the failure is steady");
            return Outcome::Same;
        }
        // A message some runs printed and others did not: the noise made visible.
        let changing = distinct
            .iter()
            .flat_map(|r| r.messages.iter())
            .find(|m| distinct.iter().any(|r| !r.messages.contains(*m)));
        record.showed = format!(
            "{total} runs ended {} different ways ({connected} of this step's {} connected){}",
            distinct.len(),
            runs.len(),
            changing
                .map(|m| format!(", e.g. only some printed `{m}`"))
                .unwrap_or_default()
        );
        Outcome::Varies
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
        state.first_result = Some(RunResult::of(&report, outcome == Outcome::Ok, log));
        state.log = String::from_utf8_lossy(log).into_owned();
        state.prior(&report, ladder_causes.into_iter());
        return Ok(record);
    }
    let base = base.ok_or(InvestigateError::NoInput)?;
    let (record, runs) = run_step(base, step, &[], state, true, ask)?;
    if let Some((report, _)) = runs.last() {
        state.signature = Some(signature(report));
        state.prior(report, ladder_causes.into_iter());
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
                record.showed = match base.and_then(BaseCommand::selected_transport) {
                    Some(t) => format!(
                        "not tried: the command line selects the transport ({t}); try the other by hand if the adapter has two"
                    ),
                    None => {
                        "the adapter has one transport (or its interface cfg is not a separate -f)"
                            .into()
                    }
                };
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
    let (mut record, runs) = run_step(base, step, &vars, state, false, ask)?;
    let Some((report, _)) = runs.last() else {
        return Ok(record);
    };
    if step.repeat > 1 {
        let outcome = state.compare_repeats(&runs, &mut record);
        let showed = std::mem::take(&mut record.showed);
        record.observe(report, outcome);
        record.showed = showed;
    } else {
        let outcome = state.classify(report, record.exit);
        record.observe(report, outcome);
    }
    Ok(record)
}

/// Run one step (after asking once), `step.repeat` times; the record and, per run, the
/// diagnosis of its log and how it ended.
fn run_step(
    base: &BaseCommand,
    step: &Step,
    vars: &[(String, String)],
    state: &mut State,
    first: bool,
    ask: &mut impl FnMut(&Planned) -> bool,
) -> Result<(StepRecord, Vec<(Report, RunResult)>), InvestigateError> {
    let mut argv = vec![base.program.clone()];
    let transport = session_transport(base, &state.log);
    argv.extend(base.for_step(step, vars, transport.as_deref()));
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
        return Ok((record, Vec::new()));
    }
    record.status = StepStatus::Ran;
    let mut runs = Vec::new();
    let mut secs = 0.0;
    for _ in 0..step.repeat {
        let out = runner::run_bounded(
            &base.program,
            &argv[1..],
            Duration::from_secs(step.timeout_secs),
        )
        .map_err(|source| InvestigateError::Spawn {
            program: base.program.clone(),
            source,
        })?;
        record.runs += 1;
        record.exit = out.exit;
        record.timed_out |= out.timed_out;
        secs += out.elapsed.as_secs_f64();
        let report = ocdoctor_engine::diagnose_bytes(&out.log, Some(&step.id));
        let connected = out.exit == Some(0) && report.outcome != "failed";
        let result = RunResult::of(&report, connected, &out.log);
        if first {
            state.log = String::from_utf8_lossy(&out.log).into_owned();
            state.first_result = Some(result.clone());
            let outcome = if connected {
                Outcome::Ok
            } else {
                Outcome::Same
            };
            record.observe(&report, outcome);
        }
        runs.push((report, result));
    }
    record.secs = (secs * 100.0).round() / 100.0;
    Ok((record, runs))
}

/// How one run ended, as far as telling noise from a steady fault goes: connected or not, the
/// diagnosis (stage, first cause), and the set of distinct error and warning messages (the
/// ids read, the ACKs seen, the addresses that failed). A wrong setting or a dead wire ends
/// the same way on every run; noise on the wires does not.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RunResult {
    connected: bool,
    signature: (Option<String>, Option<String>),
    messages: std::collections::BTreeSet<String>,
}

impl RunResult {
    fn of(report: &Report, connected: bool, log: &[u8]) -> RunResult {
        use ocdoctor_core::logline::{Level, LogLine};
        let messages = log
            .split(|b| *b == b'\n')
            .map(LogLine::parse)
            .filter(|l| matches!(l.level, Level::Error | Level::Warn))
            .map(|l| l.message().trim().to_string())
            .collect();
        RunResult {
            connected,
            signature: signature(report),
            messages,
        }
    }
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

/// The transport of the session: the command line's `transport select`, or what the first
/// run's log shows (OpenOCD's auto-selection, an SWD DPIDR or a JTAG tap line).
pub fn session_transport(base: &BaseCommand, log: &str) -> Option<String> {
    if let Some(t) = base.selected_transport() {
        return Some(t);
    }
    let quoted = |l: &str, marker: &str, quote: char| {
        let rest = &l[l.find(marker)? + marker.len()..];
        Some(rest[..rest.find(quote)?].to_string())
    };
    log.lines().find_map(|l| {
        quoted(
            l,
            "auto-selecting first available session transport \"",
            '"',
        )
        .or_else(|| quoted(l, "only one transport option; autoselect '", '\''))
        .or_else(|| l.contains("SWD DPIDR").then(|| "swd".to_string()))
        .or_else(|| {
            (l.contains("JTAG tap:") || l.contains("JTAG scan chain")).then(|| "jtag".into())
        })
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
        let plain = BaseCommand::parse(&["openocd".to_string()]);
        for (log, want) in [
            (
                "Info : only one transport option; autoselect 'jtag'",
                "jtag",
            ),
            (st, "hla_swd"),
            ("Info : SWD DPIDR 0x2ba01477", "swd"),
            (
                "Error: JTAG scan chain interrogation failed: all ones",
                "jtag",
            ),
        ] {
            assert_eq!(
                session_transport(&plain, log).as_deref(),
                Some(want),
                "{log}"
            );
        }
        assert_eq!(session_transport(&plain, "Info : nothing"), None);
    }

    /// The speed steps' likelihoods on their own (the vdebug lab case in tests/lab.rs runs
    /// them for real): a dead-wire-looking failure that is steady, persists at 1000 kHz and
    /// goes away at 100 kHz ends as signal integrity.
    #[test]
    fn a_failure_that_goes_away_at_100_khz_is_signal_integrity() {
        let ladder = Ladder::builtin();
        let step = |id: &str| ladder.steps.iter().find(|s| s.id == id).unwrap();
        let mut state = State::default();
        // "all ones" as the log alone ranks it; the ladder's causes floored at 2 %.
        for (c, p) in [
            ("no-target-connection", 0.86),
            ("target-unpowered", 0.06),
            ("signal-integrity", 0.02),
            ("target-firmware-blocks-debug", 0.02),
            ("transport-mismatch", 0.02),
            ("idcode-mismatch", 0.02),
        ] {
            state.posterior.insert(c.into(), p);
        }
        state.update(step("repeat"), Outcome::Same);
        state.update(step("speed-1000"), Outcome::Same);
        assert_eq!(state.ranked()[0].cause, "no-target-connection");
        state.update(step("speed-100"), Outcome::Ok);
        let ranked = state.ranked();
        assert_eq!(ranked[0].cause, "signal-integrity", "{ranked:?}");
        assert_eq!(ranked[0].proved_by.as_deref(), Some("speed-100"));
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
