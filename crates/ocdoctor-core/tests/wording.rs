//! Every rule that recognises one version's wording of a message recognises every version's:
//! for each group of catalog formats that are the same message (see `ocdoctor_core::wording`),
//! a rule matching some members must match all, unless the missed format is in
//! `tests/data/wording_allow.tsv` with the reason.

use ocdoctor_core::catalog::Catalog;
use ocdoctor_core::wording;

#[test]
fn rules_match_every_versions_wording() {
    let catalog = Catalog::embedded();
    let audit = wording::audit(ocdoctor_core::KnowledgeBase::embedded(), catalog);
    // the audit must see something, or the test could not fail
    assert!(
        audit.rules_audited > 100,
        "rules audited: {}",
        audit.rules_audited
    );
    assert!(audit.groups > 500, "same-message groups: {}", audit.groups);
    let allowed = wording::allowed(include_str!("data/wording_allow.tsv"));
    let mut unexplained = Vec::new();
    for gap in &audit.gaps {
        for &i in &gap.missed {
            let f = &catalog.formats[i];
            if !allowed.iter().any(|(r, t)| *r == gap.rule && *t == f.text) {
                let seen = &catalog.formats[gap.matched[0]];
                unexplained.push(format!(
                    "{} matches [{}] {:?} but not [{}] {:?}",
                    gap.rule, seen.sources, seen.text, f.sources, f.text
                ));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "version gaps (fix the regex or allow-list with a reason):\n{}",
        unexplained.join("\n")
    );
}

#[test]
fn sample_lines_and_grouping() {
    assert_eq!(
        wording::sample_message("Hart %d didn't leave reset in %ds; dmstatus=0x%08x"),
        "Hart 1 didn't leave reset in 1s; dmstatus=0x1f"
    );
    assert_eq!(wording::sample_message("100%% done"), "100% done");
    // a `[%s] ` or `%s: ` target prefix and conversions do not separate versions
    assert_eq!(
        wording::normalise("[%s] Hart didn't leave reset in %ds"),
        wording::normalise("Hart %d didn't leave reset in %ds")
    );
    assert_eq!(
        wording::normalise("%s: Timeout waiting for halt"),
        wording::normalise("Timeout waiting for halt")
    );
    assert_ne!(
        wording::normalise("Timeout waiting for halt"),
        wording::normalise("Timeout waiting for resume")
    );
}
