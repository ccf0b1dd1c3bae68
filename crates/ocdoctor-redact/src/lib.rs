//! Redaction for ocdoctor: the private data in an OpenOCD log, a command line, a machine
//! snapshot or a report, replaced by consistent keyed pseudonyms. Pure: no I/O; the caller
//! brings the key, the text and the user's extra patterns.
//!
//! ```
//! let mut r = ocdoctor_redact::Redactor::new(b"a secret key of 16+ bytes", &[]).unwrap();
//! let safe = r.redact("alice@alices-box:~$ openocd -s /home/alice/fw/scripts -f board/x.cfg");
//! assert!(!safe.contains("alice") && safe.contains("/fw/scripts -f board/x.cfg"));
//! assert_eq!(r.manifest().get("user"), Some(&2));
//! assert_eq!(r.manifest().get("host"), Some(&1));
//! ```
//!
//! What it finds: user names (home folders on every OS, shell prompts, `USER=`), host names
//! (prompts, `.local`/`.lan`/… names, `DESKTOP-…`, UNC paths, remote targets), IPv4/IPv6
//! addresses (not loopback or 0.0.0.0), MACs, e-mail addresses, probe serials (after the
//! commands and messages that carry them, in OpenOCD's `\x..` escaped form too, lsusb, udev,
//! Windows device ids), tokens and keys, and the private folders of absolute paths. What it
//! leaves: OpenOCD's messages, cfg names, versions, IDCODEs, VID:PID, addresses, ports: the
//! diagnosis of a redacted log is the diagnosis of the original.

mod detect;
mod paths;
mod pseudonym;

use regex::Regex;
use std::collections::{BTreeMap, HashMap};

/// What a replaced value was.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    User,
    Host,
    Ip,
    Mac,
    Email,
    Serial,
    Token,
    PrivateKey,
    /// A private folder name inside an absolute path.
    Path,
    /// A kind named by a user pattern.
    Other(String),
}

impl Kind {
    pub fn name(&self) -> &str {
        match self {
            Kind::User => "user",
            Kind::Host => "host",
            Kind::Ip => "ip",
            Kind::Mac => "mac",
            Kind::Email => "email",
            Kind::Serial => "serial",
            Kind::Token => "token",
            Kind::PrivateKey => "private-key",
            Kind::Path => "path",
            Kind::Other(name) => name,
        }
    }

    /// The kind of a name: a built-in one, or a user kind (lower-case letters, digits, `-`).
    pub fn from_name(name: &str) -> Result<Kind, Error> {
        Ok(match name {
            "user" => Kind::User,
            "host" => Kind::Host,
            "ip" => Kind::Ip,
            "mac" => Kind::Mac,
            "email" => Kind::Email,
            "serial" => Kind::Serial,
            "token" => Kind::Token,
            "private-key" => Kind::PrivateKey,
            "path" => Kind::Path,
            other
                if !other.is_empty()
                    && other.len() <= 32
                    && other
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
            {
                Kind::Other(other.to_string())
            }
            other => return Err(Error::BadKind(other.to_string())),
        })
    }
}

/// A pattern of the user's own (from a config file the CLI reads): a regular expression and the
/// kind its matches are. With a capture group named `value` only that part is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPattern {
    pub regex: String,
    pub kind: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the redaction key is {0} bytes; it needs at least {MIN_KEY_BYTES}")]
    KeyTooShort(usize),
    #[error("pattern {index} ({regex:?}): {source}")]
    BadPattern {
        index: usize,
        regex: String,
        #[source]
        source: regex::Error,
    },
    #[error("kind {0:?}: use lower-case letters, digits and '-' (at most 32)")]
    BadKind(String),
}

/// Shorter keys could be guessed; 32 random bytes is what the CLI generates.
pub const MIN_KEY_BYTES: usize = 16;

/// Learned names shorter than this are only replaced where their context says what they are
/// (`/home/al`), never as bare words.
const MIN_BARE_LEN: usize = 3;

