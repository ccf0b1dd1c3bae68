//! Evidence → a posterior over the taxonomy's causes.
//!
//! Each fired rule is evidence: a likelihood ratio for its cause (and, through `also`, for the
//! other causes the same line is consistent with). Rules in one `group` describe one event, so
//! per cause only the strongest of them counts: correlated lines are counted once. The score of
//! a cause is `ln prior + scale · Σ ln LR`, with an `unknown` hypothesis that gets no evidence;
//! a softmax gives the posterior. `scale` and the priors are fitted on the labelled corpus
//! (`rules/calibration.toml`, refitted by `cargo run -p ocdoctor-core --example calibrate`).

use crate::kb::{Calibration, Context, KnowledgeBase, Os, Rule, STAGES, Severity, stage_index};
use crate::scan::{LineHit, ScanResult};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Something outside the log that inference can use.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// The OS the log comes from, when the caller knows it (else guessed from the log).
    pub os: Option<Os>,
    /// Problems an environment snapshot showed (`ocdoctor env`); empty without a snapshot.
    pub env: Vec<EnvProblem>,
    /// Problems found in the OpenOCD configuration or the IDE launch files (`ocdoctor check`,
    /// `diagnose --cmd`). Rules match them with `[[match]] problem = "<id>"`.
    pub problems: Vec<SourceProblem>,
}

/// A problem a static check found in a file: the config reader (`source = "config"`) or the IDE
/// launch-file reader (`source = "ide"`). Core does not read files; the CLI converts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceProblem {
    pub source: String,
    /// Stable id, e.g. `missing-file`, `deprecated-command`, `gdb-port-mismatch`.
    pub id: String,
    pub message: String,
    pub path: Option<String>,
    /// 1-based line and column of the text that shows the problem (0 when not in a file).
    pub line: u64,
    pub column: u64,
    /// Byte range of that text in the file (`None` when unknown); underlined in the report.
    pub span: Option<(u64, u64)>,
    /// The source line, for the evidence.
    pub text: String,
    /// Placeholders for the rule's title and fixes (`suggestion`, `file`, `command`…).
    pub facts: Vec<(String, String)>,
    /// A unified diff that fixes it, when one is known.
    pub edit: Option<String>,
}

/// One problem of the machine, as the environment doctor reports it. Core does not read the
/// machine: the CLI converts `ocdoctor-env`'s problems into these.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvProblem {
    /// Stable id, e.g. `usb-no-access`, `port-held`.
    pub id: String,
    pub cause: String,
    pub message: String,
    /// Join keys (`vid`, `pid`, `serial`, `port`, `holder_pid`, `node`…), usable as
    /// `{placeholders}` in the titles and fixes of rules that join the log with the machine.
    pub facts: Vec<(String, String)>,
}

/// A rule that fired, with what it matched.
#[derive(Debug, Clone)]
pub struct Fired<'k> {
    pub rule: &'k Rule,
    /// Likelihood ratio its cause got from it.
    pub strength: f64,
    pub lines: Vec<LineHit>,
    pub count: u64,
    /// Named captures of the first matching line (and facts of joined env problems).
    pub captures: Vec<(String, String)>,
    /// What the environment snapshot showed, for rules that join it.
    pub env_lines: Vec<String>,
    /// The config / IDE problems the rule matched.
    pub problems: Vec<SourceProblem>,
    /// Likelihood ratios for other causes: the strongest matching matcher's `also`, else the rule's.
    pub also: BTreeMap<String, f64>,
}

fn depends_on_rules(r: &Rule) -> bool {
    r.when.depends_on_rules() || r.matchers.iter().any(|m| m.when.depends_on_rules())
}

