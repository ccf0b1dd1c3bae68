//! Run real OpenOCD against one lab configuration and print its log.
//!
//! `cargo run -p ocdoctor-lab --example lab_demo -- stm32f4 [FAULT] [-- OPENOCD-ARGS...]`
//!
//! Without OPENOCD-ARGS the fault's own demonstration commands are used.

use std::path::Path;
use std::time::{Duration, Instant};

use ocdoctor_lab::{Chip, FaultId, Lab, LabConfig, run_openocd, session_args, target_cfg};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (ours, theirs) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], Some(&args[i + 1..])),
        None => (&args[..], None),
    };
    let chip: Chip = ours.first().map_or(Ok(Chip::Stm32f4), |s| s.parse())?;
    let mut config = LabConfig::new(chip);
    if let Some(f) = ours.get(1) {
        config.fault = Some(f.parse::<FaultId>()?);
    }
    let lab = Lab::start(config.clone(), None)?;
    let openocd_args = match theirs {
        Some(extra) => {
            let mut a = vec!["-f".to_owned(), target_cfg(chip).to_owned()];
            a.extend(extra.iter().cloned());
            a
        }
        None => session_args(&config),
    };
    let t = Instant::now();
    let out = run_openocd(
        Path::new("openocd"),
        lab.port(),
        &openocd_args,
        Duration::from_secs(20),
    )?;
    print!("{}", out.log);
    eprintln!(
        "# exit {:?} timed_out {} in {:.2}s",
        out.exit,
        out.timed_out,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
