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
            || !case["log"].as_str().unwrap().contains("0x2ba01477")
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
}
