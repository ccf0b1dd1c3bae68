//! Similarity of two logs: each log becomes the set of its line *templates* (the line with
//! numbers, hex values, paths and quoted names replaced by placeholders, so two runs of the same
//! failure on other machines, ports or addresses give the same set), and the sets are compared
//! by their Jaccard index, estimated with MinHash signatures that fit in one short text column.

/// Slots in a signature. The Jaccard estimate's standard error is about `sqrt(J(1-J)/SLOTS)`,
/// ≤ 0.0625 at 64 slots: enough to rank "the same failure" above "another failure".
pub const SLOTS: usize = 64;

/// One line as a template, or `None` for a line that says nothing about a failure (blank,
/// OpenOCD's banner and licence text, the bug-report address).
pub fn template(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || BOILERPLATE.iter().any(|b| line.starts_with(b)) {
        return None;
    }
    let mut out = String::with_capacity(line.len());
    for word in line.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        template_word(word, &mut out);
    }
    Some(out)
}

/// Lines every OpenOCD run prints, whatever happened.
const BOILERPLATE: &[&str] = &[
    "Open On-Chip Debugger",
    "Licensed under GNU GPL",
    "For bug reports, read",
    "http://openocd.org/doc/doxygen/bugs.html",
    "https://openocd.org/doc/doxygen/bugs.html",
];

fn template_word(word: &str, out: &mut String) {
    let bare = word.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | '(' | ')' | ',' | ';'));
    // Paths differ between machines (and redaction pseudonyms differ between users).
    if bare.len() > 1 && (bare.contains('/') || bare.contains('\\')) {
        out.push_str("<path>");
        return;
    }
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
            let end = scan_while(bytes, i + 2, |c| c.is_ascii_hexdigit());
            if end > i + 2 {
                out.push_str("<hex>");
                i = end;
                continue;
            }
        }
        if b.is_ascii_digit() {
            // A run of digits (and the dots or colons between them: versions, addresses, times).
            let mut end = scan_while(bytes, i, |c| c.is_ascii_digit());
            while matches!(bytes.get(end), Some(b'.' | b':'))
                && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
            {
                end = scan_while(bytes, end + 1, |c| c.is_ascii_digit());
            }
            out.push_str("<n>");
            i = end;
            continue;
        }
        // Not ASCII: copy the whole character.
        let ch_len = word[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&word[i..i + ch_len]);
        i += ch_len;
    }
}

fn scan_while(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

/// The MinHash signature of a log's template set. An empty set gets all-`u32::MAX` slots,
/// which [`jaccard`] treats as similar to nothing.
pub fn signature(log: &str) -> [u32; SLOTS] {
    let mut sig = [u32::MAX; SLOTS];
    let mut seen = std::collections::HashSet::new();
    for line in log.lines() {
        let Some(t) = template(line) else { continue };
        let h = fnv1a(t.as_bytes());
        if !seen.insert(h) {
            continue;
        }
        for (slot, s) in sig.iter_mut().enumerate() {
            // One independent hash function per slot: the line's hash mixed with the slot.
            let v = (splitmix(h ^ (slot as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 32) as u32;
            if v < *s {
                *s = v;
            }
        }
    }
    sig
}

/// The estimated Jaccard index of the two template sets (0 when either is empty).
pub fn jaccard(a: &[u32; SLOTS], b: &[u32; SLOTS]) -> f64 {
    if a[0] == u32::MAX && a.iter().all(|&s| s == u32::MAX) {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / SLOTS as f64
}

/// A signature as stored: 8 hex digits per slot.
pub fn to_hex(sig: &[u32; SLOTS]) -> String {
    sig.iter().map(|s| format!("{s:08x}")).collect()
}

/// The stored form read back; `None` when it is not one.
pub fn from_hex(text: &str) -> Option<[u32; SLOTS]> {
    if text.len() != SLOTS * 8 || !text.is_ascii() {
        return None;
    }
    let mut sig = [0u32; SLOTS];
    for (i, s) in sig.iter_mut().enumerate() {
        *s = u32::from_str_radix(&text[i * 8..i * 8 + 8], 16).ok()?;
    }
    Some(sig)
}

/// FNV-1a: stable across Rust releases and platforms (signatures are stored).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_hide_what_differs_between_runs() {
        assert_eq!(
            template("Info : JTAG tap: stm32f4x.cpu tap/device found: 0x4ba00477 (mfg: 0x23b)"),
            Some("Info : JTAG tap: stm<n>f<n>x.cpu <path> found: <hex> (mfg: <hex>)".into())
        );
        assert_eq!(
            template("Error: couldn't bind tcl to socket on port 6666: Address already in use"),
            Some("Error: couldn't bind tcl to socket on port <n>: Address already in use".into())
        );
        assert_eq!(
            template("Info : embedded:startup.tcl:26: Error: Can't find C:\\Users\\x\\a.cfg"),
            Some("Info : embedded:startup.tcl:<n>: Error: Can't find <path>".into())
        );
        assert_eq!(template("Open On-Chip Debugger 0.12.0"), None);
        assert_eq!(template("   "), None);
        // Not ASCII, no panic, kept as it is.
        assert_eq!(
            template("Fehler: Gerät 3 ünbekannt"),
            Some("Fehler: Gerät <n> ünbekannt".into())
        );
    }

    #[test]
    fn the_same_failure_elsewhere_is_closer_than_another_failure() {
        let a = "Open On-Chip Debugger 0.12.0\nInfo : clock speed 2000 kHz\nError: open failed\nInfo : Listening on port 4444 for telnet connections\n";
        let a2 = "Open On-Chip Debugger 0.11.0\nInfo : clock speed 4000 kHz\nError: open failed\nInfo : Listening on port 5555 for telnet connections\n";
        let b = "Open On-Chip Debugger 0.12.0\nError: couldn't bind tcl to socket on port 6666: Address already in use\nError: JTAG scan chain interrogation failed: all ones\n";
        let (sa, sa2, sb) = (signature(a), signature(a2), signature(b));
        assert_eq!(jaccard(&sa, &sa2), 1.0);
        assert!(jaccard(&sa, &sb) < 0.2, "{}", jaccard(&sa, &sb));
        assert_eq!(from_hex(&to_hex(&sa)), Some(sa));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(jaccard(&signature(""), &signature("")), 0.0);
    }
}
