//! The rows of the message catalog (`rules/catalog/messages.tsv`) and what the matcher takes
//! from each: its pieces (literals and `%` conversions), how specific it is, its key literal.
//! Shared by the catalog and by `build.rs`, which indexes the embedded catalog at build time so
//! that a diagnosis does not parse ~9 500 formats before its first lookup. Plain `std` only.

/// Shortest literal a format must contain to be matched at all: a format like `%s: %d` would
/// match nearly any line and say nothing.
pub const MIN_KEY_CHARS: usize = 6;
/// Keys are indexed by their first this many bytes (every key has at least `MIN_KEY_CHARS`
/// characters, so at least this many bytes).
pub const KEY_GRAM: usize = MIN_KEY_CHARS;

/// What a `%` conversion accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    /// `%d %i`: an optionally signed decimal.
    Signed,
    /// `%u`: decimal digits.
    Unsigned,
    /// `%x %X %o`: hex digits.
    Hex,
    /// `%s`: any text, possibly empty.
    Text,
    /// `%c`: one character.
    Char,
    /// `%f %e %g`: a decimal number.
    Float,
    /// `%p`: `0x…` or `(nil)`.
    Pointer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    Conv(Conv),
}

/// Parse a printf format into pieces; `None` for formats the matcher cannot take (`%n`, `%*`).
pub fn parse_format(text: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            lit.push('%');
            continue;
        }
        // flags, width, precision, length
        while let Some(&f) = chars.peek() {
            if "-+ #0123456789.*hlLqjzt".contains(f) {
                chars.next();
            } else {
                break;
            }
        }
        let conv = match chars.next()? {
            'd' | 'i' => Conv::Signed,
            'u' => Conv::Unsigned,
            'x' | 'X' | 'o' => Conv::Hex,
            's' => Conv::Text,
            'c' => Conv::Char,
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => Conv::Float,
            'p' => Conv::Pointer,
            _ => return None,
        };
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        pieces.push(Piece::Conv(conv));
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    // Trailing and leading spaces are not printed reliably (the log strips them).
    if let Some(Piece::Lit(l)) = pieces.last_mut() {
        let t = l.trim_end().len();
        l.truncate(t);
        if l.is_empty() {
            pieces.pop();
        }
    }
    if let Some(Piece::Lit(l)) = pieces.first_mut() {
        *l = l.trim_start().to_string();
        if l.is_empty() {
            pieces.remove(0);
        }
    }
    Some(pieces)
}

/// One row of the TSV, borrowed from it.
pub struct Row<'t> {
    pub level: &'t str,
    pub subsystem: &'t str,
    pub file: &'t str,
    pub sources: &'t str,
    /// The C format string as written.
    pub text: &'t str,
    pub pieces: Vec<Piece>,
    /// Characters of literal text: the more, the more specific the format.
    pub literal_chars: usize,
}

/// The rows of `messages` (comment lines start with `#`, then a header). Rows with too few
/// columns or a format the matcher cannot take are skipped.
pub fn rows(messages: &str) -> Vec<Row<'_>> {
    let mut out = Vec::new();
    let mut header_seen = false;
    for line in messages.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !header_seen {
            header_seen = true;
            continue;
        }
        let mut cols = line.splitn(5, '\t');
        let (Some(level), Some(subsystem), Some(file), Some(sources), Some(text)) = (
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
        ) else {
            continue;
        };
        let Some(pieces) = parse_format(text) else {
            continue;
        };
        let literal_chars = pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(l) => l.chars().count(),
                Piece::Conv(_) => 0,
            })
            .sum();
        out.push(Row {
            level,
            subsystem,
            file,
            sources,
            text,
            pieces,
            literal_chars,
        });
    }
    out
}

/// The distinct key literals (each format's longest literal, when it has at least
/// `MIN_KEY_CHARS` characters), numbered by first appearance, and each row's key number.
pub fn keys(rows: &[Row<'_>]) -> (Vec<String>, Vec<Option<u32>>) {
    let mut key_ids: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    let mut keys: Vec<String> = Vec::new();
    let mut key_of_row = Vec::with_capacity(rows.len());
    for row in rows {
        let key = row
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Lit(l) => Some(l),
                Piece::Conv(_) => None,
            })
            .max_by_key(|l| l.len())
            .filter(|l| l.trim().chars().count() >= MIN_KEY_CHARS);
        key_of_row.push(key.map(|key| {
            *key_ids.entry(key.as_str()).or_insert_with(|| {
                keys.push(key.clone());
                (keys.len() - 1) as u32
            })
        }));
    }
    (keys, key_of_row)
}

/// The formats of each key, flat: key `k`'s are `formats[starts[k]..starts[k + 1]]`, in row
/// order.
pub fn formats_by_key(key_of_row: &[Option<u32>], key_count: usize) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; key_count + 1];
    for k in key_of_row.iter().flatten() {
        starts[*k as usize + 1] += 1;
    }
    for k in 0..key_count {
        starts[k + 1] += starts[k];
    }
    let mut next = starts.clone();
    let mut formats = vec![0u32; starts[key_count] as usize];
    for (row, k) in key_of_row.iter().enumerate() {
        if let Some(k) = k {
            formats[next[*k as usize] as usize] = row as u32;
            next[*k as usize] += 1;
        }
    }
    (starts, formats)
}

/// (first `KEY_GRAM` bytes, key id) of every key, sorted.
pub fn grams(keys: &[String]) -> Vec<([u8; KEY_GRAM], u32)> {
    let mut out: Vec<([u8; KEY_GRAM], u32)> = keys
        .iter()
        .enumerate()
        .filter_map(|(k, key)| Some((key.as_bytes().get(..KEY_GRAM)?.try_into().ok()?, k as u32)))
        .collect();
    out.sort_unstable();
    out
}