/// Decide one rule: its conditions, its matchers' conditions, its strength.
fn try_fire<'k>(
    kb: &KnowledgeBase,
    scan: &ScanResult,
    rule: &'k Rule,
    hits: &crate::scan::RuleHits,
    cx: &Context<'_>,
    hints: &Hints,
) -> Option<Fired<'k>> {
    // Matchers that name a fact contribute the fact's first line.
    let fact_lines: Vec<crate::scan::MatchedLine> = rule
        .matchers
        .iter()
        .enumerate()
        .filter_map(|(mi, m)| {
            let id = m.fact.as_deref()?;
            let fi = kb.facts.iter().position(|f| f.id == id)?;
            let h = scan.facts[fi].as_ref()?;
            Some((mi, h.first.clone(), h.first_captures.clone()))
        })
        .collect();
    // Matchers that name a config/IDE problem contribute each such problem.
    let matched_problems: Vec<(usize, &SourceProblem)> = rule
        .matchers
        .iter()
        .enumerate()
        .filter_map(|(mi, m)| Some((mi, m.problem.as_deref()?)))
        .flat_map(|(mi, id)| {
            hints
                .problems
                .iter()
                .filter(move |p| p.id == id)
                .map(move |p| (mi, p))
        })
        .filter(|(mi, p)| {
            rule.matchers[*mi]
                .source
                .as_deref()
                .is_none_or(|s| s == p.source)
        })
        .collect();
    if (hits.count == 0 && fact_lines.is_empty() && matched_problems.is_empty())
        || !rule.when.holds(cx)
    {
        return None;
    }
    let mut strength: f64 = 0.0;
    let mut also = &rule.also;
    let mut lines: Vec<LineHit> = Vec::new();
    let mut captures: Vec<(String, String)> = Vec::new();
    for (mi, line, caps) in hits.lines.iter().chain(&fact_lines) {
        let m = &rule.matchers[*mi];
        if !m.when.holds(cx) || m.min_count.is_some_and(|n| hits.count < n) {
            continue;
        }
        let since = match m.newer_than_build() {
            Some((table, group)) => {
                let name = caps
                    .iter()
                    .find(|(k, _)| k == group)
                    .map(|(_, v)| v.as_str());
                // Without a banner the build is unknown: a name that came after 0.10 still
                // says "written for a newer release" (a typo is in no release).
                let since = name.and_then(|name| match cx.version {
                    Some(v) => crate::releases::newer_than_build(table, name, v),
                    None => crate::releases::newer_than_oldest(table, name),
                });
                let Some(since) = since else {
                    continue;
                };
                Some(("since".to_string(), since.to_string()))
            }
            None => None,
        };
        take_stronger(rule, m, &mut strength, &mut also);
        // Captures of every matching line, the first value of each name winning (a found id
        // on one line, the expected one on the next).
        add_missing(&mut captures, caps);
        add_missing(&mut captures, &Vec::from_iter(since));
        lines.push(line.clone());
    }
    let mut problems = Vec::new();
    for (mi, p) in matched_problems {
        let m = &rule.matchers[mi];
        if !m.when.holds(cx) {
            continue;
        }
        take_stronger(rule, m, &mut strength, &mut also);
        add_missing(&mut captures, &p.facts);
        problems.push(p.clone());
    }
    if lines.is_empty() && problems.is_empty() {
        return None;
    }
    // A joined rule also shows the machine's side and may use its facts.
    // When the log line names a join key (`port` 6666) and several machine problems qualify
    // (ports 4444 and 6666 both held), the ones that agree with the log are the evidence.
    let joined: Vec<&EnvProblem> = hints
        .env
        .iter()
        .filter(|p| rule.when.env.contains(&p.id))
        .collect();
    let agrees = |p: &EnvProblem| {
        p.facts.iter().all(|(k, v)| {
            captures
                .iter()
                .find(|(ck, _)| ck == k)
                .is_none_or(|(_, cv)| cv == v)
        })
    };
    let agreeing: Vec<&EnvProblem> = joined.iter().copied().filter(|p| agrees(p)).collect();
    let joined = if agreeing.is_empty() {
        joined
    } else {
        agreeing
    };
    let mut env_lines = Vec::new();
    for p in joined {
        env_lines.push(p.message.clone());
        add_missing(&mut captures, &p.facts);
    }
    // Facts' captures (e.g. a target's name) fill what the rule's own lines did not.
    for h in scan.facts.iter().flatten() {
        add_missing(&mut captures, &h.first_captures);
    }
    lines.sort_by_key(|l| l.line);
    lines.dedup_by_key(|l| l.line);
    let count = hits.count.max(lines.len() as u64);
    Some(Fired {
        rule,
        strength,
        lines,
        count,
        captures,
        env_lines,
        problems,
        also: also.clone(),
    })
}

/// The strongest matching matcher sets the rule's strength and, if it has its own, the `also`.
fn take_stronger<'k>(
    rule: &'k Rule,
    m: &'k crate::kb::LogMatch,
    strength: &mut f64,
    also: &mut &'k BTreeMap<String, f64>,
) {
    let s = m.strength.unwrap_or(rule.strength);
    if s > *strength {
        *strength = s;
        if let Some(a) = &m.also {
            *also = a;
        }
    }
}

