//! Problems of `ocdoctor_cfg` and `ocdoctor_ide` converted into `ocdoctor_core::SourceProblem`s:
//! where they show (a script, the command line, or the IDE setting an argv word came from),
//! the facts the rules' titles and fixes fill in, and the edit that fixes them.

use ocdoctor_cfg::{Invocation, Session};
use ocdoctor_core::SourceProblem;
use ocdoctor_ide::{Edit, IdeFile};
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::Checked;
use super::openocd::Installed;
use crate::fix::{FileEdit, content_hash};

pub(super) fn slice(text: &str, r: Range<usize>) -> &str {
    text.get(r).unwrap_or("")
}

fn is_under(path: &Path, dirs: &[PathBuf]) -> bool {
    let p = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    dirs.iter().any(|d| p.starts_with(d))
}

/// Where a cfg problem on the reconstructed command line of an IDE config really is: the
/// setting the argv element came from.
pub(super) struct IdeOrigin<'a> {
    pub(super) file: &'a IdeFile,
    /// `content_hash` of `file.text`.
    pub(super) file_hash: u64,
    pub(super) config: &'a ocdoctor_ide::LaunchConfig,
    pub(super) inv: &'a Invocation,
}

impl IdeOrigin<'_> {
    /// The IDE-file span of the argv word that contains `offset` of the command line.
    fn span_for(&self, offset: usize) -> Option<Range<usize>> {
        self.setting_for(offset)
            .or_else(|| Some(self.config.span.clone()))
    }

    /// The span of the IDE setting the argv word at `offset` came from (`None`: the front end
    /// wrote that word itself).
    pub(super) fn setting_for(&self, offset: usize) -> Option<Range<usize>> {
        self.origin_at(offset)?.clone()
    }

    /// Where the argv word at `offset` of the command line came from: `Some(None)` when the
    /// front end wrote it itself, `None` when no word is there.
    fn origin_at(&self, offset: usize) -> Option<&Option<Range<usize>>> {
        let idx = self
            .inv
            .words()
            .position(|a| a.span.start <= offset && offset <= a.span.end)?;
        // argv_origins counts the program too when the argv has one.
        let k = if self.inv.program.is_some() {
            idx
        } else {
            idx + 1
        };
        self.config.argv_origins.get(k)
    }

    /// Where `found` is written inside the setting at `setting`, when it is there exactly once
    /// and as is (no escapes, no variables), and `new` can be written there without escaping:
    /// the span an edit replaces, so the rest of the setting and the file stay as they are.
    fn edit_span(&self, setting: Range<usize>, found: &str, new: &str) -> Option<Range<usize>> {
        let t = self.file.text.get(setting.clone())?;
        if found.is_empty() || t.matches(found).count() != 1 {
            return None;
        }
        let needs_escape = match self.file.kind {
            ocdoctor_ide::FileKind::VsCodeLaunch => {
                new.chars().any(|c| c == '"' || c == '\\' || c.is_control())
            }
            ocdoctor_ide::FileKind::EclipseLaunch => new
                .chars()
                .any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'') || c.is_control()),
            ocdoctor_ide::FileKind::PlatformIo => new.contains(['\n', '\r']),
        };
        if needs_escape {
            return None;
        }
        let at = setting.start + t.find(found)?;
        Some(at..at + found.len())
    }

    /// Whether a `-c` argument at `loc` was written by the front end itself (no setting of the
    /// IDE file behind it), e.g. the ports Cortex-Debug picks at launch.
    pub(super) fn generated(&self, loc: &ocdoctor_cfg::Location, session: &Session) -> bool {
        let Some(from) = session
            .files
            .iter()
            .find(|f| f.name == loc.file)
            .and_then(|f| f.included_from.as_ref())
        else {
            return false;
        };
        if from.file != ocdoctor_cfg::argv::COMMAND_LINE {
            return false;
        }
        matches!(self.origin_at(from.span.start), Some(None))
    }
}

