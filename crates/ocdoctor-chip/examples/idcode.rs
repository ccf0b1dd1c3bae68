//! `cargo run -p ocdoctor-chip --example idcode -- 0x2ba01477`
//! (or a whole pasted OpenOCD line). Uses the installed scripts, when found,
//! to say which cfgs expect the id (OPENOCD_SCRIPTS overrides the path).

use ocdoctor_chip::{ScriptsIndex, explain_id_with};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let input = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    if input.trim().is_empty() {
        eprintln!("usage: idcode <0x2ba01477 | 2ba01477 | decimal | an OpenOCD log line>");
        return ExitCode::from(2);
    }
    let root = std::env::var_os("OPENOCD_SCRIPTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/openocd/scripts"));
    let index = root.is_dir().then(|| ScriptsIndex::build(&root));
    match explain_id_with(&input, index.as_ref()) {
        Ok(report) => {
            println!("{}", report.render_text());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
