//! Decoders against the reference tables and real OpenOCD logs.

use ocdoctor_chip::decode::{Cpuid, Dpidr, JtagIdcode};
use ocdoctor_chip::{IdKind, Stm32DevId, clones, explain_id, jep106};

fn reference_ids() -> Vec<(u32, String, String)> {
    include_str!("data/idcodes.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let v = u32::from_str_radix(c.first()?.strip_prefix("0x")?, 16).ok()?;
            Some((v, c.get(9)?.to_string(), c.get(10)?.to_string()))
        })
        .collect()
}

#[test]
fn every_reference_id_decodes_and_round_trips() {
    let ids = reference_ids();
    assert!(ids.len() > 900, "only {} ids", ids.len());
    let mut named = 0;
    for (v, mfg, name) in &ids {
        let j = JtagIdcode::decode(*v);
        assert_eq!(j.encode(), *v);
        assert_eq!(Dpidr::decode(*v).encode(), *v);
        assert_eq!(Cpuid::decode(*v).encode(), *v);
        assert_eq!(Stm32DevId::decode(*v).encode(), *v);
        if !mfg.is_empty() {
            assert_eq!(&format!("0x{:03x}", j.mfg_code()), mfg, "mfg of 0x{v:08x}");
        }
        if !name.is_empty() {
            let ours = j.manufacturer();
            let master = jep106::master_name(j.bank, j.id).unwrap_or("");
            assert!(
                name.starts_with(ours) || master == name,
                "0x{v:08x}: {ours} vs {name}"
            );
            named += 1;
        }
        assert!(explain_id(&format!("0x{v:08x}")).is_ok());
    }
    println!(
        "{} reference ids decoded and round-tripped, {named} maker names checked",
        ids.len()
    );
}

#[test]
fn round_trip_edge_values() {
    for v in [
        0u32,
        1,
        0xffff_ffff,
        0x8000_0000,
        0x7fff_fffe,
        0x2ba0_1477,
        0x412f_c231,
    ] {
        assert_eq!(JtagIdcode::decode(v).encode(), v);
        assert_eq!(Dpidr::decode(v).encode(), v);
        assert_eq!(Cpuid::decode(v).encode(), v);
        assert_eq!(Stm32DevId::decode(v).encode(), v);
    }
}

/// Every `found: 0x… (mfg: 0x… (NAME)` in the real 0.12.0 runs must decode to
/// the same code and name.
#[test]
fn maker_names_agree_with_real_openocd_logs() {
    // The real OpenOCD 0.12.0 runs kept as test data by ocdoctor-core.
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ocdoctor-core/tests/data/runs");
    let mut checked = 0;
    let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in rd.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for line in text.lines() {
            let Some(p) = line.find("(mfg: 0x") else {
                continue;
            };
            let before = &line[..p];
            let Some(id_start) = before.rfind("0x") else {
                continue;
            };
            let Ok(v) = u32::from_str_radix(before[id_start + 2..].trim(), 16) else {
                continue;
            };
            let rest = &line[p + "(mfg: 0x".len()..];
            let (code, rest) = rest.split_at(3);
            let name = rest
                .trim_start_matches(" (")
                .split("), part")
                .next()
                .unwrap_or("");
            let j = JtagIdcode::decode(v);
            assert_eq!(format!("{:03x}", j.mfg_code()), code, "{line}");
            assert_eq!(j.manufacturer(), name, "{line}");
            checked += 1;
        }
    }
    println!("{checked} mfg lines in real 0.12.0 logs agree");
    assert!(checked > 10);
}

#[test]
fn well_known_names() {
    assert_eq!(JtagIdcode::decode(0x3ba00477).manufacturer(), "ARM Ltd");
    assert_eq!(
        JtagIdcode::decode(0x06412041).manufacturer(),
        "STMicroelectronics"
    );
    assert_eq!(JtagIdcode::decode(0x06e5e093).manufacturer(), "Xilinx");
    assert_eq!(JtagIdcode::decode(0xffffffff).manufacturer(), "<invalid>");
    assert_eq!(JtagIdcode::decode(0x06413001).manufacturer(), "<invalid>");
    assert_eq!(JtagIdcode::decode(0x4ba00457).manufacturer(), "StarCore");
    assert_eq!(JtagIdcode::decode(0x2ba01477).mfg_code(), 0x23b);
    assert!(jep106::len() > 2000);
}

#[test]
fn cpuid_and_core_names() {
    let c = Cpuid::decode(0x412fc231);
    assert_eq!(c.core_name(), Some("Cortex-M3"));
    assert_eq!(c.rev_string(), "r2p1");
    assert_eq!(Cpuid::decode(0x410fc241).core_name(), Some("Cortex-M4"));
    assert_eq!(Cpuid::decode(0x410cc601).core_name(), Some("Cortex-M0+"));
    assert_eq!(Cpuid::decode(0x411fd210).core_name(), Some("Cortex-M33"));
    assert_eq!(Cpuid::decode(0x410fd230).core_name(), Some("Cortex-M85"));
    let core = ocdoctor_chip::CoreInfo::from_log_line(
        "Info : [stm32f4x.cpu] Cortex-M4 r0p1 processor detected",
    )
    .unwrap();
    assert_eq!(
        (core.name.as_str(), core.variant, core.revision),
        ("Cortex-M4", 0, 1)
    );
}

#[test]
fn dpidr_fields() {
    let d = Dpidr::decode(0x0bc11477);
    assert!(d.min);
    assert_eq!((d.partno, d.version, d.revision), (0xbc, 1, 0));
    assert_eq!(d.designer(), "ARM Ltd");
    let d = Dpidr::decode(0x6ba02477);
    assert_eq!((d.partno, d.version, d.revision), (0xba, 2, 6));
}

