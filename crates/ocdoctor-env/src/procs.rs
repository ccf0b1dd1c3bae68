//! Processes and listening TCP sockets from `<root>/proc`.

use crate::fsutil::{list_dir, read_bytes, read_text, read_trim, under};
use crate::model::{Listener, ProcRef, ProcessInfo};
use std::collections::BTreeMap;
use std::path::Path;

/// The standard OpenOCD ports and their services.
pub const DEFAULT_PORTS: [(u16, &str); 3] = [(3333, "gdb"), (4444, "telnet"), (6666, "tcl")];

/// One row of /proc/net/tcp{,6} in LISTEN state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRow {
    pub address: String,
    pub port: u16,
    pub inode: u64,
}

/// Parse `/proc/net/tcp` or `tcp6` text; keeps LISTEN (`0A`) rows. Garbage lines are skipped.
pub fn parse_tcp(text: &str, v6: bool) -> Vec<TcpRow> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let Some((addr_hex, port_hex)) = f[1].rsplit_once(':') else {
            continue;
        };
        let (Ok(port), Ok(inode)) = (u16::from_str_radix(port_hex, 16), f[9].parse::<u64>()) else {
            continue;
        };
        out.push(TcpRow {
            address: decode_addr(addr_hex, v6).unwrap_or_else(|| addr_hex.to_string()),
            port,
            inode,
        });
    }
    out
}

/// The kernel prints addresses as host-order 32-bit words in hex (little-endian on x86/ARM).
fn decode_addr(h: &str, v6: bool) -> Option<String> {
    let words: Vec<u32> = (0..h.len() / 8)
        .map(|i| u32::from_str_radix(h.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<Vec<_>>>()?;
    if !v6 && words.len() == 1 {
        let b = words[0].to_le_bytes();
        return Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string());
    }
    if v6 && words.len() == 4 {
        let mut bytes = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        return Some(std::net::Ipv6Addr::from(bytes).to_string());
    }
    None
}

/// What the fd tables told us.
#[derive(Debug, Default)]
pub struct FdScan {
    /// socket inode → pid
    pub sockets: BTreeMap<u64, u32>,
    /// opened path (as the link says) → pids
    pub files: BTreeMap<String, Vec<u32>>,
    /// pid → comm
    pub names: BTreeMap<u32, String>,
    pub pids_seen: usize,
    pub fd_dirs_unreadable: usize,
}

pub fn pids(root: &Path) -> Vec<u32> {
    list_dir(&under(root, "/proc"))
        .into_iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Walk `/proc/<pid>/fd/*`: `socket:[inode]` links and `/dev/bus/usb/...` links. Other users' fd tables
/// are unreadable without root; that is counted, not an error.
pub fn scan_fds(root: &Path) -> FdScan {
    let mut s = FdScan::default();
    for pid in pids(root) {
        s.pids_seen += 1;
        let base = under(root, &format!("/proc/{pid}"));
        if let Some(c) = read_trim(&base.join("comm")) {
            s.names.insert(pid, c);
        }
        let fd_dir = base.join("fd");
        let rd = match std::fs::read_dir(&fd_dir) {
            Ok(rd) => rd,
            Err(_) => {
                s.fd_dirs_unreadable += 1;
                continue;
            }
        };
        for e in rd.flatten() {
            let Ok(t) = std::fs::read_link(e.path()) else {
                continue;
            };
            let t = t.to_string_lossy();
            if let Some(inode) = t
                .strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok())
            {
                s.sockets.insert(inode, pid);
            } else if t.starts_with("/dev/bus/usb/") {
                let v = s.files.entry(t.into_owned()).or_default();
                if !v.contains(&pid) {
                    v.push(pid);
                }
            }
        }
    }
    s
}

pub fn listeners(
    root: &Path,
    ports: &[(u16, String)],
    fds: &FdScan,
    errors: &mut Vec<crate::model::EnvError>,
) -> Vec<Listener> {
    let mut out: Vec<Listener> = Vec::new();
    for (file, v6, proto) in [
        ("/proc/net/tcp", false, "tcp"),
        ("/proc/net/tcp6", true, "tcp6"),
    ] {
        let p = under(root, file);
        let Some(text) = read_text(&p) else {
            if p.exists() {
                errors.push(crate::model::EnvError {
                    what: file.into(),
                    message: "unreadable".into(),
                });
            }
            continue;
        };
        for row in parse_tcp(&text, v6) {
            let Some((_, role)) = ports.iter().find(|(p, _)| *p == row.port) else {
                continue;
            };
            let process = fds.sockets.get(&row.inode).map(|pid| ProcRef {
                pid: *pid,
                name: fds.names.get(pid).cloned(),
            });
            out.push(Listener {
                proto: proto.into(),
                address: row.address,
                port: row.port,
                inode: Some(row.inode),
                process,
                role: role.clone(),
            });
        }
    }
    out.sort_by(|a, b| (a.port, &a.proto).cmp(&(b.port, &b.proto)));
    out
}

/// Process kinds worth reporting: (kind, names as argv[0] basename or comm).
const INTERESTING: &[(&str, &[&str])] = &[
    ("openocd", &["openocd", "openocd-esp32", "openocd.exe"]),
    (
        "jlink-gdb-server",
        &[
            "JLinkGDBServer",
            "JLinkGDBServerCLExe",
            "JLinkGDBServerExe",
            "JLinkGDBServerC", // comm is cut to 15 characters
            "JLinkGDBServerE",
        ],
    ),
    (
        "jlink",
        &[
            "JLinkExe",
            "JLink.exe",
            "JLinkRemoteServer",
            "JLinkRemoteServ",
        ],
    ),
    ("st-util", &["st-util"]),
    ("stlink-server", &["stlink-server", "stlink_server"]),
    ("st-gdbserver", &["ST-LINK_gdbserver", "ST-LINK_gdbserv"]),
    ("pyocd", &["pyocd", "pyocd-gdbserver"]),
    (
        "probe-rs",
        &[
            "probe-rs",
            "probe-rs-debugger",
            "cargo-embed",
            "cargo-flash",
        ],
    ),
    ("modemmanager", &["ModemManager"]),
    ("brltty", &["brltty"]),
];

pub fn classify(comm: &str, argv: &[String]) -> Option<&'static str> {
    let arg0 = argv
        .first()
        .map(|a| a.rsplit(['/', '\\']).next().unwrap_or(a).to_string())
        .unwrap_or_default();
    for (kind, names) in INTERESTING {
        if names.iter().any(|n| *n == comm || *n == arg0) {
            return Some(kind);
        }
    }
    // Interpreted tools: `python3 -m pyocd`, `/usr/bin/python3 /home/u/.local/bin/pyocd gdbserver`.
    if comm.starts_with("python") || arg0.starts_with("python") {
        for a in argv.iter().skip(1).take(3) {
            let base = a.rsplit('/').next().unwrap_or(a);
            if base == "pyocd" || base == "pyocd-gdbserver" {
                return Some("pyocd");
            }
        }
    }
    None
}

