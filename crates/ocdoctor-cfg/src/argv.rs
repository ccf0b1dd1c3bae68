//! The OpenOCD command line, read the way OpenOCD 0.12 reads it.
//!
//! Facts (src/helper/options.c, v0.12.0 and master at abbbc2e05; the option set is the same):
//! `getopt_long(argc, argv, "hvd::l:f:s:c:", …)` with the long options `--help`, `--version`,
//! `--debug[=N]` (optional argument: only `--debug=N` or `-dN`, never `-d N`), `--file`,
//! `--search`, `--log_output`, `--command`. GNU getopt permutes: non-option words are moved
//! to the end and the first one is reported as `Unexpected command line argument: <word>`,
//! after every option was processed. Long options may be abbreviated to a unique prefix.
//! `-p/--pipe` was removed in 0.12 (getopt rejects it).
//!
//! What each option becomes: `-f X` runs `script {X}` (braced, so backslashes survive),
//! `-c X` runs X as Tcl, `-s X` adds a search dir (no Tcl), `-d N` runs `debug_level N` and
//! `-l X` runs `log_output X` — both formatted into Tcl *unbraced*, so a Windows path or a path
//! with spaces given to `-l` is mangled by Tcl.
//!
//! A command line given as one string is split like a POSIX shell does, or, when the string is
//! clearly a Windows command line (a drive letter path, `openocd.exe`), with the MSVC runtime
//! rules, which keep backslashes.

use crate::problem::{Location, Problem, ProblemId, Severity};
use crate::tcl::Span;
use serde::Serialize;

/// The pseudo file name used in locations that point into the command line.
pub const COMMAND_LINE: &str = "<command line>";

/// One argument and where it is in [`Invocation::line`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arg {
    pub value: String,
    pub span: Span,
}

/// A config step, run in command-line order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum StepKind {
    /// `-f X`: runs `script {X}`.
    File(String),
    /// `-c X`: X is Tcl.
    Command(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub kind: StepKind,
    /// The span of the option's value (for `-fX` / `--file=X`, just the X part when known).
    pub span: Span,
    /// The span of the whole option (`-f X`).
    pub option_span: Span,
}

/// The parsed command line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Invocation {
    /// The command line as text; every span in this struct points into it.
    pub line: String,
    /// Whether `line` was split with Windows rules.
    pub windows: bool,
    /// The program (`openocd`, `C:\…\openocd.exe`) when the first word names it.
    pub program: Option<Arg>,
    /// The arguments after the program.
    pub args: Vec<Arg>,
    pub steps: Vec<Step>,
    /// `-s` directories, in order.
    pub search_dirs: Vec<Arg>,
    /// `-d`/`--debug`: the level text (`"3"` for a bare `-d`).
    pub debug_level: Option<Arg>,
    pub log_output: Option<Arg>,
    pub help: bool,
    pub version: bool,
    /// Problems of the command line itself (unknown options, stray words…).
    pub problems: Vec<Problem>,
}

const LONG: &[(&str, char, ArgReq)] = &[
    ("help", 'h', ArgReq::None),
    ("version", 'v', ArgReq::None),
    ("debug", 'd', ArgReq::Optional),
    ("file", 'f', ArgReq::Required),
    ("search", 's', ArgReq::Required),
    ("log_output", 'l', ArgReq::Required),
    ("command", 'c', ArgReq::Required),
];

#[derive(Clone, Copy, PartialEq)]
enum ArgReq {
    None,
    Optional,
    Required,
}

fn short_req(c: char) -> Option<ArgReq> {
    match c {
        'h' | 'v' => Some(ArgReq::None),
        'd' => Some(ArgReq::Optional),
        'l' | 'f' | 's' | 'c' => Some(ArgReq::Required),
        _ => None,
    }
}

/// Does this word name the OpenOCD program?
fn is_program(word: &str) -> bool {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let base = base.to_ascii_lowercase();
    base == "openocd"
        || base == "openocd.exe"
        || base.starts_with("openocd-")
        || base.starts_with("openocd_")
}