/// The problems minus the consequences of a more specific one at the same place: a path split
/// at a space or stripped of its backslashes is also "not found" / "an unexpected argument".
pub(super) fn kept(problems: &[ocdoctor_cfg::Problem]) -> Vec<&ocdoctor_cfg::Problem> {
    let place = |p: &ocdoctor_cfg::Problem| p.location.as_ref().map(|l| (l.file.clone(), l.line));
    let specific: HashSet<(String, u32)> = problems
        .iter()
        .filter(|p| {
            matches!(
                p.id.as_str(),
                "windows-path-backslashes" | "unquoted-space-in-path"
            )
        })
        .filter_map(place)
        .collect();
    // `-f My Boards/x.cfg`: the stray `Boards/x.cfg` right after the missing `My` is one path
    // split at a space; OpenOCD 0.12 rejects the stray word before it reads any file.
    let stray_starts: Vec<usize> = problems
        .iter()
        .filter(|p| p.id == "unexpected-argument")
        .filter_map(|p| p.location.as_ref())
        .filter(|l| l.file == ocdoctor_cfg::argv::COMMAND_LINE)
        .map(|l| l.span.start)
        .collect();
    let split_head = |p: &ocdoctor_cfg::Problem| {
        p.id == "missing-file"
            && p.location.as_ref().is_some_and(|l| {
                l.file == ocdoctor_cfg::argv::COMMAND_LINE
                    && stray_starts.iter().any(|&s| {
                        // The stray right after it, or the stray problem that spans both words.
                        (s > l.span.end && s <= l.span.end + 2) || s == l.span.start
                    })
            })
    };
    problems
        .iter()
        .filter(|p| !split_head(p))
        .filter(|p| {
            !(matches!(p.id.as_str(), "missing-file" | "unexpected-argument")
                && place(p).is_some_and(|k| specific.contains(&k)))
        })
        .collect()
}

/// What a cfg problem is converted against: the session it came from, the command line, the
/// installed OpenOCD, and the IDE setting the command line was built from (if any).
struct Context<'a, 'o> {
    session: &'a Session,
    inv: &'a Invocation,
    inst: &'a Installed,
    origin: Option<&'a IdeOrigin<'o>>,
}

/// A problem's place, as read: the text the location names (the command line, a `-c`
/// argument, or a script), the span narrowed to what the fix replaces, and that text.
struct Located<'a> {
    loc: &'a ocdoctor_cfg::problem::Location,
    file: Option<&'a ocdoctor_cfg::resolve::SourceFile>,
    text: &'a str,
    span: Range<usize>,
    col: u64,
    found: String,
}

/// Convert one cfg problem. `cwd` is the folder the command ran in.
pub(super) fn convert_cfg(
    p: &ocdoctor_cfg::Problem,
    session: &Session,
    inv: &Invocation,
    inst: &Installed,
    origin: Option<&IdeOrigin<'_>>,
    out: &mut Checked,
) {
    if is_version_problem_in_shipped_script(p, session, inst) {
        return;
    }
    let cx = Context {
        session,
        inv,
        inst,
        origin,
    };
    let mut sp = SourceProblem {
        source: "config".into(),
        id: p.id.clone(),
        message: p.message.clone(),
        ..Default::default()
    };
    let mut facts: Vec<(String, String)> = Vec::new();
    if let Some(s) = &p.suggestion {
        facts.push(("suggestion".into(), s.clone()));
    }
    // The transports the configured adapter driver offers (OpenOCD 0.12's drivers).
    if p.id == "transport-not-supported-by-adapter"
        && let Some(drv) = session.model.adapter_driver()
        && let Some(t) = ocdoctor_cfg::resolve::driver_transports(drv)
    {
        facts.push(("driver".into(), drv.to_string()));
        facts.push(("supported".into(), t.join(", ")));
    }
    let edit = match &p.location {
        Some(loc) => place(&cx, p, loc, &mut sp, &mut facts),
        None => None,
    };
    kind_facts(p, session, inv, &mut facts);
    // IDE-derived problems keep the source "config" for the rules: a cfg id is a cfg problem,
    // the IDE file is just where it shows.
    if origin.is_some() {
        sp.source = "config".into();
        facts.push((
            "config".into(),
            origin.map(|o| o.config.name.clone()).unwrap_or_default(),
        ));
    }
    sp.facts = facts;
    out.push(sp, edit);
}

