//! Where a check reads files from: the disk, with overlays (an editor's unsaved buffers) taking
//! precedence. Every read of the static check goes through here, so a language server sees
//! the same findings for a buffer as `ocdoctor check` for the saved file.

use super::Options;
use crate::error::EngineError;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The files a check reads: the disk, overridden by in-memory contents for some paths.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The OpenOCD to check against and its scripts.
    pub options: Options,
    /// The directory relative paths are resolved in (OpenOCD's cwd for a command line).
    pub cwd: PathBuf,
    /// Contents by normalised absolute path (see [`Sources::normalise`]).
    overlays: BTreeMap<PathBuf, String>,
}

impl Sources {
    /// Read everything from disk; relative paths are relative to the current directory.
    pub fn from_disk(options: Options) -> Result<Sources, EngineError> {
        let cwd = std::env::current_dir().map_err(EngineError::NoCurrentDir)?;
        Ok(Sources::new(options, cwd))
    }

    /// Read from disk, relative to `cwd`.
    pub fn new(options: Options, cwd: PathBuf) -> Sources {
        Sources {
            options,
            cwd,
            overlays: BTreeMap::new(),
        }
    }

    /// Use `text` for `path` instead of what is on disk (the file need not exist).
    pub fn overlay(&mut self, path: &Path, text: String) {
        let key = self.normalise(path);
        self.overlays.insert(key, text);
    }

    /// The overlay of `path`, when there is one.
    pub fn overlay_of(&self, path: &Path) -> Option<&str> {
        if self.overlays.is_empty() {
            return None;
        }
        self.overlays.get(&self.normalise(path)).map(String::as_str)
    }

    /// Whether `path` is a file: an overlay, or a regular file on disk.
    pub fn has_file(&self, path: &Path) -> bool {
        self.overlay_of(path).is_some() || path.is_file()
    }

    /// `path` made absolute against `cwd`, with `.` and `..` removed lexically (an unsaved
    /// buffer may have no file on disk to canonicalise), symlinks resolved when it exists.
    fn normalise(&self, path: &Path) -> PathBuf {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        };
        if let Ok(real) = abs.canonicalize() {
            return real;
        }
        let mut out = PathBuf::new();
        for c in abs.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    }

    /// An IDE launch file: its overlay, or the file on disk.
    pub(crate) fn load_ide(
        &self,
        path: &Path,
        ctx: &ocdoctor_ide::IdeContext,
    ) -> ocdoctor_ide::IdeFile {
        match self.overlay_of(path) {
            Some(text) => ocdoctor_ide::load_text(path, text, ctx),
            None => ocdoctor_ide::load(path, ctx),
        }
    }
}

impl ocdoctor_cfg::FileSystem for Sources {
    fn read(&self, path: &Path) -> Option<String> {
        self.read_script(path).ok()
    }

    fn read_script(&self, path: &Path) -> Result<String, ocdoctor_cfg::NotAScript> {
        match self.overlay_of(path) {
            Some(text) => Ok(text.to_string()),
            None => ocdoctor_cfg::RealFs.read_script(path),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        self.has_file(path)
    }
}
