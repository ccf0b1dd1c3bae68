//! How much of OpenOCD's error vocabulary the diagnosis can place: every `error`-level format of
//! the catalog is printed as OpenOCD would (`Error: ` + the format with sample values) and
//! diagnosed alone. Prints the share whose top cause is not `unknown`, and whether a rule or
//! only the catalog placed it, per subsystem family.
//!
//! `cargo run --release -p ocdoctor-core --example catalog_coverage`

use ocdoctor_core::catalog::Catalog;
use ocdoctor_core::wording::sample_line;
use std::collections::BTreeMap;

fn main() {
    let catalog = Catalog::embedded();
    let mut per_family: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let (mut total, mut placed, mut by_rule) = (0, 0, 0);
    for f in catalog.formats.iter().filter(|f| f.level == "error") {
        // The line OpenOCD prints for it (`Error: ` and sample values), as the wording audit has it.
        let log = format!("Open On-Chip Debugger 0.12.0\n{}\n", sample_line(f));
        let r = ocdoctor_core::diagnose_bytes(log.as_bytes(), None);
        let top_known = r.causes.first().is_some_and(|c| c.cause != "unknown");
        let rule = r.findings.iter().any(|x| x.rule != "catalog");
        let family = f.subsystem.split(':').next().unwrap_or("").to_string();
        let e = per_family.entry(family).or_default();
        e.0 += 1;
        total += 1;
        if top_known {
            e.1 += 1;
            placed += 1;
        }
        if rule {
            e.2 += 1;
            by_rule += 1;
        }
    }
    println!("subsystem family: formats · top cause not unknown · explained by a rule");
    for (fam, (n, k, r)) in &per_family {
        println!(
            "  {fam:<14} {n:>5} {:>6.1}% {:>6.1}%",
            100.0 * *k as f64 / *n as f64,
            100.0 * *r as f64 / *n as f64
        );
    }
    println!(
        "error formats: {total}; top cause not unknown: {placed} ({:.1}%); explained by a rule: {by_rule} ({:.1}%)",
        100.0 * placed as f64 / total as f64,
        100.0 * by_rule as f64 / total as f64
    );
}