/// Names so common that a bare occurrence is a word, not the person or machine.
const GENERIC_NAMES: &[&str] = &[
    "user",
    "users",
    "root",
    "admin",
    "administrator",
    "pi",
    "ubuntu",
    "debian",
    "vagrant",
    "runner",
    "builder",
    "build",
    "dev",
    "test",
    "guest",
    "me",
    "host",
    "home",
    "default",
    "public",
    "shared",
    "git",
    "docker",
    "container",
    "server",
    "local",
    "sudo",
    "app",
];

/// Whether a name found in context may be replaced wherever it stands as a word: not too
/// short, not a common word, not a folder name a path needs, not already a pseudonym.
fn worth_replacing_everywhere(value: &str) -> bool {
    value.chars().count() >= MIN_BARE_LEN
        && !GENERIC_NAMES.contains(&value.to_ascii_lowercase().as_str())
        && !paths::is_public_word(value)
        && !pseudonym::is_pseudonym(value)
}

/// Learned values replaced as bare words too, and the kinds that get them.
fn bare_words_kind(kind: &Kind) -> bool {
    matches!(kind, Kind::User | Kind::Host | Kind::Serial)
}

/// One replacement: a byte range of the text and what it is.
struct Span {
    start: usize,
    end: usize,
    kind: Kind,
    /// Lower wins when two spans start at the same byte.
    priority: usize,
}

/// The redactor of one run: holds the key, the patterns and what it learned (names it saw in a
/// context, to replace them wherever they appear), and counts what it replaced.
pub struct Redactor {
    key: Vec<u8>,
    user_patterns: Vec<(Regex, Kind)>,
    /// Values seen in a context (a home folder, a prompt, `adapter serial`) or given by the caller.
    learned: BTreeMap<String, Kind>,
    /// Pseudonym text → the digest it stands for, to lengthen names that would collide.
    assigned: HashMap<String, pseudonym::Digest>,
    /// Per value digest: the pseudonym given (so a lengthened name stays lengthened).
    given: HashMap<pseudonym::Digest, String>,
    counts: BTreeMap<String, u64>,
}

