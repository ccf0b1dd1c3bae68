//! Version gaps in the rules' wording: every catalog format is printed as OpenOCD would (level
//! prefix, sample values), formats that are the same message in different versions are grouped,
//! and each group where a rule's matcher matches some members but not others is listed.
//!
//! `cargo run --release -p ocdoctor-core --example rule_wording`

use ocdoctor_core::catalog::Catalog;
use ocdoctor_core::wording;

fn main() {
    let catalog = Catalog::embedded();
    let kb = ocdoctor_core::KnowledgeBase::embedded();
    let audit = wording::audit(kb, catalog);
    let show = |i: &usize| {
        let f = &catalog.formats[*i];
        format!("[{}] {} ({}): {}", f.sources, f.level, f.file, f.text)
    };
    for gap in &audit.gaps {
        println!("{} in {}:", gap.rule, gap.subsystem);
        for i in &gap.matched {
            println!("  matches  {}", show(i));
        }
        for i in &gap.missed {
            println!("  MISSES   {}", show(i));
        }
    }
    println!(
        "rules audited: {}; catalog formats: {}; formats matched by some rule: {}; same-message groups: {}; gaps found: {}",
        audit.rules_audited,
        catalog.formats.len(),
        audit.formats_matched,
        audit.groups,
        audit.gaps.len()
    );
}
