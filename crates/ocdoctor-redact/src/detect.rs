//! What private data looks like in OpenOCD's, a shell's, an IDE's and a machine snapshot's text.
//!
//! One table of regular expressions. Each named group is a value to replace, and its name is
//! its kind (`user`, `host`, `serial`…; a `__suffix` lets one pattern name a kind twice). The
//! patterns are specific on purpose: they find a serial by what stands before it (`adapter
//! serial`, `Serial# =`, `iSerial  3`), not by its look, so OpenOCD's own words, IDCODEs
//! (`0x…`), VID:PID pairs, addresses, port numbers and version strings are never candidates.

use regex::Regex;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// A serial as a command or a message gives it: quoted, braced (Tcl) or bare (`\x..` escapes
/// included). Used after a context that says "a serial follows".
macro_rules! serial_value {
    () => {
        r#"(?:\\"(?P<serial__eq>(?:[^"\\\r\n]|\\[^"\r\n])*)\\"|"(?P<serial__dq>[^"\r\n]*)"|'(?P<serial__sq>[^'\r\n]*)'|\{(?P<serial__br>[^}\r\n]*)\}|(?P<serial>[^\s"'{};\]\[,()]+))"#
    };
}

/// The built-in patterns, most specific first (word boundaries are ASCII, `(?-u:\b)`: Unicode
/// ones make the regex engine leave its fast path on non-ASCII logs): where two matches overlap, the one that starts
/// first wins, and at the same start the earlier pattern.
const PATTERNS: &[&str] = &[
    // Key material: PEM private keys (any algorithm), whole blocks.
    r"(?P<private_key>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)",
    // Tokens with a recognisable prefix: GitHub, GitLab, Slack, OpenAI-style, Google API keys.
    r"(?-u:\b)(?P<token>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35})",
    // AWS access key ids.
    r"(?-u:\b)(?P<token>(?:AKIA|ASIA)[0-9A-Z]{16})(?-u:\b)",
    // HTTP credentials.
    r"(?i)(?-u:\b)bearer[ \t]+(?P<token>[A-Za-z0-9._~+/=-]{8,})",
    r"(?i)(?-u:\b)authorization:[ \t]*basic[ \t]+(?P<token>[A-Za-z0-9+/=]{8,})",
    // `name = secret` assignments (env files, configs, CI logs).
    r#"(?i)(?-u:\b)(?:aws_secret_access_key|secret[_-]?key|client[_-]?secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?token|token|passwd|password)["']?[ \t]*[=:][ \t]*["']?(?P<token>[^\s"',;]{8,})"#,
    // Credentials inside a URL: scheme://user:password@host.
    r"(?-u:\b)[a-z][a-z0-9+.-]*://(?P<user>[^\s:/@]+):(?P<token>[^\s@/]+)@(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*)",
    // Shell prompts: `alice@box:~$`, `alice@box ~ %` (zsh), `[alice@box dir]$` (Fedora),
    // `alice@DESKTOP-X MINGW64 ~ $` (Git Bash), with an optional `(venv)` before. An address
    // alone on its line (`alice@example.com`) is an e-mail, not a prompt.
    r"(?m)^[ \t]*(?:\([^)\r\n]*\)[ \t]*)?\[?(?P<user>[A-Za-z_][A-Za-z0-9_.-]{0,31})@(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]{0,62})(?:[:\]]|[ \t][^\r\n]*?[$#%>](?:[ \t]|$))",
    // The old macOS bash prompt: `Alices-MacBook-Pro:~ alice$`.
    r"(?m)^(?P<host>[A-Za-z0-9][A-Za-z0-9-]{1,62}):[^\s$]* (?P<user>[a-z_][a-z0-9_.-]{0,31})\$(?:[ \t]|$)",
    // ssh/scp targets.
    r"(?-u:\b)(?:ssh|scp|sftp|rsync)(?-u:\b)[^\n@]*?[ \t](?P<user>[A-Za-z_][A-Za-z0-9_.-]*)@(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]*)",
    // Environment dumps.
    r"(?-u:\b)(?:USER|USERNAME|LOGNAME)=(?P<user>[A-Za-z_][A-Za-z0-9_.-]*)",
    r"(?-u:\b)(?:HOSTNAME|COMPUTERNAME)=(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]*)",
    // `User: alice`, `username = alice`.
    r#"(?i)(?-u:\b)user(?:[ _]?name)?[ \t]*[:=][ \t]*"?(?P<user>[A-Za-z_][A-Za-z0-9_.-]{1,31})"#,
    // An ocdoctor env snapshot (`"user": {"uid": 1000, "gid": 1000, "name": "alice"`).
    r#""user"\s*:\s*\{[^{}]*?"name"\s*:\s*"(?P<user>[^"\\]+)""#,
    // E-mail addresses.
    r"(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?-u:\b)",
    // Probe serials after the commands that set them (OpenOCD 0.10 to master, every driver).
    concat!(
        r"(?i)(?-u:\b)(?:adapter(?:[ _]usb)?[ _]serial|hla_serial|hl_serial|jlink[ _]serial|cmsis_dap_serial|cmsis-dap[ _]serial|ftdi[ _]serial|st-link[ _]serial|stlink[ _]serial|kitprog_serial|xds110[ _]serial|presto_serial|aice[ _]serial|ft232r_serial_desc|vsllink[ _]usb_serial|usb_blaster[ _]serial|esp_usb_jtag[ _]serial|jtag_serial)[ \t]+",
        serial_value!()
    ),
    // Probe serials in messages: `Serial number: X`, `serial: X`, `Serial# = X`, `serial=X`,
    // JSON `"serial": "X"`, J-Link's `S/N: X`.
    concat!(
        r#"(?i)(?:(?-u:\b)serial(?:[ _-]?(?:number|no\.?|num|nr|string|hex|short))?|(?-u:\b)S/N)"?[ \t]*#?[ \t]*[:=][ \t]*"#,
        serial_value!()
    ),
    // `serial 'X'`, `serial number 'X'`, `requested serial 'X'`, `serial (X)`.
    r"(?i)(?-u:\b)serial(?: number)?[ \t]+(?:'(?P<serial__sq>[^'\r\n]*)'|\((?P<serial>[^)\s]+)\))",
    // lsusb -v: `iSerial                 3 066DFF485550755187034646`.
    r"(?m)(?-u:\b)iSerial[ \t]+\d+[ \t]+(?P<serial>[^\r\n]*[^\s])",
    // udev: ATTRS{serial}=="X", ENV{ID_SERIAL_SHORT}=="X", ID_SERIAL_SHORT=X.
    r#"(?i)(?-u:\b)(?:ATTRS?\{serial\}|ENV\{ID_SERIAL(?:_SHORT)?\})[ \t]*==?[ \t]*"(?P<serial>[^"\r\n]*)""#,
    r"(?-u:\b)ID_SERIAL(?:_SHORT)?=(?P<serial>[^\s\x22']+)",
    // /dev/serial/by-id names: usb-STMicroelectronics_STM32_STLink_066D…-if02.
    r"(?-u:\b)usb-[A-Za-z0-9_.-]*?_(?P<serial>[0-9A-Za-z]{8,})-if[0-9]{2}",
    // Windows device instance ids: USB\VID_0483&PID_374B\066D…, usb#vid_0483&pid_374b#066D…#{…}.
    r"(?i)(?-u:\b)USB\\{1,2}VID_[0-9A-F]{4}&PID_[0-9A-F]{4}(?:&MI_[0-9]{2})?\\{1,2}(?P<serial>[A-Za-z0-9&_.-]+)",
    r"(?i)(?-u:\b)usb#vid_[0-9a-f]{4}&pid_[0-9a-f]{4}(?:&mi_[0-9]{2})?#(?P<serial>[^#\s]+)#",
    // Host names: mDNS and private suffixes, Windows' generated names, UNC paths, remote targets.
    r"(?-u:\b)(?P<host>(?:[A-Za-z0-9][A-Za-z0-9-]*\.)*[A-Za-z0-9][A-Za-z0-9-]*\.(?:local|lan|localdomain|internal|intranet|corp|home\.arpa))(?-u:\b)",
    r"(?-u:\b)(?P<host>(?:DESKTOP|LAPTOP|WIN)-[A-Z0-9]{6,15})(?-u:\b)",
    r#"(?:^|[\s"'=(])\\{2,4}(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]*)\\"#,
    r"(?i)(?-u:\b)(?:target[ \t]+(?:extended-)?remote|remote_bitbang[ _]host|bindto|jlink[ \t]+(?:config[ \t]+)?ip)[ \t]+(?P<host>[A-Za-z][A-Za-z0-9.-]*[A-Za-z0-9])",
    // Addresses.
    r"(?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5})",
    r"(?P<ip>[0-9]{1,3}(?:\.[0-9]{1,3}){3})",
    r"(?P<ip__v6>[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})",
    // A long run of hex digits on its own is an ST-Link or CMSIS-DAP serial (checked below).
    r"(?-u:\b)(?P<serial__hex>[0-9A-Fa-f]{20,})(?-u:\b)",
];