/// Quote a word for display in a POSIX shell command line.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// An argv as one POSIX shell command line: each word [`shell_quote`]d, joined by spaces.
pub fn shell_join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Invocation {
    /// Every word of the command line in order, the program first when the first word names
    /// it (word k of `parse_args(argv)` is `argv[k]`).
    pub fn words(&self) -> impl Iterator<Item = &Arg> {
        self.program.iter().chain(&self.args)
    }

    /// Parse an argv as the shell passed it. The first element may be the program name.
    pub fn parse_args(args: &[String]) -> Invocation {
        let mut line = String::new();
        let mut words = Vec::new();
        for a in args {
            if !line.is_empty() {
                line.push(' ');
            }
            let q = shell_quote(a);
            let start = line.len();
            line.push_str(&q);
            words.push(Arg {
                value: a.clone(),
                span: Span::new(start, line.len()),
            });
        }
        Self::from_words(line, words, false)
    }

    /// Parse a command line given as one string (POSIX shell quoting, or Windows rules when
    /// the string is clearly a Windows command line).
    pub fn parse_command_line(line: &str) -> Invocation {
        let windows = looks_like_windows(line);
        let words = if windows {
            split_windows(line)
        } else {
            split_posix(line)
        };
        Self::from_words(line.to_string(), words, windows)
    }

    fn loc(&self, span: Span) -> Location {
        Location::in_text(COMMAND_LINE, &self.line, span)
    }

    fn from_words(line: String, mut words: Vec<Arg>, windows: bool) -> Invocation {
        let mut inv = Invocation {
            line,
            windows,
            ..Default::default()
        };
        if words.first().is_some_and(|w| is_program(&w.value)) {
            inv.program = Some(words.remove(0));
        }
        inv.args = words;
        inv.getopt();
        inv
    }

    /// GNU getopt_long, as OpenOCD calls it.
    fn getopt(&mut self) {
        let args = self.args.clone();
        let mut strays: Vec<(usize, Arg)> = Vec::new();
        // Index of the argument that held the value of the last option, to explain strays.
        let mut last_value_of: Vec<Option<(char, usize)>> = vec![None; args.len()];
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let v = a.value.as_str();
            if v == "--" {
                strays.extend(
                    args[i + 1..]
                        .iter()
                        .cloned()
                        .enumerate()
                        .map(|(k, x)| (i + 1 + k, x)),
                );
                break;
            }
            if let Some(body) = v.strip_prefix("--") {
                let (name, inline) = match body.find('=') {
                    Some(p) => (&body[..p], Some(&body[p + 1..])),
                    None => (body, None),
                };
                let exact = LONG.iter().find(|(n, _, _)| *n == name);
                let cands: Vec<_> = LONG
                    .iter()
                    .filter(|(n, _, _)| n.starts_with(name))
                    .collect();
                let opt = match (exact, cands.len()) {
                    (Some(o), _) => Some(*o),
                    (None, 1) => Some(*cands[0]),
                    _ => None,
                };
                let Some((_, c, req)) = opt else {
                    let msg = if cands.len() > 1 {
                        format!("option '--{name}' is ambiguous")
                    } else {
                        format!("unrecognized option '{v}'")
                    };
                    self.unknown_option(msg, a.span, name);
                    i += 1;
                    continue;
                };
                let value_span_of_inline = |a: &Arg| {
                    // Only exact when the text in the line is the unquoted word.
                    let text = a.span.text_of(&self.line);
                    match (text == a.value, a.value.find('=')) {
                        (true, Some(p)) => Span::new(a.span.start + p + 1, a.span.end),
                        _ => a.span,
                    }
                };
                match req {
                    ArgReq::None => {
                        if inline.is_some() {
                            self.unknown_option(
                                format!("option '--{name}' doesn't allow an argument"),
                                a.span,
                                name,
                            );
                        } else {
                            self.flag(c);
                        }
                        i += 1;
                    }
                    ArgReq::Optional => {
                        let val = inline.map(|s| Arg {
                            value: s.to_string(),
                            span: value_span_of_inline(a),
                        });
                        self.apply(c, val, a.span, a.span);
                        if inline.is_none() {
                            last_value_of[i] = Some(('d', i));
                        }
                        i += 1;
                    }
                    ArgReq::Required => {
                        if let Some(s) = inline {
                            let val = Arg {
                                value: s.to_string(),
                                span: value_span_of_inline(a),
                            };
                            let vs = val.span;
                            self.apply(c, Some(val), vs, a.span);
                            last_value_of[i] = Some((c, i));
                            i += 1;
                        } else if let Some(next) = args.get(i + 1) {
                            let whole = Span::new(a.span.start, next.span.end);
                            self.apply(c, Some(next.clone()), next.span, whole);
                            last_value_of[i + 1] = Some((c, i + 1));
                            i += 2;
                        } else {
                            self.unknown_option(
                                format!("option '--{name}' requires an argument"),
                                a.span,
                                name,
                            );
                            i += 1;
                        }
                    }
                }
                continue;
            }
            if v.len() > 1 && v.starts_with('-') {
                // A cluster of short options: `-vd3`, `-fboard.cfg`.
                let text_exact = a.span.text_of(&self.line) == a.value;
                let chars = v.char_indices().skip(1);
                let mut consumed_next = false;
                for (off, c) in chars {
                    let Some(req) = short_req(c) else {
                        let msg = format!("invalid option -- '{c}'");
                        self.unknown_option(msg, a.span, &c.to_string());
                        continue;
                    };
                    let rest_off = off + c.len_utf8();
                    let rest = &v[rest_off..];
                    let rest_span = if text_exact {
                        Span::new(a.span.start + rest_off, a.span.end)
                    } else {
                        a.span
                    };
                    match req {
                        ArgReq::None => self.flag(c),
                        ArgReq::Optional => {
                            let val = (!rest.is_empty()).then(|| Arg {
                                value: rest.to_string(),
                                span: rest_span,
                            });
                            if val.is_none() {
                                last_value_of[i] = Some(('d', i));
                            }
                            self.apply(c, val, rest_span, a.span);
                            break;
                        }
                        ArgReq::Required => {
                            if !rest.is_empty() {
                                let val = Arg {
                                    value: rest.to_string(),
                                    span: rest_span,
                                };
                                self.apply(c, Some(val), rest_span, a.span);
                                last_value_of[i] = Some((c, i));
                            } else if let Some(next) = args.get(i + 1) {
                                let whole = Span::new(a.span.start, next.span.end);
                                self.apply(c, Some(next.clone()), next.span, whole);
                                last_value_of[i + 1] = Some((c, i + 1));
                                consumed_next = true;
                            } else {
                                self.unknown_option(
                                    format!("option requires an argument -- '{c}'"),
                                    a.span,
                                    &c.to_string(),
                                );
                            }
                            break;
                        }
                    }
                }
                i += if consumed_next { 2 } else { 1 };
                continue;
            }
            strays.push((i, a.clone()));
            i += 1;
        }
        self.explain_strays(&args, &strays, &last_value_of);
    }

    fn flag(&mut self, c: char) {
        match c {
            'h' => self.help = true,
            'v' => self.version = true,
            _ => {}
        }
    }

    fn apply(&mut self, c: char, val: Option<Arg>, value_span: Span, option_span: Span) {
        match (c, val) {
            ('d', v) => {
                let v = v.unwrap_or(Arg {
                    value: "3".into(),
                    span: option_span,
                });
                if parse_level(&v.value).is_none() {
                    self.problems.push(Problem::new(
                        ProblemId::InvalidDebugLevel,
                        Severity::Error,
                        format!(
                            "debug level '{}' is not a number: OpenOCD runs `debug_level {}` and fails",
                            v.value, v.value
                        ),
                        // The whole `-dx` (or `-d x`): the suggestion replaces option and value.
                        Some(self.loc(Span::new(option_span.start.min(v.span.start), v.span.end))),
                    ).with_suggestion("-d3"));
                }
                self.debug_level = Some(v);
            }
            ('f', Some(v)) => self.steps.push(Step {
                kind: StepKind::File(v.value),
                span: value_span,
                option_span,
            }),
            ('c', Some(v)) => self.steps.push(Step {
                kind: StepKind::Command(v.value),
                span: value_span,
                option_span,
            }),
            ('s', Some(v)) => self.search_dirs.push(v),
            ('l', Some(v)) => {
                // `-l X` becomes the unbraced Tcl command `log_output X`.
                if v.value.contains('\\') {
                    self.problems.push(
                        Problem::new(
                            ProblemId::WindowsPathBackslashes,
                            Severity::Warning,
                            format!(
                                "OpenOCD runs `log_output {}` as Tcl without braces: the backslashes are eaten",
                                v.value
                            ),
                            Some(self.loc(v.span)),
                        )
                        .with_suggestion(v.value.replace('\\', "/")),
                    );
                } else if v.value.contains(char::is_whitespace) {
                    self.problems.push(
                        Problem::new(
                            ProblemId::UnquotedSpaceInPath,
                            Severity::Error,
                            format!(
                                "OpenOCD runs `log_output {}` as Tcl without braces: the space splits the path",
                                v.value
                            ),
                            // The whole `-l X`: the suggestion is the `-c` that replaces it.
                            Some(self.loc(option_span)),
                        )
                        .with_suggestion(format!("-c \"log_output {{{}}}\"", v.value)),
                    );
                }
                self.log_output = Some(v);
            }
            _ => {}
        }
    }

    /// An option's value that the shell split at its spaces: the problem spans the value and
    /// the stray words after it (not the option, which stays as it is), and the fix is the
    /// words quoted as one.
    fn split_value(
        &mut self,
        id: ProblemId,
        message: String,
        value: &Arg,
        strays: &[&Arg],
        strays_span: Span,
    ) {
        let span = Span::new(value.span.start, strays_span.end);
        let joined = rejoined(value, strays);
        self.problems.push(
            Problem::new(id, Severity::Error, message, Some(self.loc(span)))
                .with_suggestion(format!("\"{joined}\"")),
        );
    }

    fn unknown_option(&mut self, msg: String, span: Span, name: &str) {
        let mut p = Problem::new(
            ProblemId::UnknownOption,
            Severity::Error,
            format!("openocd: {msg}"),
            Some(self.loc(span)),
        );
        if name == "p" || "pipe".starts_with(name) && name.len() >= 2 {
            p.message
                .push_str(" (-p/--pipe was removed in 0.12; use -c \"gdb_port pipe; log_output openocd.log\")");
            // The suggestion replaces the word: only when the word is the option alone (not
            // a cluster such as `-vp`, whose `-v` it would drop).
            let word = span.text_of(&self.line);
            if word == "-p" || word.strip_prefix("--") == Some(name) {
                p.suggestion = Some("-c \"gdb_port pipe; log_output openocd.log\"".into());
            }
        }
        self.problems.push(p);
    }

    /// Every non-option word is an error in OpenOCD (it names only the first). Say why each
    /// one is there when the cause is one of the usual mistakes.
    fn explain_strays(
        &mut self,
        args: &[Arg],
        strays: &[(usize, Arg)],
        value_of: &[Option<(char, usize)>],
    ) {
        let mut k = 0;
        while k < strays.len() {
            let (idx, a) = &strays[k];
            // The run of strays that directly follows this one.
            let mut run_end = k;
            while run_end + 1 < strays.len() && strays[run_end + 1].0 == strays[run_end].0 + 1 {
                run_end += 1;
            }
            let prev = idx
                .checked_sub(1)
                .and_then(|p| value_of.get(p).copied().flatten());
            let msg = format!("Unexpected command line argument: {}", a.value);
            let run: Vec<&Arg> = strays[k..=run_end].iter().map(|(_, x)| x).collect();
            let run_span = Span::new(
                run[0].span.start,
                run.last().map(|x| x.span.end).unwrap_or(a.span.end),
            );
            // An option's value the shell split at its spaces: its index, the problem and what
            // to say.
            let split_value = match prev {
                Some(('d', _))
                    if a.value.bytes().all(|b| b.is_ascii_digit()) && !a.value.is_empty() =>
                {
                    let opt = &args[idx - 1];
                    let span = Span::new(opt.span.start, a.span.end);
                    self.problems.push(
                        Problem::new(
                            ProblemId::DebugLevelWithSpace,
                            Severity::Error,
                            format!("{msg} (`-d` takes its level attached: `-d{}`; `-d {}` is an error in 0.12)", a.value, a.value),
                            Some(self.loc(span)),
                        )
                        .with_suggestion(format!("-d{}", a.value)),
                    );
                    k += 1;
                    continue;
                }
                // A path split at a space: a value that is not a whole script name but looks
                // like a path. After a whole name (`-f a/x.cfg b/y.cfg`) the stray is a second
                // file missing its -f.
                Some(('f' | 's' | 'l', vi))
                    if !is_script_name(&args[vi].value) && looks_like_path(&args[vi].value) =>
                {
                    let joined = rejoined(&args[vi], &run);
                    Some((
                        vi,
                        ProblemId::UnquotedSpaceInPath,
                        format!(
                            "{msg} (the path `{joined}` has a space and was not quoted, so it became several arguments)"
                        ),
                    ))
                }
                Some(('c', vi)) => Some((
                    vi,
                    ProblemId::UnexpectedArgument,
                    format!(
                        "{msg} (the -c command was not quoted: OpenOCD ran only `{}`)",
                        args[vi].value
                    ),
                )),
                _ => None,
            };
            if let Some((vi, id, message)) = split_value {
                self.split_value(id, message, &args[vi], &run, run_span);
                k = run_end + 1;
                continue;
            }
            let mut p = Problem::new(
                ProblemId::UnexpectedArgument,
                Severity::Error,
                msg,
                Some(self.loc(a.span)),
            );
            match prev {
                // `-f My Boards/x.cfg`: the -f value is no script name and the stray is one,
                // so the two words are one path split at a space: quote them together.
                Some(('f', vi)) if is_script_name(&a.value) && !is_script_name(&args[vi].value) => {
                    p.message
                        .push_str(" (a path with a space must be quoted to stay one argument)");
                    if let Some(l) = p.location.as_mut() {
                        *l = self.loc(Span::new(args[vi].span.start, a.span.end));
                    }
                    p.suggestion = Some(format!("\"{} {}\"", args[vi].value, a.value));
                }
                _ if is_script_name(&a.value) => {
                    p.message.push_str(" (a config file needs -f)");
                    p.suggestion = Some(format!("-f {}", a.value));
                }
                _ => {}
            }
            self.problems.push(p);
            k += 1;
        }
    }

    /// The `-f` files in order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| match &s.kind {
            StepKind::File(f) => Some(f.as_str()),
            StepKind::Command(_) => None,
        })
    }
}

