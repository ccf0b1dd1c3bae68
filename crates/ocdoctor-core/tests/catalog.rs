//! The embedded message catalog (rules/catalog/, generated from OpenOCD's sources) knows
//! OpenOCD's own lines, and a line no rule explains becomes weak evidence with its stage.

use ocdoctor_core::catalog::Catalog;

#[test]
fn embedded_catalog_knows_openocd_messages() {
    let c = Catalog::embedded();
    assert!(c.formats.len() > 5000, "{} formats", c.formats.len());
    let sub = |msg: &str| {
        let m = c
            .lookup(msg)
            .unwrap_or_else(|| panic!("not catalogued: {msg}"));
        c.formats[m.format as usize].subsystem.clone()
    };
    assert!(sub("Error connecting DP: cannot read IDR").starts_with("adi"));
    assert_eq!(sub("flash_erase returned -4"), "server:gdb");
    assert!(
        sub("[stm32f1x.cpu] Could not find MEM-AP to control the core").starts_with("cortex_m")
    );
    assert!(
        c.lookup("this line is not OpenOCD's at all, it is mine")
            .is_none()
    );
    // Every subsystem the catalog names resolves to an entry of subsystems.toml (or its family).
    let missing: std::collections::BTreeSet<&str> = c
        .formats
        .iter()
        .filter(|f| c.subsystem(&f.subsystem).is_none())
        .map(|f| f.subsystem.as_str())
        .collect();
    assert!(
        missing.len() < 20,
        "subsystems without an entry: {missing:?}"
    );
}

#[test]
fn an_unexplained_catalogued_error_ranks_its_subsystems_causes() {
    let log = b"Open On-Chip Debugger 0.12.0\nInfo : clock speed 1000 kHz\nError: failed erasing sectors 0 to 127\n";
    let report = ocdoctor_core::diagnose_bytes(log, None);
    assert_eq!(report.outcome, "failed");
    assert_eq!(report.causes[0].cause, "flash-write-failed");
    assert_eq!(report.stage.as_deref(), Some("flash"));
    assert!(report.thin_evidence);
    let f = &report.findings[0];
    assert_eq!(f.rule, "catalog");
    assert_eq!(f.evidence[0].line, 3);
    // A line nobody knows keeps the ranking at the prior, unknown first.
    let report = ocdoctor_core::diagnose_bytes(b"Error: zorglub frobnicated the quux\n", None);
    assert_eq!(report.causes[0].cause, "unknown");
    assert!(report.findings.is_empty());
}

/// CFG003's lists of cfg files "first shipped in release R" agree with the generated table of the
/// files each release ships (rules/versions/cfg_files.tsv, read from the OpenOCD trees).
#[test]
fn cfg003_file_lists_agree_with_the_generated_release_table() {
    let table = include_str!("../../../rules/versions/cfg_files.tsv");
    let ships: std::collections::HashMap<&str, Vec<&str>> = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, s)| (p, s.split(',').collect()))
        .collect();
    let rule = include_str!("../../../rules/cfg/CFG003-cfg-file-needs-newer-openocd/rule.toml");
    let rule: toml::Value = toml::from_str(rule).unwrap();
    // (matcher's version condition) → (release that first ships them, the one before).
    let expect = [
        ("<0.11", "0.11.0", "0.10.0"),
        ("<0.12", "0.12.0", "0.11.0"),
        ("<=0.12.0", "master", "0.12.0"),
    ];
    let groups = regex::Regex::new(r"(board|interface|target)/\(\?:([^)]*)\)").unwrap();
    let mut checked = 0;
    for m in rule["match"].as_array().unwrap() {
        let Some(v) = m.get("versions").and_then(|v| v.as_str()) else {
            continue;
        };
        let Some((_, first, before)) = expect.iter().find(|(c, _, _)| *c == v) else {
            continue;
        };
        let re = m["regex"].as_str().unwrap();
        // `Can't find (?P<file>(?:board/(?:a\.cfg|b\.cfg)|interface/(?:…)))`: the file names.
        let body = re.replace('\\', "");
        for g in groups.captures_iter(&body) {
            for name in g[2].split('|') {
                let path = format!("{}/{name}", &g[1]);
                let s = ships
                    .get(path.as_str())
                    .unwrap_or_else(|| panic!("{path}: not in any tree"));
                assert!(
                    s.contains(first),
                    "{path}: CFG003 says first in {first}, table says {s:?}"
                );
                assert!(
                    !s.contains(before),
                    "{path}: CFG003 says absent from {before}, table says {s:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} files checked");
}
