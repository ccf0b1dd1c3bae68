//! The corrected command line of an `openocd …` argv: a command line has no file to edit, so
//! `fix -- openocd …` answers with the argv each fixable part replaced (`-c 'adapter_khz
//! 4000'` → `-c 'adapter speed 4000'`, a deprecated or misspelt cfg name → the one the scripts
//! hold, the interface cfg moved before the target cfg), shell-quoted to copy.
//!
//! Only replacements known to be real in the OpenOCD checked against are written: a cfg name
//! found in the session's search path, a command that release registers (`commands.tsv`), the
//! renames of the deprecation table followed to that release. A problem of the command line
//! itself (`-d 3`, an unquoted path or `-c` command, `-p`) replaces the whole words it spans
//! with its suggestion, read as shell words. Suggestions that are advice
//! (`-f interface/<your probe>.cfg`) never become part of the line. Options may be joined
//! (`-finterface/x.cfg`, `-cCMD`, `--file=X`): getopt_long reads them as the separate forms.

use ocdoctor_cfg::argv::{COMMAND_LINE, shell_join, shell_quote, split_posix};
use ocdoctor_cfg::tcl::Span;
use ocdoctor_cfg::{Arg, Invocation, Problem, ProblemId, Session, StepKind};
use std::ops::{Range, RangeInclusive};

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
    /// Shell words for the whole argv words the problem spans (`-d 3` → `-d3`).
    Words,
}

/// The problem ids whose suggestion the corrected command line applies, and what it is.
const LITERAL_FIXES: &[(ProblemId, Replacement)] = &[
    // The deprecation table's replacement, followed to the checked release.
    (ProblemId::DeprecatedCommand, Replacement::Command),
    (ProblemId::RemovedCommand, Replacement::Command),
    // The name this older release has for the command.
    (ProblemId::CommandNeedsNewerVersion, Replacement::Command),
    // The nearest known name, kept only when this release has it.
    (ProblemId::InvalidCommandName, Replacement::Command),
    (ProblemId::DeprecatedFile, Replacement::CfgFile),
    (ProblemId::RemovedFile, Replacement::CfgFile),
    // "did you mean": a name from the installed scripts index.
    (ProblemId::MissingFile, Replacement::CfgFile),
    // Deleting the second `transport select`: the session OpenOCD ran.
    (ProblemId::TransportSelectTwice, Replacement::Literal),
    (ProblemId::WindowsPathBackslashes, Replacement::Literal),
    (ProblemId::DebugLevelOutOfRange, Replacement::Literal),
    // Problems of the command line's words (src/helper/options.c's getopt_long): the level
    // attached (`-d3`), a value split at a space quoted back into one word, a stray cfg given
    // its `-f`, `-p` (removed in 0.12) as the `-c` that does what it did, `-l` with a space as
    // a braced `log_output`.
    (ProblemId::DebugLevelWithSpace, Replacement::Words),
    (ProblemId::InvalidDebugLevel, Replacement::Words),
    (ProblemId::UnexpectedArgument, Replacement::Words),
    (ProblemId::UnquotedSpaceInPath, Replacement::Words),
    (ProblemId::UnknownOption, Replacement::Words),
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
/// `option_len` is the length of a joined option before the value the range is in (2 for
/// `-cCMD`; 0 when the value is a word of its own).
struct Sub<'p> {
    word: usize,
    range: Range<usize>,
    with: &'p str,
    id: &'p str,
    option_len: usize,
}