impl Span {
    pub(crate) fn text_of<'a>(&self, s: &'a str) -> &'a str {
        self.text(s)
    }
}

fn is_script_name(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.ends_with(".cfg") || l.ends_with(".tcl")
}

fn looks_like_path(s: &str) -> bool {
    s.contains('/') || s.contains('\\') || (s.len() >= 2 && s.as_bytes()[1] == b':')
}

/// A command line that only makes sense on Windows: a drive-letter path with a backslash,
/// a UNC path, `openocd.exe`, or `.\`/`..\` relative paths.
pub fn looks_like_windows(line: &str) -> bool {
    let b = line.as_bytes();
    for i in 0..b.len() {
        let at_word_start = i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'"' | b'\'' | b'=');
        if at_word_start {
            if i + 2 < b.len()
                && b[i].is_ascii_alphabetic()
                && b[i + 1] == b':'
                && b[i + 2] == b'\\'
            {
                return true;
            }
            if b[i..].starts_with(b"\\\\")
                || b[i..].starts_with(b".\\")
                || b[i..].starts_with(b"..\\")
            {
                return true;
            }
        }
    }
    line.to_ascii_lowercase().contains("openocd.exe")
}

/// An option's value and the stray words after it, joined by spaces as they were typed.
fn rejoined(value: &Arg, strays: &[&Arg]) -> String {
    std::iter::once(value.value.as_str())
        .chain(strays.iter().map(|x| x.value.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words a splitter has ended, and the one it is in (its start and its value so far).
struct Words<'l> {
    line: &'l str,
    done: Vec<Arg>,
    cur: Option<(usize, String)>,
}

impl<'l> Words<'l> {
    fn new(line: &'l str) -> Words<'l> {
        Words {
            line,
            done: Vec::new(),
            cur: None,
        }
    }

    /// The word being read, started at `at` when there is none.
    fn at(&mut self, at: usize) -> &mut (usize, String) {
        self.cur.get_or_insert((at, String::new()))
    }

    /// Unquoted white space (or the end of the line) at `at`: the word being read ends there.
    fn end(&mut self, at: usize) {
        if let Some((s, v)) = self.cur.take() {
            self.done.push(Arg {
                value: v,
                span: Span::new(s, at),
            });
        }
    }

    /// The character at `i` taken as it is; the index after it.
    fn push_char(&mut self, i: usize) -> usize {
        let line = self.line;
        push_char_at(&mut self.at(i).1, line, i)
    }

    fn finish(mut self) -> Vec<Arg> {
        self.end(self.line.len());
        self.done
    }
}

/// Add the character of `line` at `i` to `word`; the index after it.
fn push_char_at(word: &mut String, line: &str, i: usize) -> usize {
    let ch = line[i..].chars().next().unwrap_or(' ');
    word.push(ch);
    i + ch.len_utf8()
}

/// Split like a POSIX shell (quotes, backslash escapes, line continuations); no expansion.
pub fn split_posix(line: &str) -> Vec<Arg> {
    let b = line.as_bytes();
    let mut words = Words::new(line);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                words.end(i);
                i += 1;
            }
            b'\\' => {
                let w = words.at(i);
                if b.get(i + 1) == Some(&b'\n') {
                    i += 2;
                    // A line continuation alone is no word.
                    if w.1.is_empty() && w.0 + 2 == i {
                        words.cur = None;
                    }
                    continue;
                }
                match line[i + 1..].chars().next() {
                    Some(ch) => {
                        w.1.push(ch);
                        i += 1 + ch.len_utf8();
                    }
                    None => i += 1,
                }
            }
            b'\'' => {
                let close = line[i + 1..]
                    .find('\'')
                    .map(|p| i + 1 + p)
                    .unwrap_or(b.len());
                words.at(i).1.push_str(&line[i + 1..close]);
                i = (close + 1).min(b.len());
            }
            b'"' => {
                let w = &mut words.at(i).1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\'
                        && matches!(b.get(i + 1), Some(b'"' | b'\\' | b'$' | b'`' | b'\n'))
                    {
                        if b[i + 1] != b'\n' {
                            w.push(b[i + 1] as char);
                        }
                        i += 2;
                    } else {
                        i = push_char_at(w, line, i);
                    }
                }
                i = (i + 1).min(b.len());
            }
            _ => i = words.push_char(i),
        }
    }
    words.finish()
}

