//! The corrected command line of an `openocd …` argv: a command line has no file to edit, so
//! `fix -- openocd …` answers with the argv each fixable part replaced (`-c 'adapter_khz
//! 4000'` → `-c 'adapter speed 4000'`, a deprecated or misspelt cfg name → the one the scripts
//! hold, the interface cfg moved before the target cfg), shell-quoted to copy.
//!
//! Only replacements known to be real in the OpenOCD checked against are written: a cfg name
//! found in the session's search path, a command that release registers (`commands.tsv`), the
//! renames of the deprecation table followed to that release. Suggestions that are advice
//! (`-f interface/<your probe>.cfg`) or whole options never become part of the line.

use ocdoctor_cfg::argv::{COMMAND_LINE, shell_join, shell_quote};
use ocdoctor_cfg::{Invocation, Problem, Session};
use std::ops::Range;

/// What a problem's suggestion is, for the problems whose suggestion is literal text for the
/// span the problem points at (every other suggestion is advice or a whole option).
#[derive(Clone, Copy, PartialEq)]
enum Replacement {
    /// A cfg file name (relative to the search path).
    CfgFile,
    /// A command name (one or more words, `adapter speed`).
    Command,
    /// Text taken from the problem's own words (a path with `/`, a level in range, nothing).
    Literal,
}

/// The problem ids whose suggestion the corrected command line applies, and what it is.
const LITERAL_FIXES: &[(&str, Replacement)] = &[
    // The deprecation table's replacement, followed to the checked release.
    ("deprecated-command", Replacement::Command),
    ("removed-command", Replacement::Command),
    // The name this older release has for the command.
    ("command-needs-newer-version", Replacement::Command),
    // The nearest known name, kept only when this release has it.
    ("invalid-command-name", Replacement::Command),
    ("deprecated-file", Replacement::CfgFile),
    ("removed-file", Replacement::CfgFile),
    // "did you mean": a name from the installed scripts index.
    ("missing-file", Replacement::CfgFile),
    // Deleting the second `transport select`: the session OpenOCD ran.
    ("transport-select-twice", Replacement::Literal),
    ("windows-path-backslashes", Replacement::Literal),
    ("debug-level-out-of-range", Replacement::Literal),
];

/// One part of the command line the fix changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandChange {
    /// The problem id (`deprecated-command`, `missing-file`…).
    pub id: String,
    /// The argv word as given, shell-quoted (`'adapter_khz 4000'`).
    pub from: String,
    /// The word after the fix, shell-quoted (empty: the option and its value are dropped).
    pub to: String,
}

/// A command line and its corrected form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFix {
    /// The argv as given (the program first when it was given).
    pub argv: Vec<String>,
    /// The argv with every fixable part replaced.
    pub fixed: Vec<String>,
    pub changes: Vec<CommandChange>,
}

impl CommandFix {
    /// The corrected command line, each word shell-quoted.
    pub fn fixed_line(&self) -> String {
        shell_join(&self.fixed)
    }
}

/// A replacement inside argv word `word`: bytes `range` of its value become `with`.
struct Sub<'p> {
    word: usize,
    range: Range<usize>,
    with: &'p str,
    id: &'p str,
}

/// The corrected argv of `argv` (parsed as `inv`, resolved as `session`) from the problems that
/// carry a replacement (`problems`: the ones the check keeps), or `None` when nothing on the
/// command line can be fixed.
pub fn command_fix(
    argv: &[String],
    inv: &Invocation,
    session: &Session,
    problems: &[&Problem],
) -> Option<CommandFix> {
    // Word k of `words` is argv[k]: `parse_args` keeps every element, the program first.
    let words: Vec<&ocdoctor_cfg::Arg> = inv.program.iter().chain(inv.args.iter()).collect();
    if words.len() != argv.len() {
        return None;
    }
    let mut subs: Vec<Sub> = problems
        .iter()
        .filter_map(|p| sub_of(p, &words, inv, session))
        .collect();
    subs.sort_by_key(|s| (s.word, std::cmp::Reverse(s.range.start)));
    let mut fixed: Vec<Option<String>> = argv.iter().cloned().map(Some).collect();
    let mut changes = Vec::new();
    let mut k = 0;
    while k < subs.len() {
        let w = subs[k].word;
        let mut value = argv[w].clone();
        let mut limit = usize::MAX;
        let mut ids: Vec<&str> = Vec::new();
        while k < subs.len() && subs[k].word == w {
            let s = &subs[k];
            // Overlapping replacements: the first (rightmost) wins.
            if s.range.end <= limit && value.get(s.range.clone()).is_some() {
                value.replace_range(s.range.clone(), s.with);
                limit = s.range.start;
                if !ids.contains(&s.id) {
                    ids.push(s.id);
                }
            }
            k += 1;
        }
        if value == argv[w] {
            continue;
        }
        // A `-c` command deleted whole: the option goes with it.
        let dropped =
            value.trim().is_empty() && w > 0 && matches!(argv[w - 1].as_str(), "-c" | "--command");
        if dropped {
            fixed[w - 1] = None;
            fixed[w] = None;
        } else {
            fixed[w] = Some(value.clone());
        }
        changes.push(CommandChange {
            id: ids.join(", "),
            from: shell_quote(&argv[w]),
            to: if dropped {
                String::new()
            } else {
                shell_quote(&value)
            },
        });
    }
    let mut fixed: Vec<String> = fixed.into_iter().flatten().collect();
    if problems.iter().any(|p| {
        p.id == "target-before-interface"
            && p.location.as_ref().is_some_and(|l| l.file == COMMAND_LINE)
    }) && let Some(reordered) = interface_first(&fixed)
    {
        fixed = reordered;
        changes.push(CommandChange {
            id: "target-before-interface".into(),
            from: "-f target/… -f interface/…".into(),
            to: "-f interface/… -f target/…".into(),
        });
    }
    (fixed != argv).then(|| CommandFix {
        argv: argv.to_vec(),
        fixed,
        changes,
    })
}