/// A replacement of argv words `words` (inclusive) by the shell words of `with`.
struct WordsSub<'p> {
    words: RangeInclusive<usize>,
    with: Vec<String>,
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
    let words: Vec<&Arg> = inv.words().collect();
    if words.len() != argv.len() {
        return None;
    }
    let mut subs: Vec<Sub> = Vec::new();
    let mut word_subs: Vec<WordsSub> = Vec::new();
    for p in problems {
        match replacement_of(p, session) {
            Some(Replacement::Words) => word_subs.extend(words_sub_of(p, &words)),
            Some(_) => subs.extend(sub_of(p, &words, inv, session)),
            None => {}
        }
    }
    subs.sort_by_key(|s| (s.word, std::cmp::Reverse(s.range.start)));
    // What each argv word becomes: itself, other words, or nothing.
    let mut fixed: Vec<Vec<String>> = argv.iter().map(|w| vec![w.clone()]).collect();
    let mut touched = vec![false; argv.len()];
    let mut changes = Vec::new();
    apply_value_subs(argv, &subs, &mut fixed, &mut touched, &mut changes);
    word_subs.sort_by_key(|s| *s.words.start());
    for s in word_subs {
        // A word another fix changed already keeps that fix.
        if s.words.clone().any(|w| touched[w]) {
            continue;
        }
        for w in s.words.clone() {
            touched[w] = true;
            fixed[w].clear();
        }
        changes.push(CommandChange {
            id: s.id.to_string(),
            from: shell_join(&argv[s.words.clone()]),
            to: shell_join(&s.with),
        });
        fixed[*s.words.start()] = s.with;
    }
    let mut fixed: Vec<String> = fixed.into_iter().flatten().collect();
    if problems.iter().any(|p| {
        p.id == ProblemId::TargetBeforeInterface.as_str()
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

/// Apply the replacements inside words (`subs`, sorted by word, rightmost first in a word) to
/// `fixed`, marking the words changed and recording each change.
fn apply_value_subs(
    argv: &[String],
    subs: &[Sub],
    fixed: &mut [Vec<String>],
    touched: &mut [bool],
    changes: &mut Vec<CommandChange>,
) {
    let mut k = 0;
    while k < subs.len() {
        let w = subs[k].word;
        let option_len = subs[k].option_len;
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
        touched[w] = true;
        // A `-c` command deleted whole: the option goes with it (`-c X`, or the joined `-cX`).
        let emptied = value.get(option_len..).is_some_and(|v| v.trim().is_empty());
        let dropped = if option_len > 0 {
            emptied
        } else {
            emptied && w > 0 && matches!(argv[w - 1].as_str(), "-c" | "--command")
        };
        if dropped {
            fixed[w].clear();
            if option_len == 0 {
                fixed[w - 1].clear();
                touched[w - 1] = true;
            }
        } else {
            fixed[w] = vec![value.clone()];
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
}

/// The kind of problem `p`'s replacement, when it has one that may be written into the
/// command line (see [`is_real`]).
fn replacement_of(p: &Problem, session: &Session) -> Option<Replacement> {
    let with = p.suggestion.as_deref()?;
    let &(_, kind) = LITERAL_FIXES.iter().find(|(i, _)| i.as_str() == p.id)?;
    is_real(kind, with, session).then_some(kind)
}

/// The words problem `p` of the command line spans (whole words only: its span starts where
/// one word starts and ends where one ends) and the shell words its suggestion is.
fn words_sub_of<'p>(p: &'p Problem, words: &[&Arg]) -> Option<WordsSub<'p>> {
    let loc = p.location.as_ref().filter(|l| l.file == COMMAND_LINE)?;
    let words_spanned = words_spanning(words, loc.span)?;
    let with: Vec<String> = split_posix(p.suggestion.as_deref()?)
        .into_iter()
        .map(|a| a.value)
        .collect();
    (!with.is_empty()).then_some(WordsSub {
        words: words_spanned,
        with,
        id: p.id.as_str(),
    })
}

/// Where problem `p`'s replacement goes: in an argv word (a `-f` value, a `-c` argument), in
/// bytes of that word's value.
fn sub_of<'p>(
    p: &'p Problem,
    words: &[&Arg],
    inv: &Invocation,
    session: &Session,
) -> Option<Sub<'p>> {
    let with = p.suggestion.as_deref()?;
    let loc = p.location.as_ref()?;
    let id = p.id.as_str();
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
                option_len: 0,
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
            option_len: 0,
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
    // The word is the command (`-c CMD`), or a joined option and the command (`-cCMD`,
    // `--command=CMD`).
    let option = words[word].value.strip_suffix(file.text.as_str())?;
    if !(option.is_empty() || option.starts_with('-')) {
        return None;
    }
    Some(Sub {
        word,
        range: option.len() + loc.span.start..option.len() + loc.span.end,
        with,
        id,
        option_len: option.len(),
    })
}

/// The words a span covers whole: it starts where one word starts and ends where one ends.
fn words_spanning(words: &[&Arg], span: Span) -> Option<RangeInclusive<usize>> {
    let first = words.iter().position(|a| a.span.start == span.start)?;
    let last = words.iter().position(|a| a.span.end == span.end)?;
    (first <= last).then_some(first..=last)
}

/// Whether `with`, a suggestion of kind `kind`, may be written into the command line: it names
/// a cfg file the session's search path holds or a command the checked release registers, or
/// it is text with no placeholder.
fn is_real(kind: Replacement, with: &str, session: &Session) -> bool {
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
        Replacement::Literal | Replacement::Words => !with.contains('<'),
    }
}

/// The argv with every `-f interface/…` after the first `-f target/…` moved before it, each
/// option with its words as given (`-f X`, `-fX`, `--file=X`, `--file X`): the argv is read
/// with the same getopt model as the check.
fn interface_first(argv: &[String]) -> Option<Vec<String>> {
    let inv = Invocation::parse_args(argv);
    let words: Vec<&Arg> = inv.words().collect();
    // Each `-f` option: the argv words it covers and the file it names.
    let files: Vec<(RangeInclusive<usize>, &str)> = inv
        .steps
        .iter()
        .filter_map(|step| {
            let StepKind::File(name) = &step.kind else {
                return None;
            };
            Some((words_spanning(&words, step.option_span)?, name.as_str()))
        })
        .collect();
    let first_target = files.iter().find(|(_, f)| f.starts_with("target/"))?;
    let at = *first_target.0.start();
    let moved: Vec<&RangeInclusive<usize>> = files
        .iter()
        .filter(|(w, f)| *w.start() > at && f.starts_with("interface/"))
        .map(|(w, _)| w)
        .collect();
    if moved.is_empty() {
        return None;
    }
    let is_moved = |i: usize| moved.iter().any(|w| w.contains(&i));
    let mut out: Vec<String> = argv[..at].to_vec();
    out.extend(
        moved
            .iter()
            .flat_map(|w| argv[(*w).clone()].iter().cloned()),
    );
    out.extend(
        (at..argv.len())
            .filter(|&i| !is_moved(i))
            .map(|i| argv[i].clone()),
    );
    Some(out)
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
        // Joined and long forms move as the words they are.
        assert_eq!(
            interface_first(&s(&[
                "openocd",
                "-ftarget/stm32f1x.cfg",
                "-cinit",
                "--file=interface/stlink.cfg",
                "--file",
                "interface/extra.cfg"
            ])),
            Some(s(&[
                "openocd",
                "--file=interface/stlink.cfg",
                "--file",
                "interface/extra.cfg",
                "-ftarget/stm32f1x.cfg",
                "-cinit"
            ]))
        );
    }
}
