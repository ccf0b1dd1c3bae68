//! The literal gate: which patterns can match a text, from the literals every match of a
//! pattern starts with (regex-syntax's prefix extraction), searched with one Aho-Corasick
//! automaton. Building it takes a fraction of a millisecond, where the knowledge base's
//! patterns as one regex take tens: the scanner compiles a pattern only when its literals are
//! on a line.

use crate::prefixes::required_prefixes;
use aho_corasick::{AhoCorasick, MatchKind};

// `EMBEDDED_PREFIXES`: `required_prefixes` of every pattern of the embedded knowledge base,
// computed by build.rs (parsing ~450 patterns for it was a quarter of a short diagnosis).
include!(concat!(env!("OUT_DIR"), "/gate_prefixes.rs"));

/// `required_prefixes(source)`, from the build-time table when the knowledge base is the
/// embedded one.
fn prefixes_of(source: &str) -> Option<Vec<Vec<u8>>> {
    match EMBEDDED_PREFIXES.binary_search_by(|(s, _)| (*s).cmp(source)) {
        Ok(i) => EMBEDDED_PREFIXES[i]
            .1
            .map(|ls| ls.iter().map(|l| l.to_vec()).collect()),
        Err(_) => required_prefixes(source),
    }
}

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
            match prefixes_of(source) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The build-time table is what extraction gives at run time, for every pattern the
    /// scanner of the embedded knowledge base gates.
    #[test]
    fn the_build_time_prefixes_are_the_extracted_ones() {
        assert!(EMBEDDED_PREFIXES.len() > 300, "{}", EMBEDDED_PREFIXES.len());
        assert!(EMBEDDED_PREFIXES.windows(2).all(|w| w[0].0 < w[1].0));
        for (source, _) in EMBEDDED_PREFIXES {
            assert_eq!(prefixes_of(source), required_prefixes(source), "{source}");
        }
        let kb = crate::KnowledgeBase::embedded();
        let sources = kb.facts.iter().map(|f| &f.regex).chain(
            kb.rules
                .iter()
                .flat_map(|r| &r.matchers)
                .filter(|m| m.fact.is_none() && m.problem.is_none())
                .map(|m| &m.regex),
        );
        for source in sources {
            assert!(
                EMBEDDED_PREFIXES
                    .binary_search_by(|(s, _)| (*s).cmp(source.as_str()))
                    .is_ok(),
                "not in the build-time table: {source}"
            );
        }
    }

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
