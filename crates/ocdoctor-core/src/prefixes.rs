//! The literals every match of a pattern starts with (regex-syntax's prefix extraction), for
//! the literal gate. Shared with `build.rs`, which extracts them for the embedded knowledge base.

use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// Shorter literals would make most lines candidates: their patterns are run as regexes.
pub const MIN_LITERAL_LEN: usize = 3;

/// The literals one of which starts every match of `source`, when they are few and long
/// enough to be worth searching for.
pub fn required_prefixes(source: &str) -> Option<Vec<Vec<u8>>> {
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
