//! A span-keeping reader for the Jim Tcl that OpenOCD scripts are written in.
//!
//! It implements Tcl's word syntax (the "dodekalogue": commands, words, braces, quotes, `[...]`,
//! `$var`/`${var}`/`$a(i)`, backslash escapes and continuations, `#` comments where a command
//! may start, `;`, `{*}`) and nothing of evaluation. It never fails: it returns what it read
//! plus positioned errors. Every command, word and part carries a byte span into the *whole*
//! source text, so bodies parsed later with [`parse_range`] still point into the file.
//!
//! Braced words are not re-read as scripts here: a caller that knows a word is a body (`proc`,
//! `if`, `-event` handlers ...) asks for it with [`parse_body`]. That keeps the reader honest —
//! a braced word is data until some command treats it as code.
//!
//! Error messages use Tcl's own wording ("missing close-brace", "extra characters after
//! close-quote" ...) because OpenOCD prints those strings and rules can match both.

use serde::Serialize;

/// A byte range `start..end` into a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    /// The text this span covers (empty when it does not fit `src`).
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }
}

/// A sequence of commands.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Script {
    pub commands: Vec<Command>,
    pub span: Span,
}

/// One command: its words, and the span from its first to its last word.
#[derive(Debug, Clone, Serialize)]
pub struct Command {
    pub words: Vec<Word>,
    pub span: Span,
}

/// How a word was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WordKind {
    /// `abc$x[y]`: substitutions apply, ends at whitespace.
    Bare,
    /// `"..."`: substitutions apply, whitespace kept.
    Quoted,
    /// `{...}`: no substitution (backslash-newline still folds).
    Braced,
}

/// One word of a command.
#[derive(Debug, Clone, Serialize)]
pub struct Word {
    pub kind: WordKind,
    /// Written with the `{*}` expansion prefix.
    pub expand: bool,
    /// The whole word, delimiters and `{*}` included.
    pub span: Span,
    /// Inside the delimiters (for a braced word: what [`parse_body`] reads).
    pub content: Span,
    pub parts: Vec<Part>,
}

/// A piece of a word.
#[derive(Debug, Clone, Serialize)]
pub enum Part {
    /// Literal text, escapes already decoded into `value`.
    Text { span: Span, value: String },
    /// `$name`, `${name}` or `$name(index)`.
    Var {
        span: Span,
        name: String,
        index: Option<Vec<Part>>,
    },
    /// `[script]`.
    Cmd { span: Span, script: Script },
}

impl Part {
    pub fn span(&self) -> Span {
        match self {
            Part::Text { span, .. } | Part::Var { span, .. } | Part::Cmd { span, .. } => *span,
        }
    }
}

impl Word {
    /// The word's value when it has no substitution (`$`/`[`) in it.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text { value, .. } => out.push_str(value),
                _ => return None,
            }
        }
        Some(out)
    }

    /// True when the word contains a `$var` or `[cmd]` substitution.
    pub fn has_substitution(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Text { .. }))
    }
}

impl Command {
    /// The literal first word (the command name) when it has no substitution.
    pub fn name(&self) -> Option<String> {
        self.words.first().and_then(Word::literal)
    }
}

/// What went wrong while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    MissingCloseBrace,
    MissingQuote,
    MissingCloseBracket,
    /// `$a(` without `)`.
    MissingParen,
    /// `${a` without `}`.
    MissingVarBrace,
    ExtraAfterCloseBrace,
    ExtraAfterCloseQuote,
}

impl ErrorKind {
    /// Tcl's wording of the error.
    pub fn message(self) -> &'static str {
        match self {
            ErrorKind::MissingCloseBrace => "missing close-brace",
            ErrorKind::MissingQuote => "missing \"",
            ErrorKind::MissingCloseBracket => "missing close-bracket",
            ErrorKind::MissingParen => "missing )",
            ErrorKind::MissingVarBrace => "missing close-brace for variable name",
            ErrorKind::ExtraAfterCloseBrace => "extra characters after close-brace",
            ErrorKind::ExtraAfterCloseQuote => "extra characters after close-quote",
        }
    }
    /// Whether more input could complete the text (what `info complete` tests).
    pub fn is_incomplete(self) -> bool {
        !matches!(
            self,
            ErrorKind::ExtraAfterCloseBrace | ErrorKind::ExtraAfterCloseQuote
        )
    }
}

