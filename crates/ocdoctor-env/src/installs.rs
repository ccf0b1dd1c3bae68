//! OpenOCD installs: on PATH and in the places IDEs and package managers bundle it.

use crate::fsutil::{display_path, under};
use crate::model::{OpenOcdInstall, OpenOcdVersion};
use regex::Regex;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn exe_names() -> &'static [&'static str] {
    if cfg!(windows) {
        &["openocd.exe", "openocd-esp32.exe"]
    } else {
        &["openocd", "openocd-esp32"]
    }
}

/// Where to look besides PATH: (label, dir under root, max depth of the search for `bin/openocd`).
/// `~` is replaced by the home dir given in the options.
const BUNDLES: &[(&str, &str, usize)] = &[
    ("platformio", "~/.platformio/packages", 3),
    ("espressif", "~/.espressif/tools/openocd-esp32", 4),
    ("xpack", "~/.local/xPacks", 5),
    ("xpack", "~/.cache/xpack", 5),
    ("xpack", "~/.cache/xPacks", 5),
    ("arduino", "~/.arduino15/packages", 6),
    ("stm32cubeide", "/opt/st", 6),
    ("usr-local", "/usr/local/bin", 0),
    ("opt", "/opt", 3),
];

/// Find every openocd binary. `path_var` is the PATH string to search (the library never reads the
/// process environment itself), `home` the user's home directory.
pub fn find(root: &Path, path_var: Option<&OsStr>, home: Option<&Path>) -> Vec<OpenOcdInstall> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let push = |label: &str, p: PathBuf, found: &mut Vec<(String, PathBuf)>| {
        let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
        if !found
            .iter()
            .any(|(_, q)| std::fs::canonicalize(q).unwrap_or_else(|_| q.clone()) == key)
        {
            found.push((label.to_string(), p));
        }
    };
    if let Some(pv) = path_var {
        for dir in std::env::split_paths(pv) {
            if dir.as_os_str().is_empty() {
                continue;
            }
            let d = reroot(root, &dir);
            for n in exe_names() {
                let c = d.join(n);
                if c.is_file() {
                    push("PATH", c, &mut found);
                }
            }
        }
    }
    for (label, dir, depth) in BUNDLES {
        let abs = if let Some(rest) = dir.strip_prefix("~/") {
            match home {
                Some(h) => h.join(rest),
                None => continue,
            }
        } else {
            PathBuf::from(dir)
        };
        let base = reroot(root, &abs);
        let mut hits = Vec::new();
        if *depth == 0 {
            for n in exe_names() {
                if base.join(n).is_file() {
                    hits.push(base.join(n));
                }
            }
        } else {
            walk(&base, *depth, &mut hits);
        }
        hits.sort();
        for h in hits {
            push(label, h, &mut found);
        }
    }
    found
        .into_iter()
        .map(|(label, p)| OpenOcdInstall {
            path: display_path(root, &p),
            found_in: label,
            scripts_dir: scripts_dir(&p).map(|s| display_path(root, &s)),
            ..OpenOcdInstall::default()
        })
        .collect()
}

/// PATH entries and home are machine paths; put them under the root (unchanged when root is "/").
fn reroot(root: &Path, p: &Path) -> PathBuf {
    if root == Path::new("/") || !p.is_absolute() {
        return p.to_path_buf();
    }
    under(root, &p.to_string_lossy())
}

/// Look for `bin/openocd` below `dir`, at most `depth` levels down. Bounded, no symlink loops
/// (directories are entered only when `file_type` says dir, which does not follow links).
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if dir.file_name() == Some(OsStr::new("bin")) {
        for n in exe_names() {
            let c = dir.join(n);
            if c.is_file() {
                out.push(c);
            }
        }
    }
    if depth == 0 || out.len() > 64 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subs: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    subs.sort();
    for s in subs {
        walk(&s, depth - 1, out);
    }
}

