//! The Tcl reader and the resolver. The input is split at the first two NUL bytes into
//! an OpenOCD command line, `board.cfg` and `target.cfg` (in memory; `board.cfg` is always
//! on the command line), so `source`/`find`/`proc` can reach each other and cycle.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ocdoctor_cfg::{FileSystem, Invocation, NotAScript, ResolveOptions, ScriptsIndex};
use std::path::{Path, PathBuf};

struct Memory {
    files: Vec<(PathBuf, String)>,
}

impl FileSystem for Memory {
    fn read(&self, path: &Path) -> Option<String> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.clone())
    }
    fn is_file(&self, path: &Path) -> bool {
        self.files.iter().any(|(p, _)| p == path)
    }
    fn read_script(&self, path: &Path) -> Result<String, NotAScript> {
        self.read(path).ok_or(NotAScript::Unreadable)
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    let cmdline = parts.next().unwrap_or("");
    let board = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");

    let _ = ocdoctor_cfg::tcl::parse(board);
    let _ = ocdoctor_cfg::tcl::is_complete(board);
    let _ = ocdoctor_cfg::tcl::is_complete_jim(board);

    let root = PathBuf::from("/fuzz");
    let scripts = root.join("scripts");
    let fs = Memory {
        files: vec![
            (root.join("board.cfg"), board.to_string()),
            (scripts.join("target/fuzz.cfg"), target.to_string()),
        ],
    };
    let opts = ResolveOptions {
        cwd: root.clone(),
        scripts_dirs: vec![scripts.clone()],
        index: Some(ScriptsIndex::from_files(
            &scripts,
            ["target/fuzz.cfg".to_string()],
        )),
        ..ResolveOptions::default()
    };
    let inv = Invocation::parse_command_line(&format!("openocd -f board.cfg {cmdline}"));
    let _ = ocdoctor_cfg::resolve_with(&inv, &opts, &fs);
});
