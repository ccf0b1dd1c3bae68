//! What a saved log really is, decided from its first bytes, and turned into UTF-8 lines ended
//! by `\n` before the scanner sees it:
//!
//! | input | seen as | done |
//! |---|---|---|
//! | UTF-16LE / UTF-16BE, with BOM (PowerShell's `>`, Windows consoles) or without | NULs at every other byte | decoded to UTF-8 |
//! | UTF-8 with BOM | `EF BB BF` | BOM dropped |
//! | CR-only line ends (classic Mac, some serial terminals) | `\r` and no `\n` | each `\r` ends a line |
//! | NUL-separated lines (some IDE consoles, `-print0`-style dumps) | NULs between printable text, no `\n` | each run of NULs ends a line |
//! | anything else | | passed through unchanged |
//!
//! The decision is made once, on the first [`SNIFF_BYTES`] bytes or the first line (so a
//! streamed log is scanned as soon as its first line arrives), and holds for the whole input.

/// At most this much is looked at (and held back) before the decision.
pub const SNIFF_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnd {
    /// `\n` (and `\r\n`): as is.
    Lf,
    /// A lone `\r` ends a line.
    Cr,
    /// A run of NULs ends a line.
    Nul,
}

/// A streaming decoder: feed it raw chunks in any split, get normalised bytes back.
#[derive(Debug, Default)]
pub struct Decoder {
    /// The decision, once made.
    mode: Option<(Encoding, LineEnd)>,
    /// Bytes held until the decision.
    sniff: Vec<u8>,
    /// UTF-16: an odd byte left over from the previous chunk.
    odd: Option<u8>,
    /// UTF-16: a high surrogate waiting for its pair.
    high: Option<u16>,
    /// NUL mode: the previous byte was a NUL (a run of them is one line end).
    in_nul_run: bool,
}

impl Decoder {
    /// Decode a chunk; the result may be empty while the decoder is still deciding.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.mode.is_none() {
            self.sniff.extend_from_slice(bytes);
            // A `\n` with at least one byte after it: a UTF-16 line end is then complete.
            let has_line =
                self.sniff.len() > 1 && self.sniff[..self.sniff.len() - 1].contains(&b'\n');
            if self.sniff.len() < SNIFF_BYTES && !has_line {
                return Vec::new();
            }
            let held = std::mem::take(&mut self.sniff);
            return self.decide_and_decode(&held);
        }
        self.decode(bytes)
    }

    /// The decision is made and the input is UTF-8 with `\n` line ends: from now on
    /// [`Decoder::feed`] would return its input unchanged, so a caller may skip the copy.
    pub fn passes_through(&self) -> bool {
        self.mode == Some((Encoding::Utf8, LineEnd::Lf))
    }

    /// The end of the input: what is still held.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = if self.mode.is_none() {
            let held = std::mem::take(&mut self.sniff);
            self.decide_and_decode(&held)
        } else {
            Vec::new()
        };
        if self.odd.take().is_some() || self.high.take().is_some() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
        out
    }

    fn decide_and_decode(&mut self, sample: &[u8]) -> Vec<u8> {
        let (encoding, bom) = encoding_of(sample);
        self.mode = Some((encoding, LineEnd::Lf));
        // The line ends are judged on the decoded text.
        let text = self.decode(&sample[bom..]);
        let line_end = line_end_of(&text);
        self.mode = Some((encoding, line_end));
        self.end_lines(text, line_end)
    }

    fn decode(&mut self, bytes: &[u8]) -> Vec<u8> {
        let Some((encoding, line_end)) = self.mode else {
            return bytes.to_vec();
        };
        let utf8 = match encoding {
            Encoding::Utf8 => bytes.to_vec(),
            Encoding::Utf16Le | Encoding::Utf16Be => self.utf16(bytes, encoding),
        };
        self.end_lines(utf8, line_end)
    }

    fn utf16(&mut self, bytes: &[u8], encoding: Encoding) -> Vec<u8> {
        let mut units = Vec::with_capacity(bytes.len() / 2 + 1);
        let mut rest = bytes;
        if let Some(first) = self.odd.take() {
            let Some((&b, tail)) = rest.split_first() else {
                self.odd = Some(first);
                return Vec::new();
            };
            units.push(unit(first, b, encoding));
            rest = tail;
        }
        let pairs = rest.chunks_exact(2);
        self.odd = pairs.remainder().first().copied();
        units.extend(pairs.map(|p| unit(p[0], p[1], encoding)));
        let mut out = String::with_capacity(units.len());
        for u in units {
            match (self.high.take(), u) {
                (Some(h), 0xDC00..=0xDFFF) => {
                    let c = 0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(u) - 0xDC00);
                    out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                }
                (h, 0xD800..=0xDBFF) => {
                    if h.is_some() {
                        out.push('\u{fffd}');
                    }
                    self.high = Some(u);
                }
                (h, _) => {
                    if h.is_some() {
                        out.push('\u{fffd}');
                    }
                    out.push(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'));
                }
            }
        }
        out.into_bytes()
    }

    fn end_lines(&mut self, mut text: Vec<u8>, line_end: LineEnd) -> Vec<u8> {
        match line_end {
            LineEnd::Lf => text,
            LineEnd::Cr => {
                for b in &mut text {
                    if *b == b'\r' {
                        *b = b'\n';
                    }
                }
                text
            }
            LineEnd::Nul => {
                let mut out = Vec::with_capacity(text.len());
                for b in text {
                    if b == 0 {
                        if !self.in_nul_run {
                            out.push(b'\n');
                        }
                        self.in_nul_run = true;
                    } else {
                        self.in_nul_run = false;
                        out.push(b);
                    }
                }
                out
            }
        }
    }
}

