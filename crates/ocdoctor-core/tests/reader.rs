//! The reader never fails and never depends on how the input was cut into blocks.

use ocdoctor_core::{diagnose_bytes, scanner};

const RUNS: &[&str] = &[
    include_str!("data/runs/stlink_d3.log"),
    include_str!("data/runs/dummy_stm32f1_target.log"),
    include_str!("data/runs/port_conflict_default_ports.log"),
    include_str!("data/runs/rbb_idcode_mismatch_f1cfg_f4chip.log"),
];

fn summary(r: &ocdoctor_core::ScanResult) -> String {
    let rules: Vec<(u64, Vec<u64>)> = r
        .rules
        .iter()
        .map(|h| (h.count, h.lines.iter().map(|l| l.1.line).collect()))
        .collect();
    format!(
        "{} {} {:?} {:?} {:?} {}",
        r.lines,
        r.bytes,
        rules,
        r.first_error.as_ref().map(|l| l.line),
        r.stage_before_first_error,
        r.unexplained_error_count
    )
}

#[test]
fn block_boundaries_do_not_change_the_result() {
    let sc = scanner();
    for log in RUNS {
        let whole = summary(&sc.scan_bytes(log.as_bytes()));
        for step in [1usize, 2, 3, 7, 64, 1000] {
            let mut st = sc.start();
            for chunk in log.as_bytes().chunks(step) {
                st.feed(chunk);
            }
            assert_eq!(summary(&st.finish()), whole, "split every {step} bytes");
        }
    }
}

#[test]
fn line_numbers_are_one_based_and_exact() {
    let log = "Open On-Chip Debugger 0.12.0\nInfo : x\n\nError: open failed\n";
    let r = diagnose_bytes(log.as_bytes(), None);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "PRB001")
        .expect("PRB001 fires");
    assert_eq!(f.evidence[0].line, 4);
    assert_eq!(f.evidence[0].text, "Error: open failed");
}

#[test]
fn hostile_input_yields_a_report() {
    let mut cases: Vec<Vec<u8>> = vec![
        vec![],
        b"\n\n\n".to_vec(),
        (0..=255u8).cycle().take(100_000).collect(),
        b"Error: open failed\r\n".to_vec(),
        b"\x1b[1;31mError: \x1b[0mopen failed\x1b]0;title\x07\n".to_vec(),
        b"Err\0or: open \xff\xfe failed\n".to_vec(),
        b"Open On-Chip Debugger 0.1".to_vec(),
    ];
    let mut long = b"Error: ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 3 << 20));
    long.extend(b"\nError: open failed\n");
    cases.push(long);
    for (i, c) in cases.iter().enumerate() {
        let r = diagnose_bytes(c, None);
        assert!(
            ["failed", "ok", "unknown"].contains(&r.outcome.as_str()),
            "case {i}"
        );
    }
    // The line after a 3 MiB line is still seen, with the right number.
    let r = diagnose_bytes(cases.last().unwrap(), None);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "PRB001")
        .expect("PRB001 after a long line");
    assert_eq!(f.evidence[0].line, 2);
    let crlf = diagnose_bytes(b"Error: open failed\r\n", None);
    assert!(
        crlf.findings.iter().any(|f| f.rule == "PRB001"),
        "CRLF line still matches a whole-message rule"
    );
}

#[test]
fn binary_stretches_are_skipped_but_the_text_around_them_is_read() {
    // 200 KiB of control-heavy bytes with newlines now and then, between two text parts.
    let mut log = b"Open On-Chip Debugger 0.12.0\nInfo : clock speed 2000 kHz\n".to_vec();
    let mut x: u32 = 12345;
    let mut binary_lines = 0u64;
    for i in 0..200 * 1024 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let b = if i % 97 == 96 {
            b'\n'
        } else {
            (x >> 16) as u8 & 0x1f
        };
        if b == b'\n' {
            binary_lines += 1;
        }
        log.push(b);
    }
    log.extend(b"\nError: open failed\n");
    let scan = scanner().scan_bytes(&log);
    assert!(
        scan.binary_bytes > 100 * 1024,
        "binary skipped: {}",
        scan.binary_bytes
    );
    let r = diagnose_bytes(&log, None);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "PRB001")
        .expect("the line after the binary part is read");
    assert_eq!(
        f.evidence[0].line,
        2 + binary_lines + 2,
        "line numbers count the skipped lines"
    );
    assert_eq!(r.binary_bytes_skipped, scan.binary_bytes);
}

/// A failure no rule recognises is ranked by the priors (`unknown` among them), never reported
/// as certain: "unknown 100 %" would claim that no known cause applies, which the log cannot show.
#[test]
fn an_unrecognised_failure_is_ranked_by_the_priors_without_certainty() {
    let log = b"Open On-Chip Debugger 0.12.0\nError: something no rule knows about\nError: and a second odd line\n";
    let r = diagnose_bytes(log, None);
    assert_eq!(r.outcome, "failed");
    assert!(
        r.findings.is_empty(),
        "no rule should fire: {:?}",
        r.findings
    );
    assert!(r.causes.len() >= 3, "causes: {:?}", r.causes);
    // DESIGN.md's contract: `unknown` (first) when nothing is recognised.
    assert_eq!(r.causes[0].cause, "unknown", "{:?}", r.causes);
    let top = r.causes[0].confidence;
    assert!(
        top < 0.5,
        "a prior-only ranking must not be confident: {top}"
    );
    let sum: f64 = r.causes.iter().map(|c| c.confidence).sum();
    assert!(sum <= 1.0 + 1e-9, "confidences sum to {sum}");

    // A healthy run still has no causes at all.
    let ok = diagnose_bytes(
        b"Open On-Chip Debugger 0.12.0\nInfo : Listening on port 3333 for gdb connections\n",
        None,
    );
    assert!(ok.causes.is_empty(), "{:?}", ok.causes);
}