/// Split with the MSVC runtime rules (what `CommandLineToArgvW` and most Windows programs do):
/// backslashes are literal unless they precede a `"`; `"` toggles quoting; `""` inside quotes
/// is a literal quote.
pub fn split_windows(line: &str) -> Vec<Arg> {
    let b = line.as_bytes();
    let mut words = Words::new(line);
    let mut i = 0;
    let mut quoted = false;
    while i < b.len() {
        let c = b[i];
        if !quoted && matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            words.end(i);
            i += 1;
            continue;
        }
        let w = &mut words.at(i).1;
        match c {
            b'\\' => {
                let mut n = 0;
                while b.get(i + n) == Some(&b'\\') {
                    n += 1;
                }
                if b.get(i + n) == Some(&b'"') {
                    w.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        w.push('"');
                        i += n + 1;
                    } else {
                        i += n;
                    }
                } else {
                    w.extend(std::iter::repeat_n('\\', n));
                    i += n;
                }
            }
            b'"' => {
                if quoted && b.get(i + 1) == Some(&b'"') {
                    w.push('"');
                    i += 2;
                } else {
                    quoted = !quoted;
                    i += 1;
                }
            }
            _ => i = push_char_at(w, line, i),
        }
    }
    words.finish()
}

/// The number `debug_level` reads from `-dN`: OpenOCD's `parse_int` is `strtol(s, &end, 0)`
/// over the whole word (a sign, then decimal, `0x` hex or `0` octal). `None` when it is not
/// a number (OpenOCD fails with a syntax error before any config).
pub fn parse_level(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (digits, radix) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (h, 16)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (&rest[1..], 8)
        } else {
            (rest, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(inv: &Invocation) -> Vec<&str> {
        inv.problems.iter().map(|p| p.id.as_str()).collect()
    }
    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_separate_and_combined() {
        let inv = Invocation::parse_args(&argv(&[
            "openocd",
            "-f",
            "interface/stlink.cfg",
            "-ftarget/stm32f4x.cfg",
            "--file=board/x.cfg",
            "-s",
            "/opt/s",
            "--search=/o2",
            "-c",
            "adapter speed 4000",
            "--command",
            "init",
            "-d2",
            "-l",
            "log.txt",
        ]));
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        assert_eq!(
            inv.files().collect::<Vec<_>>(),
            ["interface/stlink.cfg", "target/stm32f4x.cfg", "board/x.cfg"]
        );
        assert_eq!(inv.steps.len(), 5);
        assert_eq!(inv.search_dirs.len(), 2);
        assert_eq!(inv.debug_level.as_ref().unwrap().value, "2");
        assert_eq!(inv.log_output.as_ref().unwrap().value, "log.txt");
        let f = &inv.steps[1];
        assert_eq!(f.span.text(&inv.line), "target/stm32f4x.cfg");
        assert_eq!(inv.steps[2].span.text(&inv.line), "board/x.cfg");
    }

    #[test]
    fn debug_forms() {
        assert_eq!(
            Invocation::parse_args(&argv(&["-d"]))
                .debug_level
                .unwrap()
                .value,
            "3"
        );
        assert_eq!(
            Invocation::parse_args(&argv(&["--debug=4"]))
                .debug_level
                .unwrap()
                .value,
            "4"
        );
        assert_eq!(
            Invocation::parse_args(&argv(&["--deb"]))
                .debug_level
                .unwrap()
                .value,
            "3"
        );
        let inv = Invocation::parse_args(&argv(&["-f", "a.cfg", "-d", "3"]));
        assert_eq!(ids(&inv), ["debug-level-with-space"]);
        let p = &inv.problems[0];
        assert!(p.message.starts_with("Unexpected command line argument: 3"));
        assert_eq!(p.suggestion.as_deref(), Some("-d3"));
        assert_eq!(p.location.as_ref().unwrap().span.text(&inv.line), "-d 3");
    }

    #[test]
    fn debug_level_numbers() {
        assert_eq!(parse_level("3"), Some(3));
        assert_eq!(parse_level("-1"), Some(-1));
        assert_eq!(parse_level("0x4"), Some(4));
        assert_eq!(parse_level("010"), Some(8));
        assert_eq!(parse_level("x"), None);
        assert_eq!(parse_level(""), None);
        assert_eq!(parse_level("-"), None);
        // `-d-1` is a valid level (LOG_LVL_USER): not "not a number".
        assert!(ids(&Invocation::parse_args(&argv(&["-d-1"]))).is_empty());
        assert_eq!(
            ids(&Invocation::parse_args(&argv(&["-dx"]))),
            ["invalid-debug-level"]
        );
    }

    #[test]
    fn unquoted_command() {
        let inv = Invocation::parse_command_line(
            "openocd -f interface/stlink.cfg -c adapter speed 5000 -f target/stm32f4x.cfg",
        );
        assert_eq!(ids(&inv), ["unexpected-argument"]);
        let p = &inv.problems[0];
        assert!(
            p.message
                .starts_with("Unexpected command line argument: speed"),
            "{}",
            p.message
        );
        assert_eq!(p.suggestion.as_deref(), Some("\"adapter speed 5000\""));
        assert_eq!(
            p.location.as_ref().unwrap().span.text(&inv.line),
            "adapter speed 5000"
        );
        // getopt permutes: the second -f is still read.
        assert_eq!(inv.files().count(), 2);
    }

    #[test]
    fn unknown_options() {
        let inv = Invocation::parse_args(&argv(&["-p"]));
        assert_eq!(ids(&inv), ["unknown-option"]);
        assert!(inv.problems[0].message.contains("invalid option -- 'p'"));
        let inv = Invocation::parse_args(&argv(&["--pipe"]));
        assert!(
            inv.problems[0]
                .message
                .contains("unrecognized option '--pipe'")
        );
        let inv = Invocation::parse_args(&argv(&["-f"]));
        assert_eq!(ids(&inv), ["unknown-option"]);
        let inv = Invocation::parse_args(&argv(&["board/x.cfg"]));
        assert_eq!(
            inv.problems[0].suggestion.as_deref(),
            Some("-f board/x.cfg")
        );
        assert!(Invocation::parse_args(&argv(&["-h", "--version"])).help);
    }

    #[test]
    fn posix_quoting() {
        let inv = Invocation::parse_command_line(
            "openocd -f 'my dir/board.cfg' -c \"transport select swd\" -c init\\;\\ reset -s a\\ b",
        );
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        assert!(!inv.windows);
        assert_eq!(inv.files().next(), Some("my dir/board.cfg"));
        assert_eq!(
            inv.steps[1].kind,
            StepKind::Command("transport select swd".into())
        );
        assert_eq!(inv.steps[2].kind, StepKind::Command("init; reset".into()));
        assert_eq!(inv.search_dirs[0].value, "a b");
        assert_eq!(inv.steps[0].span.text(&inv.line), "'my dir/board.cfg'");
    }

    #[test]
    fn windows_paths() {
        let line = r#"C:\Tools\OpenOCD\bin\openocd.exe -s "C:\Program Files\OpenOCD\scripts" -f C:\Users\me\board.cfg -c "gdb_port 3333""#;
        let inv = Invocation::parse_command_line(line);
        assert!(inv.windows);
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        assert_eq!(
            inv.program.as_ref().unwrap().value,
            r"C:\Tools\OpenOCD\bin\openocd.exe"
        );
        assert_eq!(
            inv.search_dirs[0].value,
            r"C:\Program Files\OpenOCD\scripts"
        );
        assert_eq!(inv.files().next(), Some(r"C:\Users\me\board.cfg"));
        // An unquoted path with a space.
        let inv = Invocation::parse_command_line(r"openocd.exe -f C:\My Boards\x.cfg");
        assert_eq!(ids(&inv), ["unquoted-space-in-path"]);
        assert_eq!(
            inv.problems[0].suggestion.as_deref(),
            Some(r#""C:\My Boards\x.cfg""#)
        );
        // -l with backslashes: OpenOCD formats `log_output %s` without braces.
        let inv = Invocation::parse_command_line(r"openocd.exe -l C:\logs\o.log");
        assert_eq!(ids(&inv), ["windows-path-backslashes"]);
    }

    #[test]
    fn windows_split_rules() {
        let v: Vec<String> = split_windows(r#"a\\\"b "c d" e\f "x""y""#)
            .into_iter()
            .map(|a| a.value)
            .collect();
        assert_eq!(v, [r#"a\"b"#, "c d", r"e\f", r#"x"y"#]);
    }
}
