//! Version knowledge as data: which commands and cfg files were renamed or removed, from
//! `data/deprecated.tsv` (facts gathered from OpenOCD's git history, 0.10 → master).
//!
//! A row says: `old_name` was deprecated in `deprecated_in` (a wrapper prints a warning and
//! runs `new_name`), and removed in `removed_in`. So for a version V:
//! * `old_name`: removed when V ≥ removed_in, deprecated when V ≥ deprecated_in, else current.
//! * each `new_name` (a command): does not exist yet when V < deprecated_in (the rename
//!   happened in that release).

use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The OpenOCD versions the data knows about. `Master` is 0.12.0+dev (git master at
/// abbbc2e05), i.e. newer than 0.12.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub enum Version {
    V0_10,
    V0_11,
    #[default]
    V0_12,
    Master,
}

impl Version {
    /// Parse `0.12`, `0.12.0`, `v0.11.0`, `master`, `0.12.0+dev`, `0.12.0+dev-01234-g…`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s
            .trim()
            .trim_start_matches(['<', '='])
            .trim_start_matches('v');
        if s.starts_with("master") || s.contains("+dev") {
            return Some(Version::Master);
        }
        let mut it = s.split(|c: char| !c.is_ascii_digit());
        let major = it.next()?.parse::<u32>().ok()?;
        let minor = it.next()?.parse::<u32>().ok()?;
        match (major, minor) {
            (0, 0..=10) => Some(Version::V0_10),
            (0, 11) => Some(Version::V0_11),
            (0, 12) => Some(Version::V0_12),
            _ if major > 0 || minor > 12 => Some(Version::Master),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V0_10 => "0.10",
            Version::V0_11 => "0.11",
            Version::V0_12 => "0.12",
            Version::Master => "master (0.12.0+dev)",
        }
    }

    /// The release's tag as the `sources` columns of the version tables name it
    /// (`rules/versions/commands.tsv`).
    pub fn release_tag(self) -> &'static str {
        match self {
            Version::V0_10 => "0.10.0",
            Version::V0_11 => "0.11.0",
            Version::V0_12 => "0.12.0",
            Version::Master => "master",
        }
    }
}

/// What a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    Command,
    ConfigFile,
    Other,
}

/// One row of `deprecated.tsv`.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub kind: Kind,
    pub raw_kind: String,
    pub old_name: String,
    pub new_name: String,
    pub deprecated_in: Option<Version>,
    pub removed_in: Option<Version>,
    pub reaction: String,
    pub source: String,
}

impl Entry {
    /// `new_name` as a list of commands or files, when it is one (not a prose note).
    pub fn replacements(&self) -> Vec<&str> {
        let n = self.new_name.trim();
        if n.is_empty() || n.starts_with('(') || n == "-" || n.contains('\'') {
            return Vec::new();
        }
        n.split("; ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// The data file, with its provenance note.
pub const DEPRECATED_TSV: &str = include_str!("../data/deprecated.tsv");

static ENTRIES: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for line in DEPRECATED_TSV.lines() {
        if line.starts_with('#') || line.starts_with("kind\t") || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 7 {
            continue;
        }
        let kind = match f[0] {
            "command" => Kind::Command,
            "config-file" => Kind::ConfigFile,
            _ => Kind::Other,
        };
        let strip = |s: &str| s.strip_prefix("tcl/").unwrap_or(s).to_string();
        let (old, new) = if kind == Kind::ConfigFile {
            (strip(f[1]), strip(f[2]))
        } else {
            (f[1].to_string(), f[2].to_string())
        };
        out.push(Entry {
            kind,
            raw_kind: f[0].to_string(),
            old_name: old,
            new_name: new,
            deprecated_in: Version::parse(f[3]),
            removed_in: Version::parse(f[4]),
            reaction: f[5].to_string(),
            source: f[6].to_string(),
        });
    }
    out
});

/// All rows.
pub fn entries() -> &'static [Entry] {
    &ENTRIES
}

/// Row indexes by name (old and new), because every evaluated command is looked up.
static BY_NAME: LazyLock<HashMap<(bool, String), Vec<usize>>> = LazyLock::new(|| {
    let mut m: HashMap<(bool, String), Vec<usize>> = HashMap::new();
    for (i, e) in entries().iter().enumerate() {
        let cmd = e.kind == Kind::Command;
        m.entry((cmd, e.old_name.clone())).or_default().push(i);
        for r in e.replacements() {
            m.entry((cmd, r.to_string())).or_default().push(i);
        }
    }
    m
});

