//! The forms the scanner's second pass runs for a pattern with an anchor (`kb::Anchor`). Shared
//! with build.rs, which builds a DFA for exactly these forms: one formula, so no build-time DFA
//! is made for a form the scanner never looks up.

/// The match must start the message.
pub fn at_start(re: &str) -> String {
    format!(r"\A(?:{re})")
}

/// The match must be the whole message.
pub fn whole(re: &str) -> String {
    format!(r"\A(?:{re})\z")
}