fn unit(a: u8, b: u8, encoding: Encoding) -> u16 {
    match encoding {
        Encoding::Utf16Be => u16::from_be_bytes([a, b]),
        _ => u16::from_le_bytes([a, b]),
    }
}

/// The encoding and the length of its byte-order mark.
fn encoding_of(sample: &[u8]) -> (Encoding, usize) {
    match sample {
        [0xFF, 0xFE, ..] => return (Encoding::Utf16Le, 2),
        [0xFE, 0xFF, ..] => return (Encoding::Utf16Be, 2),
        [0xEF, 0xBB, 0xBF, ..] => return (Encoding::Utf8, 3),
        _ => {}
    }
    // No BOM: ASCII text in UTF-16 has a NUL in every other byte, and the other half is not.
    let pairs = sample.len() / 2;
    if pairs < 4 {
        return (Encoding::Utf8, 0);
    }
    let nul_at = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .take(pairs)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    if odd * 10 >= pairs * 7 && even * 20 <= pairs {
        (Encoding::Utf16Le, 0)
    } else if even * 10 >= pairs * 7 && odd * 20 <= pairs {
        (Encoding::Utf16Be, 0)
    } else {
        (Encoding::Utf8, 0)
    }
}

/// The line ends of a decoded sample: only a sample without any `\n` is CR- or NUL-ended, and
/// a NUL-separated one must otherwise be text (a binary file has NULs and other controls).
fn line_end_of(text: &[u8]) -> LineEnd {
    if text.contains(&b'\n') {
        return LineEnd::Lf;
    }
    if text.contains(&b'\r') {
        return LineEnd::Cr;
    }
    let nuls = text.iter().filter(|&&b| b == 0).count();
    let other_controls = text
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, 0 | b'\t' | 0x1b)) || b == 0x7f)
        .count();
    if nuls > 0 && other_controls * 100 <= text.len() && nuls * 4 < text.len() {
        LineEnd::Nul
    } else {
        LineEnd::Lf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode `input` fed in chunks of `step` bytes.
    fn decode_bytes(input: &[u8], step: usize) -> Vec<u8> {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for c in input.chunks(step.max(1)) {
            out.extend(d.feed(c));
        }
        out.extend(d.finish());
        out
    }

    fn decode(input: &[u8], step: usize) -> String {
        String::from_utf8(decode_bytes(input, step)).expect("utf-8 out")
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn utf16_in_any_split() {
        let text = "Open On-Chip Debugger 0.12.0\r\nError: open failed 😀\r\n";
        for step in [1, 3, 7, 4096] {
            assert_eq!(decode(&utf16le(text, true), step), text, "step {step}");
            assert_eq!(decode(&utf16le(text, false), step), text, "step {step}");
        }
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be, 5), text);
    }

    #[test]
    fn cr_and_nul_line_ends_utf8_bom_and_plain() {
        // Each input, the size of the pieces it is fed in, and the text it decodes to.
        let cases: [(&[u8], usize, &str); 6] = [
            (b"a line\rError: x\r", 2, "a line\nError: x\n"),
            (b"a line\0Error: x\0\0\0b", 3, "a line\nError: x\nb"),
            // A file with newlines keeps its CRs and NULs as they are.
            (b"a\r\nb\0c\n", 1, "a\r\nb\0c\n"),
            // A UTF-8 BOM is dropped; plain text is left alone.
            (b"\xEF\xBB\xBFError: x\n", 1, "Error: x\n"),
            (b"plain\n", 2, "plain\n"),
            (b"", 2, ""),
        ];
        for (input, step, text) in cases {
            assert_eq!(decode(input, step), text, "{input:?}");
        }
        // Binary with NULs (and no line end at all) is not a NUL-separated log.
        let bin: Vec<u8> = (0u8..=255)
            .filter(|b| !matches!(b, b'\n' | b'\r'))
            .cycle()
            .take(5000)
            .collect();
        assert_eq!(decode_bytes(&bin, 100), bin);
    }
}