/// The status of a name in a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Not in the table: nothing known against it.
    Unknown,
    /// Exists and is not deprecated in this version.
    Current,
    /// Still works (a wrapper warns); use `replacement`.
    Deprecated {
        replacement: Vec<String>,
        since: Version,
        removed_in: Option<Version>,
    },
    /// Gone in this version; use `replacement` (may be empty).
    Removed {
        replacement: Vec<String>,
        since: Version,
    },
    /// Introduced later than this version (`old_name` is what this version has).
    NotYet { since: Version, old_name: String },
}

/// Follow renames (`jtag_khz` → `adapter_khz` → `adapter speed`) to the name current in `v`.
fn final_replacements(e: &Entry, v: Version, kind: Kind) -> Vec<String> {
    let mut out = Vec::new();
    for r in e.replacements() {
        let mut name = r.to_string();
        for _ in 0..4 {
            let next = entries().iter().find(|x| {
                x.kind == kind && x.old_name == name && x.deprecated_in.is_some_and(|d| d <= v)
            });
            match next.map(|x| x.replacements()) {
                Some(rs) if rs.len() == 1 && rs[0] != name => name = rs[0].to_string(),
                _ => break,
            }
        }
        out.push(name);
    }
    out
}

fn lookup(kind: Kind, name: &str, v: Version) -> Status {
    let name = name.trim();
    let mut best = Status::Unknown;
    let Some(rows) = BY_NAME.get(&(kind == Kind::Command, name.to_string())) else {
        return best;
    };
    for e in rows
        .iter()
        .map(|&i| &entries()[i])
        .filter(|e| e.kind == kind)
    {
        if e.old_name == name {
            if let Some(r) = e.removed_in.filter(|r| *r <= v) {
                return Status::Removed {
                    replacement: final_replacements(e, v, kind),
                    since: r,
                };
            }
            if let Some(d) = e.deprecated_in.filter(|d| *d <= v) {
                return Status::Deprecated {
                    replacement: final_replacements(e, v, kind),
                    since: d,
                    removed_in: e.removed_in,
                };
            }
            best = Status::Current;
        } else if e.replacements().contains(&name)
            && let Some(d) = e.deprecated_in
            // Only a real rename introduces its new name. A row that describes a usage
            // (`exit (in config file / -c)` → `shutdown`) or a transport choice names a
            // replacement that existed long before.
            && kind == Kind::Command
            && e
                .old_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ')
        {
            if v < d {
                if best == Status::Unknown {
                    best = Status::NotYet {
                        since: d,
                        old_name: e.old_name.clone(),
                    };
                }
            } else {
                // Introduced by this rename and present since.
                best = Status::Current;
            }
        }
    }
    best
}

/// The status of a command (`adapter_khz`, `adapter speed`, `hla_serial`…) in `version`.
pub fn lookup_command(name: &str, version: Version) -> Status {
    lookup(Kind::Command, name, version)
}

/// The status of a cfg file (`interface/stlink-v2.cfg`, `board/st_nucleo_l5.cfg`) in `version`.
pub fn lookup_file(name: &str, version: Version) -> Status {
    let n = name.replace('\\', "/");
    let n = n.strip_prefix("tcl/").unwrap_or(&n);
    lookup(Kind::ConfigFile, n, version)
}

