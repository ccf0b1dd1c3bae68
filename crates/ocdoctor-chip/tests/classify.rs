//! classify_mismatch on logs from the field (no OpenOCD needed).

use ocdoctor_chip::{MismatchKind, classify_mismatch, extract_from_log};

#[test]
fn hla_blue_pill_clone() {
    let log = "Info : STLINK V2J29S7 (API v2) VID:PID 0483:3748\nWarn : UNEXPECTED idcode: 0x2ba01477\nError: expected 1 of 1: 0x1ba01477\n";
    let ids = extract_from_log(
        log,
        Some("openocd -f interface/stlink.cfg -f target/stm32f1x.cfg"),
        None,
    );
    assert_eq!(
        (ids.found.as_slice(), ids.expected.as_slice()),
        (&[0x2ba01477][..], &[0x1ba01477][..])
    );
    match classify_mismatch(&ids.found, &ids.expected, &ids.context) {
        MismatchKind::Clone { entry, fix_line } => {
            assert_eq!(fix_line, "set CPUTAPID 0x2ba01477");
            assert!(entry.parts.iter().any(|p| p == "CKS32F103"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stm32c0_under_f0_cfg() {
    let log = "Warn : UNEXPECTED idcode: 0x0bc11477\nError: expected 1 of 1: 0x0bb11477\n";
    let ids = extract_from_log(log, None, None);
    assert!(matches!(
        classify_mismatch(&ids.found, &ids.expected, &ids.context),
        MismatchKind::Clone { .. }
    ));
}

#[test]
fn garbage_is_noise() {
    let ctx = Default::default();
    for (found, expected) in [
        (0x4ba00476u32, 0x4ba00477u32),
        (0xffffffff, 0x4ba00477),
        (0x000000fe, 0x3ba00477),
    ] {
        assert!(
            matches!(
                classify_mismatch(&[found], &[expected], &ctx),
                MismatchKind::Noise { .. }
            ),
            "0x{found:08x}"
        );
    }
    let log = "Info : JTAG tap: x.cpu tap/device found: 0x4ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)\n\
               Info : JTAG tap: x.cpu tap/device found: 0x4ba00c77 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)\n\
               Warn : JTAG tap: x.cpu       UNEXPECTED: 0x4ba00c77 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)\n\
               Error: JTAG tap: x.cpu  expected 1 of 1: 0x4ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)\n";
    let ids = extract_from_log(log, None, None);
    assert!(ids.context.ids_changed);
    assert!(matches!(
        classify_mismatch(&ids.found, &ids.expected, &ids.context),
        MismatchKind::Noise { .. }
    ));
}

#[test]
fn other_chip_is_wrong_config() {
    let log = "Warn : UNEXPECTED idcode: 0x0bb11477\nError: expected 1 of 1: 0x2ba01477\nInfo : [x] Cortex-M0 r0p0 processor detected\n";
    let ids = extract_from_log(log, None, None);
    assert!(matches!(
        classify_mismatch(&ids.found, &ids.expected, &ids.context),
        MismatchKind::WrongConfig { .. }
    ));
}

/// A real OpenOCD 0.12 run against the lab: target/stm32f1x.cfg on a chip whose JTAG chain holds
/// an STM32F4's boundary-scan TAP (dev id 0x413). The DP id 0x4ba00477 is also what an F1 clone
/// answers, but the BS TAP names the family: a wrong config, and stm32f4x.cfg is the fix.
#[test]
fn st_boundary_scan_tap_overrules_the_clone_reading() {
    let log = include_str!("data/rbb_idcode_mismatch_f1cfg_f4chip.log");
    let index = std::path::Path::new("/usr/share/openocd/scripts")
        .is_dir()
        .then(|| {
            ocdoctor_chip::ScriptsIndex::build(std::path::Path::new("/usr/share/openocd/scripts"))
        });
    let ids = extract_from_log(log, None, index.as_ref());
    match classify_mismatch(&ids.found, &ids.expected, &ids.context) {
        MismatchKind::WrongConfig { suggestions } => {
            eprintln!("{suggestions:#?}");
            assert_eq!(
                suggestions.first().map(|s| s.cfg.as_str()),
                Some("target/stm32f4x.cfg")
            );
        }
        other => panic!("expected a wrong config, got {other:?}"),
    }
}

fn installed_index() -> Option<ocdoctor_chip::ScriptsIndex> {
    let dir = std::path::Path::new("/usr/share/openocd/scripts");
    dir.is_dir()
        .then(|| ocdoctor_chip::ScriptsIndex::build(dir))
}

/// A lone `UNEXPECTED idcode: 0x2ba01477` (HLA, no expected line): ARM's Cortex-M3/M4 SW-DP id,
/// which 28 cfgs of 0.12 declare (Milandr, NXP, ST, Nordic, TI…). It names no chip, so no cfg
/// is suggested, with or without the installed scripts.
#[test]
fn a_lone_arm_debug_port_id_names_no_cfg() {
    let index = installed_index();
    if let Some(ix) = &index {
        assert!(
            ix.expecting(0x2ba01477).len() > 5,
            "the scripts declare it many times"
        );
    }
    for id in [
        0x2ba01477u32,
        0x4ba00477,
        0x0bc11477,
        0x6ba02477,
        0x0ba04477,
    ] {
        let log = format!("Warn : UNEXPECTED idcode: 0x{id:08x}\n");
        let ids = extract_from_log(&log, None, index.as_ref());
        match classify_mismatch(&ids.found, &ids.expected, &ids.context) {
            MismatchKind::DebugPortOnly { found, port } => {
                assert_eq!(found, id);
                assert!(!port.is_empty());
            }
            other => panic!("0x{id:08x}: {other:?}"),
        }
    }
}

/// ARM's ids on both sides: a wrong config (another core's debug port), but the cfgs that
/// declare the found id are of many vendors, so none is suggested.
#[test]
fn arm_debug_port_ids_on_both_sides_suggest_no_vendor_cfg() {
    let index = installed_index();
    let log = "Warn : UNEXPECTED idcode: 0x0bb11477\nError: expected 1 of 1: 0x2ba01477\nInfo : [x] Cortex-M0 r0p0 processor detected\n";
    let ids = extract_from_log(log, None, index.as_ref());
    match classify_mismatch(&ids.found, &ids.expected, &ids.context) {
        MismatchKind::WrongConfig { suggestions } => assert!(
            suggestions.is_empty(),
            "a generic ARM DP id picked {suggestions:#?}"
        ),
        other => panic!("{other:?}"),
    }
}

/// A vendor's id still picks the cfgs that declare it.
#[test]
fn a_vendor_id_still_names_its_cfg() {
    let Some(index) = installed_index() else {
        return;
    };
    // ESP32's Xtensa TAP (Tensilica, 0x120034e5) under another chip's cfg.
    let log = "Warn : JTAG tap: x.cpu       UNEXPECTED: 0x120034e5 (mfg: 0x272 (Tensilica), part: 0x2003, ver: 0x1)\nError: JTAG tap: x.cpu  expected 1 of 1: 0x4ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)\n";
    let ids = extract_from_log(log, None, Some(&index));
    match classify_mismatch(&ids.found, &ids.expected, &ids.context) {
        MismatchKind::WrongConfig { suggestions } => assert!(
            !suggestions.is_empty()
                && suggestions
                    .iter()
                    .all(|s| s.expected_id == Some(0x120034e5)),
            "{suggestions:#?}"
        ),
        other => panic!("{other:?}"),
    }
}
