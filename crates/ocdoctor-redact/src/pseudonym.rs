//! Keyed pseudonyms: HMAC-SHA256 of (kind, value) under the user's secret key.
//!
//! Keyed, so that nobody can confirm a guess ("is `user-3f9a` alice?") by hashing candidate
//! names; deterministic, so the same value gets the same pseudonym in the log, the command line,
//! the machine snapshot and the report, and in every run with the same key.

use crate::Kind;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub(crate) type Digest = [u8; 32];

/// The keyed digest of one value of one kind (the kind is part of the message, so a user and a
/// host of the same name get unrelated pseudonyms).
pub(crate) fn digest(key: &[u8], kind: &Kind, value: &str) -> Digest {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(kind.name().as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8], chars: usize) -> String {
    let mut s = String::with_capacity(chars + 1);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
        if s.len() >= chars {
            break;
        }
    }
    s.truncate(chars);
    s
}

/// The pseudonym text for a digest. `chars` is how many hex digits name it (4 unless two values
/// of one run would otherwise share a name). `original` shapes addresses: an IPv4 address stays
/// an IPv4 address (so a rule reading `N.N.N.N:port` still reads it), a MAC keeps its separator.
pub(crate) fn render(kind: &Kind, d: &Digest, chars: usize, original: &str) -> String {
    let h = hex(d, chars);
    match kind {
        Kind::User => format!("user-{h}"),
        Kind::Host => format!("host-{h}"),
        Kind::Email => format!("email-{h}@example.invalid"),
        Kind::Serial => format!("serial-{h}"),
        Kind::Token => format!("token-{h}"),
        Kind::Path => format!("dir-{h}"),
        Kind::PrivateKey => {
            // The block keeps its line count: evidence line numbers after it stay true.
            let lines = original.matches('\n').count();
            format!("[private-key-{h}]{}", "\n".repeat(lines))
        }
        // 10/8 is private address space; 24 bits of the digest pick the host.
        Kind::Ip if !original.contains(':') => format!("10.{}.{}.{}", d[0], d[1], d[2]),
        // fd00::/8 is the IPv6 unique-local range.
        Kind::Ip => format!("fd00::{:02x}{:02x}:{:02x}{:02x}", d[0], d[1], d[2], d[3]),
        Kind::Mac => {
            let sep = if original.contains('-') { "-" } else { ":" };
            // 02: a locally administered unicast address, never a vendor's.
            let s = format!(
                "02{sep}{:02x}{sep}{:02x}{sep}{:02x}{sep}{:02x}{sep}{:02x}",
                d[0], d[1], d[2], d[3], d[4]
            );
            if original.chars().any(|c| c.is_ascii_uppercase()) {
                s.to_ascii_uppercase()
            } else {
                s
            }
        }
        Kind::Other(name) => format!("{name}-{h}"),
    }
}

/// Whether a value already is one of our pseudonyms (redacting twice changes nothing).
pub(crate) fn is_pseudonym(value: &str) -> bool {
    let Some((prefix, rest)) = value.split_once('-') else {
        return false;
    };
    let rest = rest.strip_suffix("@example.invalid").unwrap_or(rest);
    matches!(
        prefix,
        "user" | "host" | "email" | "serial" | "token" | "dir"
    ) && (4..=16).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}
