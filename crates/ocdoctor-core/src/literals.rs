//! The literal gate: which patterns can match a text, from the literals every match of a
//! pattern starts with (regex-syntax's prefix extraction), looked up in a [`LiteralTable`].
//! For the embedded knowledge base the table is built by build.rs: the scanner compiles a
//! pattern only when its literals are on a line, and starts with nothing to build.

use crate::literal_table::LiteralTable;
use crate::prefixes::required_prefixes;
use std::borrow::Cow;

// `EMBEDDED_PREFIXES`: `required_prefixes` of every pattern of the embedded knowledge base,
// sorted by source (parsing ~450 patterns for it was a quarter of a short diagnosis); and the
// `LiteralTable` of their literals, each owned by its pattern's index in `EMBEDDED_PREFIXES`,
// as `GATE_*` statics. Both computed by build.rs.
include!(concat!(env!("OUT_DIR"), "/gate_prefixes.rs"));

/// The build-time table.
fn embedded_table() -> LiteralTable {
    LiteralTable {
        bytes: Cow::Borrowed(GATE_BYTES),
        literals: Cow::Borrowed(&GATE_LITERALS),
        heads: Cow::Borrowed(&GATE_HEADS),
        head_starts: Cow::Borrowed(&GATE_HEAD_STARTS),
        pairs: Cow::Borrowed(&GATE_PAIRS),
        min_len: GATE_MIN_LEN,
    }
}

pub(crate) struct LiteralGate {
    table: LiteralTable,
    /// A literal's owner in `table` → the indexes (into the scanner's sources) of its pattern.
    sources_of: Vec<Vec<usize>>,
    /// Patterns without usable literals (any match may start anywhere): always run.
    pub(crate) residual: Vec<usize>,
}

impl LiteralGate {
    /// `sources` are parsed as the scanner runs them: bytes, ASCII classes.
    pub(crate) fn new(sources: &[String]) -> Result<LiteralGate, String> {
        match Self::embedded(sources) {
            Some(gate) => Ok(gate),
            None => Self::built(sources),
        }
    }

    /// The gate on the build-time table, when every source is a pattern build.rs saw.
    fn embedded(sources: &[String]) -> Option<LiteralGate> {
        let mut sources_of = vec![Vec::new(); EMBEDDED_PREFIXES.len()];
        let mut residual = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            let e = EMBEDDED_PREFIXES
                .binary_search_by(|(s, _)| (*s).cmp(source))
                .ok()?;
            match EMBEDDED_PREFIXES[e].1 {
                Some(_) => sources_of[e].push(i),
                None => residual.push(i),
            }
        }
        Some(LiteralGate {
            table: embedded_table(),
            sources_of,
            residual,
        })
    }

    /// The gate built at run time (a knowledge base other than the embedded one).
    fn built(sources: &[String]) -> Result<LiteralGate, String> {
        let mut literals = Vec::new();
        let mut residual = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            match required_prefixes(source) {
                Some(prefixes) => literals.extend(prefixes.into_iter().map(|l| (l, i as u32))),
                None => residual.push(i),
            }
        }
        Ok(LiteralGate {
            table: LiteralTable::build(literals)
                .map_err(|e| format!("building the literal prefilter: {e}"))?,
            sources_of: (0..sources.len()).map(|i| vec![i]).collect(),
            residual,
        })
    }

    /// Where the first literal at or after `from` (and before `to`) ends.
    pub(crate) fn next_end(&self, hay: &[u8], from: usize, to: usize) -> Option<usize> {
        self.table.first_end(hay, from, to)
    }

    /// The patterns with a literal in `text`, plus the residual ones: ascending, no repeats.
    pub(crate) fn possible(&self, text: &[u8], out: &mut Vec<usize>) {
        out.clear();
        self.table
            .each_in(text, |owner| out.extend(&self.sources_of[owner as usize]));
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
        for (source, prefixes) in EMBEDDED_PREFIXES {
            let prefixes = prefixes.map(|ls| ls.iter().map(|l| l.to_vec()).collect());
            assert_eq!(prefixes, required_prefixes(source), "{source}");
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

    /// build.rs' tables are the ones `LiteralTable::build` makes at run time.
    #[test]
    fn the_build_time_table_is_the_run_time_one() {
        let literals = EMBEDDED_PREFIXES
            .iter()
            .enumerate()
            .flat_map(|(i, (_, ls))| {
                ls.iter()
                    .flat_map(|ls| ls.iter())
                    .map(move |l| (l.to_vec(), i as u32))
            })
            .collect();
        let built = LiteralTable::build(literals).unwrap();
        let embedded = embedded_table();
        assert!(
            embedded.literals.len() > 1000,
            "{}",
            embedded.literals.len()
        );
        assert_eq!(embedded.bytes, built.bytes);
        assert_eq!(embedded.literals, built.literals);
        assert_eq!(embedded.heads, built.heads);
        assert_eq!(embedded.head_starts, built.head_starts);
        assert_eq!(embedded.pairs, built.pairs);
        assert_eq!(embedded.min_len, built.min_len);
    }

    /// The gate of the embedded knowledge base answers what an Aho-Corasick automaton of the
    /// same literals answers (the gate it replaced): the same earliest literal end from every
    /// position the scanner searches from, and the same patterns on every line.
    #[test]
    fn the_gate_finds_what_an_automaton_of_its_literals_finds() {
        use aho_corasick::{AhoCorasick, Input, MatchKind};
        let kb = crate::KnowledgeBase::embedded();
        let mut sources: Vec<String> = kb.facts.iter().map(|f| f.regex.clone()).collect();
        sources.extend(
            kb.rules
                .iter()
                .flat_map(|r| &r.matchers)
                .filter(|m| m.fact.is_none() && m.problem.is_none())
                .map(|m| m.regex.clone()),
        );
        sources.push("Error".into());
        sources.push("Open On-Chip Debugger".into());
        let gate = LiteralGate::new(&sources).unwrap();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            for l in required_prefixes(source).into_iter().flatten() {
                literals.push(l);
                owner.push(i);
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&literals)
            .unwrap();
        let (mut ends, mut lines) = (0, 0);
        let mut possible = Vec::new();
        for (_, log) in crate::test_logs::repo_logs(&["rules", "crates/ocdoctor-core/tests/data"]) {
            let mut pos = 0;
            while pos < log.len() {
                let expected = ac
                    .find(Input::new(&log).range(pos..log.len()))
                    .map(|m| m.end());
                assert_eq!(gate.next_end(&log, pos, log.len()), expected);
                ends += 1;
                // As the scanner does: on from the end of the literal, or from the next line.
                pos = match expected {
                    Some(end) if ends % 2 == 0 => end,
                    _ => memchr::memchr(b'\n', &log[pos..]).map_or(log.len(), |i| pos + i + 1),
                };
            }
            for line in log.split(|&b| b == b'\n') {
                let mut expected: Vec<usize> = ac
                    .find_overlapping_iter(line)
                    .map(|m| owner[m.pattern().as_usize()])
                    .chain(gate.residual.iter().copied())
                    .collect();
                expected.sort_unstable();
                expected.dedup();
                gate.possible(line, &mut possible);
                assert_eq!(possible, expected, "{}", String::from_utf8_lossy(line));
                lines += 1;
            }
        }
        // A guard that the repository's logs were found and walked (9,350 lines at 390 cases),
        // not a result threshold: every line above was compared one by one.
        assert!(
            ends > 5_000 && lines > 5_000,
            "{ends} searches, {lines} lines"
        );
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
