//! OpenOCD versions as printed in the banner, and the small range language rules use
//! (`">=0.11"`, `"<0.12"`, `">=0.11, <0.12"`).

use serde::Serialize;
use std::fmt;
use std::sync::LazyLock;

/// `major.minor.patch`, and whether it is a development build after that release (`+dev`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// `0.12.0+dev` sorts after `0.12.0` and before `0.12.1`.
    pub dev: bool,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
            dev: false,
        }
    }

    /// Parse `0.12.0`, `0.12`, `0.12.0+dev`, `v0.11.0`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let (nums, dev) = match s.split_once('+') {
            Some((n, rest)) => (n, rest.starts_with("dev")),
            None => (s, false),
        };
        let mut it = nums.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = match it.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if it.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            dev,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}{}",
            self.major,
            self.minor,
            self.patch,
            if self.dev { "+dev" } else { "" }
        )
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A conjunction of comparisons, e.g. `>=0.11, <0.12`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionReq {
    parts: Vec<(Op, Version)>,
    source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

impl VersionReq {
    pub fn parse(s: &str) -> Result<VersionReq, String> {
        let mut parts = Vec::new();
        for p in s.split(',') {
            let p = p.trim();
            let (op, rest) = if let Some(r) = p.strip_prefix(">=") {
                (Op::Ge, r)
            } else if let Some(r) = p.strip_prefix("<=") {
                (Op::Le, r)
            } else if let Some(r) = p.strip_prefix('>') {
                (Op::Gt, r)
            } else if let Some(r) = p.strip_prefix('<') {
                (Op::Lt, r)
            } else if let Some(r) = p.strip_prefix('=') {
                (Op::Eq, r)
            } else {
                return Err(format!(
                    "version range {s:?}: each part needs >=, >, <=, < or ="
                ));
            };
            let v = Version::parse(rest)
                .ok_or_else(|| format!("version range {s:?}: bad version {rest:?}"))?;
            parts.push((op, v));
        }
        Ok(VersionReq {
            parts,
            source: s.to_string(),
        })
    }

    pub fn matches(&self, v: Version) -> bool {
        self.parts.iter().all(|&(op, w)| match op {
            Op::Ge => v >= w,
            Op::Gt => v > w,
            Op::Le => v <= w,
            Op::Lt => v < w,
            Op::Eq => v == w,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// Which build of OpenOCD printed the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flavor {
    /// A release or a plain upstream git build.
    Upstream,
    Xpack,
    Espressif,
    /// STMicroelectronics' fork shipped with STM32CubeIDE.
    St,
    RaspberryPi,
    /// Any other fork that names itself in the banner (Kendryte, GNU MCU Eclipse, Sysprogs, WCH…).
    Vendor,
}

/// What the banner line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Banner {
    pub version: Version,
    pub flavor: Flavor,
    /// The full version text after "Open On-Chip Debugger".
    pub raw: String,
}

static BANNER: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?x)
        ^(?P<pre>.*?)Open\ On-Chip\ Debugger\s+(?P<name>[A-Za-z][\w\ -]*?\s+)?v?
        (?P<ver>\d+\.\d+\.\d+)(?P<dev>\+dev)?(?P<rest>\S*)(?:\s+\((?P<date>[^)]*)\))?(?:\s+\[(?P<url>[^\]]+)\])?",
    )
    .expect("banner regex")
});

/// Recognise OpenOCD's banner and the vendor builds' variants of it (see the README of
/// reference/openocd, section "Version strings").
pub fn parse_banner(line: &str) -> Option<Banner> {
    let c = BANNER.captures(line)?;
    let mut version = Version::parse(&c["ver"])?;
    version.dev = c.name("dev").is_some();
    let pre = c.name("pre").map_or("", |m| m.as_str());
    let rest = c.name("rest").map_or("", |m| m.as_str());
    let url = c.name("url").map_or("", |m| m.as_str());
    let name = c.name("name").map_or("", |m| m.as_str());
    let lower_all = line.to_ascii_lowercase();
    let flavor = if pre.contains("xPack") {
        Flavor::Xpack
    } else if rest.contains("esp32") || lower_all.contains("espressif") {
        Flavor::Espressif
    } else if url.contains("STMicroelectronics") || lower_all.contains("stmicroelectronics") {
        Flavor::St
    } else if lower_all.contains("raspberrypi") {
        Flavor::RaspberryPi
    } else if !pre.trim().is_empty() || !name.trim().is_empty() || !url.is_empty() {
        Flavor::Vendor
    } else if !version.dev && rest.starts_with("-g") {
        // A shallow git build of a release tag: the Raspberry Pi pico-sdk builds look like this
        // (`0.12.0-g4d87f6d`); upstream release builds have no `-g` suffix.
        Flavor::RaspberryPi
    } else {
        Flavor::Upstream
    };
    let raw = line[c.get(0).map_or(0, |m| m.start() + pre.len())..]
        .trim_end()
        .to_string();
    Some(Banner {
        version,
        flavor,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners() {
        let b = parse_banner("Open On-Chip Debugger 0.12.0").unwrap();
        assert_eq!(
            (b.version, b.flavor),
            (Version::new(0, 12, 0), Flavor::Upstream)
        );
        let b = parse_banner(
            "xPack Open On-Chip Debugger 0.12.0-01004-g9ea7f3d64-dirty (2023-01-30-15:03)",
        )
        .unwrap();
        assert_eq!(b.flavor, Flavor::Xpack);
        let b = parse_banner("Open On-Chip Debugger  v0.11.0-esp32-20211220 (2021-12-20-15:42)")
            .unwrap();
        assert_eq!(
            (b.version, b.flavor),
            (Version::new(0, 11, 0), Flavor::Espressif)
        );
        let b = parse_banner(
            "Open On-Chip Debugger 0.12.0+dev-00608-gd8ed48fef (2025-02-06-11:17) [https://github.com/STMicroelectronics/OpenOCD]",
        )
        .unwrap();
        assert_eq!(b.flavor, Flavor::St);
        assert!(b.version.dev);
        let b =
            parse_banner("Kendryte Open On-Chip Debugger For RISC-V v0.2.3 (2019-02-21)").unwrap();
        assert_eq!(
            (b.version, b.flavor),
            (Version::new(0, 2, 3), Flavor::Vendor)
        );
        let b = parse_banner("Open On-Chip Debugger 0.12.0-g4d87f6d (2024-01-20-06:51)").unwrap();
        assert_eq!(b.flavor, Flavor::RaspberryPi);
        let b = parse_banner("GNU MCU Eclipse 64-bit Open On-Chip Debugger 0.10.0+dev-00462-gdd1d90111 (2019-01-18-11:42)").unwrap();
        assert_eq!((b.version.minor, b.flavor), (10, Flavor::Vendor));
        assert!(parse_banner("adapter speed: 2000 kHz").is_none());
    }

    #[test]
    fn ranges() {
        let r = VersionReq::parse(">=0.11, <0.12").unwrap();
        assert!(r.matches(Version::new(0, 11, 0)));
        assert!(!r.matches(Version::new(0, 12, 0)));
        let dev = Version::parse("0.12.0+dev").unwrap();
        assert!(VersionReq::parse(">0.12").unwrap().matches(dev));
        assert!(VersionReq::parse("<0.12.1").unwrap().matches(dev));
        assert!(VersionReq::parse("~0.12").is_err());
    }
}
