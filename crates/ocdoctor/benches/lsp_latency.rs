//! Benchmark (not a test): how long after a `didChange` the diagnostics arrive, on a 10-file
//! OpenOCD config (a board cfg sourcing 9 local cfgs and the installed interface/target cfgs).
//! `cargo bench -p ocdoctor --bench lsp_latency` (the target: under 50 ms).

#[path = "../tests/lsp_client/mod.rs"]
mod lsp_client;

use std::path::Path;
use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let mut board = String::from(
        "# a board of ten files\nsource [find interface/stlink.cfg]\ntransport select hla_swd\n",
    );
    for i in 1..=9 {
        let name = format!("part{i}.cfg");
        std::fs::write(
            root.join(&name),
            format!(
                "# part {i}\nset PART{i} {i}\nproc part{i}_init {{}} {{\n    echo \"part {i}\"\n}}\nadapter speed {}\n",
                1000 + i
            ),
        )
        .unwrap();
        board += &format!("source [find {name}]\n");
    }
    board += "source [find target/stm32f4x.cfg]\nreset_config srst_only\n";
    let path = root.join("board.cfg");
    std::fs::write(&path, &board).unwrap();

    let mut c = lsp_client::Client::start(Path::new(env!("CARGO_BIN_EXE_ocdoctor")), &root);
    c.open(&path, &board);
    let first = c.diagnostics(&lsp_client::uri(&path));
    println!("open: {} diagnostics", first.len());
    let mut times = Vec::new();
    for round in 0..60 {
        // Every other change adds a deprecated command, so the diagnostics really change.
        let text = if round % 2 == 0 {
            format!("{board}adapter_khz {round}\n")
        } else {
            board.clone()
        };
        c.clear();
        let t = Instant::now();
        c.change(&path, round + 2, &text);
        let d = c.diagnostics(&lsp_client::uri(&path));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(
            d.iter().any(|x| x["code"] == "CFG106"),
            round % 2 == 0,
            "round {round}: {d:?}"
        );
    }
    // The first few warm the caches (openocd --version, the knowledge base).
    let mut warm: Vec<f64> = times[5..].to_vec();
    warm.sort_by(f64::total_cmp);
    let pct = |p: f64| warm[((warm.len() - 1) as f64 * p).round() as usize];
    println!(
        "didChange -> publishDiagnostics on a 10-file config: first {:.1} ms; warm median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} changes)",
        times[0],
        pct(0.5),
        pct(0.95),
        warm[warm.len() - 1],
        warm.len()
    );
    c.stop();
}
