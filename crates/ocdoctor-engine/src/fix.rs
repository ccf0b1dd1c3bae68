//! Edits of user files: the plan (edits grouped per file), its unified diff, and applying it
//! atomically with a backup.

use ocdoctor_ide::Edit;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// An edit of one file, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileEdit {
    pub path: PathBuf,
    pub span: Range<usize>,
    pub replacement: String,
}

/// The edits grouped per file: (path, old text, new text). Overlapping edits: the first wins.
pub fn plan(edits: &[FileEdit]) -> Vec<(PathBuf, String, String)> {
    let mut per: BTreeMap<&Path, Vec<&FileEdit>> = BTreeMap::new();
    for e in edits {
        per.entry(&e.path).or_default().push(e);
    }
    let mut out = Vec::new();
    for (path, mut es) in per {
        let Ok(old) = std::fs::read_to_string(path) else {
            continue;
        };
        es.sort_by_key(|e| e.span.start);
        let mut kept: Vec<&FileEdit> = Vec::new();
        for e in es {
            let ok = e.span.start <= e.span.end
                && e.span.end <= old.len()
                && old.is_char_boundary(e.span.start)
                && old.is_char_boundary(e.span.end)
                && kept.last().is_none_or(|k| k.span.end <= e.span.start);
            if ok {
                kept.push(e);
            }
        }
        let mut new = old.clone();
        for e in kept.iter().rev() {
            new.replace_range(e.span.clone(), &e.replacement);
        }
        if new != old {
            out.push((path.to_path_buf(), old, new));
        }
    }
    out
}

/// A unified diff of a whole-file change.
pub fn diff(path: &Path, old: &str, new: &str) -> String {
    // One edit covering the changed middle renders the same hunk as the per-edit diffs.
    let pre = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let mut pre = pre;
    while !old.is_char_boundary(pre) || !new.is_char_boundary(pre) {
        pre -= 1;
    }
    let max_post = (old.len() - pre).min(new.len() - pre);
    let mut post = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_post)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - post) || !new.is_char_boundary(new.len() - post) {
        post -= 1;
    }
    let e = Edit::new(pre..old.len() - post, &new[pre..new.len() - post]);
    let label = path.display().to_string();
    e.to_unified_diff(old, label.trim_start_matches('/'))
}

/// The backup name: `<file>.orig`, or `.orig.1`, `.orig.2`… when taken.
pub fn backup_path(path: &Path) -> PathBuf {
    let base = path.as_os_str().to_os_string();
    let mut first = base.clone();
    first.push(".orig");
    let mut candidate = PathBuf::from(first);
    let mut n = 1;
    while candidate.exists() {
        let mut s = base.clone();
        s.push(format!(".orig.{n}"));
        candidate = PathBuf::from(s);
        n += 1;
    }
    candidate
}

/// Apply the plan: back up each file, then write it atomically (temp file + rename).
pub fn apply(
    plan: &[(PathBuf, String, String)],
) -> Result<Vec<(PathBuf, PathBuf)>, crate::EngineError> {
    let mut done = Vec::new();
    for (path, old, new) in plan {
        let backup = backup_path(path);
        std::fs::write(&backup, old).map_err(|source| crate::EngineError::Backup {
            path: backup.clone(),
            source,
        })?;
        write_atomically(path, new.as_bytes()).map_err(|source| crate::EngineError::Write {
            path: path.clone(),
            source,
        })?;
        done.push((path.clone(), backup));
    }
    Ok(done)
}

/// Write through a temporary file in the same folder and rename it over the target, so a
/// crash never leaves a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    // A symlinked file is edited where it lives: replacing the link by a regular file would
    // leave the real config unchanged.
    let path = if path.is_symlink() {
        std::fs::canonicalize(path)?
    } else {
        path.to_path_buf()
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Per process: two ocdoctor runs writing the same file must not share a temp file.
    let tmp = dir.join(format!(
        ".{}.ocdoctor-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        // The edited file keeps its mode (an executable script stays executable, a private
        // file stays private).
        if let Ok(meta) = std::fs::metadata(&path) {
            f.set_permissions(meta.permissions())?;
        }
        // On disk before it replaces the original: a crash leaves the old file or the new one.
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &path)?;
    // The rename itself is durable once the folder is synced (best effort: not every
    // platform can open a folder).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_two_edits() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nB\nc\nD\n";
        let d = diff(Path::new("x.cfg"), old, new);
        assert!(
            d.contains("-b\n") && d.contains("+B\n") && d.contains("+D\n"),
            "{d}"
        );
        assert_eq!(diff(Path::new("x"), "same", "same"), "");
        // Multi-byte characters at the edge of the change.
        let d = diff(Path::new("x"), "é1\n", "é2\n");
        assert!(d.contains("+é2"), "{d}");
    }
}