/// The scripts an OpenOCD ships fit that OpenOCD: version knowledge does not apply to them
/// (the version table flags e.g. `shutdown` in swj-dp.tcl).
fn is_version_problem_in_shipped_script(
    p: &ocdoctor_cfg::Problem,
    session: &Session,
    inst: &Installed,
) -> bool {
    matches!(
        p.id.as_str(),
        "command-needs-newer-version" | "deprecated-command" | "removed-command"
    ) && p.location.as_ref().is_some_and(|l| {
        session
            .files
            .iter()
            .find(|f| f.name == l.file)
            .and_then(|f| f.path.as_deref())
            .is_some_and(|path| is_under(path, &inst.scripts_dirs))
    })
}

/// Where the problem shows (`sp.path`, line, column, span, text), the facts its place gives
/// (`found`, `file`, `command`, `replacement`, `fixed`) and the edit that fixes it.
fn place(
    cx: &Context<'_, '_>,
    p: &ocdoctor_cfg::Problem,
    loc: &ocdoctor_cfg::problem::Location,
    sp: &mut SourceProblem,
    facts: &mut Vec<(String, String)>,
) -> Option<FileEdit> {
    // The text the location names: the command line, a `-c` argument, or a script.
    let file = cx.session.files.iter().find(|f| f.name == loc.file);
    let (text, path): (&str, Option<&Path>) = if loc.file == ocdoctor_cfg::argv::COMMAND_LINE {
        (cx.inv.line.as_str(), None)
    } else {
        match file {
            Some(f) => (f.text.as_str(), f.path.as_deref()),
            None => ("", None),
        }
    };
    let mut span = loc.span.start..loc.span.end;
    // `source [find X]`: the problem spans `find X`; the fix replaces the name only.
    if matches!(
        p.id.as_str(),
        "missing-file" | "deprecated-file" | "removed-file"
    ) {
        let t = slice(text, span.clone());
        for pre in ["find ", "script ", "source "] {
            if let Some(rest) = t.strip_prefix(pre) {
                span.start += t.len() - rest.trim_start().len();
                break;
            }
        }
    }
    // The column follows the narrowed span (`find X` → `X`).
    let col = u64::from(loc.col) + span.start.saturating_sub(loc.span.start) as u64;
    let found = slice(text, span.clone()).to_string();
    facts.push(("found".into(), found.clone()));
    if matches!(p.id.as_str(), "deprecated-file" | "removed-file") {
        // The documented replacement as OpenOCD arguments; not always a file name alone
        // (`target/rp2040-core0.cfg` → `-c 'set USE_CORE 0' -f target/rp2040.cfg`).
        let r = ocdoctor_cfg::versions::file_replacement_args(&found, cx.session.version)
            .unwrap_or_else(|| "the file OpenOCD's deprecation warning names".into());
        facts.push(("replacement".into(), r));
    }
    let file_fact = match p.id.as_str() {
        "missing-file" | "deprecated-file" | "removed-file" | "unquoted-space-in-path" => {
            found.clone()
        }
        _ => path.map_or_else(|| loc.file.clone(), |p| p.display().to_string()),
    };
    facts.push(("file".into(), file_fact));
    let command = slice(text, line_span(text, span.start))
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    facts.push(("command".into(), command));
    let at = Located {
        loc,
        file,
        text,
        span,
        col,
        found,
    };
    match path {
        Some(real) => place_in_script(cx, p, &at, real, sp),
        None => place_on_command_line(cx, p, &at, sp, facts),
    }
}