/// A positioned reader error. For "missing ..." errors the span runs from the opening
/// delimiter to where the text ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParseError {
    pub kind: ErrorKind,
    pub span: Span,
}

impl ParseError {
    pub fn message(&self) -> &'static str {
        self.kind.message()
    }
}

/// Read a whole script.
pub fn parse(src: &str) -> (Script, Vec<ParseError>) {
    parse_range(src, Span::new(0, src.len()))
}

/// Read `range` of `src` as a script; every span stays absolute in `src`.
pub fn parse_range(src: &str, range: Span) -> (Script, Vec<ParseError>) {
    let end = range.end.min(src.len());
    let start = range.start.min(end);
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: start,
        end,
        errors: Vec::new(),
        tail_continuation: false,
        depth: 0,
        jim: true,
    };
    let script = p.script(false);
    (script, p.errors)
}

/// Read the content of a braced (or quoted) word as a script, e.g. a `proc` body.
pub fn parse_body(src: &str, word: &Word) -> (Script, Vec<ParseError>) {
    parse_range(src, word.content)
}

/// Tcl 8.6's `info complete`: false when more input could finish the last command (an
/// unclosed brace, quote, bracket, `${`, `$a(`, or a trailing backslash-newline). Like Tcl, only
/// the first error counts, because Tcl stops reading there. This is the Tcl 8.6 reading (the
/// test oracle is `tclsh`); see [`is_complete_jim`] for OpenOCD's.
pub fn is_complete(src: &str) -> bool {
    complete(src, false)
}

/// `info complete` as Jim Tcl (OpenOCD) reads: like [`is_complete`], except that text right
/// after a closing quote continues the word (`"a"b` is `ab` in Jim, an error in Tcl 8.6).
pub fn is_complete_jim(src: &str) -> bool {
    complete(src, true)
}

fn complete(src: &str, jim: bool) -> bool {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        end: src.len(),
        errors: Vec::new(),
        tail_continuation: false,
        depth: 0,
        jim,
    };
    let _ = p.script(false);
    match p.errors.first() {
        Some(e) => !e.kind.is_incomplete(),
        None => !p.tail_continuation,
    }
}

