//! The lab's idcode faults against the real OpenOCD: the ids are taken from
//! the real log lines and classified; the suggested clone fix is then
//! applied and must silence UNEXPECTED.

use ocdoctor_chip::{MismatchKind, ScriptsIndex, classify_mismatch, extract_from_log};
use ocdoctor_lab::{Chip, FaultId, Lab, LabConfig, run_openocd, session_args, target_cfg};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const SCRIPTS: &str = "/usr/share/openocd/scripts";

fn openocd() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/openocd");
    if p.is_file() {
        return Some(p);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("openocd"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("OCDOCTOR_SKIP_LIVE").is_ok_and(|v| v == "1"),
            "openocd not found: install it or set OCDOCTOR_SKIP_LIVE=1"
        );
    }
    found
}

fn index() -> &'static ScriptsIndex {
    static I: OnceLock<ScriptsIndex> = OnceLock::new();
    I.get_or_init(|| ScriptsIndex::build(Path::new(SCRIPTS)))
}

/// Run `config` (optionally with extra args before the target cfg) and return the log.
fn run(openocd: &Path, config: &LabConfig, pre: &[&str]) -> String {
    let lab = Lab::start(config.clone(), None).expect("lab starts");
    let mut args: Vec<String> = pre.iter().map(|s| s.to_string()).collect();
    args.extend(session_args(config));
    let out =
        run_openocd(openocd, lab.port(), &args, Duration::from_secs(20)).expect("openocd runs");
    lab.shutdown();
    out.log
}

fn classify(openocd: &Path, chip: Chip, fault: FaultId) -> (MismatchKind, String) {
    let config = LabConfig::new(chip).with_fault(fault);
    let log = run(openocd, &config, &[]);
    let command = format!("openocd -f interface/rbb.cfg -f {}", target_cfg(chip));
    let ids = extract_from_log(&log, Some(&command), Some(index()));
    assert!(
        !ids.found.is_empty() && !ids.expected.is_empty(),
        "{chip} {fault:?}: no ids in\n{log}"
    );
    (
        classify_mismatch(&ids.found, &ids.expected, &ids.context),
        log,
    )
}

#[test]
fn lab_idcode_faults_are_told_apart() {
    let Some(oc) = openocd() else { return };
    let t0 = Instant::now();
    for chip in Chip::ALL {
        let (kind, log) = classify(&oc, chip, FaultId::WrongChip);
        match &kind {
            MismatchKind::WrongConfig { suggestions } => {
                let want = target_cfg(if chip == Chip::Stm32f1 {
                    Chip::Stm32f4
                } else {
                    Chip::Stm32f1
                });
                let first = suggestions.first().map(|s| s.cfg.as_str());
                println!("{chip} wrong-chip → WrongConfig, top: {first:?}");
                assert_eq!(first, Some(want), "{suggestions:#?}");
                for s in suggestions {
                    assert!(
                        Path::new(SCRIPTS).join(&s.cfg).is_file(),
                        "{} missing",
                        s.cfg
                    );
                }
            }
            other => panic!("{chip} wrong-chip: {other:?}\n{log}"),
        }
        let (kind, log) = classify(&oc, chip, FaultId::BitFlips);
        assert!(
            matches!(kind, MismatchKind::Noise { .. }),
            "{chip} bit-flips: {kind:?}\n{log}"
        );
        println!("{chip} bit-flips → {kind:?}");
    }
    let (kind, log) = classify(&oc, Chip::Stm32f1, FaultId::CloneIdcode);
    match kind {
        MismatchKind::Clone { entry, fix_line } => {
            println!("stm32f1 clone-idcode → Clone {} : {fix_line}", entry.key);
            assert_eq!(fix_line, "set CPUTAPID 0x4ba00477");
        }
        other => panic!("clone-idcode: {other:?}\n{log}"),
    }
    println!("live classification: {:.2} s", t0.elapsed().as_secs_f64());
}

#[test]
fn clone_fix_silences_unexpected() {
    let Some(oc) = openocd() else { return };
    let config = LabConfig::new(Chip::Stm32f1).with_fault(FaultId::CloneIdcode);
    let before = run(&oc, &config, &[]);
    assert!(before.contains("UNEXPECTED"), "{before}");
    let ids = extract_from_log(&before, None, Some(index()));
    let MismatchKind::Clone { fix_line, .. } =
        classify_mismatch(&ids.found, &ids.expected, &ids.context)
    else {
        panic!("not a clone:\n{before}");
    };
    // session_args starts with `-f target/stm32f1x.cfg`: the fix goes before it.
    let after = run(&oc, &config, &["-c", &fix_line]);
    assert!(
        !after.contains("UNEXPECTED"),
        "{fix_line} did not help:\n{after}"
    );
    assert!(after.contains("processor detected"), "{after}");
    println!("`-c \"{fix_line}\"` before the target cfg: no UNEXPECTED");
}
