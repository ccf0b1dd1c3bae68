//! Automata built at build time: build.rs determinizes the embedded knowledge base's patterns
//! into dense DFAs (each pattern as phase 1 runs it on a line's bytes and as phase 2 runs it on
//! a message, and the literal gate's residual patterns as one) and writes them serialized; here
//! they are loaded zero-copy from the binary (`DFA::from_bytes` only checks them). Compiling
//! them at start-up, and the lazy DFA's determinization of every byte a fresh regex meets, was
//! most of a short diagnosis.
//!
//! A pattern with no build-time DFA (over the size limit, or a knowledge base other than the
//! embedded one) is compiled at run time as before: the same answers from either.

use regex_automata::dfa::{Automaton, dense};
use regex_automata::{HalfMatch, Input, meta};

/// The DFAs' bytes, aligned as `DFA::from_bytes` requires (their `u32` tables).
#[repr(C, align(8))]
struct Aligned<T: ?Sized> {
    bytes: T,
}

// `AUTOMATA` (every DFA, each at an offset that keeps the alignment), `LINE_DFAS` ((pattern,
// offset, length), sorted by pattern), `RESIDUAL_SOURCES` (the residual patterns, sorted) and
// `RESIDUAL_DFA` ((offset, length) of their one DFA, if built): written by build.rs.
include!(concat!(env!("OUT_DIR"), "/automata.rs"));

fn dfa_at(start: u32, len: u32) -> Option<Box<dense::DFA<&'static [u32]>>> {
    let bytes = AUTOMATA
        .bytes
        .get(start as usize..(start as usize).checked_add(len as usize)?)?;
    dense::DFA::from_bytes(bytes)
        .ok()
        .map(|(dfa, _)| Box::new(dfa))
}

/// A pattern (or a set of them) ready to search: a build-time DFA, or a regex compiled now.
/// Both search with the same leftmost-first automaton semantics, so they give the same answers.
pub(crate) enum Matcher {
    /// Boxed: a DFA's header is ~800 bytes, and most patterns of a scanner stay unbuilt.
    Dfa(Box<dense::DFA<&'static [u32]>>),
    Regex(meta::Regex),
}

impl Matcher {
    /// The build-time DFA of `pattern`, if build.rs made one.
    pub(crate) fn embedded(pattern: &str) -> Option<Matcher> {
        let i = LINE_DFAS
            .binary_search_by(|(p, _, _)| (*p).cmp(pattern))
            .ok()?;
        let (_, start, len) = LINE_DFAS[i];
        dfa_at(start, len).map(Matcher::Dfa)
    }

    /// The build-time DFA of the literal gate's residual patterns, when `sources` are the ones
    /// build.rs saw (in any order, repeats allowed).
    pub(crate) fn embedded_residual(sources: &[&String]) -> Option<Matcher> {
        let mut sources: Vec<&str> = sources.iter().map(|s| s.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        if sources != RESIDUAL_SOURCES {
            return None;
        }
        let (start, len) = RESIDUAL_DFA?;
        dfa_at(start, len).map(Matcher::Dfa)
    }

    /// Where the first match found in `input` ends (with `earliest`, as soon as one is known).
    pub(crate) fn search_half(&self, input: &Input<'_>) -> Option<HalfMatch> {
        match self {
            // The build-time DFAs have no quit bytes (ASCII word boundaries only) and a dense
            // DFA never gives up, so the search cannot fail.
            Matcher::Dfa(dfa) => dfa.try_search_fwd(input).ok().flatten(),
            Matcher::Regex(re) => re.search_half(input),
        }
    }

    pub(crate) fn is_match(&self, hay: &[u8]) -> bool {
        match self {
            Matcher::Dfa(_) => self.search_half(&Input::new(hay).earliest(true)).is_some(),
            Matcher::Regex(re) => re.is_match(hay),
        }
    }
}
