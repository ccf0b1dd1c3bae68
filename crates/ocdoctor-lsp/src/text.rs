//! Byte offsets ↔ LSP positions. LSP counts columns in UTF-16 code units (the default
//! `positionEncoding`); the engine counts bytes. A position past the end of a line is clamped
//! to it, as the protocol asks.

use lsp_types::{Position, Range};

/// The UTF-16 position of a byte offset in `text` (clamped to a char boundary).
pub fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() as u32,
        character: before[line_start..].encode_utf16().count() as u32,
    }
}

pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range {
        start: position(text, start),
        end: position(text, end),
    }
}

/// The byte offset of a UTF-16 position (a column inside a surrogate pair or past the line's
/// end lands on the next boundary / the end of the line).
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0u32;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= pos.character {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
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
        let t = "ab\né𝄞x\nlast";
        let x = t.find('x').unwrap();
        assert_eq!(position(t, x), Position::new(1, 3));
        assert_eq!(offset(t, Position::new(1, 3)), x);
        // Inside the surrogate pair: the next boundary.
        assert_eq!(offset(t, Position::new(1, 2)), x);
        // Past the end of a line, and past the last line.
        assert_eq!(offset(t, Position::new(0, 99)), 2);
        assert_eq!(offset(t, Position::new(9, 0)), t.len());
        assert_eq!(position(t, t.len()), Position::new(2, 4));
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
