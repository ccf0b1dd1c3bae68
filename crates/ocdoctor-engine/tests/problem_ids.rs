//! Every rule that listens for a problem (`[[match]] problem = "<id>"`, `rules/cfg/CFG1xx-*`,
//! `rules/ide/IDE1xx-*`, TGT054) has a producer that emits that id under that source, and every
//! id a producer emits is ranked by some rule or listed in `UNRANKED` with the reason. The
//! producers' ids are their enums (`ocdoctor_cfg::ProblemId`, `ocdoctor_ide::ProblemId`,
//! `chip::LogProblemId`), which every producer must name: no grepping of source.

use ocdoctor_core::kb::KnowledgeBase;
use std::collections::BTreeSet;

/// Produced ids no rule ranks on purpose: (source, id, why).
const UNRANKED: &[(&str, &str, &str)] = &[];

/// (rule code, problem id, source or `None` for any) of every problem matcher.
fn listeners() -> Vec<(String, String, Option<String>)> {
    KnowledgeBase::embedded()
        .rules
        .iter()
        .flat_map(|r| {
            r.matchers
                .iter()
                .filter_map(|m| Some((r.code.clone(), m.problem.clone()?, m.source.clone())))
        })
        .collect()
}

#[test]
fn every_problem_a_rule_listens_for_has_a_producer() {
    let produced: BTreeSet<(&str, &str)> =
        ocdoctor_engine::problem_producers().into_iter().collect();
    let listeners = listeners();
    // The knowledge base has the problem rules (a loader that dropped them would pass below).
    assert!(listeners.len() >= 40, "{listeners:?}");
    let orphans: Vec<_> = listeners
        .iter()
        .filter(|(_, id, source)| {
            !produced
                .iter()
                .any(|(s, p)| p == id && source.as_deref().is_none_or(|want| want == *s))
        })
        .collect();
    assert!(
        orphans.is_empty(),
        "rules listening for a problem no producer emits: {orphans:?}"
    );
}

#[test]
fn every_produced_problem_is_ranked_or_listed_as_unranked() {
    let listeners = listeners();
    let ranked = |source: &str, id: &str| {
        listeners
            .iter()
            .any(|(_, p, s)| p == id && s.as_deref().is_none_or(|want| want == source))
    };
    let producers = ocdoctor_engine::problem_producers();
    let unranked: Vec<_> = producers
        .iter()
        .filter(|(s, id)| !ranked(s, id))
        .filter(|(s, id)| !UNRANKED.iter().any(|(us, uid, _)| us == s && uid == id))
        .collect();
    assert!(
        unranked.is_empty(),
        "produced but no rule ranks them (add a rule, or list them in UNRANKED with why): {unranked:?}"
    );
    // The list stays true: each entry is produced, and not ranked after all.
    for (s, id, why) in UNRANKED {
        assert!(producers.contains(&(*s, *id)), "{s}/{id} is not produced");
        assert!(
            !ranked(s, id),
            "{s}/{id} is ranked now; drop it from UNRANKED"
        );
        assert!(!why.is_empty());
    }
    // Ids are stable kebab-case and unique per source.
    let mut seen = BTreeSet::new();
    for (s, id) in &producers {
        assert!(
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{id}"
        );
        assert!(seen.insert((s, id)), "{s}/{id} twice");
    }
}