/// Add the captures `into` lacks; an empty capture counts as missing (a later line may fill it).
fn add_missing(into: &mut Vec<(String, String)>, from: &[(String, String)]) {
    for (k, v) in from {
        match into.iter_mut().find(|(c, _)| c == k) {
            Some((_, old)) if old.is_empty() => *old = v.clone(),
            Some(_) => {}
            None => into.push((k.clone(), v.clone())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Failed,
    Ok,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Failed => "failed",
            Outcome::Ok => "ok",
            Outcome::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Diagnosis<'k> {
    /// Ranked posterior, highest first. Empty for a clean run.
    pub causes: Vec<(String, f64)>,
    /// Fired rules, strongest cause first.
    pub fired: Vec<Fired<'k>>,
    /// Unexplained error lines the message catalog knows, per subsystem.
    pub catalog: Vec<CatalogFinding>,
    /// The ranking rests on little: one generic line, or only catalog evidence.
    pub thin: bool,
    pub stage: Option<&'static str>,
    pub outcome: Outcome,
    pub os: Os,
    pub facts: HashSet<String>,
    pub env: HashSet<String>,
    pub scan: ScanResult,
}

impl Diagnosis<'_> {
    pub fn confidence(&self, cause: &str) -> f64 {
        self.causes
            .iter()
            .find(|(c, _)| c == cause)
            .map_or(0.0, |(_, p)| *p)
    }
}

fn guess_os(facts: &HashSet<String>) -> Os {
    // Windows paths and drive letters are the least ambiguous sign; /Users/ beats /home/.
    if facts.contains("os-windows") {
        Os::Windows
    } else if facts.contains("os-macos") {
        Os::Macos
    } else if facts.contains("os-linux") {
        Os::Linux
    } else {
        Os::Unknown
    }
}

pub fn diagnose<'k>(kb: &'k KnowledgeBase, scan: ScanResult, hints: &Hints) -> Diagnosis<'k> {
    diagnose_calibrated(kb, scan, hints, &kb.calibration)
}

