//! `check` does work linear in the size of its input, counted rather than timed: every text the
//! check indexes for lines, and every line a diff reads, goes through `ocdoctor_cfg::lines`,
//! which meters the bytes (`bytes_scanned`, per thread). A launch.json of N, 2N and 4N
//! Cortex-Debug configurations (some with problems that have edits) is checked through
//! `check_files` (the language server's call: report, located diagnostics, edits) against the
//! installed OpenOCD and its scripts. Work that re-reads the whole file per problem or per edit
//! (a line index or a diff of the whole file each time) grows 4× per doubling; linear work 2×.

use ocdoctor_engine::check::Input;
use ocdoctor_engine::{CheckRequest, check_files};

const TARGETS: &[&[&str]] = &[
    &["interface/stlink.cfg", "target/stm32f4x.cfg"],
    &["interface/stlink.cfg", "target/stm32f1x.cfg"],
    &["interface/cmsis-dap.cfg", "target/nrf52.cfg"],
    &["board/st_nucleo_f4.cfg"],
];

/// The launch.json of `bench/gen_launch.py`, smaller: every 5th configuration runs the
/// deprecated `adapter_khz` (an edit in the file), every 7th names a cfg that does not exist,
/// every 11th has a misspelt key, every 13th the deprecated `runToMain` (an edit).
fn launch_json(n: usize) -> String {
    let configs: Vec<String> = (0..n)
        .map(|i| {
            let mut files: Vec<String> = TARGETS[i % TARGETS.len()]
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect();
            if i % 7 == 0 {
                files.push(format!("\"board/missing_{}.cfg\"", i % 3));
            }
            let mut extra = String::new();
            if i % 5 == 0 {
                extra.push_str(",\n      \"openOCDLaunchCommands\": [\"adapter_khz 4000\"]");
            }
            if i % 11 == 0 {
                extra.push_str(",\n      \"svdPth\": \"STM32F407.svd\"");
            }
            if i % 13 == 0 {
                extra.push_str(",\n      \"runToMain\": true");
            }
            format!(
                "    {{\n      \"name\": \"Debug {i}\",\n      \"type\": \"cortex-debug\",\n      \
                 \"request\": \"launch\",\n      \"servertype\": \"openocd\",\n      \
                 \"cwd\": \"${{workspaceFolder}}\",\n      \"executable\": \"build/app{i}.elf\",\n      \
                 \"configFiles\": [{}]{extra}\n    }}",
                files.join(", ")
            )
        })
        .collect();
    format!(
        "{{\n  \"version\": \"0.2.0\",\n  \"configurations\": [\n{}\n  ]\n}}\n",
        configs.join(",\n")
    )
}

/// Bytes scanned by one check of a launch.json with `n` configurations, and how many
/// diagnostics and edits it gave.
fn work(n: usize) -> (u64, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".vscode")).unwrap();
    let path = dir.path().join(".vscode/launch.json");
    std::fs::write(&path, launch_json(n)).unwrap();
    let req = CheckRequest {
        inputs: vec![Input::Path(dir.path().to_path_buf())],
        cwd: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let before = ocdoctor_cfg::lines::bytes_scanned();
    let r = check_files(&req).unwrap();
    let scanned = ocdoctor_cfg::lines::bytes_scanned() - before;
    (scanned, r.diagnostics.len(), r.edits.len())
}

#[test]
fn check_scans_its_input_a_bounded_number_of_times() {
    let n = 200;
    let (w1, d1, e1) = work(n);
    let (w2, d2, e2) = work(2 * n);
    let (w4, d4, e4) = work(4 * n);
    // The input really has per-configuration problems and edits, growing with it.
    assert!(d1 >= n / 5 && e1 >= n / 5, "{d1} diagnostics, {e1} edits");
    assert!(
        d2 > d1 && d4 > d2 && e4 > e2,
        "{d1} {d2} {d4} / {e1} {e2} {e4}"
    );
    // The growth of the work per doubling, constants (the shared scripts) cancelled out:
    // linear is 2, quadratic 4.
    let growth = (w4 - w2) as f64 / (w2 - w1) as f64;
    assert!(
        growth < 2.5,
        "bytes scanned {w1} / {w2} / {w4} for {n} / {} / {} configurations: growth {growth:.2} per doubling",
        2 * n,
        4 * n
    );
    // And in absolute terms: a few passes over the file, not one per problem.
    let size = launch_json(4 * n).len() as u64;
    assert!(
        w4 - w2 < 8 * (size / 2),
        "{} bytes scanned for {} more bytes of launch.json",
        w4 - w2,
        size / 2
    );
}
