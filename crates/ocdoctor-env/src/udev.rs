//! udev rules: which rules cover a VID:PID, and which were meant to but cannot match.
//!
//! Not a udev implementation: it reads each rule (one logical line, `\` continuations joined), keeps the
//! rules that test device attributes (`ATTRS{idVendor}`, `ATTR{idProduct}`, `ATTRS{product}`,
//! `ENV{ID_VENDOR_ID}`…) and assign access (`MODE`, `GROUP`, `OWNER`, `TAG+="uaccess"`), and matches
//! those attribute tests against the device with udev's glob rules (`*`, `?`, `[...]`, `|`). `GOTO`/
//! `LABEL` flow and `SUBSYSTEM`/`ACTION` tests are ignored: the probe rules in the wild put them on a
//! guard line (`SUBSYSTEM!="usb|tty|hidraw", GOTO=...`) that a USB device passes.

use crate::fsutil::{display_path, list_dir, read_bytes, under};
use crate::model::{UdevCoverage, UdevNearMiss, UdevRuleHit};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The rule folders, lowest priority last: a file in /etc hides a same-named file in /run, which hides
/// /usr/lib and /lib (udev(7), "Rules files").
pub const RULE_DIRS: [&str; 4] = [
    "/etc/udev/rules.d",
    "/run/udev/rules.d",
    "/usr/lib/udev/rules.d",
    "/lib/udev/rules.d",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub key: String,
    pub negate: bool,
    pub value: String,
}

#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub file: String,
    pub file_name: String,
    pub line: usize,
    pub text: String,
    pub conds: Vec<Cond>,
    pub mode: Option<String>,
    pub group: Option<String>,
    pub owner: Option<String>,
    pub uaccess: bool,
}

#[derive(Debug, Default)]
pub struct RuleSet {
    pub files: Vec<String>,
    pub rules: Vec<Rule>,
}

/// Device attributes a rule can test.
pub struct DevAttrs<'a> {
    pub vid: &'a str,
    pub pid: &'a str,
    pub product: Option<&'a str>,
    pub manufacturer: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub interface_strings: Vec<&'a str>,
}

fn token_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"([A-Za-z_]+(?:\{[^}]*\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)""#)
            .expect("static regex")
    })
}

impl RuleSet {
    /// Load every `*.rules` file of the standard folders under `root`, with udev's shadowing by name and
    /// lexical order across folders.
    pub fn load(root: &Path, errors: &mut Vec<crate::model::EnvError>) -> RuleSet {
        let mut chosen: Vec<(String, PathBuf)> = Vec::new();
        for dir in RULE_DIRS {
            let d = under(root, dir);
            for name in list_dir(&d) {
                if !name.ends_with(".rules") || chosen.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                chosen.push((name.clone(), d.join(&name)));
            }
        }
        // /lib is often a symlink to /usr/lib (merged /usr): same file reached twice is deduplicated by
        // name above, which is also udev's rule.
        chosen.sort_by(|a, b| a.0.cmp(&b.0));
        let mut set = RuleSet::default();
        for (name, path) in chosen {
            let shown = display_path(root, &path);
            match read_bytes(&path) {
                Some(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    set.rules.extend(parse_rules(&shown, &name, &text));
                }
                None => errors.push(crate::model::EnvError {
                    what: shown.clone(),
                    message: "cannot read udev rules file".into(),
                }),
            }
            set.files.push(shown);
        }
        set
    }

