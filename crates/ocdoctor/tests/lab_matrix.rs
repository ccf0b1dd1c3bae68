//! The lab matrix: for every fault of the lab's catalogue on every chip it applies to, run the
//! real openocd with the stock target cfg against the simulated target, diagnose the log, and
//! require the fault's cause to rank first. Healthy sessions must diagnose as `ok`.
//! The lab's logs are a second corpus: the per-fault table is printed.

use ocdoctor_lab::{Chip, Lab, LabConfig, catalogue, run_openocd, session_plan};
use std::process::Command;
use std::time::Instant;

fn openocd_available() -> bool {
    if Command::new("openocd").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("OCDOCTOR_SKIP_LIVE").is_some(),
        "openocd is not installed: install it (apt-get install openocd) or set OCDOCTOR_SKIP_LIVE=1"
    );
    false
}

struct Outcome {
    name: String,
    want: &'static str,
    got: Vec<(String, f64)>,
    outcome: String,
    log: String,
    secs: f64,
}

/// `ocdoctor diagnose --no-env -f json -`: what a user gets, chip-identity reading included.
fn diagnose_with_the_binary(log: &str) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(["diagnose", "--no-env", "-f", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ocdoctor runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(log.as_bytes()).expect("log written");
    drop(stdin);
    let out = child.wait_with_output().expect("ocdoctor finishes");
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn run_case(chip: Chip, fault: Option<ocdoctor_lab::FaultId>) -> Outcome {
    let mut config = LabConfig::new(chip);
    if let Some(f) = fault {
        config = config.with_fault(f);
    }
    let t = Instant::now();
    let lab = Lab::start(config.clone(), None).expect("lab starts");
    // The same runs `ocdoctor lab demo` makes (one, or two for faults that only a retry under
    // reset separates), read as one log.
    let mut log = String::new();
    for run in session_plan(&config) {
        let out = run_openocd(
            std::path::Path::new("openocd"),
            lab.port(),
            &run.args,
            run.timeout,
        )
        .expect("openocd runs");
        log.push_str(&out.log);
    }
    drop(lab);
    let report = diagnose_with_the_binary(&log);
    Outcome {
        name: format!("{}/{}", chip.name(), fault.map_or("healthy", |f| f.id())),
        // A fault only another transport tells apart (jtag-disabled) is named by what its
        // log shows; `investigate` resolves it (crates/ocdoctor-investigate/tests/lab.rs).
        want: fault.map_or("ok", |f| f.info().log_alone_cause.unwrap_or(f.info().cause)),
        got: report["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["cause"].as_str().unwrap_or_default().to_string(),
                    c["confidence"].as_f64().unwrap_or_default(),
                )
            })
            .collect(),
        outcome: report["outcome"].as_str().unwrap_or_default().to_string(),
        log,
        secs: t.elapsed().as_secs_f64(),
    }
}

#[test]
fn every_lab_fault_is_diagnosed_with_its_cause_first() {
    if !openocd_available() {
        return;
    }
    let mut jobs: Vec<(Chip, Option<ocdoctor_lab::FaultId>)> =
        Chip::ALL.iter().map(|c| (*c, None)).collect();
    for f in catalogue() {
        for c in f.chips {
            jobs.push((*c, Some(f.fault)));
        }
    }
    let t = Instant::now();
    let results: Vec<Outcome> = std::thread::scope(|s| {
        // Four at a time: each run is one openocd process plus one lab thread.
        jobs.chunks(4)
            .flat_map(|chunk| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(c, f)| s.spawn(move || run_case(*c, *f)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("case thread"))
                    .collect::<Vec<_>>()
            })
            .collect()
    });
    let mut failures = Vec::new();
    println!(
        "{:<36} {:<30} {:<9} {:>6}  ranked",
        "case", "expected", "outcome", "secs"
    );
    for r in &results {
        let ok = if r.want == "ok" {
            r.outcome == "ok"
        } else {
            r.got.first().is_some_and(|(c, _)| c == r.want)
        };
        let ranked: Vec<String> = r
            .got
            .iter()
            .take(3)
            .map(|(c, p)| format!("{c} {:.0}%", p * 100.0))
            .collect();
        println!(
            "{:<36} {:<30} {:<9} {:>6.2}  {} {}",
            r.name,
            r.want,
            r.outcome,
            r.secs,
            ranked.join(", "),
            if ok { "" } else { "  <-- WRONG" }
        );
        if !ok {
            failures.push(format!(
                "{}: want {}, outcome {}, got {ranked:?}\n{}",
                r.name, r.want, r.outcome, r.log
            ));
        }
    }
    let right = results.len() - failures.len();
    println!(
        "lab corpus: {right}/{} right first; matrix wall time {:.1} s",
        results.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} lab cases wrong:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
