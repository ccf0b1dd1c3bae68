//! What each OpenOCD release ships, from the tables generated from its sources
//! (`rules/versions/commands.tsv`, `rules/versions/cfg_files.tsv`,
//! `rules/versions/flash_drivers.tsv`, by
//! `tools/catalog/generate.py`): so a rule can tell "this command / cfg file exists, but only
//! in a release newer than the one that ran" from "this name exists nowhere" (a typo).
//!
//! The tables name the releases 0.10.0, 0.11.0, 0.12.0, master and the forks' heads. A build is
//! placed by its banner version: everything before 0.11 counts as 0.10.0, `0.11.x` (and
//! `0.11.0+dev`) as 0.11.0, `0.12.x` as 0.12.0 (a `0.12.0+dev` build may have some of master's
//! names, so a name only master has is "newer" with less certainty: the rules weigh it).

use crate::version::Version;
use std::collections::HashMap;
use std::sync::LazyLock;

const COMMANDS_TSV: &str = include_str!("../../../rules/versions/commands.tsv");
const CFG_FILES_TSV: &str = include_str!("../../../rules/versions/cfg_files.tsv");
const FLASH_DRIVERS_TSV: &str = include_str!("../../../rules/versions/flash_drivers.tsv");

/// Upstream releases in order; forks (`espressif`, `raspberrypi`, `riscv`, `st`) are not in it.
const UPSTREAM: [&str; 4] = ["0.10.0", "0.11.0", "0.12.0", "master"];

/// Which table a name is looked up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Top-level command names (the first word: `adapter`, `rtt`, `dap`).
    Commands,
    /// Files under the scripts folder, relative to it (`target/rp2040.cfg`).
    CfgFiles,
    /// Flash driver names, as `flash bank NAME DRIVER …` takes them (`stm32f1x`, `rp2xxx`).
    FlashDrivers,
}

impl Table {
    pub fn parse(s: &str) -> Option<Table> {
        match s {
            "commands" => Some(Table::Commands),
            "cfg_files" => Some(Table::CfgFiles),
            "flash_drivers" => Some(Table::FlashDrivers),
            _ => None,
        }
    }
}

/// name → the release labels that have it.
type Index = HashMap<&'static str, Vec<&'static str>>;

fn index(tsv: &'static str, key_col: usize, sources_col: usize) -> Index {
    let mut idx: Index = HashMap::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(key), Some(sources)) = (cols.get(key_col), cols.get(sources_col)) else {
            continue;
        };
        // Commands: only the top-level word (`rtt server start` counts for `rtt`).
        let key = key.split(' ').next().unwrap_or(key);
        let labels = idx.entry(key).or_default();
        for s in sources.split(',') {
            if !labels.contains(&s) {
                labels.push(s);
            }
        }
    }
    idx
}

static COMMANDS: LazyLock<Index> = LazyLock::new(|| index(COMMANDS_TSV, 0, 4));
static CFG_FILES: LazyLock<Index> = LazyLock::new(|| index(CFG_FILES_TSV, 0, 1));
static FLASH_DRIVERS: LazyLock<Index> = LazyLock::new(|| index(FLASH_DRIVERS_TSV, 0, 2));

/// The upstream release whose contents a build of `v` has at least.
fn floor_release(v: Version) -> usize {
    match (v.major, v.minor) {
        (0, ..=10) => 0,
        (0, 11) => 1,
        (0, 12) => 2,
        _ => 3,
    }
}

/// When `name` is absent from the release `build` belongs to but a later upstream release (or
/// only a fork) has it: that release's label (`0.11.0`, `0.12.0`, `master`) or the fork's
/// (`espressif`, `raspberrypi`, `riscv`, `st`). `None` when the build's release has the name,
/// when no table knows it (a typo or a name of the user's own), or when the build is newer
/// than every table.
pub fn newer_than_build(table: Table, name: &str, build: Version) -> Option<&'static str> {
    let idx: &Index = match table {
        Table::Commands => &COMMANDS,
        Table::CfgFiles => &CFG_FILES,
        Table::FlashDrivers => &FLASH_DRIVERS,
    };
    let name = match table {
        Table::Commands => name.split(' ').next().unwrap_or(name),
        Table::CfgFiles => name.trim_start_matches("./"),
        Table::FlashDrivers => name,
    };
    let labels = idx.get(name)?;
    let floor = floor_release(build);
    if floor == UPSTREAM.len() - 1 || labels.contains(&UPSTREAM[floor]) {
        return None;
    }
    UPSTREAM[floor + 1..]
        .iter()
        .find(|r| labels.contains(r))
        .copied()
        .or_else(|| labels.first().copied())
}

/// For a build whose version is unknown (no banner in the log): the first upstream release
/// that has `name`, when 0.10.0 did not (so the name is version-dependent, not a typo).
pub fn newer_than_oldest(table: Table, name: &str) -> Option<&'static str> {
    newer_than_build(table, name, Version::new(0, 10, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case: the table, the name, the build's version and the release or fork that first
    /// has the name when it is newer than the build.
    fn check(cases: &[(Table, &str, &str, Option<&str>)]) {
        for &(table, name, build, newer) in cases {
            let build = Version::parse(build).unwrap();
            assert_eq!(
                newer_than_build(table, name, build),
                newer,
                "{name} on {build:?}"
            );
        }
    }

    #[test]
    fn commands_cfg_files_and_flash_drivers_newer_than_the_build() {
        check(&[
            (Table::Commands, "rtt", "0.10.0", Some("0.11.0")),
            (
                Table::Commands,
                "rtt server start",
                "0.10.0+dev",
                Some("0.11.0"),
            ),
            (Table::Commands, "rtt", "0.11.0", None),
            (Table::Commands, "read_memory", "0.11.0", Some("0.12.0")),
            // A typo is in no release: not "newer".
            (Table::Commands, "adaptr", "0.10.0", None),
            // Nothing is newer than master.
            (Table::Commands, "rtt", "0.13.0", None),
            (
                Table::CfgFiles,
                "target/rp2040.cfg",
                "0.11.0",
                Some("0.12.0"),
            ),
            (Table::CfgFiles, "target/rp2040.cfg", "0.12.0", None),
            (Table::CfgFiles, "target/stm32f4x.cfg", "0.10.0", None),
            (Table::CfgFiles, "target/no-such-chip.cfg", "0.10.0", None),
            // rp2040.c first ships in 0.12.0; master renamed its driver rp2xxx.
            (
                Table::FlashDrivers,
                "rp2040_flash",
                "0.11.0",
                Some("0.12.0"),
            ),
            (Table::FlashDrivers, "rp2xxx", "0.12.0", Some("master")),
            (Table::FlashDrivers, "stm32h7x", "0.10.0", Some("0.11.0")),
            // Only Espressif's fork has the ESP32 flash drivers.
            (Table::FlashDrivers, "esp32", "0.12.0", Some("espressif")),
            (Table::FlashDrivers, "stm32f1x", "0.10.0", None),
            (Table::FlashDrivers, "nosuch", "0.10.0", None),
        ]);
    }
}