    /// Which rules cover the device, and which look meant for it but never match.
    pub fn coverage(&self, dev: &DevAttrs<'_>) -> UdevCoverage {
        let mut cov = UdevCoverage::default();
        for r in &self.rules {
            if r.mode.is_none() && r.group.is_none() && r.owner.is_none() && !r.uaccess {
                continue;
            }
            let dev_conds: Vec<&Cond> = r
                .conds
                .iter()
                .filter(|c| attr_of(&c.key).is_some())
                .collect();
            if dev_conds.is_empty() {
                continue;
            }
            let all_match = dev_conds.iter().all(|c| cond_matches(c, dev));
            if all_match {
                let has_product = dev_conds.iter().any(|c| {
                    matches!(
                        attr_of(&c.key),
                        Some(Attr::Pid | Attr::Product | Attr::Serial)
                    )
                });
                let too_late = r.uaccess && r.file_name.as_str() > "73-seat-late.rules";
                cov.rules.push(UdevRuleHit {
                    file: r.file.clone(),
                    line: r.line,
                    text: r.text.clone(),
                    mode: r.mode.clone(),
                    group: r.group.clone(),
                    owner: r.owner.clone(),
                    uaccess: r.uaccess,
                    vendor_wide: !has_product,
                    uaccess_too_late: too_late,
                });
                if r.mode.is_some() {
                    cov.predicted_mode = r.mode.clone();
                }
                if r.group.is_some() {
                    cov.predicted_group = r.group.clone();
                }
                if r.uaccess && !too_late {
                    cov.uaccess = true;
                }
            } else if let Some(reason) = near_miss(&dev_conds, dev) {
                cov.near_misses.push(UdevNearMiss {
                    file: r.file.clone(),
                    line: r.line,
                    text: r.text.clone(),
                    reason,
                });
            }
        }
        cov
    }
}

pub fn parse_rules(file: &str, file_name: &str, text: &str) -> Vec<Rule> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut start = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if buf.is_empty() {
            start = i + 1;
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
        }
        if let Some(stripped) = line.strip_suffix('\\') {
            buf.push_str(stripped);
            buf.push(' ');
            continue;
        }
        buf.push_str(line);
        if let Some(r) = parse_rule(file, file_name, start, buf.trim()) {
            out.push(r);
        }
        buf.clear();
    }
    if !buf.is_empty()
        && let Some(r) = parse_rule(file, file_name, start, buf.trim())
    {
        out.push(r);
    }
    out
}

fn parse_rule(file: &str, file_name: &str, line: usize, text: &str) -> Option<Rule> {
    let mut r = Rule {
        file: file.to_string(),
        file_name: file_name.to_string(),
        line,
        text: text.to_string(),
        ..Rule::default()
    };
    let mut any = false;
    for cap in token_re().captures_iter(text) {
        any = true;
        let key = cap[1].to_string();
        let op = &cap[2];
        let val = cap[3].to_string();
        match op {
            "==" | "!=" => r.conds.push(Cond {
                key,
                negate: op == "!=",
                value: val,
            }),
            _ => match key.as_str() {
                "MODE" => r.mode = Some(val),
                "GROUP" => r.group = Some(val),
                "OWNER" => r.owner = Some(val),
                "TAG" if op != "-=" && val.split_whitespace().any(|t| t == "uaccess") => {
                    r.uaccess = true
                }
                _ => {}
            },
        }
    }
    any.then_some(r)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    Vid,
    Pid,
    Product,
    Manufacturer,
    Serial,
    Interface,
}

fn attr_of(key: &str) -> Option<Attr> {
    let inner = key
        .strip_prefix("ATTRS{")
        .or_else(|| key.strip_prefix("ATTR{"))
        .or_else(|| key.strip_prefix("SYSFS{"))
        .and_then(|s| s.strip_suffix('}'));
    if let Some(a) = inner {
        return match a {
            "idVendor" => Some(Attr::Vid),
            "idProduct" => Some(Attr::Pid),
            "product" => Some(Attr::Product),
            "manufacturer" => Some(Attr::Manufacturer),
            "serial" => Some(Attr::Serial),
            "interface" => Some(Attr::Interface),
            _ => None,
        };
    }
    // ENV{ID_VENDOR_ID}/ENV{ID_MODEL_ID} are filled by udev's usb_id builtin with the same lower-case
    // hex; ENV{PRODUCT} ("vid/pid/bcd" without leading zeros) is not modelled.
    match key {
        "ENV{ID_VENDOR_ID}" => Some(Attr::Vid),
        "ENV{ID_MODEL_ID}" => Some(Attr::Pid),
        _ => None,
    }
}

fn values<'a>(a: Attr, dev: &'a DevAttrs<'a>) -> Vec<&'a str> {
    match a {
        Attr::Vid => vec![dev.vid],
        Attr::Pid => vec![dev.pid],
        Attr::Product => dev.product.into_iter().collect(),
        Attr::Manufacturer => dev.manufacturer.into_iter().collect(),
        Attr::Serial => dev.serial.into_iter().collect(),
        Attr::Interface => dev.interface_strings.clone(),
    }
}