/// The compiled table; built on first use.
pub(crate) fn builtin() -> &'static [Regex] {
    static BUILTIN: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        PATTERNS
            .iter()
            .map(|p| Regex::new(p).unwrap_or_else(|e| panic!("built-in pattern {p}: {e}")))
            .collect()
    });
    &BUILTIN
}

/// The kind a group name stands for (`serial__dq` → `serial`, `private_key` → `private-key`).
pub(crate) fn kind_of_group(name: &str) -> String {
    name.split("__").next().unwrap_or(name).replace('_', "-")
}

/// Values that stand where a serial would but are not one (`serial '*'`, `<serial>`, `null`).
const NOT_A_SERIAL: &[&str] = &[
    "",
    "*",
    "null",
    "none",
    "n/a",
    "unknown",
    "not set",
    "serial",
    "serial_string",
    "serial-number",
    "serial_number",
    "serialnumber",
    "%s",
    "0",
];

/// Host names that name no one.
const PUBLIC_HOSTS: &[&str] = &["localhost", "localhost.localdomain", "ip6-localhost"];

/// A second look at a candidate, with its surroundings: is it really what its group says?
pub(crate) fn accept(kind: &str, group: &str, text: &str, start: usize, end: usize) -> bool {
    let value = &text[start..end];
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let after2 = text[end..].chars().nth(1);
    match kind {
        "serial" if group == "serial__hex" => long_hex_is_serial(value, text, start),
        "serial" => {
            let v = value.trim();
            !NOT_A_SERIAL.contains(&v.to_ascii_lowercase().as_str()) && !v.starts_with('<')
        }
        "host" => {
            let lower = value.to_ascii_lowercase();
            // `settings.local.json` is a file, not an mDNS name.
            let file_extension =
                after == Some('.') && after2.is_some_and(|c| c.is_ascii_alphanumeric());
            !PUBLIC_HOSTS.contains(&lower.as_str()) && !file_extension
        }
        "mac" => {
            let word =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "_:-.".contains(c));
            let hex: String = value.chars().filter(|c| c.is_ascii_hexdigit()).collect();
            !word(before)
                && !word(after)
                && !hex.chars().all(|c| c == '0')
                && !hex.eq_ignore_ascii_case("ffffffffffff")
        }
        "ip" if group == "ip__v6" => ipv6_is_private(value, before, after),
        "ip" => ipv4_is_private(value, text, start, before, after, after2),
        _ => true,
    }
}