/// A problem in a script file: shown there; its suggestion is an edit unless the script is one
/// the installed OpenOCD ships.
fn place_in_script(
    cx: &Context<'_, '_>,
    p: &ocdoctor_cfg::Problem,
    at: &Located<'_>,
    real: &Path,
    sp: &mut SourceProblem,
) -> Option<FileEdit> {
    let (text, loc) = (at.text, at.loc);
    sp.path = Some(real.display().to_string());
    sp.line = u64::from(loc.line);
    sp.column = at.col;
    sp.span = Some((at.span.start as u64, at.span.end as u64));
    let lines = &at.file?.lines;
    sp.text = lines.line(text, loc.line as usize).to_string();
    let s = p.suggestion.as_ref()?;
    if is_under(real, &cx.inst.scripts_dirs) {
        return None;
    }
    // An empty replacement deletes the command; when it is alone on its line, the line goes too.
    let mut span = at.span.clone();
    if s.is_empty() {
        let line = line_span(text, span.start);
        if text[line.clone()].trim() == text[span.clone()].trim() {
            span = line.start..(line.end + 1).min(text.len());
        }
    }
    let e = Edit::new(span.clone(), s.clone());
    let label = real.display().to_string();
    let diff = e.to_unified_diff(text, lines, label.trim_start_matches('/'));
    if diff.is_empty() {
        return None;
    }
    sp.edit = Some(diff);
    Some(FileEdit {
        path: real.to_path_buf(),
        span,
        replacement: s.clone(),
        base_hash: content_hash(text),
    })
}

/// A problem on the command line or in a `-c` argument: the corrected command line as the
/// `fixed` fact; shown in the IDE setting it came from (edited there when the replaced text is
/// written in it), or on the command line.
fn place_on_command_line(
    cx: &Context<'_, '_>,
    p: &ocdoctor_cfg::Problem,
    at: &Located<'_>,
    sp: &mut SourceProblem,
    facts: &mut Vec<(String, String)>,
) -> Option<FileEdit> {
    let (text, loc, span) = (at.text, at.loc, &at.span);
    let on_line = loc.file == ocdoctor_cfg::argv::COMMAND_LINE;
    if let Some(f) = fixed_command_line(cx, p, at) {
        let shown = if on_line { f } else { format!("-c '{f}'") };
        facts.push(("fixed".into(), shown));
    }
    // Where it is on the command line (a `-c` argument: where that argument is).
    let cmdline_offset = if on_line {
        Some(span.start)
    } else {
        at.file
            .and_then(|f| f.included_from.as_ref())
            .map(|l| l.span.start)
    };
    let origin = cx.origin;
    let (Some(o), Some(ide_span)) = (origin, cmdline_offset.and_then(|o| origin?.span_for(o)))
    else {
        sp.path = Some(loc.file.clone());
        sp.line = u64::from(loc.line);
        sp.column = at.col;
        sp.span = Some((span.start as u64, span.end as u64));
        sp.text = text.lines().next().unwrap_or("").to_string();
        if !on_line {
            // Shown as `-c …`: the column moves with the prefix.
            sp.text = format!("-c {}", sp.text);
            sp.column += 3;
        }
        return None;
    };
    // The replacement is known and the text it replaces is written in the IDE setting: edit
    // exactly that text there.
    let target = p.suggestion.as_ref().and_then(|s| {
        let setting = cmdline_offset.and_then(|c| o.setting_for(c))?;
        Some((o.edit_span(setting, &at.found, s)?, s))
    });
    let shown_at = target.as_ref().map_or(ide_span.clone(), |(r, _)| r.clone());
    let l = ocdoctor_ide::Location::in_indexed(
        &o.file.path,
        &o.file.text,
        &o.file.lines,
        shown_at.clone(),
    );
    sp.source = "ide".into();
    sp.path = Some(o.file.path.display().to_string());
    sp.line = u64::from(l.line);
    sp.column = u64::from(l.col);
    sp.span = Some((shown_at.start as u64, shown_at.end as u64));
    sp.text = o.file.lines.line(&o.file.text, l.line as usize).to_string();
    let (r, s) = target?;
    let e = Edit::new(r.clone(), s.clone());
    let label = o.file.path.display().to_string();
    let diff = e.to_unified_diff(&o.file.text, &o.file.lines, label.trim_start_matches('/'));
    if diff.is_empty() {
        return None;
    }
    sp.edit = Some(diff);
    Some(FileEdit {
        path: o.file.path.clone(),
        span: r,
        replacement: s.clone(),
        base_hash: o.file_hash,
    })
}