/// The documented replacement of a deprecated or removed cfg file, as OpenOCD arguments:
/// `-f interface/stlink.cfg`, or the table's own words when they are more than a file name
/// (`-c 'set USE_CORE 0' -f target/rp2040.cfg` for `target/rp2040-core0.cfg`). `name` may
/// carry a leading path (`/usr/share/openocd/scripts/target/x.cfg`). `None` when the file is
/// current here or nothing is documented.
pub fn file_replacement_args(name: &str, version: Version) -> Option<String> {
    let rel = file_rel(name);
    match lookup_file(&rel, version) {
        Status::Deprecated { replacement, .. } | Status::Removed { replacement, .. } => {
            if !replacement.is_empty() {
                return Some(
                    replacement
                        .iter()
                        .map(|r| format!("-f {r}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
            entries()
                .iter()
                .find(|e| e.kind == Kind::ConfigFile && e.old_name == rel)
                .map(|e| e.new_name.trim().to_string())
                .filter(|n| n.starts_with("-f ") || n.starts_with("-c "))
        }
        _ => None,
    }
}

/// A cfg path relative to a scripts dir: from its first `board/`, `interface/`, `target/`…
pub fn file_rel(name: &str) -> String {
    let norm = name.replace('\\', "/");
    [
        "board/",
        "interface/",
        "target/",
        "chip/",
        "cpld/",
        "fpga/",
        "cpu/",
        "tools/",
        "test/",
    ]
    .iter()
    .find_map(|d| norm.find(d).map(|i| norm[i..].to_string()))
    .unwrap_or(norm)
}

/// Match the start of a command (its literal words) against the table: tries the two-word
/// name (`ftdi vid_pid`) before the one-word name. Returns the matched name and its status.
pub fn match_command(words: &[&str], version: Version) -> Option<(String, Status)> {
    for n in [2usize, 1] {
        if words.len() >= n {
            let name = words[..n].join(" ");
            match lookup_command(&name, version) {
                Status::Unknown | Status::Current => {}
                s => return Some((name, s)),
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_replacements_as_arguments() {
        assert_eq!(
            file_replacement_args("target/rp2040-core0.cfg", Version::V0_12).as_deref(),
            Some("-c 'set USE_CORE 0' -f target/rp2040.cfg")
        );
        assert_eq!(
            file_replacement_args("/x/scripts/interface/stlink-v2.cfg", Version::V0_12).as_deref(),
            Some("-f interface/stlink.cfg")
        );
        assert_eq!(
            file_replacement_args("target/stm32f4x_stlink.cfg", Version::V0_12).as_deref(),
            Some("-f target/stm32f4x.cfg")
        );
        assert_eq!(
            file_replacement_args("target/stm32f4x.cfg", Version::V0_12),
            None
        );
    }

    #[test]
    fn parse_versions() {
        assert_eq!(Version::parse("0.12.0"), Some(Version::V0_12));
        assert_eq!(Version::parse("v0.11.0-esp32"), Some(Version::V0_11));
        assert_eq!(
            Version::parse("0.12.0+dev-00608-gd8ed"),
            Some(Version::Master)
        );
        assert_eq!(Version::parse("master"), Some(Version::Master));
        assert_eq!(Version::parse("0.9"), Some(Version::V0_10));
        assert!(entries().len() > 350);
    }

    #[test]
    fn commands() {
        use Version::*;
        assert_eq!(lookup_command("adapter_khz", V0_10), Status::Current);
        assert!(matches!(lookup_command("adapter_khz", V0_12),
            Status::Deprecated { ref replacement, since: V0_11, .. } if replacement == &["adapter speed"]));
        assert!(matches!(lookup_command("jtag_khz", V0_12),
            Status::Removed { ref replacement, .. } if replacement == &["adapter speed"]));
        assert!(matches!(
            lookup_command("adapter speed", V0_10),
            Status::NotYet { since: V0_11, .. }
        ));
        assert_eq!(lookup_command("adapter speed", V0_12), Status::Current);
        assert!(matches!(
            lookup_command("gdb port", V0_12),
            Status::NotYet { since: Master, .. }
        ));
        assert!(matches!(
            lookup_command("gdb_port", Master),
            Status::Deprecated { .. }
        ));
        assert_eq!(lookup_command("gdb_port", V0_12), Status::Current);
        assert_eq!(lookup_command("reset_config", V0_12), Status::Unknown);
        // `shutdown` replaces `exit` in config files on master, but it is as old as OpenOCD.
        assert!(match_command(&["shutdown"], V0_12).is_none());
        assert!(match_command(&["shutdown"], V0_10).is_none());
        assert!(match_command(&["ftdi", "vid_pid", "0x0403"], Master).is_some());
        assert!(match_command(&["ftdi", "vid_pid", "0x0403"], V0_12).is_none());
    }

    #[test]
    fn files() {
        assert!(
            matches!(lookup_file("interface/stlink-v2.cfg", Version::V0_12),
            Status::Deprecated { ref replacement, .. } if replacement == &["interface/stlink.cfg"])
        );
        assert!(matches!(
            lookup_file("target/stm32f1x_stlink.cfg", Version::V0_12),
            Status::Removed { .. }
        ));
    }
}