/// Where problem `p`'s replacement goes: in an argv word (a `-f` value, a `-c` argument), in
/// bytes of that word's value.
fn sub_of<'p>(
    p: &'p Problem,
    words: &[&ocdoctor_cfg::Arg],
    inv: &Invocation,
    session: &Session,
) -> Option<Sub<'p>> {
    let with = p.suggestion.as_deref()?;
    let loc = p.location.as_ref()?;
    let id = p.id.as_str();
    if !is_real(id, with, session) {
        return None;
    }
    if loc.file == COMMAND_LINE {
        // The span is in the shell-quoted line: map it into the word it falls in.
        let word = words
            .iter()
            .position(|a| a.span.start <= loc.span.start && loc.span.end <= a.span.end)?;
        let a = words[word];
        if loc.span.start == a.span.start && loc.span.end == a.span.end {
            return Some(Sub {
                word,
                range: 0..a.value.len(),
                with,
                id,
            });
        }
        // Part of the word (`-fX`): its bytes in the value, when the quoting only wraps it.
        let raw = inv.line.get(a.span.start..a.span.end)?;
        let inner = if raw == a.value {
            0
        } else if raw.len() == a.value.len() + 2 && raw.starts_with('\'') {
            1
        } else {
            return None;
        };
        let start = (loc.span.start - a.span.start).checked_sub(inner)?;
        let end = (loc.span.end - a.span.start).checked_sub(inner)?;
        return (start <= end && end <= a.value.len()).then_some(Sub {
            word,
            range: start..end,
            with,
            id,
        });
    }
    // A `-c` argument: its text is the word's value, the span is in it.
    let file = session
        .files
        .iter()
        .find(|f| f.name == loc.file && f.path.is_none())?;
    let from = file.included_from.as_ref()?;
    if from.file != COMMAND_LINE {
        return None;
    }
    let word = words
        .iter()
        .position(|a| a.span.start <= from.span.start && from.span.start < a.span.end)?;
    if words[word].value != file.text {
        return None;
    }
    Some(Sub {
        word,
        range: loc.span.start..loc.span.end,
        with,
        id,
    })
}

/// Whether `with`, the suggestion of a problem `id`, may be written into the command line:
/// its id is one whose suggestion is literal text, and that text names a cfg file the session's
/// search path holds or a command the checked release registers.
fn is_real(id: &str, with: &str, session: &Session) -> bool {
    let Some(&(_, kind)) = LITERAL_FIXES.iter().find(|(i, _)| *i == id) else {
        return false;
    };
    match kind {
        Replacement::CfgFile => {
            !with.is_empty()
                && !with.starts_with('-')
                && !with.contains(char::is_whitespace)
                && session.search_path.iter().any(|d| d.join(with).is_file())
        }
        Replacement::Command => with.split(' ').next().is_some_and(|name| {
            !name.is_empty() && ocdoctor_cfg::commands::is_known_in(name, session.version)
        }),
        Replacement::Literal => !with.contains('<'),
    }
}

/// The argv with every `-f interface/…` pair after the first `-f target/…` moved before it.
fn interface_first(argv: &[String]) -> Option<Vec<String>> {
    let is_pair = |i: usize, dir: &str| {
        argv[i] == "-f" && argv.get(i + 1).is_some_and(|w| w.starts_with(dir))
    };
    let first_target = (0..argv.len()).find(|&i| is_pair(i, "target/"))?;
    let mut moved = Vec::new();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        if i > first_target && is_pair(i, "interface/") {
            moved.extend_from_slice(&argv[i..i + 2]);
            i += 2;
        } else {
            rest.push(argv[i].clone());
            i += 1;
        }
    }
    if moved.is_empty() {
        return None;
    }
    rest.splice(first_target..first_target, moved);
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn interface_cfgs_move_before_the_first_target() {
        assert_eq!(
            interface_first(&s(&[
                "openocd",
                "-f",
                "target/stm32f1x.cfg",
                "-c",
                "x",
                "-f",
                "interface/stlink.cfg"
            ])),
            Some(s(&[
                "openocd",
                "-f",
                "interface/stlink.cfg",
                "-f",
                "target/stm32f1x.cfg",
                "-c",
                "x"
            ]))
        );
        assert_eq!(
            interface_first(&s(&["-f", "interface/a.cfg", "-f", "target/b.cfg"])),
            None
        );
    }
}
