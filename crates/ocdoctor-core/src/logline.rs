//! One line of OpenOCD output, as a person would read it.
//!
//! OpenOCD writes `<prefix><text>` at `-d0..-d2` and
//! `<prefix><counter> <ms> <file>:<line> <function>(): <text>` at `-d3/-d4`; USER-level
//! lines (echo, Tcl results) have no prefix at `-d2` and `User : ` at `-d3`. Logs reach us
//! through IDEs, terminals and forum pastes, so a line may also carry CR, ANSI colour codes,
//! NUL bytes, a timestamp, or invalid UTF-8. [`LogLine::parse`] never fails: whatever it
//! cannot classify is kept as an [`Level::Plain`] line with the text unchanged.

use std::borrow::Cow;

/// The severity OpenOCD attached to a line, or what the line is when it has no prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    User,
    Debug,
    /// No OpenOCD prefix: echo output, a Tcl result, a traceback line, IDE text, a banner.
    Plain,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::User => "user",
            Level::Debug => "debug",
            Level::Plain => "plain",
        }
    }

    pub fn from_name(s: &str) -> Option<Level> {
        Some(match s {
            "error" => Level::Error,
            "warn" | "warning" => Level::Warn,
            "info" => Level::Info,
            "user" => Level::User,
            "debug" => Level::Debug,
            "plain" => Level::Plain,
            _ => return None,
        })
    }
}

/// A classified line. `message` is the text after the level prefix and the `-d3` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    pub level: Level,
    /// The cleaned line (no CR, ANSI codes, NULs or leading timestamp), prefix included.
    pub text: Cow<'a, str>,
    /// Byte offset of the message inside `text`.
    pub message_start: usize,
}

impl<'a> LogLine<'a> {
    pub fn message(&self) -> &str {
        &self.text[self.message_start..]
    }

    /// Classify one raw line (without its `\n`).
    pub fn parse(raw: &'a [u8]) -> LogLine<'a> {
        let text = clean(raw);
        let (level, message_start) = classify(&text);
        LogLine {
            level,
            text,
            message_start,
        }
    }
}

/// Remove what terminals, IDEs and copy/paste add to a line: CR, NUL and other control bytes
/// (tabs are kept), ANSI escape sequences, a leading timestamp. Invalid UTF-8 becomes U+FFFD.
/// Typographic quotes and the ellipsis that forums and word processors put in place of what
/// OpenOCD printed (`'`, `"`, `...`) are turned back, so rules see OpenOCD's own characters.
pub fn clean(raw: &[u8]) -> Cow<'_, str> {
    // 0xE2 starts every U+2000–U+2FFF character, the typographic punctuation among them.
    let needs_bytes_work = raw
        .iter()
        .any(|&b| b == 0x1b || b == b'\r' || b == 0 || b == 0xE2 || (b < 0x20 && b != b'\t'));
    let mut text: Cow<'_, str> = if needs_bytes_work {
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let b = raw[i];
            if b == 0x1b {
                i = skip_escape(raw, i);
                continue;
            }
            if let Some(ascii) = typographic_punctuation(&raw[i..]) {
                out.extend_from_slice(ascii);
                i += 3;
                continue;
            }
            if b >= 0x20 || b == b'\t' {
                out.push(b);
            }
            i += 1;
        }
        Cow::Owned(String::from_utf8_lossy(&out).into_owned())
    } else {
        String::from_utf8_lossy(raw)
    };
    let ts = timestamp_len(&text);
    if ts > 0 {
        text = Cow::Owned(text[ts..].to_string());
    }
    text
}

/// The ASCII that a typographic quote or ellipsis at the start of `raw` stands for: U+2018/U+2019
/// `'`, U+201C/U+201D `"`, U+2026 `...` (all three bytes long in UTF-8).
fn typographic_punctuation(raw: &[u8]) -> Option<&'static [u8]> {
    match raw {
        [0xE2, 0x80, 0x98 | 0x99, ..] => Some(b"'"),
        [0xE2, 0x80, 0x9C | 0x9D, ..] => Some(b"\""),
        [0xE2, 0x80, 0xA6, ..] => Some(b"..."),
        _ => None,
    }
}

/// Length of the escape sequence starting at `raw[i] == ESC` (CSI `ESC [ … final`, OSC
/// `ESC ] … BEL|ESC \`, or a two-byte escape).
fn skip_escape(raw: &[u8], i: usize) -> usize {
    match raw.get(i + 1) {
        Some(b'[') => {
            let mut j = i + 2;
            while j < raw.len() && !(0x40..=0x7e).contains(&raw[j]) {
                j += 1;
            }
            (j + 1).min(raw.len())
        }
        Some(b']') => {
            let mut j = i + 2;
            while j < raw.len() {
                if raw[j] == 0x07 {
                    return j + 1;
                }
                if raw[j] == 0x1b && raw.get(j + 1) == Some(&b'\\') {
                    return j + 2;
                }
                j += 1;
            }
            raw.len()
        }
        Some(_) => i + 2,
        None => i + 1,
    }
}