impl Redactor {
    pub fn new(key: &[u8], patterns: &[UserPattern]) -> Result<Redactor, Error> {
        if key.len() < MIN_KEY_BYTES {
            return Err(Error::KeyTooShort(key.len()));
        }
        let user_patterns = patterns
            .iter()
            .enumerate()
            .map(|(index, p)| {
                let re = Regex::new(&p.regex).map_err(|source| Error::BadPattern {
                    index,
                    regex: p.regex.clone(),
                    source,
                })?;
                Ok((re, Kind::from_name(&p.kind)?))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Redactor {
            key: key.to_vec(),
            user_patterns,
            learned: BTreeMap::new(),
            assigned: HashMap::new(),
            given: HashMap::new(),
            counts: BTreeMap::new(),
        })
    }

    /// A value the caller knows is private (this machine's user or host name): replaced wherever
    /// it appears as a word, unless it is too short or too common to mean anyone (`root`, `pi`).
    pub fn know(&mut self, kind: Kind, value: &str) {
        let value = value.trim();
        if worth_replacing_everywhere(value) {
            self.learned.insert(value.to_string(), kind);
        }
    }

    /// Read a text for names to replace everywhere, without redacting it: call it on every input
    /// of one run (log, command line, snapshot) before redacting any, so a name first seen in the
    /// command line is replaced in the log too.
    pub fn learn(&mut self, text: &str) {
        let spans = self.spans_in_context(text);
        self.learn_from(text, &spans);
    }

    fn learn_from(&mut self, text: &str, spans: &[Span]) {
        for span in spans {
            if bare_words_kind(&span.kind) {
                let value = text[span.start..span.end].trim();
                if worth_replacing_everywhere(value) {
                    self.learned.insert(value.to_string(), span.kind.clone());
                }
            }
        }
    }

    /// The text with every private value replaced. Learns from the text first.
    pub fn redact(&mut self, text: &str) -> String {
        let mut spans = self.spans_in_context(text);
        self.learn_from(text, &spans);
        spans.extend(self.bare_spans(text));
        spans.sort_by_key(|s| (s.start, s.priority, std::cmp::Reverse(s.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for s in spans {
            if s.start < at {
                continue; // inside a replacement already made
            }
            let value = &text[s.start..s.end];
            out.push_str(&text[at..s.start]);
            out.push_str(&self.pseudonym(&s.kind, value));
            *self.counts.entry(s.kind.name().to_string()).or_default() += 1;
            at = s.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// The pseudonym of one value (what `redact` writes for it).
    pub fn pseudonym(&mut self, kind: &Kind, value: &str) -> String {
        let d = pseudonym::digest(&self.key, kind, value);
        if let Some(p) = self.given.get(&d) {
            return p.clone();
        }
        let mut chars = 4;
        let name = loop {
            let name = pseudonym::render(kind, &d, chars, value);
            match self.assigned.get(&name) {
                Some(other) if *other != d && chars < 16 => chars += 2,
                _ => break name,
            }
        };
        self.assigned.insert(name.clone(), d);
        self.given.insert(d, name.clone());
        name
    }

    /// How many values of each kind were replaced (never the values).
    pub fn manifest(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// Every match of the user's patterns, the built-in table and the path reader.
    fn spans_in_context(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        for (i, (re, kind)) in self.user_patterns.iter().enumerate() {
            for caps in re.captures_iter(text) {
                let Some(m) = caps.name("value").or_else(|| caps.get(0)) else {
                    continue;
                };
                if !m.is_empty() {
                    spans.push(Span {
                        start: m.start(),
                        end: m.end(),
                        kind: kind.clone(),
                        priority: i,
                    });
                }
            }
        }
        let base = self.user_patterns.len();
        for (i, re) in detect::builtin().iter().enumerate() {
            let names: Vec<&str> = re.capture_names().flatten().collect();
            for caps in re.captures_iter(text) {
                for name in &names {
                    let Some(m) = caps.name(name) else { continue };
                    let kind_name = detect::kind_of_group(name);
                    if m.is_empty()
                        || pseudonym::is_pseudonym(m.as_str())
                        || !detect::accept(&kind_name, name, text, m.start(), m.end())
                    {
                        continue;
                    }
                    let Ok(kind) = Kind::from_name(&kind_name) else {
                        continue;
                    };
                    spans.push(Span {
                        start: m.start(),
                        end: m.end(),
                        kind,
                        priority: base + i,
                    });
                }
            }
        }
        let base = base + detect::builtin().len();
        for piece in paths::find(text) {
            let value = &text[piece.start..piece.end];
            if pseudonym::is_pseudonym(value) {
                continue;
            }
            spans.push(Span {
                start: piece.start,
                end: piece.end,
                kind: if piece.kind == "user" {
                    Kind::User
                } else {
                    Kind::Path
                },
                priority: base,
            });
        }
        spans
    }

    /// Learned values wherever they stand as a whole word.
    fn bare_spans(&self, text: &str) -> Vec<Span> {
        let base = self.user_patterns.len() + detect::builtin().len() + 1;
        let mut spans = Vec::new();
        for (value, kind) in &self.learned {
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            for (start, _) in text.match_indices(value.as_str()) {
                let end = start + value.len();
                if !word(text[..start].chars().next_back()) && !word(text[end..].chars().next()) {
                    spans.push(Span {
                        start,
                        end,
                        kind: kind.clone(),
                        priority: base,
                    });
                }
            }
        }
        spans
    }
}

/// The built-in patterns, compiled (for measurements: `examples/pattern_cost.rs`).
#[doc(hidden)]
pub fn builtin_patterns() -> &'static [Regex] {
    detect::builtin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(b"0123456789abcdef0123456789abcdef", &[]).unwrap()
    }

    #[test]
    fn same_value_same_pseudonym_and_kinds_apart() {
        let mut r = redactor();
        let a = r.pseudonym(&Kind::User, "alice");
        assert_eq!(a, r.pseudonym(&Kind::User, "alice"));
        assert!(a.starts_with("user-") && a.len() == 9, "{a}");
        assert_ne!(
            a.trim_start_matches("user-"),
            r.pseudonym(&Kind::Host, "alice")
                .trim_start_matches("host-")
        );
        let mut other = Redactor::new(b"another key, also long enough", &[]).unwrap();
        assert_ne!(a, other.pseudonym(&Kind::User, "alice"));
    }

    #[test]
    fn keeps_what_the_diagnosis_reads() {
        let mut r = redactor();
        let keep = "Info : JTAG tap: stm32f4x.cpu tap/device found: 0x4ba00477 (mfg: 0x23b)\n\
                    Info : STLINK V2J37S7 (API v2) VID:PID 0483:3748\n\
                    Info : Listening on port 3333 for gdb connections\n\
                    Error: couldn't bind tcl to socket on port 6666: Address already in use\n\
                    Info : XDS110: firmware version = 3.0.0.18\n\
                    Open On-Chip Debugger 0.12.0+dev-01312-g18281b0c4 (2023-09-04-22:32)\n\
                    target remote localhost:3333 / 127.0.0.1:3333 / [::1]:3333 / 0.0.0.0\n\
                    12:34:56.789 std::vector<int> ::ocd_find 0x08000000 1.2.3.4.5\n\
                    Error: unable to open ftdi device with description '*', serial '*' at bus location '*'\n";
        assert_eq!(r.redact(keep), keep);
        assert!(r.manifest().is_empty());
    }

    #[test]
    fn finds_each_kind() {
        let mut r = redactor();
        let cases = [
            ("adapter serial \"\\x56\\x3f\\x6b\\x06\"", "serial"),
            ("Info : CMSIS-DAP: Serial# = E6614C775B1D4D35", "serial"),
            (
                "iSerial                 3 066DFF485550755187034646",
                "serial",
            ),
            ("hla_serial 066DFF485550755187034646", "serial"),
            ("connect to 192.168.1.20:3333", "ip"),
            ("addr fe80::1c2f:3aff:fe4b:9d10 up", "ip"),
            ("ether 3c:22:fb:12:34:56", "mac"),
            ("mail bob.smith@example.com now", "email"),
            ("Authorization: Bearer abcdef0123456789", "token"),
            ("token ghp_0123456789abcdefABCDEF0123456789", "token"),
            ("key AKIAIOSFODNN7EXAMPLE", "token"),
            ("bob@bobs-laptop:~$ openocd", "host"),
        ];
        for (text, kind) in cases {
            let out = r.redact(text);
            assert_ne!(out, text, "{kind}: {text}");
            assert!(r.manifest().contains_key(kind), "{kind}: {text} -> {out}");
        }
    }

    #[test]
    fn private_key_keeps_its_lines() {
        let mut r = redactor();
        let text = "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----\nError: open failed\n";
        let out = r.redact(text);
        assert_eq!(out.lines().count(), text.lines().count());
        assert!(!out.contains("b3BlbnNzaC1rZXktdjEAAAAA"));
        assert!(out.ends_with("\nError: open failed\n"));
    }

    #[test]
    fn user_patterns_and_bad_ones() {
        let p = [UserPattern {
            regex: r"project (?P<value>[A-Z]+-\d+)".into(),
            kind: "project".into(),
        }];
        let mut r = Redactor::new(b"0123456789abcdef", &p).unwrap();
        let out = r.redact("building project ACME-42 now");
        assert!(out.starts_with("building project project-") && !out.contains("ACME"));
        let bad = [UserPattern {
            regex: "(".into(),
            kind: "x".into(),
        }];
        assert!(matches!(
            Redactor::new(b"0123456789abcdef", &bad),
            Err(Error::BadPattern { index: 0, .. })
        ));
        let bad_kind = [UserPattern {
            regex: "x".into(),
            kind: "Not A Kind".into(),
        }];
        assert!(matches!(
            Redactor::new(b"0123456789abcdef", &bad_kind),
            Err(Error::BadKind(_))
        ));
        assert!(matches!(
            Redactor::new(b"short", &[]),
            Err(Error::KeyTooShort(5))
        ));
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let mut r = redactor();
        let once =
            r.redact("/home/alice/proj-x/a.elf alice@box1:~$ serial: 0671FF3833554B3043164817");
        assert_eq!(r.redact(&once), once);
    }
}
