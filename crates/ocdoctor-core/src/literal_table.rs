//! The literal gate's search structure: every literal, sorted, grouped by its first
//! [`HEAD`] bytes, and a bit per byte pair that starts some literal. For the embedded knowledge
//! base build.rs builds it with this same code and writes it as static tables, so nothing is
//! built at start-up (the Aho-Corasick automaton it replaces was a quarter of a short
//! diagnosis). Shared with `build.rs`.
//!
//! It answers what the automaton answered: the earliest end of a literal in a range, and every
//! literal occurring in a text (overlapping ones included).

use std::borrow::Cow;

/// Every literal is at least this long (the gate's `MIN_LITERAL_LEN`): literals are grouped by
/// their first `HEAD` bytes.
pub const HEAD: usize = 3;
/// Words of the byte-pair bit set (one bit per pair of bytes).
pub const PAIR_WORDS: usize = (1 << 16) / 64;

pub struct LiteralTable {
    /// The literals' bytes, one after the other in table order.
    pub bytes: Cow<'static, [u8]>,
    /// (start in `bytes`, length, owner) of each literal, sorted by the literal's bytes.
    pub literals: Cow<'static, [(u32, u32, u32)]>,
    /// The distinct first `HEAD` bytes of the literals, sorted.
    pub heads: Cow<'static, [[u8; HEAD]]>,
    /// `heads[h]`'s literals are `literals[head_starts[h]..head_starts[h + 1]]`.
    pub head_starts: Cow<'static, [u32]>,
    /// Bit `a << 8 | b` is set when a literal starts with the bytes `a`, `b`.
    pub pairs: Cow<'static, [u64]>,
    /// The shortest literal's length (no literal starting at `i` ends before `i + min_len`).
    pub min_len: u32,
}

impl LiteralTable {
    /// The table of `(literal, owner)` pairs. Every literal must be at least [`HEAD`] bytes.
    pub fn build(mut literals: Vec<(Vec<u8>, u32)>) -> Result<LiteralTable, String> {
        if let Some((short, _)) = literals.iter().find(|(l, _)| l.len() < HEAD) {
            return Err(format!(
                "the literal {:?} is shorter than {HEAD} bytes",
                String::from_utf8_lossy(short)
            ));
        }
        literals.sort();
        literals.dedup();
        let mut bytes = Vec::new();
        let mut table = Vec::with_capacity(literals.len());
        let mut heads: Vec<[u8; HEAD]> = Vec::new();
        let mut head_starts = Vec::new();
        let mut pairs = vec![0u64; PAIR_WORDS];
        for (i, (literal, owner)) in literals.iter().enumerate() {
            let head: [u8; HEAD] = [literal[0], literal[1], literal[2]];
            if heads.last() != Some(&head) {
                heads.push(head);
                head_starts.push(i as u32);
            }
            let pair = pair_index(literal[0], literal[1]);
            pairs[pair / 64] |= 1 << (pair % 64);
            table.push((bytes.len() as u32, literal.len() as u32, *owner));
            bytes.extend_from_slice(literal);
        }
        head_starts.push(literals.len() as u32);
        let min_len = literals.iter().map(|(l, _)| l.len()).min().unwrap_or(HEAD) as u32;
        Ok(LiteralTable {
            bytes: bytes.into(),
            literals: table.into(),
            heads: heads.into(),
            head_starts: head_starts.into(),
            pairs: pairs.into(),
            min_len,
        })
    }

    /// Calls `found(owner, end)` for every literal that starts at `at` and ends by `end`.
    #[inline]
    fn starting_at(&self, hay: &[u8], at: usize, end: usize, mut found: impl FnMut(u32, usize)) {
        let Some(rest) = hay.get(at..end) else { return };
        if rest.len() < HEAD {
            return;
        }
        let pair = pair_index(rest[0], rest[1]);
        if self.pairs[pair / 64] & (1 << (pair % 64)) == 0 {
            return;
        }
        let head = [rest[0], rest[1], rest[2]];
        let Ok(h) = self.heads.binary_search(&head) else {
            return;
        };
        let (first, last) = (self.head_starts[h], self.head_starts[h + 1]);
        for &(start, len, owner) in &self.literals[first as usize..last as usize] {
            let literal = &self.bytes[start as usize..(start + len) as usize];
            if rest.starts_with(literal) {
                found(owner, at + len as usize);
            }
        }
    }

    /// Where the literal that ends first among those inside `hay[from..to]` ends.
    pub fn first_end(&self, hay: &[u8], from: usize, to: usize) -> Option<usize> {
        let to = to.min(hay.len());
        let mut best: Option<usize> = None;
        let mut at = from;
        while at + HEAD <= to {
            // A literal starting here ends at `at + min_len` or later: none can end first.
            if best.is_some_and(|b| at + self.min_len as usize > b) {
                break;
            }
            self.starting_at(hay, at, to, |_, end| {
                best = Some(best.map_or(end, |b| b.min(end)));
            });
            at += 1;
        }
        best
    }

    /// Calls `found(owner)` for every occurrence of a literal in `text`.
    pub fn each_in(&self, text: &[u8], mut found: impl FnMut(u32)) {
        for at in 0..text.len().saturating_sub(HEAD - 1) {
            self.starting_at(text, at, text.len(), |owner, _| found(owner));
        }
    }
}

fn pair_index(a: u8, b: u8) -> usize {
    (a as usize) << 8 | b as usize
}
