//! `ocdoctor idcode VALUE`: what a chip id (or a pasted OpenOCD line) means.

use super::{UsageError, out};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct IdcodeArgs {
    /// `0x2ba01477`, `2ba01477`, decimal, or a whole OpenOCD line.
    #[arg(required = true, num_args = 1..)]
    value: Vec<String>,
    /// The OpenOCD scripts folder to search for configs expecting the id.
    #[arg(long, value_name = "DIR")]
    scripts: Option<PathBuf>,
}

pub fn run(args: IdcodeArgs) -> Result<u8, UsageError> {
    out(&ocdoctor_engine::chip::idcode(
        &args.value.join(" "),
        args.scripts,
    )?);
    Ok(0)
}