/// [`diagnose`] with explicit calibration parameters (used when fitting them).
pub fn diagnose_calibrated<'k>(
    kb: &'k KnowledgeBase,
    scan: ScanResult,
    hints: &Hints,
    cal: &Calibration,
) -> Diagnosis<'k> {
    let mut facts: HashSet<String> = kb
        .facts
        .iter()
        .zip(&scan.facts)
        .filter(|(_, h)| h.is_some())
        .map(|(f, _)| f.id.clone())
        .collect();
    // kb::DERIVED_FACTS
    if scan.first_error.is_some() {
        facts.insert("error-logged".to_string());
    }
    let os = hints.os.unwrap_or_else(|| guess_os(&facts));
    let version = scan.banner.as_ref().map(|b| b.version);
    let flavor = scan.banner.as_ref().map(|b| flavor_name(b.flavor));
    let env: HashSet<String> = hints.env.iter().map(|p| p.id.clone()).collect();

    // Rules whose conditions name other rules (`not_rules`, on the rule or a matcher) are
    // decided after the others, and re-decided until the set of fired rules is stable.
    let base = Context {
        version,
        flavor,
        os,
        facts: &facts,
        fired_rules: &HashSet::new(),
        env: &env,
    };
    let independent: Vec<Fired<'k>> = kb
        .rules
        .iter()
        .zip(&scan.rules)
        .filter(|(r, _)| !depends_on_rules(r))
        .filter_map(|(r, h)| try_fire(kb, &scan, r, h, &base, hints))
        .collect();
    let mut fired = independent.clone();
    for _ in 0..3 {
        let codes: HashSet<String> = fired.iter().map(|f| f.rule.code.clone()).collect();
        let cx = Context {
            fired_rules: &codes,
            ..base
        };
        let mut next = independent.clone();
        next.extend(
            kb.rules
                .iter()
                .zip(&scan.rules)
                .filter(|(r, _)| depends_on_rules(r))
                .filter_map(|(r, h)| try_fire(kb, &scan, r, h, &cx, hints)),
        );
        let same = next.len() == fired.len()
            && next
                .iter()
                .zip(&fired)
                .all(|(a, b)| a.rule.code == b.rule.code);
        fired = next;
        if same {
            break;
        }
    }

    // Per cause, the strongest evidence of each group, summed over groups.
    let mut per_group: HashMap<(String, String), f64> = HashMap::new();
    let mut add = |cause: &str, group: &str, llr: f64| {
        let e = per_group
            .entry((cause.to_string(), group.to_string()))
            .or_insert(f64::NEG_INFINITY);
        *e = e.max(llr);
    };
    for f in &fired {
        let group = f.rule.group.as_deref().unwrap_or(&f.rule.code);
        add(&f.rule.cause, group, f.strength.ln());
        for (c, lr) in &f.also {
            add(c, group, lr.ln());
        }
    }
    // Error lines no rule explains but OpenOCD's catalog knows: the subsystem that prints them
    // is weak evidence, one group per subsystem.
    let catalog = catalog_findings(kb, &scan, &fired);
    for c in &catalog {
        for (cause, lr) in &c.subsystem.causes {
            add(cause, &c.id, cal.catalog_weight * lr.ln());
        }
    }
    let mut evidence: BTreeMap<String, f64> = BTreeMap::new();
    for ((cause, _), llr) in per_group {
        *evidence.entry(cause).or_default() += llr;
    }
    let unknown_llr = if scan.uncatalogued_error_count > 0 {
        cal.unexplained_lr.ln()
    } else {
        0.0
    };
    let thin = thin_evidence(&fired, &catalog);

    let has_error_finding = fired.iter().any(|f| f.rule.severity == Severity::Error);
    let failed_marker = facts.contains("init-failed") || facts.contains("exit-nonzero");
    let outcome = if has_error_finding
        || failed_marker
        || (scan.unexplained_error_count > 0 && !scan.success_after_errors)
    {
        Outcome::Failed
    } else if scan.success_seen {
        Outcome::Ok
    } else {
        Outcome::Unknown
    };

    // A run that worked has no cause to rank, unless a warning is strong enough to be a real
    // problem (dozens of WAIT retries), as opposed to style (a DEPRECATED command).
    let strong_warning = fired
        .iter()
        .any(|f| f.rule.severity == Severity::Warning && f.strength >= 5.0);
    // A failure no rule recognises still gets the posterior: with no evidence that is the prior,
    // `unknown` included. Claiming "unknown 100 %" would be overconfident: most such logs have a
    // known cause that left no recognisable line (a pasted excerpt, a quiet failure).
    let causes = if outcome == Outcome::Ok && (evidence.is_empty() || !strong_warning) {
        vec![]
    } else {
        posterior(kb, cal, &evidence, unknown_llr)
    };

    fired.sort_by(|a, b| {
        let pa = causes
            .iter()
            .find(|(c, _)| *c == a.rule.cause)
            .map_or(0.0, |x| x.1);
        let pb = causes
            .iter()
            .find(|(c, _)| *c == b.rule.cause)
            .map_or(0.0, |x| x.1);
        pb.total_cmp(&pa)
            .then(a.rule.severity.cmp(&b.rule.severity))
            .then(b.strength.total_cmp(&a.strength))
            .then(
                a.lines
                    .first()
                    .map(|l| l.line)
                    .cmp(&b.lines.first().map(|l| l.line)),
            )
    });

    let stage = if outcome == Outcome::Ok {
        None
    } else {
        let top_stage = fired
            .iter()
            .find(|f| f.rule.severity == Severity::Error)
            .and_then(|f| f.rule.stage.as_deref());
        // Else where the first catalogued error comes from, else how far the markers got.
        let catalog_stage = scan
            .catalogued
            .iter()
            .filter_map(|l| {
                let catalog = crate::catalog::Catalog::embedded();
                let stage = catalog
                    .subsystem(catalog.subsystem_id(l.found.format))?
                    .stage
                    .as_deref()?;
                Some((l.line.line, stage))
            })
            .min_by_key(|(line, _)| *line)
            .map(|(_, s)| s);
        top_stage
            .and_then(stage_index)
            .or(catalog_stage.and_then(stage_index))
            .or(scan.stage_before_first_error.or(scan.furthest_stage))
            .map(|i| STAGES[i])
    };

    Diagnosis {
        causes,
        fired,
        catalog,
        thin,
        stage,
        outcome,
        os,
        facts,
        env,
        scan,
    }
}

/// Error lines of one subsystem that no rule explains but the catalog knows.
#[derive(Debug, Clone)]
pub struct CatalogFinding {
    /// `catalog:<subsystem>`, the evidence group.
    pub id: String,
    pub subsystem_id: String,
    pub subsystem: &'static crate::catalog::Subsystem,
    /// The lines (first few) and the formats they matched.
    pub lines: Vec<crate::scan::CatalogLine>,
    pub count: u64,
}