fn ipv4_is_private(
    value: &str,
    text: &str,
    start: usize,
    before: Option<char>,
    after: Option<char>,
    after2: Option<char>,
) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    if word(before) || before == Some('.') || word(after) || matches!(after, Some('-' | '+')) {
        return false;
    }
    // `1.2.3.4.5` is a version, not an address.
    if after == Some('.') && after2.is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    let Ok(ip) = value.parse::<Ipv4Addr>() else {
        return false; // 999.1.1.1, or an octet with a leading zero: not an address
    };
    if ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast() || ip.octets()[0] == 255 {
        return false;
    }
    // `firmware version = 3.0.0.18`, `v1.2.3.4`: a version that looks like an address.
    let mut from = start.saturating_sub(24);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let lead = text[from..start].to_ascii_lowercase();
    let lead = lead.trim_end();
    !(lead.contains("version")
        || lead.contains("firmware")
        || lead.ends_with("ver")
        || lead.ends_with("ver:")
        || lead.ends_with("rev")
        || lead.ends_with("fw")
        || lead.ends_with("build")
        || text[..start].ends_with(['v', 'V']))
}

fn ipv6_is_private(value: &str, before: Option<char>, after: Option<char>) -> bool {
    let word = |c: Option<char>| {
        c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '.')
    };
    if word(before) || word(after) {
        return false;
    }
    // Times (12:34:56) and C++/Tcl names never have `::` between hex groups and 2+ groups.
    let groups = value.split(':').filter(|g| !g.is_empty()).count();
    if !(value.contains("::") || value.matches(':').count() == 7) || groups < 2 {
        return false;
    }
    value
        .parse::<Ipv6Addr>()
        .is_ok_and(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

/// A run of 20+ hex digits: an ST-Link / CMSIS-DAP / J-Link serial, unless it is a hash (32, 40
/// or 64 digits), a git describe suffix (`-g1234…`), or only digits (a number).
fn long_hex_is_serial(value: &str, text: &str, start: usize) -> bool {
    let len = value.len();
    let has_letter = value.bytes().any(|b| b.is_ascii_alphabetic());
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    !matches!(len, 32 | 40 | 64) && has_letter && has_digit && !text[..start].ends_with("-g")
}
