//! The literal gate: which patterns can match a text, from the literals every match of a
//! pattern starts with (regex-syntax's prefix extraction), searched with one Aho-Corasick
//! automaton. Building it takes a fraction of a millisecond, where the knowledge base's
//! patterns as one regex take tens: the scanner compiles a pattern only when its literals are
//! on a line.

use aho_corasick::{AhoCorasick, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// Shorter literals would make most lines candidates: their patterns are run as regexes.
const MIN_LITERAL_LEN: usize = 3;

pub(crate) struct LiteralGate {
    automaton: AhoCorasick,
    /// Aho-Corasick pattern id → the index (into the scanner's sources) of its pattern.
    owner: Vec<usize>,
    /// Patterns without usable literals (any match may start anywhere): always run.
    pub(crate) residual: Vec<usize>,
}

impl LiteralGate {
    /// `sources` are parsed as the scanner runs them: bytes, ASCII classes.
    pub(crate) fn new(sources: &[String]) -> Result<LiteralGate, String> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        let mut residual = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            match required_prefixes(source) {
                Some(prefixes) => {
                    owner.extend(std::iter::repeat_n(i, prefixes.len()));
                    literals.extend(prefixes);
                }
                None => residual.push(i),
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&literals)
            .map_err(|e| format!("building the literal prefilter: {e}"))?;
        Ok(LiteralGate {
            automaton,
            owner,
            residual,
        })
    }

    /// Where the first literal at or after `from` (and before `to`) ends.
    pub(crate) fn next_end(&self, hay: &[u8], from: usize, to: usize) -> Option<usize> {
        self.automaton
            .find(aho_corasick::Input::new(hay).range(from..to))
            .map(|m| m.end())
    }

    /// The patterns with a literal in `text`, plus the residual ones: ascending, no repeats.
    pub(crate) fn possible(&self, text: &[u8], out: &mut Vec<usize>) {
        out.clear();
        out.extend(
            self.automaton
                .find_overlapping_iter(text)
                .map(|m| self.owner[m.pattern().as_usize()]),
        );
        out.extend_from_slice(&self.residual);
        out.sort_unstable();
        out.dedup();
    }
}

/// The literals one of which starts every match of `source`, when they are few and long
/// enough to be worth searching for.
fn required_prefixes(source: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(source)
        .ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty()
        || literals
            .iter()
            .any(|l| l.as_bytes().len() < MIN_LITERAL_LEN)
    {
        return None;
    }
    Some(literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_with_a_required_prefix_is_gated_by_it() {
        let sources = vec![
            "open failed".to_string(),
            r"(?i)no device (found|attached)".to_string(),
            r"\d+ bytes".to_string(),
        ];
        let gate = LiteralGate::new(&sources).unwrap();
        assert_eq!(gate.residual, vec![2]);
        let mut out = Vec::new();
        gate.possible(b"Error: NO DEVICE found, open failed", &mut out);
        assert_eq!(out, vec![0, 1, 2]);
        gate.possible(b"Info : clock speed 1000 kHz", &mut out);
        assert_eq!(out, vec![2]);
        assert_eq!(gate.next_end(b"xx open failed", 0, 14), Some(14));
        assert_eq!(gate.next_end(b"xx open failed", 4, 14), None);
    }
}
