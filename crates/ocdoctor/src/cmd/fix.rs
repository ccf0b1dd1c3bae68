//! `ocdoctor fix`: the edits `check` proposes, as a unified diff (dry run), or written with
//! `--apply` (a `.orig` backup, atomic writes) and checked again. A command line given as
//! `fix -- openocd …` has no file to edit: its fixes are printed as the corrected command line,
//! with or without `--apply` (nothing is run, nothing can be written for it), and `--apply`
//! checks that corrected command. `--format json` prints one `ocdoctor.fix/v1` object: the
//! file edits, the corrected argv of each command line, and after `--apply` the files written
//! and the report of the re-check.

use super::check::{CheckArgs, parse_and_check};
use super::{Format, UsageError, out, render_report};
use ocdoctor_engine::check::{CommandFix, Input};
use ocdoctor_engine::{check, fix};
use serde_json::{Value, json};

pub fn run(args: CheckArgs, color: bool) -> Result<u8, UsageError> {
    let Some((p, checked)) = parse_and_check(args.args, true)? else {
        return Ok(0);
    };
    let plan = fix::plan(&checked.edits)?;
    let commands = &checked.command_fixes;
    let json = p.format == Format::Json;
    if plan.is_empty() && commands.is_empty() && !json {
        out("ocdoctor fix: no edit to make\n");
    }
    if !p.apply {
        if json {
            out(&pretty(&fix_doc(&plan, commands, false)));
        } else {
            for p in &plan {
                out(&fix::diff(&p.path, &p.old, &p.new));
            }
            for c in commands {
                out(&corrected_command(
                    c,
                    "a command line has no file to edit; run it corrected",
                ));
            }
            if !plan.is_empty() {
                out(
                    "\n(dry run: `ocdoctor fix --apply …` writes these edits, keeping a .orig backup)\n",
                );
            }
        }
        return Ok(u8::from(!plan.is_empty() || !commands.is_empty()));
    }
    let written = fix::apply(&plan)?;
    if !json {
        for (path, backup) in &written {
            out(&format!(
                "ocdoctor fix: wrote {} (backup {})\n",
                path.display(),
                backup.display()
            ));
        }
        for c in commands {
            out(&corrected_command(
                c,
                "a command line cannot be written for you and nothing was run; run the corrected command",
            ));
        }
    }
    // What remains: the files as written now, and the command lines as corrected (what the
    // user is told to run).
    let inputs: Vec<Input> = p
        .inputs
        .iter()
        .map(|i| match i {
            Input::Args(argv) => commands
                .iter()
                .find(|c| &c.argv == argv)
                .map_or_else(|| i.clone(), |c| Input::Args(c.fixed.clone())),
            other => other.clone(),
        })
        .collect();
    let checked = check::check(&inputs, &p.options)?;
    let report = check::report(&checked, None);
    if json {
        let mut doc = fix_doc(&plan, commands, true);
        doc["written"] = written
            .iter()
            .map(|(path, backup)| {
                json!({"path": path.display().to_string(), "backup": backup.display().to_string()})
            })
            .collect::<Vec<_>>()
            .into();
        doc["report"] = serde_json::to_value(&report).unwrap_or(Value::Null);
        out(&pretty(&doc));
    } else {
        out(&render_report(&report, p.format, color));
    }
    Ok(check::exit_code(&report))
}

/// The `ocdoctor.fix/v1` object: the file edits as diffs and the corrected command lines
/// (`written` and `report` are added after `--apply`).
fn fix_doc(plan: &[fix::FilePlan], commands: &[CommandFix], applied: bool) -> Value {
    json!({
        "schema": "ocdoctor.fix/v1",
        "applied": applied,
        "edits": plan.iter().map(|f| json!({
            "path": f.path.display().to_string(),
            "diff": fix::diff(&f.path, &f.old, &f.new),
        })).collect::<Vec<_>>(),
        "commands": commands.iter().map(command_json).collect::<Vec<_>>(),
    })
}

fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_default() + "\n"
}

/// A corrected command line in `ocdoctor.fix/v1`: the argv as given and as fixed, the fixed
/// line shell-quoted, and each change.
fn command_json(c: &CommandFix) -> Value {
    json!({
        "argv": c.argv,
        "fixed_argv": c.fixed,
        "fixed_line": c.fixed_line(),
        "changes": c.changes.iter().map(|ch| json!({
            "id": ch.id,
            "from": ch.from,
            "to": if ch.to.is_empty() { Value::Null } else { Value::from(ch.to.clone()) },
        })).collect::<Vec<_>>(),
    })
}

/// The corrected command line: what changes, then the command alone on its line (to copy).
fn corrected_command(c: &CommandFix, why: &str) -> String {
    let mut s = format!("ocdoctor fix: {why}:\n");
    for ch in &c.changes {
        let to = if ch.to.is_empty() {
            "(dropped)"
        } else {
            &ch.to
        };
        s.push_str(&format!("  {} → {}   ({})\n", ch.from, to, ch.id));
    }
    s.push('\n');
    s.push_str(&c.fixed_line());
    s.push_str("\n\n");
    s
}
