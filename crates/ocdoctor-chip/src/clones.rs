//! The clone / look-alike table (`data/clones.toml`): which parts answer
//! which ids, what the stock cfg expects, and the fix.

use serde::Deserialize;
use std::sync::OnceLock;

const TOML_TEXT: &str = include_str!("../data/clones.toml");

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct IdAnswer {
    pub transport: String,
    pub id: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct CloneEntry {
    pub key: String,
    pub parts: Vec<String>,
    pub family: String,
    pub genuine_family: String,
    /// The stock cfg the user typically loads for this part.
    pub target_cfg: String,
    pub core: String,
    #[serde(default)]
    pub core_rev: Option<String>,
    #[serde(default)]
    pub cpuid: Option<u32>,
    #[serde(default)]
    pub dbgmcu_dev_id: Option<u32>,
    pub answers: Vec<IdAnswer>,
    pub genuine: Vec<IdAnswer>,
    /// The fix; `{found}` is replaced by the id the part answered.
    pub fix: String,
    pub fix_where: String,
    #[serde(default)]
    pub right_cfg: Option<String>,
    #[serde(default)]
    pub right_cfg_master: Option<String>,
    pub confidence: String,
    #[serde(default)]
    pub notes: Option<String>,
    pub sources: Vec<String>,
}

impl CloneEntry {
    pub fn answers_id(&self, id: u32) -> bool {
        self.answers.iter().any(|a| a.id == id)
    }

    pub fn genuine_id(&self, id: u32) -> bool {
        self.genuine.iter().any(|a| a.id == id)
    }

    /// An actual mismatch this entry explains: over one transport, the part answers `found`
    /// where the genuine part answers `expected`. The transport must match: a SWD DPIDR found
    /// where a JTAG IDCODE was expected is another chip or another wiring, not this look-alike,
    /// and an entry whose ids equal the genuine ones (GD32F4) explains no mismatch at all.
    pub fn explains(&self, found: u32, expected: u32) -> bool {
        found != expected
            && self.answers.iter().any(|a| {
                a.id == found
                    && self
                        .genuine
                        .iter()
                        .any(|g| g.transport == a.transport && g.id == expected)
            })
    }

    pub fn fix_line(&self, found: u32) -> String {
        self.fix.replace("{found}", &format!("0x{found:08x}"))
    }

    pub fn parts_joined(&self) -> String {
        self.parts.join(" / ")
    }
}

#[derive(Deserialize)]
struct File {
    clone: Vec<CloneEntry>,
}

/// All entries. The file is compiled in; a parse error is a build-time bug
/// caught by the tests, and yields an empty table rather than a panic.
pub fn clones() -> &'static [CloneEntry] {
    static T: OnceLock<Vec<CloneEntry>> = OnceLock::new();
    T.get_or_init(|| {
        toml::from_str::<File>(TOML_TEXT)
            .map(|f| f.clone)
            .unwrap_or_default()
    })
}

/// The parse error of the embedded table, if any (for tests).
pub fn parse_error() -> Option<String> {
    toml::from_str::<File>(TOML_TEXT)
        .err()
        .map(|e| e.to_string())
}

/// Entries whose parts answer `id`.
pub fn answering(id: u32) -> Vec<&'static CloneEntry> {
    clones().iter().filter(|c| c.answers_id(id)).collect()
}
