//! `ocdoctor fix`: the edits `check` proposes, as a unified diff (dry run), or written with
//! `--apply` (a `.orig` backup, atomic writes) and checked again.

use super::check::{CheckArgs, parse};
use super::{UsageError, out, render_report};
use ocdoctor_engine::{check, fix};

pub fn run(args: CheckArgs, color: bool) -> Result<u8, UsageError> {
    let p = parse(args.args, true)?;
    let checked = check::check(&p.inputs, &p.options)?;
    if p.raw {
        out(&check::problems_json(&checked.problems));
        return Ok(0);
    }
    let plan = fix::plan(&checked.edits)?;
    if plan.is_empty() {
        out("ocdoctor fix: no edit to make\n");
    }
    if !p.apply {
        for p in &plan {
            out(&fix::diff(&p.path, &p.old, &p.new));
        }
        if !plan.is_empty() {
            out(
                "\n(dry run: `ocdoctor fix --apply …` writes these edits, keeping a .orig backup)\n",
            );
        }
        return Ok(u8::from(!plan.is_empty()));
    }
    for (path, backup) in fix::apply(&plan)? {
        out(&format!(
            "fixed {} (backup: {})\n",
            path.display(),
            backup.display()
        ));
    }
    // What remains.
    let checked = check::check(&p.inputs, &p.options)?;
    let report = check::report(&checked, None);
    out(&render_report(&report, p.format, color));
    Ok(check::exit_code(&report))
}
