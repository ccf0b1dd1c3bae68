//! An index of a scripts tree (`.cfg`/`.tcl` files under a scripts dir) and "did you mean"
//! for a file name that is not there: the rename table first (a file that moved between
//! versions), then edit distance on path components.

use crate::versions::{self, Status, Version};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScriptsIndex {
    pub root: PathBuf,
    /// Paths relative to `root`, with `/` separators, sorted.
    pub files: Vec<String>,
}

impl ScriptsIndex {
    /// List the `.cfg` and `.tcl` files under `dir` (an unreadable dir gives an empty index).
    pub fn scan(dir: &Path) -> ScriptsIndex {
        let mut files = Vec::new();
        let mut stack = vec![(dir.to_path_buf(), String::new())];
        while let Some((d, rel)) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let r = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    if stack.len() < 10_000 {
                        stack.push((e.path(), r));
                    }
                } else if name.ends_with(".cfg") || name.ends_with(".tcl") {
                    files.push(r);
                }
            }
        }
        files.sort();
        ScriptsIndex {
            root: dir.to_path_buf(),
            files,
        }
    }

    /// Build from a list of relative paths (tests, or a list shipped elsewhere).
    pub fn from_files(root: &Path, files: impl IntoIterator<Item = String>) -> ScriptsIndex {
        let mut files: Vec<String> = files.into_iter().map(|f| f.replace('\\', "/")).collect();
        files.sort();
        files.dedup();
        ScriptsIndex {
            root: root.to_path_buf(),
            files,
        }
    }

    pub fn contains(&self, rel: &str) -> bool {
        self.files.binary_search(&rel.replace('\\', "/")).is_ok()
    }

    /// Up to 3 likely meant files for `name`, best first.
    pub fn did_you_mean(&self, name: &str, version: Version) -> Vec<String> {
        let norm = name.replace('\\', "/");
        let norm = norm.trim_start_matches("./");
        let mut out: Vec<String> = Vec::new();
        // 1. Renamed or removed files with a known successor.
        match versions::lookup_file(norm, version) {
            Status::Removed { replacement, .. } | Status::Deprecated { replacement, .. } => {
                out.extend(
                    replacement
                        .into_iter()
                        .filter(|r| r.ends_with(".cfg") || r.ends_with(".tcl")),
                );
            }
            _ => {}
        }
        // 2. Edit distance, component by component when the depth matches, else on the
        //    file name alone (`stm32f4x.cfg` → `target/stm32f4x.cfg`).
        let want: Vec<String> = norm.split('/').map(|s| s.to_ascii_lowercase()).collect();
        let want_base = want.last().cloned().unwrap_or_default();
        let mut scored: Vec<(usize, &String)> = Vec::new();
        for f in &self.files {
            let have: Vec<String> = f.split('/').map(|s| s.to_ascii_lowercase()).collect();
            let d = if have.len() == want.len() {
                have.iter()
                    .zip(&want)
                    .map(|(a, b)| edit_distance(a, b))
                    .sum()
            } else {
                // Different depth: compare the tails, and charge for the missing/extra dirs.
                let base = edit_distance(have.last().map(String::as_str).unwrap_or(""), &want_base);
                base + 1 + (have.len() as isize - want.len() as isize).unsigned_abs()
            };
            let limit = (want_base.len() / 4).max(2);
            if d <= limit {
                scored.push((d, f));
            }
        }
        scored.sort();
        for (_, f) in scored {
            if out.len() >= 3 {
                break;
            }
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out.truncate(3);
        out
    }
}

/// The Levenshtein distance of `a` and `b` (characters) when it is at most `limit`, else
/// `None`. Only the cells within `limit` of the diagonal can lead to such a distance, so each
/// row computes at most `2 * limit + 1` of them and the search stops at the first row whose
/// cells all exceed `limit`: a suggestion among thousands of names costs a few cells per
/// character of each, not the whole table.
pub fn edit_distance_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    // Any value over `limit` is as good as another: cap at `over` so nothing overflows.
    let over = limit + 1;
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| j.min(over)).collect();
    let mut cur = vec![over; b.len() + 1];
    for i in 1..=a.len() {
        let lo = i.saturating_sub(limit).max(1);
        let hi = (i + limit).min(b.len());
        // The cell left of the band: column 0 is `i` edits; further right, out of reach.
        cur[lo - 1] = if lo == 1 { i.min(over) } else { over };
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let v = sub.min(prev[j] + 1).min(cur[j - 1] + 1).min(over);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        // The cell right of the band is read by the next row as "above": out of reach.
        if hi < b.len() {
            cur[hi + 1] = over;
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= limit).then_some(d)
}

/// Levenshtein distance on characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let idx = ScriptsIndex::from_files(
            Path::new("/s"),
            [
                "target/stm32f4x.cfg",
                "target/stm32f1x.cfg",
                "interface/stlink.cfg",
                "board/st_nucleo_f4.cfg",
            ]
            .map(String::from),
        );
        // A misspelt, folderless, renamed or backslashed name and the script it means.
        for (name, meant) in [
            ("target/stm32f4xx.cfg", "target/stm32f4x.cfg"),
            ("stm32f4x.cfg", "target/stm32f4x.cfg"),
            ("interface/stlink-v2.cfg", "interface/stlink.cfg"),
            ("target\\stm32f1x.cfg", "target/stm32f1x.cfg"),
        ] {
            assert_eq!(idx.did_you_mean(name, Version::V0_12)[0], meant, "{name}");
        }
        assert!(
            idx.did_you_mean("completely/else.cfg", Version::V0_12)
                .is_empty()
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let chars = |s: &str| s.chars().collect::<Vec<char>>();
        assert_eq!(
            edit_distance_within(&chars("kitten"), &chars("sitting"), 3),
            Some(3)
        );
        assert_eq!(
            edit_distance_within(&chars("kitten"), &chars("sitting"), 2),
            None
        );
    }

    /// The banded distance agrees with the full one on every pair of short words over a small
    /// alphabet (every shape of insertion, deletion and substitution), at every limit.
    #[test]
    fn the_banded_distance_is_the_full_distance_within_its_limit() {
        let mut words = vec![String::new()];
        for len in 1..=4 {
            let mut n: usize = 0;
            while n < 3usize.pow(len) {
                let mut w = String::new();
                let mut k = n;
                for _ in 0..len {
                    w.push(['a', 'b', 'é'][k % 3]);
                    k /= 3;
                }
                words.push(w);
                n += 1;
            }
        }
        for a in &words {
            let ac: Vec<char> = a.chars().collect();
            for b in &words {
                let bc: Vec<char> = b.chars().collect();
                let full = edit_distance(a, b);
                for limit in 0..=5 {
                    let want = (full <= limit).then_some(full);
                    assert_eq!(
                        edit_distance_within(&ac, &bc, limit),
                        want,
                        "{a:?} {b:?} {limit}"
                    );
                }
            }
        }
    }
}
