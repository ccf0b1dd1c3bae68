//! Which command names exist: OpenOCD's registered commands and Tcl procs in every release and
//! fork the catalog knows (`rules/versions/commands.tsv`, generated from the source trees) and
//! Jim Tcl's own (`data/jim_commands.txt`). A name in neither is what OpenOCD rejects with
//! `invalid command name "…"`; the nearest known name is the suggestion.

use crate::index::edit_distance_within;
use crate::versions::Version;
use std::collections::HashSet;
use std::sync::LazyLock;

const OPENOCD_COMMANDS_TSV: &str = include_str!("../../../rules/versions/commands.tsv");
const JIM_COMMANDS: &str = include_str!("../data/jim_commands.txt");

/// Each row of `commands.tsv`: the command's first word and its `sources` column (the releases
/// and forks that register it).
fn openocd_commands() -> impl Iterator<Item = (&'static str, Option<&'static str>)> {
    OPENOCD_COMMANDS_TSV
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| {
            let mut fields = l.split('\t');
            let name = fields.next().and_then(|c| c.split(' ').next());
            (name.unwrap_or_default(), fields.nth(3))
        })
}

/// The first words of every known command (`adapter`, `transport`, `init`, `set`…).
static KNOWN: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    openocd_commands()
        .map(|(name, _)| name)
        .filter(|c| !c.is_empty())
        .chain(JIM.iter().copied())
        .collect()
});

/// The known names by byte length, each list sorted: a suggestion looks only at the lengths
/// within its limit, and the first of two names at the same distance is the smaller.
static BY_LENGTH: LazyLock<Vec<Vec<&'static str>>> = LazyLock::new(|| {
    let mut by_length: Vec<Vec<&'static str>> = Vec::new();
    for &k in KNOWN.iter() {
        if by_length.len() <= k.len() {
            by_length.resize_with(k.len() + 1, Vec::new);
        }
        by_length[k.len()].push(k);
    }
    for names in &mut by_length {
        names.sort_unstable();
    }
    by_length
});

/// The Jim Tcl commands (`data/jim_commands.txt`).
static JIM: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    JIM_COMMANDS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect()
});

/// Whether `name` is a command some OpenOCD (any release or fork) or Jim Tcl defines.
pub fn is_known(name: &str) -> bool {
    KNOWN.contains(name.trim_start_matches("::"))
}

/// The first words of the commands each release registers (`commands.tsv`'s `sources`).
static BY_RELEASE: LazyLock<HashSet<(&'static str, &'static str)>> = LazyLock::new(|| {
    openocd_commands()
        .filter_map(|(name, sources)| Some((name, sources?)))
        .flat_map(|(name, sources)| sources.split(',').map(move |s| (name, s)))
        .collect()
});

/// Whether `name` is a command of OpenOCD `version` itself (or of Jim Tcl): what a fix may
/// write for that version, unlike [`is_known`], which also knows other releases and forks.
pub fn is_known_in(name: &str, version: Version) -> bool {
    let name = name.trim_start_matches("::");
    JIM.contains(name) || BY_RELEASE.contains(&(name, version.release_tag()))
}

/// The known command closest to `name` (`transprt` → `transport`), when one is close enough
/// to be what was meant: at most two edits, and fewer than a third of the name.
pub fn suggest(name: &str) -> Option<&'static str> {
    let want: Vec<char> = name.chars().collect();
    let limit = (want.len() / 3).clamp(1, 2);
    let mut best: Option<(usize, &'static str)> = None;
    let mut have: Vec<char> = Vec::new();
    // Byte lengths too far apart cannot be within the limit.
    let lengths = name.len().saturating_sub(limit)..=name.len() + limit;
    for names in lengths.filter_map(|n| BY_LENGTH.get(n)) {
        for &k in names {
            have.clear();
            have.extend(k.chars());
            // At most the best distance so far: a farther name cannot replace it.
            let bound = best.map_or(limit, |(bd, _)| bd);
            let Some(d) = edit_distance_within(&want, &have, bound) else {
                continue;
            };
            if best.is_none_or(|(bd, bk)| d < bd || (d == bd && k < bk)) {
                best = Some((d, k));
            }
        }
    }
    best.map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_suggested() {
        for k in [
            "adapter",
            "transport",
            "init",
            "set",
            "proc",
            "source",
            "program",
        ] {
            assert!(is_known(k), "{k}");
        }
        assert!(!is_known("transprt"));
        assert_eq!(suggest("transprt"), Some("transport"));
        assert_eq!(suggest("adaptr"), Some("adapter"));
        assert_eq!(suggest("qqqqqqqqqq"), None);
        // `adapter` came with 0.11; `set` is Jim's in every release.
        assert!(is_known_in("adapter", Version::V0_12));
        assert!(!is_known_in("adapter", Version::V0_10));
        assert!(is_known_in("set", Version::V0_10));
        assert!(!is_known_in("transprt", Version::V0_12));
    }

    /// The suggestion by length and banded distance is the one the plain search over every
    /// known name gives, for names one or two edits from a known one and for unrelated ones.
    #[test]
    fn the_indexed_suggestion_is_the_plain_one() {
        fn plain(name: &str) -> Option<&'static str> {
            let limit = (name.chars().count() / 3).clamp(1, 2);
            let mut best: Option<(usize, &'static str)> = None;
            for &k in KNOWN.iter() {
                if k.len().abs_diff(name.len()) > limit {
                    continue;
                }
                let d = crate::index::edit_distance(name, k);
                if d <= limit && best.is_none_or(|(bd, bk)| d < bd || (d == bd && k < bk)) {
                    best = Some((d, k));
                }
            }
            best.map(|(_, k)| k)
        }
        let mut names: Vec<String> = ["", "x", "é", "qqqqqqqqqq", "adaptr", "transprt", "ïnit"]
            .map(String::from)
            .to_vec();
        let mut known: Vec<&str> = KNOWN.iter().copied().collect();
        known.sort_unstable();
        for k in known.iter().step_by(7) {
            let c: Vec<char> = k.chars().collect();
            let n = c.len();
            names.push(c[..n / 2].iter().chain(&c[n / 2 + 1..]).collect());
            names.push(c.iter().rev().collect());
            names.push(format!("{k}zq"));
            names.push(c.iter().map(|&x| if x == 'a' { 'e' } else { x }).collect());
        }
        for n in &names {
            assert_eq!(suggest(n), plain(n), "{n:?}");
        }
    }
}