/// The text of the command line (or the `-c` argument) with the problem fixed, when the fix
/// is known.
fn fixed_command_line(
    cx: &Context<'_, '_>,
    p: &ocdoctor_cfg::Problem,
    at: &Located<'_>,
) -> Option<String> {
    let (text, loc, span) = (at.text, at.loc, &at.span);
    let on_line = loc.file == ocdoctor_cfg::argv::COMMAND_LINE;
    if p.id == "target-before-interface"
        && on_line
        && let Some(reordered) = interface_first(text)
    {
        return Some(reordered);
    }
    let s = p.suggestion.as_ref()?;
    if on_line
        && matches!(
            p.id.as_str(),
            "missing-file" | "deprecated-file" | "removed-file"
        )
    {
        // Every file of this kind on the line at once: one finding shows them all, so its
        // command line fixes them all.
        return Some(corrected_line(text, &cx.session.problems, &p.id));
    }
    let mut t = text.to_string();
    if t.get(span.clone()).is_some() {
        t.replace_range(span.clone(), s);
    }
    Some(t)
}

/// Facts a problem kind carries whatever its place: what was looked for where, the "did you
/// mean", the include cycle.
fn kind_facts(
    p: &ocdoctor_cfg::Problem,
    session: &Session,
    inv: &Invocation,
    facts: &mut Vec<(String, String)>,
) {
    if matches!(p.id.as_str(), "missing-file" | "removed-file") {
        missing_file_facts(p, session, inv, facts);
    }
    if p.id == "invalid-command-name" {
        let dym = p
            .suggestion
            .as_ref()
            .map(|s| format!("; did you mean `{s}`?"));
        facts.push(("did_you_mean".into(), dym.unwrap_or_default()));
    }
    if p.id == "include-cycle" {
        let chain = p
            .message
            .strip_prefix("include cycle: ")
            .unwrap_or(&p.message);
        let chain = chain.split(" (").next().unwrap_or(chain);
        facts.push(("cycle".into(), chain.to_string()));
    }
}

/// The command line with every `-f interface/…` moved before the first `-f target/…` (the
/// order OpenOCD needs: the adapter's transports are known before a target selects one).
/// Words move as typed, quotes included (`-c "adapter speed 1000"`).
fn interface_first(line: &str) -> Option<String> {
    let words = ocdoctor_cfg::argv::split_posix(line);
    let is_pair = |i: usize, dir: &str| {
        words[i].value == "-f" && words.get(i + 1).is_some_and(|w| w.value.starts_with(dir))
    };
    let raw = |i: usize| slice(line, words[i].span.start..words[i].span.end);
    let first_target = (0..words.len()).find(|&i| is_pair(i, "target/"))?;
    let mut moved: Vec<&str> = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if i > first_target && is_pair(i, "interface/") {
            moved.extend([raw(i), raw(i + 1)]);
            i += 2;
        } else {
            rest.push(raw(i));
            i += 1;
        }
    }
    if moved.is_empty() {
        return None;
    }
    let at = rest.iter().position(|w| *w == "-f")?.min(first_target);
    rest.splice(at..at, moved);
    Some(rest.join(" "))
}

/// The command line with the suggestion of every `id` problem on it applied.
fn corrected_line(line: &str, problems: &[ocdoctor_cfg::Problem], id: &str) -> String {
    let mut subs: Vec<(Range<usize>, &str)> = problems
        .iter()
        .filter(|q| {
            q.id == id
                || matches!(
                    q.id.as_str(),
                    "missing-file" | "deprecated-file" | "removed-file"
                )
        })
        .filter_map(|q| {
            let l = q.location.as_ref()?;
            let s = q.suggestion.as_deref()?;
            (l.file == ocdoctor_cfg::argv::COMMAND_LINE).then_some((l.span.start..l.span.end, s))
        })
        .collect();
    subs.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut t = line.to_string();
    let mut limit = usize::MAX;
    for (r, s) in subs {
        if r.end <= limit && t.get(r.clone()).is_some() {
            t.replace_range(r.clone(), s);
            limit = r.start;
        }
    }
    t
}

