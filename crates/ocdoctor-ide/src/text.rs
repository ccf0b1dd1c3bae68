//! Small text helpers shared by the readers.

use ocdoctor_cfg::LineIndex;

/// 1-based line and column (in characters) of byte `offset` in `text`, whose line index is
/// `lines`. A byte order mark is not a character the editor shows.
pub fn line_col(text: &str, lines: &LineIndex, offset: usize) -> (u32, u32) {
    let (line, col) = lines.line_col(text, offset);
    if line == 1 && col > 1 && text.starts_with(BOM) {
        (line, col - 1)
    } else {
        (line, col)
    }
}

/// The UTF-8 byte order mark, which VS Code skips when it reads a file.
pub const BOM: &str = "\u{FEFF}";

/// The text a parser should read: a leading byte order mark blanked to three spaces, so that
/// byte offsets still index the file as written (and edits keep the mark).
pub fn without_bom(text: &str) -> std::borrow::Cow<'_, str> {
    match text.strip_prefix(BOM) {
        Some(rest) => std::borrow::Cow::Owned(format!("   {rest}")),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// The indentation (spaces/tabs) of the line that holds byte `offset`.
pub fn indent_at(text: &str, offset: usize) -> String {
    let off = offset.min(text.len());
    let line_start = text[..off].rfind('\n').map(|i| i + 1).unwrap_or(0);
    text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// A JSON string literal for `s` (with the quotes).
pub fn json_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` escaped for an XML attribute value in double quotes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// Substitute `${NAME}` variables with `resolve`; names it cannot resolve stay as written and are
/// returned (`${config:x}`, `${openocd_path}`…). An unterminated `${` is left alone.
pub fn subst(raw: &str, resolve: &dyn Fn(&str) -> Option<String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(raw.len());
    let mut unresolved = Vec::new();
    let mut rest = raw;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                match resolve(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push_str(&rest[i..i + 3 + j]);
                        let u = format!("${{{name}}}");
                        if !unresolved.contains(&u) {
                            unresolved.push(u);
                        }
                    }
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    (out, unresolved)
}
