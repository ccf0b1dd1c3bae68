//! Byte offsets ↔ LSP positions. LSP counts columns in UTF-16 code units (the default
//! `positionEncoding`) and ends lines at `\n`, `\r\n` and a lone `\r`; the engine counts bytes.
//! A position past the end of a line is clamped to it (before its `\r\n`, `\n` or `\r`), as
//! the protocol asks.
//!
//! A [`Document`] is a text and its [`LineIndex`], built once per document version (each
//! `didOpen`/`didChange`, each file read from disk): a conversion finds its line by binary
//! search and counts UTF-16 units in that line only, not from the start of the text.

use lsp_types::{Position, Range};
use ocdoctor_cfg::LineIndex;

/// A text and its line index (the protocol's lines: [`LineIndex::any_line_end`]).
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub text: String,
    lines: LineIndex,
}

impl Document {
    pub fn new(text: String) -> Document {
        Document {
            lines: LineIndex::any_line_end(&text),
            text,
        }
    }

    /// The UTF-16 position of a byte offset (clamped to the text and to a char boundary).
    pub fn position(&self, offset: usize) -> Position {
        let text = self.text.as_str();
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.lines.line_of(offset);
        let start = self.lines.line_start(line).unwrap_or(0);
        Position {
            line: (line - 1) as u32,
            character: text[start..offset].encode_utf16().count() as u32,
        }
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range {
            start: self.position(start),
            end: self.position(end),
        }
    }

    /// The byte offset of a UTF-16 position (a column inside a surrogate pair lands on the
    /// next boundary; past the line's end, on its end; past the last line, the text's end).
    pub fn offset(&self, pos: Position) -> usize {
        let text = self.text.as_str();
        let Some(r) = self.lines.line_range(pos.line as usize + 1) else {
            return text.len();
        };
        // The line's text without its `\r` (a `\n` or a lone `\r` is already outside the range).
        let line = text[r.clone()]
            .strip_suffix('\r')
            .unwrap_or(&text[r.clone()]);
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= pos.character {
                return r.start + i;
            }
            units += c.len_utf16() as u32;
        }
        r.start + line.len()
    }
}

/// The word at a byte offset: a run of characters that may form an OpenOCD command, a file
/// name or a rule code (no blanks, quotes, brackets, braces, commas or semicolons).
pub fn word_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let is_word = |c: char| !c.is_whitespace() && !"\"'[]{}(),;=".contains(c);
    let at = at.min(text.len());
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(at, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| at + i);
    (start < end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        // `é` 2 bytes / 1 unit, `𝄞` 4 bytes / 2 units.
        let d = Document::new("ab\né𝄞x\nlast".into());
        let x = d.text.find('x').unwrap();
        assert_eq!(d.position(x), Position::new(1, 3));
        assert_eq!(d.offset(Position::new(1, 3)), x);
        // Inside the surrogate pair: the next boundary.
        assert_eq!(d.offset(Position::new(1, 2)), x);
        // Inside a UTF-8 sequence: that character's start.
        assert_eq!(d.position(x - 1), Position::new(1, 1));
        // Past the end of a line, and past the last line.
        assert_eq!(d.offset(Position::new(0, 99)), 2);
        assert_eq!(d.offset(Position::new(9, 0)), d.text.len());
        assert_eq!(d.position(d.text.len()), Position::new(2, 4));
        assert_eq!(d.position(usize::MAX), Position::new(2, 4));
    }

    #[test]
    fn crlf_lines_clamp_before_the_line_end() {
        let d = Document::new("ü1\r\n𝄞 x\r\n\r\nend".into());
        let x = d.text.find('x').unwrap();
        assert_eq!(d.position(x), Position::new(1, 3));
        assert_eq!(d.offset(Position::new(1, 3)), x);
        // Past the end of `ü1`: before its `\r`, not between `\r` and `\n`.
        assert_eq!(d.offset(Position::new(0, 99)), "ü1".len());
        assert_eq!(
            d.offset(Position::new(2, 5)),
            d.text.find("\r\n\r\n").unwrap() + 2
        );
        assert_eq!(d.position(d.text.find("end").unwrap()), Position::new(3, 0));
    }

    /// The index gives what counting from the start of the text gives, at every offset and
    /// every position of a text with non-ASCII characters, CRLF, lone CRs (line ends too, in
    /// the protocol) and empty lines.
    #[test]
    fn the_same_as_scanning_the_whole_text() {
        let t = "set a \"ü\"\r\n\t𝄞 é\n\n# x\r\ny𝄞\rold mac\r\rz\n\r";
        let d = Document::new(t.into());
        for off in 0..=t.len() {
            let mut o = off;
            while !t.is_char_boundary(o) {
                o -= 1;
            }
            let before = &t[..o];
            // Every `\n`, and every `\r` not followed by `\n`, ends a line.
            let b = t.as_bytes();
            let ends: Vec<usize> = (0..o)
                .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
                .collect();
            let ls = ends.last().map_or(0, |i| i + 1);
            let want = Position::new(
                ends.len() as u32,
                before[ls..].encode_utf16().count() as u32,
            );
            assert_eq!(d.position(off), want, "offset {off}");
            // Back again, except between `\r` and `\n` (clamped before the `\r`).
            if o == off && !(before.ends_with('\r') && t[o..].starts_with('\n')) {
                assert_eq!(d.offset(want), off, "position {want:?}");
            }
        }
    }

    #[test]
    fn a_lone_cr_ends_a_line_and_clamps_like_crlf() {
        let d = Document::new("ab\rcd\r\ref".into());
        assert_eq!(d.position(3), Position::new(1, 0));
        assert_eq!(d.position(d.text.find('e').unwrap()), Position::new(3, 0));
        assert_eq!(d.offset(Position::new(1, 1)), 4);
        // Past the end of `ab`: before its `\r`; the empty line 2 is the second `\r`.
        assert_eq!(d.offset(Position::new(0, 99)), 2);
        assert_eq!(d.offset(Position::new(2, 9)), 6);
        assert_eq!(d.offset(Position::new(3, 1)), 8);
    }

    #[test]
    fn words() {
        let t = "source [find interface/stlink.cfg]";
        let at = t.find("stlink").unwrap();
        let (a, b) = word_at(t, at).unwrap();
        assert_eq!(&t[a..b], "interface/stlink.cfg");
        assert_eq!(word_at("a  b", 2), None);
    }
}
