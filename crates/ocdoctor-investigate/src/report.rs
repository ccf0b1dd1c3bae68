//! The investigation's report (`ocdoctor.investigation/v1`): the ladder, what each step
//! showed, the ranked causes with the step that raised each, and the fix that worked.

use crate::ladder::{Outcome, Step};
use ocdoctor_core::Report;
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// openocd ran.
    Ran,
    /// Read from the first run's log (no run).
    Read,
    /// The first run's log was given (`--from`).
    FromLog,
    /// Not applicable here (the reason is in `showed`).
    Skipped,
    /// The user said no.
    Declined,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub step: String,
    pub explain: String,
    /// The command it ran (shell-quoted).
    pub command: Option<String>,
    pub status: StepStatus,
    pub outcome: Option<Outcome>,
    /// One line: what the step showed.
    pub showed: String,
    pub stage: Option<String>,
    pub first_cause: Option<String>,
    pub exit: Option<i32>,
    pub timed_out: bool,
    pub secs: f64,
}

impl StepRecord {
    pub(crate) fn new(step: &Step, explain: String, command: Option<String>) -> StepRecord {
        StepRecord {
            step: step.id.clone(),
            explain,
            command,
            status: StepStatus::Skipped,
            outcome: None,
            showed: String::new(),
            stage: None,
            first_cause: None,
            exit: None,
            timed_out: false,
            secs: 0.0,
        }
    }

    /// Fill what the diagnosis of this step's log says.
    pub(crate) fn observe(&mut self, report: &Report, outcome: Outcome) {
        self.outcome = Some(outcome);
        self.stage = report.stage.clone();
        self.first_cause = report.causes.first().map(|c| c.cause.clone());
        let line = report
            .findings
            .first()
            .and_then(|f| f.evidence.first())
            .map(|e| e.text.trim().to_string());
        self.showed = match (outcome, line) {
            (Outcome::Ok, _) => "connected: the target answered".into(),
            (_, Some(l)) => format!(
                "failed{}: {l}",
                self.stage
                    .as_deref()
                    .map(|s| format!(" at {s}"))
                    .unwrap_or_default()
            ),
            (_, None) => format!(
                "failed{}",
                self.stage
                    .as_deref()
                    .map(|s| format!(" at {s}"))
                    .unwrap_or_default()
            ),
        };
        if self.timed_out {
            self.showed.push_str(" (stopped at its time bound)");
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RankedCause {
    pub cause: String,
    pub confidence: f64,
    /// The step whose outcome raised this cause most.
    pub proved_by: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FixThatWorked {
    pub step: String,
    pub command: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Investigation {
    pub schema: &'static str,
    pub command: Option<String>,
    /// `-c` commands of the given command line that act on the target, left out of every run.
    pub dropped: Vec<String>,
    /// `ok` when the first run connected, `failed` otherwise.
    pub outcome: String,
    pub ladder: Vec<StepRecord>,
    pub causes: Vec<RankedCause>,
    pub fix: Option<FixThatWorked>,
}

impl Investigation {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an investigation always serialises") + "\n"
    }

    /// 0 when the first run connected, 1 otherwise (as `diagnose`).
    pub fn exit_code(&self) -> u8 {
        u8::from(self.outcome != "ok")
    }
}

/// The report as text.
pub fn text(inv: &Investigation) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "ladder:");
    for (i, r) in inv.ladder.iter().enumerate() {
        let outcome = match r.outcome {
            Some(Outcome::Ok) => "ok",
            Some(Outcome::Same) => "same failure",
            Some(Outcome::Different) => "different failure",
            None => "-",
        };
        let status = match r.status {
            StepStatus::Ran => format!("{:.2}s", r.secs),
            StepStatus::Read => "read".into(),
            StepStatus::FromLog => "log".into(),
            StepStatus::Skipped => "skipped".into(),
            StepStatus::Declined => "declined".into(),
        };
        let _ = writeln!(
            s,
            "  {}. {:<20} {:<18} {:>8}  {}",
            i + 1,
            r.step,
            outcome,
            status,
            r.showed
        );
    }
    if inv.outcome == "ok" {
        let _ = writeln!(
            s,
            "\nthe target answered on the first run: nothing to investigate"
        );
        return s;
    }
    let _ = writeln!(s, "\ncauses:");
    for c in &inv.causes {
        let by = c
            .proved_by
            .as_deref()
            .map(|b| format!("  (raised by {b})"))
            .unwrap_or_default();
        let _ = writeln!(s, "  {:>5.1}%  {}{by}", c.confidence * 100.0, c.cause);
    }
    match &inv.fix {
        Some(f) => {
            let _ = writeln!(s, "\nwhat worked ({}):\n  {}", f.step, f.command);
        }
        None => {
            let _ = writeln!(s, "\nno step connected");
        }
    }
    if !inv.dropped.is_empty() {
        let _ = writeln!(
            s,
            "\nleft out of every run (they act on the target): {}",
            inv.dropped.join(" | ")
        );
    }
    s
}