/// Deeper nesting than this is read as literal text: it keeps the reader's stack bounded on
/// hostile input (`[[[[...`), far beyond what any real script uses.
const MAX_DEPTH: usize = 200;

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    end: usize,
    errors: Vec<ParseError>,
    tail_continuation: bool,
    depth: usize,
    /// Jim Tcl rules (OpenOCD): a quoted word may continue after its closing quote.
    jim: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Bare { nested: bool },
    Quoted,
    Index,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            Some(self.b[self.pos])
        } else {
            None
        }
    }
    fn at(&self, i: usize) -> Option<u8> {
        if i < self.end { Some(self.b[i]) } else { None }
    }
    fn err(&mut self, kind: ErrorKind, start: usize, end: usize) {
        self.errors.push(ParseError {
            kind,
            span: Span::new(start, end),
        });
    }

    /// Backslash-newline at `pos`? Then it counts as whitespace.
    fn is_continuation(&self, i: usize) -> bool {
        self.at(i) == Some(b'\\') && self.at(i + 1) == Some(b'\n')
    }

    /// Skip spaces and backslash-newlines (not newlines); returns whether anything was skipped.
    fn skip_inline_space(&mut self) -> bool {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(c) if is_space(c) => self.pos += 1,
                Some(b'\\') if self.is_continuation(self.pos) => {
                    if self.pos + 2 == self.end {
                        self.tail_continuation = true;
                    }
                    self.pos += 2;
                }
                _ => break,
            }
        }
        self.pos > start
    }

    fn script(&mut self, nested: bool) -> Script {
        let start = self.pos;
        let mut commands = Vec::new();
        loop {
            // Leading white space, empty commands and comments.
            loop {
                self.skip_inline_space();
                match self.peek() {
                    Some(b'\n') | Some(b';') => self.pos += 1,
                    Some(b'#') => self.comment(),
                    _ => break,
                }
            }
            match self.peek() {
                None => break,
                Some(b']') if nested => break,
                _ => {}
            }
            if let Some(cmd) = self.command(nested) {
                commands.push(cmd);
            }
        }
        Script {
            commands,
            span: Span::new(start, self.pos),
        }
    }

    fn comment(&mut self) {
        // A comment runs to the end of the line; a backslash escapes the next character, so
        // backslash-newline continues the comment (Tcl's rule, also Jim's).
        while let Some(c) = self.peek() {
            match c {
                b'\\' => {
                    if self.is_continuation(self.pos) && self.pos + 2 == self.end {
                        self.tail_continuation = true;
                    }
                    self.pos = (self.pos + 2).min(self.end);
                }
                b'\n' => {
                    self.pos += 1;
                    return;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn command(&mut self, nested: bool) -> Option<Command> {
        let mut words: Vec<Word> = Vec::new();
        loop {
            self.skip_inline_space();
            match self.peek() {
                None => break,
                Some(b'\n') | Some(b';') => {
                    self.pos += 1;
                    break;
                }
                Some(b']') if nested => break,
                _ => {}
            }
            let before = self.pos;
            let word = self.word(nested);
            // A closed braced/quoted word (a Jim glued quote word ends where its tail ends).
            let closed_delim = match word.kind {
                WordKind::Braced => self.b.get(word.span.end.wrapping_sub(1)) == Some(&b'}'),
                WordKind::Quoted => self.b.get(word.span.end.wrapping_sub(1)) == Some(&b'"'),
                WordKind::Bare => false,
            } && word.span.end > word.content.end;
            let kind = word.kind;
            words.push(word);
            if closed_delim {
                let ok = match self.peek() {
                    None => true,
                    Some(c) if is_space(c) || c == b'\n' || c == b';' => true,
                    Some(b']') => nested,
                    Some(b'\\') => self.is_continuation(self.pos),
                    _ => false,
                };
                if !ok {
                    let k = if kind == WordKind::Quoted {
                        ErrorKind::ExtraAfterCloseQuote
                    } else {
                        ErrorKind::ExtraAfterCloseBrace
                    };
                    self.err(k, self.pos, self.pos + 1);
                }
            }
            if self.pos == before {
                // Defensive: never loop without progress.
                self.pos += 1;
            }
        }
        let first = words.first()?.span.start;
        let last = words.last().map(|w| w.span.end).unwrap_or(first);
        Some(Command {
            words,
            span: Span::new(first, last),
        })
    }

    fn word(&mut self, nested: bool) -> Word {
        let start = self.pos;
        let mut expand = false;
        if self.src[self.pos..self.end].starts_with("{*}") {
            // `{*}` followed by something that is not white space or a command end is the
            // expansion prefix; otherwise it is the plain word `*`.
            match self.at(self.pos + 3) {
                Some(c)
                    if !is_space(c)
                        && c != b'\n'
                        && c != b';'
                        && !self.is_continuation(self.pos + 3) =>
                {
                    expand = true;
                    self.pos += 3;
                }
                _ => {}
            }
        }
        let mut w = match self.peek() {
            Some(b'{') => self.braced(),
            Some(b'"') => {
                self.pos += 1;
                let cstart = self.pos;
                let parts = self.tokens(Mode::Quoted);
                let cend = self.pos;
                let mut parts = parts;
                let mut cend = cend;
                if self.peek() == Some(b'"') {
                    self.pos += 1;
                    let glued = match self.peek() {
                        None => false,
                        Some(c) => {
                            !(is_space(c)
                                || c == b'\n'
                                || c == b';'
                                || (nested && c == b']')
                                || self.is_continuation(self.pos))
                        }
                    };
                    if self.jim && glued {
                        // Jim reads `"a"b` as one word `ab` (OpenOCD's scripts rely on it).
                        parts.extend(self.tokens(Mode::Bare { nested }));
                        cend = self.pos;
                    }
                } else {
                    self.err(ErrorKind::MissingQuote, cstart - 1, self.pos);
                }
                Word {
                    kind: WordKind::Quoted,
                    expand: false,
                    span: Span::new(cstart - 1, self.pos),
                    content: Span::new(cstart, cend),
                    parts,
                }
            }
            _ => {
                let cstart = self.pos;
                let parts = self.tokens(Mode::Bare { nested });
                Word {
                    kind: WordKind::Bare,
                    expand: false,
                    span: Span::new(cstart, self.pos),
                    content: Span::new(cstart, self.pos),
                    parts,
                }
            }
        };
        w.expand = expand;
        w.span.start = start;
        w
    }

    fn braced(&mut self) -> Word {
        let open = self.pos;
        self.pos += 1;
        let mut depth = 1usize;
        let mut value = String::new();
        let mut lit_start = self.pos;
        let mut closed = false;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => {
                    if self.is_continuation(self.pos) {
                        // Backslash-newline plus following blanks fold to one space, even in braces.
                        value.push_str(&self.src[lit_start..self.pos]);
                        if self.pos + 2 == self.end {
                            self.tail_continuation = true;
                        }
                        self.pos += 2;
                        while matches!(self.peek(), Some(b' ' | b'\t')) {
                            self.pos += 1;
                        }
                        value.push(' ');
                        lit_start = self.pos;
                    } else {
                        self.pos += 1;
                        if let Some(ch) = self.src[self.pos..self.end].chars().next() {
                            self.pos += ch.len_utf8();
                        }
                    }
                }
                b'{' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        closed = true;
                        break;
                    }
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
        let cend = self.pos;
        value.push_str(&self.src[lit_start..cend]);
        if closed {
            self.pos += 1;
        } else {
            self.err(ErrorKind::MissingCloseBrace, open, self.end);
        }
        Word {
            kind: WordKind::Braced,
            expand: false,
            span: Span::new(open, self.pos),
            content: Span::new(open + 1, cend),
            parts: vec![Part::Text {
                span: Span::new(open + 1, cend),
                value,
            }],
        }
    }

    /// Read text with substitutions until the mode's terminator (not consumed).
    fn tokens(&mut self, mode: Mode) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        let mut text = String::new();
        let mut text_start = self.pos;
        let flush = |parts: &mut Vec<Part>, text: &mut String, s: usize, e: usize| {
            if e > s {
                parts.push(Part::Text {
                    span: Span::new(s, e),
                    value: std::mem::take(text),
                });
            }
        };
        while let Some(c) = self.peek() {
            let stop = match mode {
                Mode::Bare { nested } => {
                    is_space(c) || c == b'\n' || c == b';' || (nested && c == b']')
                }
                Mode::Quoted => c == b'"',
                Mode::Index => c == b')',
            };
            if stop {
                break;
            }
            match c {
                b'$' => {
                    let dollar = self.pos;
                    if let Some(var) = self.variable() {
                        flush(&mut parts, &mut text, text_start, dollar);
                        parts.push(var);
                        text_start = self.pos;
                    } else {
                        text.push('$');
                        self.pos = dollar + 1;
                    }
                }
                b'[' if self.depth < MAX_DEPTH => {
                    flush(&mut parts, &mut text, text_start, self.pos);
                    let open = self.pos;
                    self.pos += 1;
                    self.depth += 1;
                    let script = self.script(true);
                    self.depth -= 1;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        self.err(ErrorKind::MissingCloseBracket, open, self.pos);
                    }
                    parts.push(Part::Cmd {
                        span: Span::new(open, self.pos),
                        script,
                    });
                    text_start = self.pos;
                }
                b'\\' => {
                    if self.is_continuation(self.pos) {
                        if self.pos + 2 == self.end {
                            self.tail_continuation = true;
                        }
                        if matches!(mode, Mode::Bare { .. }) {
                            // Backslash-newline is white space: it ends a bare word.
                            break;
                        }
                        self.pos += 2;
                        while matches!(self.peek(), Some(b' ' | b'\t')) {
                            self.pos += 1;
                        }
                        text.push(' ');
                    } else {
                        self.escape(&mut text);
                    }
                }
                _ => {
                    // Copy a run of ordinary characters at once (all delimiters are ASCII, so a
                    // run never splits a UTF-8 sequence).
                    let s = self.pos;
                    self.pos += 1;
                    while let Some(d) = self.peek() {
                        if matches!(
                            d,
                            b'$' | b'['
                                | b'\\'
                                | b'"'
                                | b')'
                                | b']'
                                | b';'
                                | b'\n'
                                | b' '
                                | b'\t'
                                | b'\r'
                                | 0x0b
                                | 0x0c
                        ) {
                            break;
                        }
                        self.pos += 1;
                    }
                    text.push_str(&self.src[s..self.pos]);
                }
            }
        }
        flush(&mut parts, &mut text, text_start, self.pos);
        parts
    }

    /// Decode one backslash escape at `pos` into `out`.
    fn escape(&mut self, out: &mut String) {
        self.pos += 1; // the backslash
        let Some(c) = self.peek() else {
            out.push('\\');
            return;
        };
        let simple = match c {
            b'a' => Some('\u{7}'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            self.pos += 1;
            return;
        }
        let hex = |p: &mut Self, max: usize| -> Option<u32> {
            let mut v = 0u32;
            let mut n = 0;
            while n < max {
                match p.peek().and_then(|d| (d as char).to_digit(16)) {
                    Some(d) => {
                        v = v.wrapping_mul(16).wrapping_add(d);
                        p.pos += 1;
                        n += 1;
                    }
                    None => break,
                }
            }
            if n > 0 { Some(v) } else { None }
        };
        match c {
            b'x' | b'u' | b'U' => {
                self.pos += 1;
                let max = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                match hex(self, max) {
                    Some(v) => out.push(char::from_u32(v).unwrap_or('\u{fffd}')),
                    None => out.push(c as char),
                }
            }
            b'0'..=b'7' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 3 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(v & 0xff).unwrap_or('\u{fffd}'));
            }
            _ => {
                if let Some(ch) = self.src[self.pos..self.end].chars().next() {
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }

    /// A `$` substitution at `pos`; `None` when the `$` is literal.
    fn variable(&mut self) -> Option<Part> {
        let dollar = self.pos;
        let mut i = dollar + 1;
        if self.at(i) == Some(b'{') {
            let name_start = i + 1;
            let mut j = name_start;
            while j < self.end && self.b[j] != b'}' {
                j += 1;
            }
            if j >= self.end {
                self.err(ErrorKind::MissingVarBrace, dollar, self.end);
                self.pos = self.end;
                return Some(Part::Var {
                    span: Span::new(dollar, self.end),
                    name: self.src[name_start..self.end].to_string(),
                    index: None,
                });
            }
            self.pos = j + 1;
            return Some(Part::Var {
                span: Span::new(dollar, self.pos),
                name: self.src[name_start..j].to_string(),
                index: None,
            });
        }
        let name_start = i;
        loop {
            match self.at(i) {
                Some(c) if c.is_ascii_alphanumeric() || c == b'_' => i += 1,
                Some(b':') if self.at(i + 1) == Some(b':') => {
                    i += 2;
                    while self.at(i) == Some(b':') {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
        // `$(i)` is element `i` of the array with the empty name, as in Tcl.
        if i == name_start && self.at(i) != Some(b'(') {
            return None;
        }
        let name = self.src[name_start..i].to_string();
        self.pos = i;
        let mut index = None;
        if self.peek() == Some(b'(') && self.depth < MAX_DEPTH {
            let open = self.pos;
            self.pos += 1;
            self.depth += 1;
            let parts = self.tokens(Mode::Index);
            self.depth -= 1;
            if self.peek() == Some(b')') {
                self.pos += 1;
            } else {
                self.err(ErrorKind::MissingParen, open, self.pos);
            }
            index = Some(parts);
        }
        Some(Part::Var {
            span: Span::new(dollar, self.pos),
            name,
            index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<Vec<String>> {
        let (s, e) = parse(src);
        assert!(e.is_empty(), "{e:?}");
        s.commands
            .iter()
            .map(|c| {
                c.words
                    .iter()
                    .map(|w| {
                        w.literal()
                            .unwrap_or_else(|| format!("<{}>", w.span.text(src)))
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn basic_words() {
        assert_eq!(
            words("set a 1; set b {x y}\n# c\nputs \"a b\""),
            vec![
                vec!["set", "a", "1"],
                vec!["set", "b", "x y"],
                vec!["puts", "a b"]
            ]
        );
    }

    #[test]
    fn substitutions_and_spans() {
        let src = "source [find target/$_CHIP.cfg]";
        let (s, e) = parse(src);
        assert!(e.is_empty());
        let w = &s.commands[0].words[1];
        assert_eq!(w.span.text(src), "[find target/$_CHIP.cfg]");
        let Part::Cmd { script, .. } = &w.parts[0] else {
            panic!()
        };
        let arg = &script.commands[0].words[1];
        assert_eq!(arg.span.text(src), "target/$_CHIP.cfg");
        assert!(matches!(&arg.parts[1], Part::Var { name, .. } if name == "_CHIP"));
    }

    #[test]
    fn comments_only_at_command_start() {
        assert_eq!(words("echo a#b # c"), vec![vec!["echo", "a#b", "#", "c"]]);
        assert_eq!(words("echo a ;# c\n"), vec![vec!["echo", "a"]]);
        assert_eq!(words("# a \\\n b\nx"), vec![vec!["x"]]);
    }

    #[test]
    fn escapes_and_continuation() {
        assert_eq!(
            words("a b\\\n   c \"x\\ty\" C:\\Users\\me"),
            vec![vec!["a", "b", "c", "x\ty", "C:Usersme"]]
        );
        assert_eq!(words("a {C:\\Users\\me}"), vec![vec!["a", "C:\\Users\\me"]]);
    }

    #[test]
    fn errors() {
        let (_, e) = parse("proc a {} {\n set x 1\n");
        assert_eq!(e[0].kind, ErrorKind::MissingCloseBrace);
        assert_eq!(e[0].span.start, 10);
        let (_, e) = parse("set a {x}y");
        assert_eq!(e[0].kind, ErrorKind::ExtraAfterCloseBrace);
        let (_, e) = parse("set a [foo");
        assert_eq!(e[0].kind, ErrorKind::MissingCloseBracket);
        assert!(!is_complete("set a \"x"));
        assert!(is_complete("set a {x}y {"));
        assert!(!is_complete("a \\\n"));
    }

    #[test]
    fn jim_glues_quoted_words() {
        // `set x "$a"_up` works in OpenOCD (target/ti_k3.cfg relies on it).
        let src = "set x \"$a\"_up";
        let (s, e) = parse(src);
        assert!(e.is_empty(), "{e:?}");
        let w = &s.commands[0].words[2];
        assert_eq!(w.span.text(src), "\"$a\"_up");
        assert_eq!(w.parts.len(), 2);
        assert!(!is_complete_jim("a \"x\"y {"));
        assert!(is_complete("a \"x\"y {"));
    }

    #[test]
    fn expansion_and_body() {
        let src = "foo {*}$args {*} if {1} { set x [y] }";
        let (s, e) = parse(src);
        assert!(e.is_empty());
        let ws = &s.commands[0].words;
        assert!(ws[1].expand);
        assert!(!ws[2].expand);
        let (body, e) = parse_body(src, &ws[5]);
        assert!(e.is_empty());
        assert_eq!(body.commands[0].span.text(src), "set x [y]");
    }
}
