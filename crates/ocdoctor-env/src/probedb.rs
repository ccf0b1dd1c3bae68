//! The probe database: `data/probes.toml`, embedded, parsed once.

use crate::model::ProbeMatch;
use serde::Deserialize;
use std::sync::OnceLock;

/// The embedded data file, exposed for tests and for `ocdoctor` to print.
pub const PROBES_TOML: &str = include_str!("../data/probes.toml");

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ProbeEntry {
    pub id: String,
    pub vid: String,
    pub pid: String,
    pub match_string: Option<String>,
    pub family: String,
    pub model: String,
    pub openocd: Option<bool>,
    pub driver: String,
    pub interface_cfg: String,
    pub cfg_since: String,
    pub candidates: Vec<String>,
    pub since: String,
    pub fork: String,
    pub jtag_interfaces: Vec<u8>,
    pub note: String,
    pub source: String,
}

#[derive(Debug, Deserialize)]
struct File {
    probe: Vec<ProbeEntry>,
}

/// All entries, in file order. The data file is compiled in and checked by tests, so a parse error is a
/// build defect; it still does not panic here: a broken file yields an empty database.
pub fn entries() -> &'static [ProbeEntry] {
    static DB: OnceLock<Vec<ProbeEntry>> = OnceLock::new();
    DB.get_or_init(|| parse(PROBES_TOML).unwrap_or_default())
}

pub fn parse(text: &str) -> Result<Vec<ProbeEntry>, String> {
    toml::from_str::<File>(text)
        .map(|f| f.probe)
        .map_err(|e| e.to_string())
}

/// Find the entry for a device. `strings` are the product and interface strings (CMSIS-DAP is recognised
/// by its string, as OpenOCD's driver and udev rule do). Most specific match wins:
/// vid:pid+string, vid:pid, vendor+string, vendor, string only.
pub fn lookup(vid: &str, pid: &str, strings: &[&str]) -> Option<ProbeMatch> {
    let vid = vid.to_ascii_lowercase();
    let pid = pid.to_ascii_lowercase();
    let has = |needle: &str| {
        let n = needle.to_ascii_lowercase();
        strings.iter().any(|s| s.to_ascii_lowercase().contains(&n))
    };
    let db = entries();
    type Tier<'a> = (&'static str, &'a dyn Fn(&ProbeEntry) -> bool);
    let tiers: [Tier<'_>; 5] = [
        ("vid:pid+string", &|e| {
            e.vid == vid && e.pid == pid && e.match_string.as_deref().is_some_and(has)
        }),
        ("vid:pid", &|e| {
            e.vid == vid && e.pid == pid && e.match_string.is_none()
        }),
        ("vendor+string", &|e| {
            e.vid == vid && e.pid == "*" && e.match_string.as_deref().is_some_and(has)
        }),
        ("vendor", &|e| {
            e.vid == vid && e.pid == "*" && e.match_string.is_none()
        }),
        ("string", &|e| {
            e.vid == "*" && e.match_string.as_deref().is_some_and(has)
        }),
    ];
    for (how, pred) in tiers {
        if let Some(e) = db.iter().find(|e| pred(e)) {
            return Some(to_match(e, how));
        }
    }
    None
}

fn to_match(e: &ProbeEntry, how: &str) -> ProbeMatch {
    ProbeMatch {
        id: e.id.clone(),
        family: e.family.clone(),
        model: e.model.clone(),
        openocd: e.openocd.unwrap_or(true),
        driver: e.driver.clone(),
        interface_cfg: e.interface_cfg.clone(),
        cfg_since: e.cfg_since.clone(),
        candidates: e.candidates.clone(),
        since: e.since.clone(),
        fork: e.fork.clone(),
        jtag_interfaces: e.jtag_interfaces.clone(),
        note: e.note.clone(),
        matched_by: how.to_string(),
    }
}

/// Compare OpenOCD release strings `0.12.0` numerically; `master` sorts after every release.
/// Returns None when either side is unparseable.
pub fn cmp_release(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    fn key(s: &str) -> Option<(u32, u32, u32)> {
        if s == "master" {
            return Some((u32::MAX, 0, 0));
        }
        let mut it = s.trim_start_matches('v').split('.');
        let a = it.next()?.parse().ok()?;
        let b = it.next()?.parse().ok()?;
        let c = it.next().unwrap_or("0").parse().ok()?;
        Some((a, b, c))
    }
    Some(key(a)?.cmp(&key(b)?))
}
