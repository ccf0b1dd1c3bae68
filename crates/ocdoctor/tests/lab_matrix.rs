//! The lab matrix: for every fault of the lab's catalogue on every chip it applies to, run the
//! real openocd with the stock target cfg against the simulated target, diagnose the log, and
//! require the fault's cause to rank first. Healthy sessions must diagnose as `ok`.
//! The lab's logs are a second corpus: the per-fault table is printed.

use ocdoctor_lab::{Chip, Lab, LabConfig, catalogue, run_openocd, session_args};
use std::process::Command;
use std::time::{Duration, Instant};

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

fn run_case(chip: Chip, fault: Option<ocdoctor_lab::FaultId>) -> Outcome {
    let mut config = LabConfig::new(chip);
    if let Some(f) = fault {
        config = config.with_fault(f);
    }
    let timeout = match fault.map(|f| f.id()) {
        Some("ap-wait-forever") => Duration::from_secs(4),
        _ => Duration::from_secs(20),
    };
    let t = Instant::now();
    let lab = Lab::start(config.clone(), None).expect("lab starts");
    let run = run_openocd(
        std::path::Path::new("openocd"),
        lab.port(),
        &session_args(&config),
        timeout,
    )
    .expect("openocd runs");
    let mut log = run.log;
    if fault.is_some_and(|f| f.id() == "debug-only-under-reset") {
        // What a user does next (and what ocdoctor's fix says): connect under reset. The two
        // attempts in one log are what separates firmware that blocks debug from a dead wire.
        let mut args = session_args(&config);
        let at = args
            .iter()
            .position(|a| a == "init")
            .map_or(args.len(), |i| i - 1);
        let under_reset = [
            "-c",
            "reset_config srst_only srst_nogate connect_assert_srst",
            "-c",
            "reset_config",
        ];
        args.splice(at..at, under_reset.iter().map(|s| s.to_string()));
        let second = run_openocd(std::path::Path::new("openocd"), lab.port(), &args, timeout)
            .expect("openocd runs");
        log.push_str(&second.log);
    }
    drop(lab);
    let report = ocdoctor_core::diagnose_bytes(log.as_bytes(), None);
    Outcome {
        name: format!("{}/{}", chip.name(), fault.map_or("healthy", |f| f.id())),
        want: fault.map_or("ok", |f| f.info().cause),
        got: report
            .causes
            .iter()
            .map(|c| (c.cause.clone(), c.confidence))
            .collect(),
        outcome: report.outcome,
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
