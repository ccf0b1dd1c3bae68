//! A log bigger than the engine keeps in memory (`KEEP_LOG_BYTES`, 16 MiB) still gets the
//! chip-identity reading: its id lines are picked out while it streams through the scanner.

use ocdoctor_engine::log::{DiagnoseOptions, KEEP_LOG_BYTES, read_log_file};
use std::io::Write;

const SMALL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ocdoctor/tests/data/rbb_idcode_mismatch_f1cfg_f4chip.log"
);

/// The idcode finding's fix titles and the first evidence line number.
fn idcode_finding(report: &ocdoctor_core::Report) -> (Vec<String>, Vec<u64>) {
    let f = report
        .findings
        .iter()
        .find(|f| f.cause == "idcode-mismatch")
        .expect("an idcode-mismatch finding");
    (
        f.fixes.iter().map(|x| x.title.clone()).collect(),
        f.evidence.iter().map(|e| e.line).collect(),
    )
}

#[test]
fn chip_lines_beyond_16_mib_are_read() {
    let small = std::fs::read_to_string(SMALL).expect("the idcode log");
    let (banner, rest) = small.split_at(small.find("Licensed under").expect("banner"));
    // 20 MiB of an ordinary line between the banner and the scan: the chip lines start after
    // byte 16 MiB.
    let filler_line = "Info : ocdoctor big-log test filler, nothing to see here\n";
    let count = (20 << 20) / filler_line.len();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    out.write_all(banner.as_bytes()).unwrap();
    for _ in 0..count {
        out.write_all(filler_line.as_bytes()).unwrap();
    }
    out.write_all(rest.as_bytes()).unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let first_id_byte = banner.len() + count * filler_line.len();
    assert!(
        first_id_byte > KEEP_LOG_BYTES && size >= 20 << 20,
        "{size} bytes"
    );

    let big = read_log_file(&path).expect("read the big log");
    assert!(big.text.is_none(), "a 20 MiB log is not kept whole");
    assert!(big.id_reading().is_some(), "no chip reading of the big log");
    let big_report = ocdoctor_engine::log::diagnose(big, &DiagnoseOptions::default()).unwrap();

    let small_read = read_log_file(std::path::Path::new(SMALL)).unwrap();
    let small_report =
        ocdoctor_engine::log::diagnose(small_read, &DiagnoseOptions::default()).unwrap();

    let (big_fixes, big_lines) = idcode_finding(&big_report);
    let (small_fixes, small_lines) = idcode_finding(&small_report);
    // The reading shaped the finding (the cfgs that fit the chip that answered)…
    assert!(
        big_fixes.iter().any(|t| t.starts_with("Use ")),
        "no chip-reading fix in {big_fixes:?}"
    );
    // …exactly as for the same lines in a small log, and the evidence lines moved by the filler.
    assert_eq!(big_fixes, small_fixes);
    let shift = count as u64;
    assert_eq!(
        big_lines,
        small_lines.iter().map(|l| l + shift).collect::<Vec<_>>()
    );
}