fn cond_matches(c: &Cond, dev: &DevAttrs<'_>) -> bool {
    let Some(a) = attr_of(&c.key) else {
        return true;
    };
    let vals = values(a, dev);
    let hit = vals.iter().any(|v| glob_alt(&c.value, v));
    // A missing attribute never equals anything; `!=` on a missing one is true in udev.
    if c.negate { !hit } else { hit }
}

/// Rules whose vendor/product tests would match if written the way sysfs prints (lower-case, no 0x).
fn near_miss(conds: &[&Cond], dev: &DevAttrs<'_>) -> Option<String> {
    let mut reasons = Vec::new();
    let mut meant = true;
    let mut any_id = false;
    for c in conds {
        let Some(a) = attr_of(&c.key) else { continue };
        if c.negate {
            continue;
        }
        if matches!(a, Attr::Vid | Attr::Pid) {
            any_id = true;
            let actual = if a == Attr::Vid { dev.vid } else { dev.pid };
            if glob_alt(&c.value, actual) {
                continue;
            }
            let norm = c.value.trim_start_matches("0x").trim_start_matches("0X");
            if norm.eq_ignore_ascii_case(actual) {
                if c.value.len() != norm.len() {
                    reasons.push(format!(
                        "{}==\"{}\" can never match: sysfs writes \"{}\" without 0x",
                        c.key, c.value, actual
                    ));
                } else {
                    reasons.push(format!(
                        "{}==\"{}\" can never match: sysfs writes lower-case hex \"{}\"",
                        c.key, c.value, actual
                    ));
                }
            } else {
                meant = false;
            }
        } else if !cond_matches(c, dev) {
            meant = false;
        }
    }
    (any_id && meant && !reasons.is_empty()).then(|| reasons.join("; "))
}

/// udev pattern match: `|` separates alternatives; each is a shell glob.
pub fn glob_alt(pattern: &str, value: &str) -> bool {
    pattern
        .split('|')
        .any(|p| glob(p.as_bytes(), value.as_bytes()))
}

/// fnmatch-style glob with `*`, `?` and `[...]` (with `!`/`^` negation and ranges). Iterative with
/// backtracking on the last `*`, so no recursion depth issues on hostile input.
pub fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => match class(&p[pi..], s[si]) {
                    Some((true, next)) => {
                        pi += next;
                        si += 1;
                        continue;
                    }
                    Some((false, _)) => {}
                    // An unterminated `[` is an ordinary character.
                    None => {
                        if s[si] == b'[' {
                            pi += 1;
                            si += 1;
                            continue;
                        }
                    }
                },
                c => {
                    if c == s[si] {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// `[...]` at the start of `p`: (matches c, length of the class in bytes). None if unterminated.
fn class(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let neg = matches!(p.get(1), Some(b'!') | Some(b'^'));
    if neg {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == b']' && !first {
            return Some((hit != neg, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            if p[i] <= c && c <= p[i + 2] {
                hit = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                hit = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_alt("*CMSIS-DAP*", "DAPLink CMSIS-DAP"));
        assert!(!glob_alt("*CMSIS-DAP*", "CMSIS_DAP"));
        assert!(glob_alt("60[01][104]", "6014"));
        assert!(!glob_alt("60[01][104]", "6012"));
        assert!(glob_alt("add|change", "change"));
        assert!(glob_alt("3?4b", "374b"));
        assert!(glob_alt("[", "["));
    }

    #[test]
    fn parses_continuations_and_tokens() {
        let t = "# c\nATTRS{idVendor}==\"0483\", \\\n  ATTRS{idProduct}==\"374b\", MODE:=\"0666\", TAG+=\"uaccess\"\n";
        let r = parse_rules("/x", "x.rules", t);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].line, 2);
        assert_eq!(r[0].mode.as_deref(), Some("0666"));
        assert!(r[0].uaccess);
        assert_eq!(r[0].conds.len(), 2);
    }
}
