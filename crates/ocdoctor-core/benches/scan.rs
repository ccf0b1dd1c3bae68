//! Scanner throughput (criterion): a short real log (`stlink_stm32f4.log`, start-up excluded:
//! the scanner is built once) and a 16 MiB `-d3` log made of the repository's real `-d3` runs,
//! repeated with shifted `-d3` counters so no block repeats byte for byte (as
//! `bench/build_big_log.py` does for the 1 GiB log). `cargo bench -p ocdoctor-core --bench scan`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

const RUNS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/runs");
const BIG_BYTES: usize = 16 << 20;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(RUNS).join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Real `-d3` runs, the `# ` provenance lines dropped, concatenated until `BIG_BYTES`; each
/// copy's `Level: N T ` header counters shifted by the copy number.
fn d3_log() -> Vec<u8> {
    let runs: Vec<Vec<u8>> = [
        "dummy_jtag_init_ok_d3.log",
        "dummy_stm32f1_target_d3.log",
        "rbb_stm32f1_ok_d3.log",
        "stlink_d3.log",
    ]
    .iter()
    .map(|n| read(n))
    .collect();
    let mut out = Vec::with_capacity(BIG_BYTES + (64 << 10));
    let mut copy = 0u64;
    while out.len() < BIG_BYTES {
        let run = &runs[copy as usize % runs.len()];
        for line in run.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"# ") {
                continue;
            }
            shift_header(line, copy * 1000, &mut out);
        }
        copy += 1;
    }
    out.truncate(BIG_BYTES);
    out
}

/// `Debug: 123 45 rest` → `Debug: 123+by 45+by rest`; other lines as they are.
fn shift_header(line: &[u8], by: u64, out: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(line);
    let mut parts = text.splitn(4, ' ');
    let (Some(level), Some(a), Some(b), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        out.extend_from_slice(line);
        return;
    };
    // `Info : ` has a space before its colon: the level is two words there.
    let (level, a, b, rest) = if a == ":" {
        let mut more = rest.splitn(2, ' ');
        (
            format!("{level} :"),
            b,
            more.next().unwrap_or(""),
            more.next().unwrap_or(""),
        )
    } else {
        (level.to_string(), a, b, rest)
    };
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) if level.ends_with(':') => {
            out.extend_from_slice(format!("{level} {} {} {rest}", a + by, b + by).as_bytes())
        }
        _ => out.extend_from_slice(line),
    }
}

fn scan(c: &mut Criterion) {
    let scanner = ocdoctor_core::scanner();
    let short = read("stlink_stm32f4.log");
    let big = d3_log();
    // Build what a first scan builds (patterns compiled on first use, the catalog), so the
    // figures are the steady state.
    black_box(scanner.scan_bytes(&short));
    black_box(scanner.scan_bytes(&big));

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(short.len() as u64));
    g.bench_function("short real log", |b| {
        b.iter(|| scanner.scan_bytes(black_box(&short)))
    });
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.sample_size(10);
    g.bench_function("16 MiB -d3 log", |b| {
        b.iter(|| scanner.scan_bytes(black_box(&big)))
    });
    g.finish();

    let mut g = c.benchmark_group("diagnose");
    g.throughput(Throughput::Bytes(short.len() as u64));
    g.bench_function("short real log", |b| {
        b.iter(|| ocdoctor_core::diagnose_bytes(black_box(&short), None))
    });
    g.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