/// Facts of a missing file for CFG101, each always set so no placeholder is left unfilled:
/// `did_you_mean` (`; did you mean X?` or empty), `also_missing` (the other missing files of
/// the session, with theirs), and the next step: `next_title` / `next` (the corrected command
/// line; after an edit, the command as it was; with no suggestion, where to look).
fn missing_file_facts(
    p: &ocdoctor_cfg::Problem,
    session: &Session,
    inv: &Invocation,
    facts: &mut Vec<(String, String)>,
) {
    let name_of = |q: &ocdoctor_cfg::Problem| -> String {
        let Some(l) = &q.location else {
            return String::new();
        };
        let text = if l.file == ocdoctor_cfg::argv::COMMAND_LINE {
            inv.line.as_str()
        } else {
            session
                .files
                .iter()
                .find(|f| f.name == l.file)
                .map_or("", |f| f.text.as_str())
        };
        let t = slice(text, l.span.start..l.span.end);
        ["find ", "script ", "source "]
            .iter()
            .find_map(|pre| t.strip_prefix(pre))
            .unwrap_or(t)
            .trim()
            .to_string()
    };
    let dym =
        |q: &ocdoctor_cfg::Problem| q.suggestion.as_ref().map(|s| format!("did you mean {s}?"));
    facts.push((
        "did_you_mean".into(),
        dym(p).map(|d| format!("; {d}")).unwrap_or_default(),
    ));
    let others: Vec<String> = session
        .problems
        .iter()
        .filter(|q| q.id == "missing-file" && q.location != p.location)
        .map(|q| match dym(q) {
            Some(d) => format!("`{}` ({d})", name_of(q)),
            None => format!("`{}`", name_of(q)),
        })
        .collect();
    facts.push((
        "also_missing".into(),
        if others.is_empty() {
            String::new()
        } else {
            format!(" Not found either: {}.", others.join(", "))
        },
    ));
    let on_line = p
        .location
        .as_ref()
        .is_some_and(|l| l.file == ocdoctor_cfg::argv::COMMAND_LINE);
    let (title, next) = if on_line && p.suggestion.is_some() {
        (
            "Run the corrected command line".to_string(),
            corrected_line(&inv.line, &session.problems, "missing-file"),
        )
    } else if p.suggestion.is_some() {
        ("Then run OpenOCD as before".to_string(), inv.line.clone())
    } else {
        let base = name_of(p);
        let base = base.rsplit(['/', '\\']).next().unwrap_or(&base).to_string();
        (
            format!("Look for {base} (it is not in the installed scripts)"),
            format!("find / -name '{base}' 2>/dev/null"),
        )
    };
    facts.push(("next_title".into(), title));
    facts.push(("next".into(), next));
}

/// The byte range of the line holding `offset`.
fn line_span(text: &str, offset: usize) -> Range<usize> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    start..end
}

pub(super) fn convert_ide(
    p: &ocdoctor_ide::IdeProblem,
    file: &IdeFile,
    file_hash: u64,
    config: &str,
    out: &mut Checked,
) {
    let path = file.path.display().to_string();
    let found = slice(&file.text, p.location.span.clone()).to_string();
    let mut facts = vec![
        ("file".to_string(), path.clone()),
        ("found".to_string(), found),
        ("config".to_string(), config.to_string()),
    ];
    let mut edit = None;
    let mut diff = None;
    if let Some(e) = &p.edit {
        facts.push(("suggestion".into(), e.replacement.trim().to_string()));
        let d = e.to_unified_diff(&file.text, &file.lines, path.trim_start_matches('/'));
        if !d.is_empty() {
            diff = Some(d);
            edit = Some(FileEdit {
                path: file.path.clone(),
                span: e.span.clone(),
                replacement: e.replacement.clone(),
                base_hash: file_hash,
            });
        }
    }
    let sp = SourceProblem {
        source: "ide".into(),
        id: p.id.to_string(),
        message: p.message.clone(),
        path: Some(path),
        line: u64::from(p.location.line),
        column: u64::from(p.location.col),
        span: Some((p.location.span.start as u64, p.location.span.end as u64)),
        text: file
            .lines
            .line(&file.text, p.location.line as usize)
            .to_string(),
        facts,
        edit: diff,
    };
    out.push(sp, edit);
}