/// Leading timestamps that loggers and IDE consoles put before OpenOCD's text:
/// `[12:34:56.789] `, `[2024-05-01 12:34:56] `, `2024-05-01T12:34:56.123Z `, `12:34:56.789 `.
/// Written by hand (not a regex) because it runs on every candidate line.
fn timestamp_len(s: &str) -> usize {
    let b = s.as_bytes();
    let (open, mut i) = if b.first() == Some(&b'[') {
        (true, 1)
    } else {
        (false, 0)
    };
    let start = i;
    // optional date YYYY-MM-DD followed by 'T' or ' '
    if b.len() >= i + 11
        && b[i..i + 4].iter().all(u8::is_ascii_digit)
        && b[i + 4] == b'-'
        && b[i + 7] == b'-'
    {
        if !(b[i + 5..i + 7].iter().all(u8::is_ascii_digit)
            && b[i + 8..i + 10].iter().all(u8::is_ascii_digit))
        {
            return 0;
        }
        i += 10;
        if b[i] == b'T' || b[i] == b' ' {
            i += 1;
        } else {
            return 0;
        }
    }
    // HH:MM:SS
    if b.len() < i + 8
        || !(b[i..i + 2].iter().all(u8::is_ascii_digit)
            && b[i + 2] == b':'
            && b[i + 3..i + 5].iter().all(u8::is_ascii_digit)
            && b[i + 5] == b':'
            && b[i + 6..i + 8].iter().all(u8::is_ascii_digit))
    {
        return 0;
    }
    i += 8;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && b[i] == b'Z' {
        i += 1;
    }
    if open {
        if b.get(i) != Some(&b']') {
            return 0;
        }
        i += 1;
    }
    if i == start {
        return 0;
    }
    match b.get(i) {
        Some(b' ') | Some(b'\t') => i + 1,
        None => i,
        _ => 0,
    }
}

const PREFIXES: [(&str, Level); 5] = [
    ("Error: ", Level::Error),
    ("Warn : ", Level::Warn),
    ("Info : ", Level::Info),
    ("User : ", Level::User),
    ("Debug: ", Level::Debug),
];

fn classify(full: &str) -> (Level, usize) {
    // Pasted or wrapped logs indent lines or tag them (`[OPENOCD] Error: …` from build
    // systems, `[cortex-debug] …`): look past leading blanks and one `[tag] `.
    let mut skip = full.len() - full.trim_start().len();
    let rest = &full[skip..];
    if rest.starts_with('[') {
        if let Some(close) = rest.find("] ") {
            let after = &rest[close + 2..];
            if close < 40
                && PREFIXES
                    .iter()
                    .any(|(p, _)| after.starts_with(p.trim_end()))
            {
                skip += close + 2;
            }
        }
    }
    let text = &full[skip..];
    for (prefix, level) in PREFIXES {
        if let Some(rest) = text.strip_prefix(prefix) {
            let start = skip + prefix.len() + debug_header_len(rest);
            // At `-d3` OpenOCD logs a failed script line as `User : … command_run_line():
            // <file>:<line>: Error: <message>`: an error, whatever the prefix says.
            if level == Level::User {
                if let Some(at) = traceback_message_start(&full[start..]) {
                    return (Level::Error, start + at);
                }
            }
            return (level, start);
        }
        // `Error:` with nothing after it (an empty message, e.g. usage dumps in a file).
        if text == prefix.trim_end() {
            return (level, full.len());
        }
    }
    // Tcl traceback head: `<file>:<line>: Error: <message>` (`embedded:startup.tcl:28: …`).
    if let Some(at) = traceback_message_start(text) {
        return (Level::Error, skip + at);
    }
    (Level::Plain, 0)
}

/// Where the message starts in a Tcl traceback head `<file>:<line>: Error: <message>`.
fn traceback_message_start(text: &str) -> Option<usize> {
    let i = text.find(": Error:")?;
    let (file, line) = text[..i].rsplit_once(':')?;
    if file.is_empty() || line.is_empty() || !line.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let after = i + ": Error:".len();
    Some(if text[after..].starts_with(' ') {
        after + 1
    } else {
        after
    })
}