/// `<bindir>/../share/openocd/scripts` (make install, distro packages, xPack, PlatformIO) or
/// `<bindir>/../scripts` (some bundles), or `<bindir>/../share/openocd-esp32/scripts`.
pub fn scripts_dir(bin: &Path) -> Option<PathBuf> {
    let prefix = bin.parent()?.parent()?;
    for rel in [
        "share/openocd/scripts",
        "scripts",
        "share/openocd-esp32/scripts",
        "openocd/scripts",
    ] {
        let c = prefix.join(rel);
        if c.is_dir() {
            return Some(c);
        }
    }
    None
}

/// Run `<bin> --version` (it prints to stderr) with a timeout and fill the version fields.
pub fn probe_version(root: &Path, inst: &mut OpenOcdInstall, timeout: Duration) {
    let bin = reroot(root, Path::new(&inst.path));
    let child = Command::new(&bin)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            inst.version_error = Some(format!("cannot run: {e}"));
            return;
        }
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                inst.version_error = Some(format!("--version did not finish in {timeout:?}"));
                return;
            }
            Err(e) => {
                inst.version_error = Some(format!("wait failed: {e}"));
                return;
            }
        }
    }
    // The output is a few lines, far below the pipe buffer, so reading after exit cannot deadlock.
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => {
            inst.version_error = Some(format!("reading output failed: {e}"));
            return;
        }
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    match text.lines().find(|l| l.contains("Open On-Chip Debugger")) {
        Some(line) => {
            inst.version_line = Some(line.trim().to_string());
            inst.version = parse_version(line);
        }
        None => {
            inst.version_error = Some(format!(
                "no version line in output (exit {:?})",
                out.status.code()
            ))
        }
    }
}

fn version_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // From shared/reference/openocd/README.md section (e).
    RE.get_or_init(|| {
        Regex::new(r"(?:(xPack) )?Open On-Chip Debugger\s+v?(\d+\.\d+\.\d+)(\+dev)?(?:-esp32-(\d{8}))?(?:-(\d{5}))?(?:-g([0-9a-f]+))?(-dirty)?(?: \(([\d-]+:\d\d)\))?(?: \[(\S+)\])?")
            .expect("static regex")
    })
}

/// Parse the banner line of `openocd --version`.
pub fn parse_version(line: &str) -> Option<OpenOcdVersion> {
    let c = version_re().captures(line)?;
    let g = |i: usize| c.get(i).map(|m| m.as_str().to_string());
    let url = g(9);
    let flavor = if c.get(1).is_some() {
        "xpack"
    } else if c.get(4).is_some() {
        "espressif"
    } else if url
        .as_deref()
        .is_some_and(|u| u.contains("STMicroelectronics"))
    {
        "st"
    } else if c.get(6).is_some() || c.get(3).is_some() {
        "git"
    } else {
        "upstream"
    };
    Some(OpenOcdVersion {
        release: g(2)?,
        dev: c.get(3).is_some(),
        flavor: flavor.to_string(),
        commits: c.get(5).and_then(|m| m.as_str().parse().ok()),
        git_hash: g(6),
        dirty: c.get(7).is_some(),
        build_date: g(8),
        esp_date: g(4),
        url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn versions() {
        let v = parse_version("Open On-Chip Debugger 0.12.0").unwrap();
        assert_eq!(
            (v.release.as_str(), v.flavor.as_str()),
            ("0.12.0", "upstream")
        );
        let v = parse_version(
            "xPack Open On-Chip Debugger 0.12.0-01004-g9ea7f3d64-dirty (2023-01-30-15:03)",
        )
        .unwrap();
        assert_eq!(v.flavor, "xpack");
        assert_eq!(v.commits, Some(1004));
        assert!(v.dirty);
        let v = parse_version("Open On-Chip Debugger  v0.11.0-esp32-20211220 (2021-12-20-15:43)")
            .unwrap();
        assert_eq!(v.flavor, "espressif");
        let v = parse_version("Open On-Chip Debugger 0.12.0+dev-00608-gd8ed48fef (2025-02-06-11:17) [https://github.com/STMicroelectronics/OpenOCD]").unwrap();
        assert_eq!(v.flavor, "st");
        assert!(v.dev);
        assert!(parse_version("hello").is_none());
    }
}
