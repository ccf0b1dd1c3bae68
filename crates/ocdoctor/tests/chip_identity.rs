//! Chip identity inside `diagnose` and `ocdoctor idcode`, on the corpus' real clone reports.

use std::process::Command;

fn ocdoctor(args: &[&str], stdin: Option<&str>) -> (i32, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn corpus_clone_reports_get_the_cputapid_fix() {
    let corpus = include_str!("../../ocdoctor-core/tests/data/corpus/cases.jsonl");
    let mut seen = 0;
    for line in corpus.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        if case["cause"] != "idcode-mismatch"
            // The clone answers 0x2ba01477 where the cfg expects STM32's 0x1ba01477 (the
            // reverse, a cfg edited to the clone's id on a genuine part, wants another fix). A
            // log that shows only the UNEXPECTED line does not say what the cfg expected, so
            // it is not a clone report for this test (0x2ba01477 is also a genuine SW-DP id).
            || !case["log"]
                .as_str()
                .unwrap()
                .contains("UNEXPECTED idcode: 0x2ba01477")
            || !case["log"].as_str().unwrap().contains("0x1ba01477")
        {
            continue;
        }
        seen += 1;
        let (code, out) = ocdoctor(
            &["diagnose", "--no-env", "-f", "json", "-"],
            case["log"].as_str(),
        );
        assert_eq!(code, 1, "{}", case["id"]);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            report["causes"][0]["cause"], "idcode-mismatch",
            "{}",
            case["id"]
        );
        let f = &report["findings"][0];
        let first_fix = &f["fixes"][0];
        assert_eq!(
            first_fix["config"][0], "set CPUTAPID 0x2ba01477",
            "{}: {f:#}",
            case["id"]
        );
        assert!(
            f["explanation"].as_str().unwrap().contains("look-alike"),
            "{}",
            case["id"]
        );
    }
    assert!(seen >= 3, "the corpus has {seen} clone reports");
}

