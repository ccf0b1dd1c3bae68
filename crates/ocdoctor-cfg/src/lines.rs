//! One line index per text: the byte offset where each line starts, found once (memchr), so
//! that offset → line is a binary search and line → text a slice. Every reader and converter
//! that turns a byte offset into a line and column goes through it: a file with thousands of
//! problems is scanned once, not once per problem.
//!
//! Each build adds the length of its text to a per-thread meter ([`bytes_scanned`]), and so
//! do the readers of lines that go through it (a diff adds the lines it compares, see
//! [`count_scanned`]): tests count the work a check does with it, instead of timing it.

use std::cell::Cell;

thread_local! {
    static BYTES_SCANNED: Cell<u64> = const { Cell::new(0) };
}

/// The bytes of text this thread has indexed or read line by line so far.
pub fn bytes_scanned() -> u64 {
    BYTES_SCANNED.with(Cell::get)
}

/// Add `bytes` read line by line to the meter of [`bytes_scanned`].
pub fn count_scanned(bytes: usize) {
    BYTES_SCANNED.with(|b| b.set(b.get() + bytes as u64));
}

/// The start offsets of the lines of a text. Lines end at `\n`; a `\r` before it belongs to
/// the line's end, not its text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineIndex {
    /// `starts[k]` is the offset of line `k + 1`; `starts[0] == 0`.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        count_scanned(text.len());
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The lines of a text as the Language Server Protocol counts them: a line ends at `\n`,
    /// `\r\n` or a lone `\r` (an editor shows a CR-only file as lines, and every position a
    /// client sends counts them so). OpenOCD's Tcl reads a lone `\r` as a blank, so the check's
    /// own line numbers come from [`LineIndex::new`]; both index the same byte offsets.
    pub fn any_line_end(text: &str) -> LineIndex {
        count_scanned(text.len());
        let bytes = text.as_bytes();
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(
            memchr::memchr2_iter(b'\n', b'\r', bytes)
                // A `\r` followed by `\n` is the first half of one line end.
                .filter(|&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n'))
                .map(|i| i + 1),
        );
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// How many lines the text has (a text ending in `\n` has an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 1-based line holding byte `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// The byte offset where 1-based line `line` starts (`None` past the last line).
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.checked_sub(1)?).copied()
    }

    /// The byte range of 1-based line `line`, without its `\n` (or, in an
    /// [`LineIndex::any_line_end`] index, its lone `\r`; `None` past the last line).
    pub fn line_range(&self, line: usize) -> Option<std::ops::Range<usize>> {
        let start = self.line_start(line)?;
        let end = self.starts.get(line).map_or(self.len, |&next| next - 1);
        Some(start..end)
    }

    /// The text of 1-based line `line` of `text` (the text this index was built on), without
    /// its end of line; empty past the last line.
    pub fn line<'t>(&self, text: &'t str, line: usize) -> &'t str {
        self.line_range(line)
            .and_then(|r| text.get(r))
            .unwrap_or("")
            .trim_end_matches('\r')
    }

    /// 1-based line and column (in characters) of byte `offset` of `text` (the text this
    /// index was built on). An offset inside a character counts from that character's start.
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let mut off = offset.min(text.len());
        while off > 0 && !text.is_char_boundary(off) {
            off -= 1;
        }
        let line = self.line_of(off);
        let start = self.starts[line - 1];
        let col = text.get(start..off).map_or(0, |s| s.chars().count()) + 1;
        (line as u32, col as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let t = "ab\r\ncd\n\né x";
        let ix = LineIndex::new(t);
        assert_eq!(ix.line_count(), 4);
        assert_eq!(ix.line_col(t, 0), (1, 1));
        assert_eq!(ix.line_col(t, 2), (1, 3));
        assert_eq!(ix.line_col(t, 4), (2, 1));
        assert_eq!(ix.line_col(t, 7), (3, 1));
        assert_eq!(ix.line_col(t, 8), (4, 1));
        // inside `é`: its start
        assert_eq!(ix.line_col(t, 9), (4, 1));
        assert_eq!(ix.line_col(t, 10), (4, 2));
        assert_eq!(ix.line_col(t, 1000), (4, 4));
        assert_eq!(ix.line(t, 1), "ab");
        assert_eq!(ix.line(t, 2), "cd");
        assert_eq!(ix.line(t, 3), "");
        assert_eq!(ix.line(t, 4), "é x");
        assert_eq!(ix.line(t, 5), "");
        assert_eq!(ix.line(t, 0), "");
        let e = LineIndex::new("");
        assert_eq!(e.line_col("", 5), (1, 1));
        assert_eq!(e.line("", 1), "");
    }

    #[test]
    fn the_same_as_counting_from_the_start() {
        let t = "set a 1\n\tb \"ü\"\r\n\n# x\ny";
        let ix = LineIndex::new(t);
        for off in 0..=t.len() + 2 {
            let o = off.min(t.len());
            if !t.is_char_boundary(o) {
                continue;
            }
            let before = &t[..o];
            let line = before.matches('\n').count() as u32 + 1;
            let ls = before.rfind('\n').map_or(0, |i| i + 1);
            let col = t[ls..o].chars().count() as u32 + 1;
            assert_eq!(ix.line_col(t, off), (line, col), "offset {off}");
        }
        for (k, l) in t.lines().enumerate() {
            assert_eq!(ix.line(t, k + 1), l.trim_end_matches('\r'));
        }
    }

    #[test]
    fn lone_carriage_returns_end_lines_only_in_the_any_line_end_index() {
        let t = "a\rb\r\nc\n\rd\r";
        let lsp = LineIndex::any_line_end(t);
        // `a`, `b` (CRLF), `c`, `` (the lone CR after `\n`), `d`, and the empty last line.
        let lines: Vec<&str> = (1..=lsp.line_count()).map(|l| lsp.line(t, l)).collect();
        assert_eq!(lines, ["a", "b", "c", "", "d", ""]);
        assert_eq!(lsp.line_range(2), Some(2..4)); // `b\r`: the `\n` is outside
        assert_eq!(lsp.line_range(4), Some(7..7));
        assert_eq!(lsp.line_of(t.find('d').unwrap()), 5);
        assert_eq!(lsp.line_of(t.len()), 6);
        // The same text by `\n` alone: three lines.
        let tcl = LineIndex::new(t);
        assert_eq!(tcl.line_count(), 3);
        assert_eq!(tcl.line_of(t.find('d').unwrap()), 3);
        assert_eq!(LineIndex::any_line_end(""), LineIndex::new(""));
        assert_eq!(LineIndex::any_line_end("x\r\n"), LineIndex::new("x\r\n"));
    }

    #[test]
    fn the_meter_counts_each_build() {
        let before = bytes_scanned();
        LineIndex::new("abc\n");
        LineIndex::new("de");
        assert_eq!(bytes_scanned() - before, 6);
    }
}