/// Length of the `-d3` header `<counter> <ms> <file>.c:<line> <function>(): ` (also `.cpp`,
/// `.tcl`), plus the optional free-memory field malloc-logging builds add after `()`.
fn debug_header_len(rest: &str) -> usize {
    let b = rest.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    if !digits(&mut i) || b.get(i) != Some(&b' ') {
        return 0;
    }
    i += 1;
    if !digits(&mut i) || b.get(i) != Some(&b' ') {
        return 0;
    }
    i += 1;
    // file:line
    let file_start = i;
    while i < b.len() && b[i] != b':' && b[i] != b' ' {
        i += 1;
    }
    if i == file_start || b.get(i) != Some(&b':') {
        return 0;
    }
    i += 1;
    if !digits(&mut i) || b.get(i) != Some(&b' ') {
        return 0;
    }
    i += 1;
    // function(): — function names are identifiers
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    if !rest[i..].starts_with("():") {
        return 0;
    }
    i += 3;
    // malloc-logging builds: ` <free bytes>` before the message is not distinguishable from a
    // message that starts with a number, so it is left in the message.
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, level: Level, message: &str) {
        let line = LogLine::parse(raw.as_bytes());
        assert_eq!((line.level, line.message()), (level, message), "{raw:?}");
    }

    #[test]
    fn prefixes_and_debug_headers() {
        check("Error: open failed", Level::Error, "open failed");
        check(
            "Info : clock speed 2000 kHz",
            Level::Info,
            "clock speed 2000 kHz",
        );
        check(
            "Error: 129 2 stlink_usb.c:3374 stlink_usb_usb_open(): open failed",
            Level::Error,
            "open failed",
        );
        check(
            "User : 3 1 options.c:52 configuration_output_handler(): debug_level: 3",
            Level::User,
            "debug_level: 3",
        );
        check(
            "Debug: 5 1 options.c:233 add_default_dirs(): bindir=/usr/bin",
            Level::Debug,
            "bindir=/usr/bin",
        );
        check("Error:", Level::Error, "");
        check(
            "adapter speed: 2000 kHz",
            Level::Plain,
            "adapter speed: 2000 kHz",
        );
        check("Info : 1 2 notaheader", Level::Info, "1 2 notaheader");
        check(
            "embedded:startup.tcl:28: Error: Can't find x.cfg",
            Level::Error,
            "Can't find x.cfg",
        );
        check("C:/a b/board.cfg:4: Error: ", Level::Error, "");
        check(
            "User : 21 2 command.c:687 command_run_line(): ../probe.cfg:4: Error: Can't find interface/nulink.cfg",
            Level::Error,
            "Can't find interface/nulink.cfg",
        );
        check(
            "User : 7 9 options.c:52 configuration_output_handler(): debug_level: 4",
            Level::User,
            "debug_level: 4",
        );
        check(
            "in procedure 'script' ",
            Level::Plain,
            "in procedure 'script' ",
        );
        check(
            "[OPENOCD] Error: JTAG scan chain interrogation failed: all ones",
            Level::Error,
            "JTAG scan chain interrogation failed: all ones",
        );
        check(
            "    Error: jtag status contains invalid mode value",
            Level::Error,
            "jtag status contains invalid mode value",
        );
        check(
            "[stm32f1x.cpu] halted",
            Level::Plain,
            "[stm32f1x.cpu] halted",
        );
    }

    #[test]
    fn cleaning() {
        check("Error: open failed\r", Level::Error, "open failed");
        check(
            "\x1b[31mError: \x1b[0mopen failed",
            Level::Error,
            "open failed",
        );
        check(
            "[12:34:56.789] Error: open failed",
            Level::Error,
            "open failed",
        );
        check("2024-05-01T12:34:56.123Z Info : x", Level::Info, "x");
        check("[2024-05-01 12:34:56] Warn : y", Level::Warn, "y");
        check("Err\0or: a", Level::Error, "a");
        check(
            "12:34 not a timestamp",
            Level::Plain,
            "12:34 not a timestamp",
        );
        let bad = LogLine::parse(b"Error: \xff\xfe bytes");
        assert_eq!(bad.message(), "\u{fffd}\u{fffd} bytes");
        // A forum paste: typographic quotes and an ellipsis where OpenOCD printed ASCII.
        check(
            "Error: unable to open ftdi device with vid 0403, pid 6010, description \u{2018}', serial '\u{2019} at bus location \u{2018}*\u{2019}",
            Level::Error,
            "unable to open ftdi device with vid 0403, pid 6010, description '', serial '' at bus location '*'",
        );
        check(
            "Error: Trying to use configured scan chain anyway\u{2026} \u{201c}x\u{201d} \u{2014}",
            Level::Error,
            "Trying to use configured scan chain anyway... \"x\" \u{2014}",
        );
    }
}