#[test]
fn idcode_command_decodes_values_and_lines() {
    let (code, out) = ocdoctor(&["idcode", "0x2ba01477"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("ARM Ltd") && out.contains("set CPUTAPID 0x2ba01477"),
        "{out}"
    );
    let (code, out) = ocdoctor(
        &[
            "idcode",
            "Info : JTAG tap: stm32f1x.bs tap/device found: 0x06412041 (mfg: 0x020 (STMicroelectronics), part: 0x6412, ver: 0x0)",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("STMicroelectronics"), "{out}");
    let (code, _) = ocdoctor(&["idcode", "not-a-number"], None);
    assert_eq!(code, 2, "a bad value is a usage error");
    // The nrf5 flash driver's own line.
    let (code, out) = ocdoctor(
        &[
            "idcode",
            "Info : nRF52840-QIAA(build code: D0) 1024kB Flash, 256kB RAM",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nRF52840"), "{out}");
    // All ones / all zeroes are wire states: no cfg that uses them as a placeholder is offered.
    for v in ["0xffffffff", "0x00000000"] {
        let (code, out) = ocdoctor(&["idcode", v], None);
        assert_eq!(code, 0, "{out}");
        assert!(!out.contains("Expected by"), "{v}: {out}");
        assert!(out.contains("not a chip id"), "{v}: {out}");
    }
}

fn diagnose_json(log: &str) -> serde_json::Value {
    let (code, out) = ocdoctor(&["diagnose", "--no-env", "-f", "json", "-"], Some(log));
    assert_eq!(code, 1, "{out}");
    serde_json::from_str(&out).unwrap()
}

fn all_config_lines(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["fixes"].as_array().unwrap().iter())
        .flat_map(|x| x["config"].as_array().unwrap().iter())
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// Garbled ids (one bit off, or a TAP whose id changes within one log) rank signal integrity
/// first, and nothing tells the user to accept the noise with `set CPUTAPID`.
#[test]
fn garbled_ids_are_signal_integrity_without_a_cputapid_fix() {
    for log in [
        include_str!("data/idcode_one_bit_off.log"),
        include_str!("data/idcode_changes_between_scans.log"),
    ] {
        let r = diagnose_json(log);
        assert_eq!(r["causes"][0]["cause"], "signal-integrity", "{r:#}");
        let f = &r["findings"][0];
        assert_eq!(f["rule"], "TGT054", "{r:#}");
        assert_eq!(f["evidence"][0]["source"], "log");
        assert!(f["evidence"][0]["line"].as_u64().unwrap() > 0);
        let config = all_config_lines(&r);
        assert!(!config.iter().any(|c| c.contains("CPUTAPID")), "{config:?}");
    }
}

/// The real run of target/stm32f1x.cfg against a chain holding an STM32F4 boundary-scan TAP:
/// a wrong config whose first fix is stm32f4x.cfg, not the F1-clone workaround.
#[test]
fn boundary_scan_tap_names_the_right_cfg_first() {
    let r = diagnose_json(include_str!("data/rbb_idcode_mismatch_f1cfg_f4chip.log"));
    assert_eq!(r["causes"][0]["cause"], "idcode-mismatch", "{r:#}");
    let f = &r["findings"][0];
    assert_eq!(
        f["fixes"][0]["config"][0], "-f target/stm32f4x.cfg",
        "{f:#}"
    );
    assert!(!f["explanation"].as_str().unwrap().contains("look-alike"));
    let config = all_config_lines(&r);
    assert!(!config.iter().any(|c| c.contains("CPUTAPID")), "{config:?}");
}

/// A SWD DP id answered on JTAG (the lab's unexpected-idcode run) matches no look-alike: no
/// GD32F4 flash-layout advice, no placeholder config line.
#[test]
fn an_id_from_another_transport_is_not_read_as_a_clone() {
    let r = diagnose_json(include_str!("data/d_unexpected_idcode.log"));
    assert_eq!(r["causes"][0]["cause"], "idcode-mismatch", "{r:#}");
    let f = &r["findings"][0];
    assert!(
        !f["explanation"].as_str().unwrap().contains("look-alike"),
        "{f:#}"
    );
    let config = all_config_lines(&r);
    assert!(!config.iter().any(|c| c.contains('<')), "{config:?}");
}

/// A log whose only id line is `UNEXPECTED idcode: 0x2ba01477` (corpus case
/// corpusB-electroninjection: a CS32F103 clone under PlatformIO): ARM's own SW-DP id, which
/// cfgs of many vendors declare. The idcode finding says the id names the debug port and what
/// names the chip, and no fix names a vendor's cfg (it used to put Milandr's
/// target/1986ве1т.cfg first); the rule's own "accept the id" fix comes first.
#[test]
fn a_lone_arm_debug_port_id_names_no_vendor_cfg() {
    let corpus = include_str!("../../ocdoctor-core/tests/data/corpus/cases.jsonl");
    let case: serde_json::Value = corpus
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|c| c["id"] == "corpusB-electroninjection-cs32-platformio-cputapid")
        .expect("the corpus holds the lone-id case");
    for log in [
        case["log"].as_str().unwrap().to_string(),
        // The same over JTAG-DP ids and an M0+'s SW-DP, with an HLA adapter's banner before it.
        "Info : STLINK V2J37S7 (API v2) VID:PID 0483:3748\nInfo : Target voltage: 3.25\nWarn : UNEXPECTED idcode: 0x4ba00477\n".to_string(),
        "Info : Target voltage: 3.25\nWarn : UNEXPECTED idcode: 0x0bc11477\n".to_string(),
    ] {
        let r = diagnose_json(&log);
        assert_eq!(r["causes"][0]["cause"], "idcode-mismatch", "{r:#}");
        let f = &r["findings"][0];
        assert_eq!(f["rule"], "TGT005", "{r:#}");
        let explanation = f["explanation"].as_str().unwrap();
        assert!(
            explanation.contains("names the debug port, not the chip")
                && explanation.contains("What names the chip"),
            "{explanation}"
        );
        let config = all_config_lines(&r);
        assert!(
            !config.iter().any(|c| c.contains("-f ") || c.contains("target/")),
            "a generic ARM DP id picked a cfg: {config:?}"
        );
        let found = log.rsplit("0x").next().unwrap().trim();
        assert_eq!(
            f["fixes"][0]["config"][0],
            format!("set CPUTAPID 0x{found}"),
            "{f:#}"
        );
        assert!(
            f["checks"][0].as_str().unwrap().contains("expected-id"),
            "{f:#}"
        );
    }
}