#[test]
fn stm32_device_ids() {
    let d = Stm32DevId::decode(0x20036410);
    assert_eq!(d.dev_id, 0x410);
    assert_eq!(d.revision(), Some("Y"));
    assert_eq!(d.family().unwrap().target_cfg, "target/stm32f1x.cfg");
    assert_eq!(Stm32DevId::decode(0x10076413).revision(), Some("1"));
    assert_eq!(
        Stm32DevId::decode(0x13030410).gigadevice_variant(),
        Some("GD32F1x0")
    );
    // Every target cfg the STM32 table names must exist in 0.12.
    let root = std::path::Path::new("/usr/share/openocd/scripts");
    if root.is_dir() {
        for f in ocdoctor_chip::stm32::families() {
            if f.target_cfg.starts_with("target/") {
                assert!(
                    root.join(f.target_cfg).is_file(),
                    "{} missing",
                    f.target_cfg
                );
            }
        }
    }
}

#[test]
fn explain_accepts_every_input_form() {
    let cases: &[(&str, u32, IdKind)] = &[
        ("0x2ba01477", 0x2ba01477, IdKind::JtagIdcode),
        ("2ba01477", 0x2ba01477, IdKind::JtagIdcode),
        ("731911287", 0x2ba01477, IdKind::JtagIdcode),
        (
            "Info : JTAG tap: stm32f1x.cpu tap/device found: 0x3ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x3)",
            0x3ba00477,
            IdKind::JtagIdcode,
        ),
        (
            "Warn : JTAG tap: stm32f1x.cpu       UNEXPECTED: 0x4ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x4)",
            0x4ba00477,
            IdKind::JtagIdcode,
        ),
        (
            "Error: JTAG tap: stm32f1x.cpu  expected 1 of 1: 0x3ba00477 (mfg: 0x23b (ARM Ltd), part: 0xba00, ver: 0x3)",
            0x3ba00477,
            IdKind::JtagIdcode,
        ),
        (
            "Error: expected 1 of 1: 0x1ba01477",
            0x1ba01477,
            IdKind::DebugPortId,
        ),
        (
            "Warn : UNEXPECTED idcode: 0x2ba01477",
            0x2ba01477,
            IdKind::DebugPortId,
        ),
        ("Info : SWD DPIDR 0x2ba01477", 0x2ba01477, IdKind::Dpidr),
        (
            "Info : device id = 0x10076413",
            0x10076413,
            IdKind::Stm32DevId,
        ),
        ("0x412fc231", 0x412fc231, IdKind::Cpuid),
    ];
    for (input, v, kind) in cases {
        let r = explain_id(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!((r.value, r.kind), (*v, *kind), "{input}");
        assert!(!r.render_text().is_empty());
    }
    for bad in [
        "",
        "hello",
        "0x",
        "0x123456789",
        "99999999999",
        "Error: expected",
    ] {
        assert!(explain_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn explain_renders_the_clone_fix() {
    let text = explain_id("0x2ba01477").unwrap().render_text();
    println!("{text}");
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "0x2ba01477: ARM Ltd (JEP106 bank 4, 0x3b) · part 0xba01 · version 2 — ARM Cortex-M3/M4 SW-DP"
    );
    // ARM's own debug-port id: said to name the debug port, not the chip (issue 10).
    let second = text.lines().nth(1).unwrap();
    assert!(
        second.starts_with("designer 0x23b (ARM Ltd): ARM's own debug-port id"),
        "{text}"
    );
    // The genuine STM32F4 SW-DP (issue 11): said before the clone reading, which is conditional.
    let third = text.lines().nth(2).unwrap();
    assert!(
        third.starts_with("Genuine: the id of STM32F4 (target/stm32f4x.cfg)"),
        "{text}"
    );
    assert!(text.contains(
        "Only if OpenOCD calls it UNEXPECTED with: target/stm32f1x.cfg as 0x1ba01477 (genuine STM32F1); 0x2ba01477 is what CS32F103 / CKS32F103 / APM32F103-class parts answer"
    ));
    // The same for the JTAG-DP of the same parts.
    let jtag = explain_id("0x4ba00477").unwrap().render_text();
    assert!(
        jtag.lines()
            .nth(2)
            .unwrap()
            .starts_with("Genuine: the id of STM32F4"),
        "{jtag}"
    );
    assert!(text.contains("→ before the target line: set CPUTAPID 0x2ba01477"));
}

#[test]
fn clone_table_is_valid_and_sourced() {
    assert_eq!(clones::parse_error(), None);
    let all = clones::clones();
    assert!(all.len() >= 7);
    let root = std::path::Path::new("/usr/share/openocd/scripts");
    for c in all {
        assert!(!c.sources.is_empty(), "{} has no source", c.key);
        if root.is_dir() {
            assert!(
                root.join(&c.target_cfg).is_file(),
                "{}: {}",
                c.key,
                c.target_cfg
            );
            if let Some(r) = &c.right_cfg {
                assert!(root.join(r).is_file(), "{}: {r}", c.key);
            }
            if let Some(r) = &c.right_cfg_master {
                assert!(
                    !root.join(r).is_file(),
                    "{}: {r} exists in 0.12 after all",
                    c.key
                );
            }
            // A `set CPUTAPID` fix only works if the cfg honours CPUTAPID.
            if c.fix.starts_with("set CPUTAPID") {
                let text = std::fs::read_to_string(root.join(&c.target_cfg)).unwrap();
                assert!(
                    text.contains("info exists CPUTAPID"),
                    "{} ignores CPUTAPID",
                    c.target_cfg
                );
            }
        }
    }
}