fn catalog_findings(
    kb: &KnowledgeBase,
    scan: &ScanResult,
    fired: &[Fired<'_>],
) -> Vec<CatalogFinding> {
    let catalog = crate::catalog::Catalog::embedded();
    let mut out: Vec<CatalogFinding> = Vec::new();
    // A line whose conditional rule fired is that rule's evidence, not the catalog's; so is a
    // line whose rule gave way to a more specific one (`not_rules`, or a rule of its `group`,
    // which describes the same event: `open failed` after `LIBUSB_ERROR_ACCESS`).
    let has_fired = |code: &str| fired.iter().any(|f| f.rule.code == code);
    let group_fired = |group: &Option<String>| {
        group
            .as_ref()
            .is_some_and(|g| fired.iter().any(|f| f.rule.group.as_ref() == Some(g)))
    };
    let explained = |l: &crate::scan::CatalogLine| {
        l.conditional_rules.iter().any(|&ri| {
            let rule = &kb.rules[ri];
            has_fired(&rule.code)
                || rule.when.not_rules.iter().any(|c| has_fired(c))
                || group_fired(&rule.group)
        })
    };
    for l in scan.catalogued.iter().filter(|l| !explained(l)) {
        let sub_id = catalog.subsystem_id(l.found.format);
        let Some(sub) = catalog.subsystem(sub_id) else {
            continue;
        };
        match out.iter_mut().find(|c| c.subsystem_id == sub_id) {
            Some(c) => c.lines.push(l.clone()),
            None => out.push(CatalogFinding {
                id: format!("catalog:{sub_id}"),
                subsystem_id: sub_id.to_string(),
                subsystem: sub,
                lines: vec![l.clone()],
                count: scan.catalogued_count.get(sub_id).copied().unwrap_or(1),
            }),
        }
    }
    out
}

/// Likelihood ratio below which one line is generic: many causes print it.
const GENERIC_LR: f64 = 5.0;

/// Is the evidence for a failure thin? One error-level rule of generic strength and nothing
/// else, or nothing but catalog lines.
fn thin_evidence(fired: &[Fired<'_>], catalog: &[CatalogFinding]) -> bool {
    let errors: Vec<&Fired<'_>> = fired
        .iter()
        .filter(|f| f.rule.severity != Severity::Info)
        .collect();
    match errors.as_slice() {
        [] => !catalog.is_empty(),
        [only] => {
            only.strength < GENERIC_LR && only.problems.is_empty() && only.env_lines.is_empty()
        }
        _ => false,
    }
}

fn posterior(
    kb: &KnowledgeBase,
    cal: &Calibration,
    evidence: &BTreeMap<String, f64>,
    unknown_llr: f64,
) -> Vec<(String, f64)> {
    let default_prior = 0.2 / kb.causes.len() as f64;
    let mut scores: Vec<(String, f64)> = kb
        .causes
        .iter()
        .filter(|c| c.id != "unknown")
        .map(|c| {
            let prior = cal.priors.get(&c.id).copied().unwrap_or(default_prior);
            let e = evidence.get(c.id.as_str()).copied().unwrap_or(0.0);
            (c.id.clone(), prior.ln() + cal.scale * e)
        })
        .collect();
    scores.push(("unknown".to_string(), cal.unknown_prior.ln() + unknown_llr));
    // Order-preserving: the same division for every cause.
    let t = cal.temperature.max(1e-3);
    scores.iter_mut().for_each(|s| s.1 /= t);
    let max = scores.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = scores.iter().map(|s| (s.1 - max).exp()).sum();
    let prior_total: f64 = kb
        .causes
        .iter()
        .filter(|c| c.id != "unknown")
        .map(|c| cal.priors.get(&c.id).copied().unwrap_or(default_prior))
        .sum::<f64>()
        + cal.unknown_prior;
    let prior_of = |c: &str| {
        if c == "unknown" { cal.unknown_prior } else { cal.priors.get(c).copied().unwrap_or(default_prior) }
    } / prior_total;
    let mut out: Vec<(String, f64)> = scores
        .into_iter()
        .map(|(c, s)| {
            let p = (s - max).exp() / total;
            let p = (1.0 - cal.shrink) * p + cal.shrink * prior_of(&c);
            (c, p)
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // Keep the top three and anything else above 1 %.
    let mut kept: Vec<(String, f64)> = out.iter().take(3).cloned().collect();
    kept.extend(out.iter().skip(3).filter(|(_, p)| *p >= 0.01).cloned());
    kept
}

pub fn flavor_name(f: crate::version::Flavor) -> &'static str {
    use crate::version::Flavor;
    match f {
        Flavor::Upstream => "upstream",
        Flavor::Xpack => "xpack",
        Flavor::Espressif => "espressif",
        Flavor::St => "st",
        Flavor::RaspberryPi => "raspberry-pi",
        Flavor::Vendor => "vendor",
    }
}
