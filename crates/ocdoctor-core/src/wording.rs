//! Version gaps in the rules' wording: the catalog holds every release's and fork's message
//! formats, and the same message is often worded a little differently from one to the next. A
//! rule written from one version's line may miss another version's. This module renders every
//! catalog format into a sample line, groups the formats that are the same message (same
//! subsystem, same words once case, punctuation, `%` conversions and a target prefix are
//! dropped), and reports each group where a rule's matcher matches some members but not others.
//! Used by `examples/rule_wording.rs` (the audit) and `tests/wording.rs` (keeps gaps closed).

use crate::catalog::{Catalog, Format};
use crate::catalog_rows::{Conv, Piece, parse_format};
use crate::kb::{Anchor, KnowledgeBase};
use crate::logline::LogLine;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The `%s: ` / `[%s] ` / `%s ` target prefix newer releases put before many messages.
static TARGET_PREFIX: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\A(?:\[%s\]\s*|%s:\s*)").expect("target prefix pattern"));

/// A sample value for one conversion: a word for `%s`, a number, hex digits.
fn sample_value(conv: Conv) -> &'static str {
    match conv {
        Conv::Text => "stm32f1x.cpu",
        Conv::Char => "c",
        Conv::Pointer => "0x1f",
        Conv::Hex => "1f",
        Conv::Signed | Conv::Unsigned => "1",
        Conv::Float => "1.0",
    }
}

/// The format's pieces as the catalog's matcher reads them (`%%` already a literal `%`); a
/// format it cannot take (`%n`) is one literal, trimmed like the pieces.
fn pieces(format: &str) -> Vec<Piece> {
    parse_format(format).unwrap_or_else(|| vec![Piece::Lit(format.trim().to_string())])
}

/// The message a format prints with sample values (`%s` a word, numbers, hex digits).
pub fn sample_message(format: &str) -> String {
    // the generator already expanded `PRIx32` and the like into plain conversions
    let body: String = pieces(format)
        .iter()
        .map(|p| match p {
            Piece::Lit(l) => l.as_str(),
            Piece::Conv(c) => sample_value(*c),
        })
        .collect();
    // The matcher's pieces drop the spaces around a format; OpenOCD prints them.
    let lead = &format[..format.len() - format.trim_start().len()];
    let trail = &format[format.trim_end().len()..];
    format!("{lead}{body}{trail}")
}

/// The prefix OpenOCD prints before a message of this catalog level.
pub fn level_prefix(level: &str) -> &'static str {
    match level {
        "error" => "Error: ",
        "warning" => "Warn : ",
        "info" => "Info : ",
        // LOG_USER, command_print and Jim results have no prefix
        _ => "",
    }
}

/// The line OpenOCD prints for a format, prefix included.
pub fn sample_line(format: &Format) -> String {
    format!(
        "{}{}",
        level_prefix(&format.level),
        sample_message(&format.text)
    )
}

/// What stays of a format when wording details that differ between versions are dropped: the
/// lower-case words, without `%` conversions and a leading target prefix.
pub fn normalise(format: &str) -> String {
    let body = TARGET_PREFIX.replace(format, "");
    let body: String = pieces(&body)
        .iter()
        .map(|p| match p {
            Piece::Lit(l) => l.as_str(),
            Piece::Conv(_) => " ",
        })
        .collect();
    body.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Formats that print the same message in different versions: one subsystem, one normalised
/// text, at least two formats. Keys are `subsystem` and the normalised text; values index
/// [`Catalog::formats`].
pub fn message_groups(catalog: &Catalog) -> BTreeMap<(String, String), Vec<usize>> {
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in catalog.formats.iter().enumerate() {
        let words = normalise(&f.text);
        // a format of only conversions and punctuation says nothing to group by
        if words.len() < 8 {
            continue;
        }
        groups
            .entry((f.subsystem.to_string(), words))
            .or_default()
            .push(i);
    }
    groups.retain(|_, members| members.len() > 1);
    groups
}

/// A group where a rule's matchers match some members and miss others.
#[derive(Debug, Clone)]
pub struct Gap {
    pub rule: String,
    pub subsystem: String,
    /// Formats the rule matches and misses (indices into [`Catalog::formats`]).
    pub matched: Vec<usize>,
    pub missed: Vec<usize>,
}

/// The audit: every rule's regex matchers against every catalog group's sample lines.
pub struct Audit {
    pub rules_audited: usize,
    /// Formats (of any group or none) that some rule's matcher matches.
    pub formats_matched: usize,
    pub groups: usize,
    pub gaps: Vec<Gap>,
}

/// Run every regex matcher of `kb` on every catalog format's sample message. Only the regex
/// and its anchor are tried (not the level or `when` conditions): the question is whether the
/// words are recognised, whatever version printed them.
pub fn audit(kb: &KnowledgeBase, catalog: &Catalog) -> Audit {
    let messages: Vec<String> = catalog
        .formats
        .iter()
        .map(|f| {
            let line = sample_line(f);
            LogLine::parse(line.as_bytes()).message().to_string()
        })
        .collect();
    let groups = message_groups(catalog);
    let mut matched_any = vec![false; messages.len()];
    let mut gaps = Vec::new();
    let mut rules_audited = 0;
    for rule in &kb.rules {
        // a rule's matchers together: one wording may be caught by a matcher of its own
        let mut hits = vec![false; messages.len()];
        let mut audited = false;
        for m in rule.matchers.iter().filter(|m| !m.regex.is_empty()) {
            let Ok(re) = regex::Regex::new(&Anchor::wrap(m.anchor, &m.regex)) else {
                continue;
            };
            audited = true;
            for (hit, msg) in hits.iter_mut().zip(&messages) {
                *hit |= re.is_match(msg);
            }
        }
        if !audited {
            continue;
        }
        rules_audited += 1;
        for (matched, hit) in matched_any.iter_mut().zip(&hits) {
            *matched |= *hit;
        }
        for ((subsystem, _), members) in &groups {
            let (matched, missed): (Vec<usize>, Vec<usize>) =
                members.iter().partition(|&&i| hits[i]);
            if !matched.is_empty() && !missed.is_empty() {
                gaps.push(Gap {
                    rule: rule.code.clone(),
                    subsystem: subsystem.clone(),
                    matched,
                    missed,
                });
            }
        }
    }
    Audit {
        rules_audited,
        formats_matched: matched_any.iter().filter(|h| **h).count(),
        groups: groups.len(),
        gaps,
    }
}

/// One line of the allow-list `tests/data/wording_allow.tsv`: `rule<TAB>format<TAB>reason`,
/// a format the rule is meant not to match although a sibling wording matches.
pub fn allowed(allow_list: &str) -> Vec<(String, String)> {
    allow_list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}
