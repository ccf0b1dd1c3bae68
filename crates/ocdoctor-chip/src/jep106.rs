//! JEP106 manufacturer names, as OpenOCD prints them after `mfg: 0x…`.
//!
//! The table is data (`data/jep106.tsv`, facts from OpenOCD's `jep106.inc`),
//! embedded at build time so the crate needs no files at run time.

use std::collections::HashMap;
use std::sync::OnceLock;

const TSV: &str = include_str!("../data/jep106.tsv");

/// One JEP106 slot with the name OpenOCD 0.12.0 prints and the one master prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jep106Entry {
    pub bank: u8,
    pub id: u8,
    /// Empty when 0.12.0 had no entry (it then prints `<unknown>`).
    pub name_0_12: &'static str,
    pub name_master: &'static str,
}

fn table() -> &'static HashMap<(u8, u8), Jep106Entry> {
    static TABLE: OnceLock<HashMap<(u8, u8), Jep106Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::new();
        for line in TSV.lines() {
            if line.starts_with('#') || line.starts_with("bank") || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 6 {
                continue;
            }
            let (Ok(bank), Some(id)) = (cols[0].parse::<u8>(), parse_hex_u8(cols[1])) else {
                continue;
            };
            map.insert(
                (bank, id),
                Jep106Entry {
                    bank,
                    id,
                    name_0_12: cols[4],
                    name_master: cols[5],
                },
            );
        }
        map
    })
}

fn parse_hex_u8(s: &str) -> Option<u8> {
    u8::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

/// The slot for `bank` (continuation count) and `id` (7 bits, parity dropped).
pub fn entry(bank: u8, id: u8) -> Option<&'static Jep106Entry> {
    table().get(&(bank, id))
}

/// What a manufacturer code means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maker {
    /// id 0 or 0x7f: not a manufacturer at all (OpenOCD prints `<invalid>`).
    Invalid,
    /// A slot OpenOCD 0.12 has no name for (`<unknown>`).
    Unknown,
    Known(&'static str),
}

/// The manufacturer exactly as OpenOCD 0.12.0 names it for `bank`/`id`.
pub fn maker(bank: u8, id: u8) -> Maker {
    // Same rule as OpenOCD's jep106_table_manufacturer(): ids 1..=126 only.
    if id == 0 || id > 126 {
        return Maker::Invalid;
    }
    match entry(bank, id) {
        Some(e) if !e.name_0_12.is_empty() => Maker::Known(e.name_0_12),
        _ => Maker::Unknown,
    }
}

/// The text OpenOCD 0.12 prints in parentheses after `mfg: 0x…`.
pub fn openocd_name(bank: u8, id: u8) -> &'static str {
    match maker(bank, id) {
        Maker::Invalid => "<invalid>",
        Maker::Unknown => "<unknown>",
        Maker::Known(n) => n,
    }
}

/// The name in OpenOCD master, when it differs or 0.12 had none.
pub fn master_name(bank: u8, id: u8) -> Option<&'static str> {
    entry(bank, id)
        .map(|e| e.name_master)
        .filter(|n| !n.is_empty())
}

/// Number of slots in the embedded table.
pub fn len() -> usize {
    table().len()
}
