//! `ocdoctor check`: an OpenOCD configuration checked without running it. The free arguments
//! hold the inputs and our own options (`--format`, `--openocd`, `--scripts`), anywhere.

use super::{Format, UsageError, out, render_report};
use ocdoctor_engine::check;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// What to check: `-- openocd ARGS…`, openocd's options, a folder, a launch file or a .cfg.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "INPUT"
    )]
    pub args: Vec<String>,
}

/// The parsed free arguments of `check` and `fix`.
pub struct Parsed {
    pub format: Format,
    pub options: check::Options,
    pub inputs: Vec<check::Input>,
    /// `fix --apply`.
    pub apply: bool,
    /// Hidden: print the raw problems, as the rules' `*.problems.json` fixtures hold them.
    pub raw: bool,
}

/// Take our options out of the free arguments; the rest are the inputs.
pub fn parse(mut args: Vec<String>, fix: bool) -> Result<Parsed, UsageError> {
    let format = match take_option(&mut args, "format", true).as_deref() {
        None | Some("text") => Format::Text,
        Some("json") => Format::Json,
        Some("markdown") => Format::Markdown,
        Some("sarif") => Format::Sarif,
        Some(other) => {
            return Err(UsageError(format!(
                "--format {other:?}: use text, json, markdown or sarif"
            )));
        }
    };
    let options = check::Options {
        openocd: take_option(&mut args, "openocd", true).map(PathBuf::from),
        scripts: take_option(&mut args, "scripts", true).map(PathBuf::from),
    };
    let apply = fix && take_option(&mut args, "apply", false).is_some();
    let raw = take_option(&mut args, "problems-json", false).is_some();
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    check::prefetch_version(&options);
    let inputs = check::parse_inputs(&args)?;
    Ok(Parsed {
        format,
        options,
        inputs,
        apply,
        raw,
    })
}

pub fn run(args: CheckArgs, color: bool) -> Result<u8, UsageError> {
    let Some((p, checked)) = parse_and_check(args.args, false)? else {
        return Ok(0);
    };
    let report = check::report(&checked, None);
    out(&render_report(&report, p.format, color));
    Ok(check::exit_code(&report))
}

/// The free arguments of `check` (`fix` when `fix`) parsed and checked; `None` when `--raw`
/// asked for the problems alone and they are printed.
pub fn parse_and_check(
    args: Vec<String>,
    fix: bool,
) -> Result<Option<(Parsed, check::Checked)>, UsageError> {
    let p = parse(args, fix)?;
    let checked = check::check(&p.inputs, &p.options)?;
    if p.raw {
        out(&check::problems_json(&checked.problems));
        return Ok(None);
    }
    Ok(Some((p, checked)))
}

/// Pull our own long options (`--format X`, `--openocd X`, `--scripts X`, `--apply`) out of the
/// free arguments: clap hands everything after the first free word to the trailing list.
fn take_option(args: &mut Vec<String>, name: &str, takes_value: bool) -> Option<String> {
    let long = format!("--{name}");
    let eq = format!("--{name}=");
    let mut i = 0;
    while i < args.len() {
        if args[i] == long {
            if !takes_value {
                args.remove(i);
                return Some(String::new());
            }
            if i + 1 < args.len() {
                let v = args.remove(i + 1);
                args.remove(i);
                return Some(v);
            }
            return None;
        }
        if takes_value && let Some(v) = args[i].strip_prefix(&eq) {
            let v = v.to_string();
            args.remove(i);
            return Some(v);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options_are_taken_anywhere() {
        let mut a = s(&["-f", "x.cfg", "--format", "json", "--apply"]);
        assert_eq!(take_option(&mut a, "format", true).as_deref(), Some("json"));
        assert_eq!(take_option(&mut a, "apply", false).as_deref(), Some(""));
        assert_eq!(a, s(&["-f", "x.cfg"]));
        let mut b = s(&["--scripts=/x", "."]);
        assert_eq!(take_option(&mut b, "scripts", true).as_deref(), Some("/x"));
        assert_eq!(b, s(&["."]));
    }
}
