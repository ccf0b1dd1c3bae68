//! Bearer tokens: made once, shown once, stored as their SHA-256. A token belongs to a team
//! and optionally to one rig (a CI machine's token can only upload as that rig), has a scope
//! (what it may do) and may be revoked; every request reads its row, so a revocation holds on
//! every instance from the next request on.

use sha2::{Digest, Sha256};

/// A new token: `ocd_` and 64 hex digits from the OS's random source.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("ocd_{}", hex(&bytes)))
}

/// What the database keeps of a token.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// What a token may do. `admin` may do what the others may (the tokens made before scopes
/// existed are `admin`: they could do everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `POST /api/v1/reports` only: a CI rig's token, which cannot read the team's logs.
    Upload,
    /// The pages and every `GET` of the API, and recording what fixed an incident.
    Read,
    /// Both.
    Admin,
}

/// Every scope with its name, as the database and the command line spell it.
pub const SCOPES: [(Scope, &str); 3] = [
    (Scope::Upload, "upload"),
    (Scope::Read, "read"),
    (Scope::Admin, "admin"),
];

impl Scope {
    pub fn name(self) -> &'static str {
        SCOPES
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("admin", |(_, n)| n)
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        SCOPES.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
    }

    /// Whether a token of this scope may do what `needed` names.
    pub fn allows(self, needed: Scope) -> bool {
        self == Scope::Admin || self == needed
    }
}

/// The public id of a token, shown by `token list` and named by `token revoke`: the first 12
/// hex digits of its hash (which says nothing about the token itself).
pub fn token_id(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// A random id for an incident (UUID v4 layout).
pub fn new_id() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// `8-4-4-4-12` hex digits, any version (the client's idempotency key).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Team and rig names: short, printable, no surprises in URLs or labels.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_ids_and_names() {
        let t = new_token().unwrap();
        assert!(t.starts_with("ocd_") && t.len() == 68);
        assert_ne!(t, new_token().unwrap());
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let id = new_id().unwrap();
        assert!(is_uuid(&id), "{id}");
        assert!(!is_uuid("not-a-uuid"));
        assert!(valid_name("lab-3.rig_a") && !valid_name("a b") && !valid_name(""));
        assert_eq!(token_id(&hash("abc")), "ba7816bf8f01");
    }

    #[test]
    fn scopes() {
        for (scope, name) in SCOPES {
            assert_eq!(Scope::from_name(name), Some(scope));
            assert_eq!(scope.name(), name);
            assert!(Scope::Admin.allows(scope));
            assert!(scope.allows(scope));
        }
        assert!(!Scope::Upload.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Upload));
        assert!(!Scope::Read.allows(Scope::Admin));
        assert_eq!(Scope::from_name("write"), None);
    }
}