pub fn processes(root: &Path) -> Vec<ProcessInfo> {
    let mut out = Vec::new();
    for pid in pids(root) {
        let base = under(root, &format!("/proc/{pid}"));
        let comm = read_trim(&base.join("comm")).unwrap_or_default();
        let argv: Vec<String> = read_bytes(&base.join("cmdline"))
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let Some(kind) = classify(&comm, &argv) else {
            continue;
        };
        out.push(ProcessInfo {
            pid,
            comm,
            cmdline: argv.join(" "),
            kind: kind.to_string(),
            started_after_boot_secs: read_text(&base.join("stat")).and_then(|s| start_secs(&s)),
        });
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// Field 22 of /proc/<pid>/stat (starttime, clock ticks since boot). comm (field 2) may contain spaces
/// and parentheses, so fields are counted after the last ')'. USER_HZ is 100 on every Linux ABI that
/// matters here (it is fixed for userspace even when CONFIG_HZ differs).
fn start_secs(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // after ')' the next field is #3 (state); starttime is #22 → index 19.
    let ticks: u64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    Some(ticks / 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tcp_line() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0D05 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0\n   1: garbage\n";
        let r = parse_tcp(t, false);
        assert_eq!(
            r,
            vec![TcpRow {
                address: "127.0.0.1".into(),
                port: 3333,
                inode: 424242
            }]
        );
    }
    #[test]
    fn stat_start() {
        let s =
            "4242 (open ocd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 10";
        assert_eq!(start_secs(s), Some(123));
    }
    #[test]
    fn kinds() {
        assert_eq!(classify("JLinkGDBServerC", &[]), Some("jlink-gdb-server"));
        assert_eq!(
            classify(
                "python3",
                &["/usr/bin/python3".into(), "/home/u/.local/bin/pyocd".into()]
            ),
            Some("pyocd")
        );
        assert_eq!(classify("bash", &["bash".into()]), None);
    }
}
