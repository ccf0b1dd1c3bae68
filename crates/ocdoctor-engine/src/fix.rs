//! Edits of user files: the plan (edits grouped per file), its unified diff, and applying it
//! all-or-nothing with one backup per file.
//!
//! `apply` writes nothing until it knows it can write everything: every file is re-read and
//! must still be what the check read (content hash); every new text and backup is written to
//! a temporary file beside its target and synced; only then are they renamed into place. A
//! failure before the renames leaves every file as it was and no temporary file behind; a
//! failed rename (rare: the folder vanished) restores the files already replaced.

use crate::EngineError;
use ocdoctor_ide::Edit;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// An edit of one file, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileEdit {
    pub path: PathBuf,
    /// Byte range in the text the check read.
    pub span: Range<usize>,
    pub replacement: String,
    /// [`content_hash`] of the text the span refers to: the file must still hold it.
    pub base_hash: u64,
}

/// A file's change: its text as read now, and the text after the edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlan {
    pub path: PathBuf,
    pub old: String,
    pub new: String,
}

/// FNV-1a over the text: stable across runs and platforms (it is compared with what the file
/// holds when the edits are applied), and fast.
pub fn content_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The edits grouped per file. Overlapping edits: the first wins. A file that no longer holds
/// the text the check read (edited since, or an unsaved buffer's edits) is refused.
pub fn plan(edits: &[FileEdit]) -> Result<Vec<FilePlan>, EngineError> {
    let mut per: BTreeMap<&Path, Vec<&FileEdit>> = BTreeMap::new();
    for e in edits {
        per.entry(&e.path).or_default().push(e);
    }
    let mut out = Vec::new();
    for (path, mut es) in per {
        // Not UTF-8 (or gone): the check's text was lossy, writing it back would change bytes.
        let Ok(old) = std::fs::read_to_string(path) else {
            continue;
        };
        let now = content_hash(&old);
        if es.iter().any(|e| e.base_hash != now) {
            return Err(EngineError::Changed {
                path: path.to_path_buf(),
            });
        }
        es.sort_by_key(|e| e.span.start);
        let mut kept: Vec<&FileEdit> = Vec::new();
        for e in es {
            let ok = old.get(e.span.clone()).is_some()
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
            out.push(FilePlan {
                path: path.to_path_buf(),
                old,
                new,
            });
        }
    }
    Ok(out)
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
    e.to_unified_diff(
        old,
        &ocdoctor_ide::LineIndex::new(old),
        label.trim_start_matches('/'),
    )
}

/// The backup of `path`: `<file>.orig`. There is one per file: when it exists it holds the
/// text before the first fix and is kept.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".orig");
    PathBuf::from(name)
}

/// A file written beside its target, synced, waiting to be renamed over it.
struct Staged {
    tmp: PathBuf,
    target: PathBuf,
}

/// Apply the plan, all or nothing: returns (file, backup) for each file written.
pub fn apply(plan: &[FilePlan]) -> Result<Vec<(PathBuf, PathBuf)>, EngineError> {
    // 1. Every file still holds what the plan was made from.
    let mut targets = Vec::new();
    for p in plan {
        let now = std::fs::read_to_string(&p.path).map_err(|source| EngineError::Read {
            what: p.path.display().to_string(),
            source,
        })?;
        if content_hash(&now) != content_hash(&p.old) {
            return Err(EngineError::Changed {
                path: p.path.clone(),
            });
        }
        // A symlinked file is edited where it lives.
        let real = if p.path.is_symlink() {
            std::fs::canonicalize(&p.path).map_err(|source| EngineError::Write {
                path: p.path.clone(),
                source,
            })?
        } else {
            p.path.clone()
        };
        let backup = backup_path(&p.path);
        if backup.exists() && !backup.is_file() {
            return Err(EngineError::Backup {
                path: backup,
                source: std::io::Error::other("it exists and is not a file"),
            });
        }
        targets.push((real, backup));
    }
    // 2. Everything written and synced beside its target; on failure, no temp file is left.
    let mut staged: Vec<Staged> = Vec::new();
    let staging = (|| {
        for (p, (real, backup)) in plan.iter().zip(&targets) {
            if !backup.exists() {
                let tmp = stage(backup, p.old.as_bytes(), Some(real)).map_err(|source| {
                    EngineError::Backup {
                        path: backup.clone(),
                        source,
                    }
                })?;
                staged.push(Staged {
                    tmp,
                    target: backup.clone(),
                });
            }
            let tmp =
                stage(real, p.new.as_bytes(), Some(real)).map_err(|source| EngineError::Write {
                    path: p.path.clone(),
                    source,
                })?;
            staged.push(Staged {
                tmp,
                target: real.clone(),
            });
        }
        Ok(())
    })();
    if let Err(e) = staging {
        for s in &staged {
            let _ = std::fs::remove_file(&s.tmp);
        }
        return Err(e);
    }
    // 3. The renames: backups before the files they back up (same order as staged).
    for (i, s) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(&s.tmp, &s.target) {
            rollback(plan, &targets, &staged[..i]);
            for rest in &staged[i..] {
                let _ = std::fs::remove_file(&rest.tmp);
            }
            return Err(EngineError::Write {
                path: s.target.clone(),
                source,
            });
        }
    }
    for s in &staged {
        sync_dir(&s.target);
    }
    Ok(plan
        .iter()
        .zip(targets)
        .map(|(p, (_, backup))| (p.path.clone(), backup))
        .collect())
}

/// Undo the renames done so far: the replaced files get their old text back.
fn rollback(plan: &[FilePlan], targets: &[(PathBuf, PathBuf)], done: &[Staged]) {
    for s in done {
        if let Some((p, _)) = plan
            .iter()
            .zip(targets)
            .find(|(_, (real, _))| *real == s.target)
        {
            let _ = write_atomically(&s.target, p.old.as_bytes());
        }
    }
}

/// Write `bytes` to a temporary file beside `target` and sync it; the mode is `mode_of`'s.
fn stage(target: &Path, bytes: &[u8], mode_of: Option<&Path>) -> std::io::Result<PathBuf> {
    use std::io::Write as _;
    let tmp = temp_path(target);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        // The edited file keeps its mode (an executable script stays executable, a private
        // file stays private).
        if let Some(meta) = mode_of.and_then(|m| std::fs::metadata(m).ok()) {
            f.set_permissions(meta.permissions())?;
        }
        // On disk before it replaces the original: a crash leaves the old file or the new one.
        f.sync_all()
    })();
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            // create_new failed: the name is someone else's; anything else: ours, remove it.
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                let _ = std::fs::remove_file(&tmp);
            }
            Err(e)
        }
    }
}

/// `.NAME.ocdoctor-tmp-PID` beside `target`: per process, so two runs never share one.
fn temp_path(target: &Path) -> PathBuf {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(format!(
        ".{}.ocdoctor-tmp-{}",
        target.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ))
}

/// The rename itself is durable once the folder is synced (best effort: not every platform
/// can open a folder).
fn sync_dir(file: &Path) {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Write through a temporary file in the same folder and rename it over the target, so a
/// crash never leaves a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // A symlinked file is edited where it lives: replacing the link by a regular file would
    // leave the real config unchanged.
    let path = if path.is_symlink() {
        std::fs::canonicalize(path)?
    } else {
        path.to_path_buf()
    };
    let tmp = stage(&path, bytes, Some(&path))?;
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(&path);
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
