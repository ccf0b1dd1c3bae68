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
        .map(|f| &*f.subsystem)
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

/// The release tables the rules consult (`newer_than_build`) hold what the generator read: a
/// file and a command that are known to have first shipped in a given release.
#[test]
fn release_tables_know_when_names_first_shipped() {
    use ocdoctor_core::releases::{Table, newer_than_build};
    use ocdoctor_core::version::Version;
    let v = |s: &str| Version::parse(s).unwrap();
    // target/rp2040.cfg came with 0.12.0, interface/stlink.cfg with 0.11.0.
    assert_eq!(
        newer_than_build(Table::CfgFiles, "target/rp2040.cfg", v("0.11.0")),
        Some("0.12.0")
    );
    assert_eq!(
        newer_than_build(Table::CfgFiles, "interface/stlink.cfg", v("0.10.0")),
        Some("0.11.0")
    );
    assert_eq!(
        newer_than_build(Table::CfgFiles, "interface/stlink.cfg", v("0.12.0")),
        None
    );
    // `adapter` (0.11) and `read_memory` (0.12); a name no release registers is not "newer".
    assert_eq!(
        newer_than_build(Table::Commands, "adapter", v("0.10.0")),
        Some("0.11.0")
    );
    assert_eq!(
        newer_than_build(Table::Commands, "read_memory", v("0.11.0")),
        Some("0.12.0")
    );
    assert_eq!(
        newer_than_build(Table::Commands, "frobnicate", v("0.10.0")),
        None
    );
}

/// A message family (subsystems.toml entries with `format`): breakpoint and watchpoint errors
/// count for the breakpoint family whichever core's file prints them, and its causes are the
/// debugger's side of the session, not the target connection of the file's subsystem.
#[test]
fn breakpoint_errors_of_every_core_are_one_family() {
    let c = Catalog::embedded();
    for (id, s) in &c.subsystems {
        for re in [&s.format, &s.not_format].into_iter().flatten() {
            assert!(regex::Regex::new(re).is_ok(), "{id}: bad regex {re}");
        }
    }
    let family = |msg: &str| {
        let m = c
            .lookup(msg)
            .unwrap_or_else(|| panic!("not catalogued: {msg}"));
        (
            c.subsystem_id(m.format).to_string(),
            c.formats[m.format as usize].subsystem.to_string(),
        )
    };
    for (msg, file_subsystem) in [
        (
            "[stm32f4x.cpu] Can not find free FPB Comparator!",
            "cortex_m",
        ),
        ("Can not find free FPB Comparator!", "cortex_m"),
        ("[esp32.cpu0] No free slots to add HW breakpoint!", "xtensa"),
        ("Couldn't find an available hardware trigger.", "riscv"),
        (
            "ERROR Can not find free Breakpoint Register Pair",
            "aarch64",
        ),
        ("[rp2040.core0] could not add breakpoint", "target"),
    ] {
        let (id, file) = family(msg);
        assert_eq!(id, "breakpoint", "{msg}");
        assert!(file.starts_with(file_subsystem), "{msg}: {file}");
    }
    // Words of the family in a message about something else keep the file's subsystem.
    let (id, _) = family("[stm32f4x.cpu] No comparator list. Not examined?");
    assert_ne!(id, "breakpoint");
    let (id, _) = family("Error connecting DP: cannot read IDR");
    assert!(id.starts_with("adi"), "{id}");

    let log = b"Open On-Chip Debugger 0.12.0\nInfo : [stm32f4x.cpu] Cortex-M4 r0p1 processor detected\nError: [stm32f4x.cpu] could not add breakpoint\n";
    let report = ocdoctor_core::diagnose_bytes(log, None);
    let top: Vec<&str> = report.causes[..3].iter().map(|c| &*c.cause).collect();
    // The debugger's side, in the order the priors give them (ide-config is the likelier cause
    // a priori); the target connection the cortex_m subsystem would point at is not among them.
    assert!(
        top[..2].contains(&"gdb-connection") && top[..2].contains(&"ide-config"),
        "{top:?}"
    );
    assert!(!top.contains(&"no-target-connection"), "{top:?}");
    assert_eq!(report.stage.as_deref(), Some("session"));
}
