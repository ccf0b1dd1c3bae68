//! Small helpers for reading a machine's files under a root directory without ever failing hard.

use std::path::{Path, PathBuf};

/// `<root>/<abs>`: every machine path goes through here so tests can point `root` at a fixture tree.
pub fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

/// Read a sysfs-style attribute: bytes, trailing newline removed. None when absent or unreadable.
pub fn read_bytes(path: &Path) -> Option<Vec<u8>> {
    let mut b = std::fs::read(path).ok()?;
    while matches!(b.last(), Some(b'\n') | Some(b'\0')) {
        b.pop();
    }
    Some(b)
}

/// Text attribute, lossy UTF-8, trimmed of the trailing newline only (sysfs pads some values with
/// spaces on purpose, e.g. `bNumInterfaces` " 3"; callers trim when they parse numbers).
pub fn read_text(path: &Path) -> Option<String> {
    read_bytes(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Text attribute, trimmed and non-empty.
pub fn read_trim(path: &Path) -> Option<String> {
    let s = read_text(path)?;
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

pub fn read_u32(path: &Path) -> Option<u32> {
    read_trim(path)?.parse().ok()
}

/// The last path component of a symlink target (`../../../../bus/usb/drivers/usbfs` → `usbfs`).
pub fn link_name(path: &Path) -> Option<String> {
    let target = std::fs::read_link(path).ok()?;
    target.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Directory entries (names), sorted; empty when unreadable.
pub fn list_dir(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(path) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Show a path as it is on the machine: strip the collection root.
pub fn display_path(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(rel) => format!("/{}", rel.to_string_lossy()),
        Err(_) => p.to_string_lossy().into_owned(),
    }
}
