//! Bearer tokens: made once, shown once, stored as their SHA-256. A token belongs to a team
//! and optionally to one rig (a CI machine's token can only upload as that rig).

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
    }
}
