//! `fix --apply`'s writes: all or nothing across files (every temp written and synced before
//! any rename; on failure no file changed and no temp left), a file changed since the check
//! is refused, and exactly one `.orig` per file. Real files in a temp folder.

use ocdoctor_engine::fix::{self, FileEdit, content_hash};
use std::path::{Path, PathBuf};

fn edit(path: &Path, text: &str, from: &str, to: &str) -> FileEdit {
    let at = text.find(from).unwrap();
    FileEdit {
        path: path.to_path_buf(),
        span: at..at + from.len(),
        replacement: to.into(),
        base_hash: content_hash(text),
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn two_files(dir: &Path) -> (PathBuf, PathBuf, Vec<FileEdit>) {
    let a = dir.join("a.cfg");
    let b = dir.join("sub/b.cfg");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(&a, "adapter_khz 4000\n").unwrap();
    std::fs::write(&b, "jtag_khz 100\n").unwrap();
    let edits = vec![
        edit(&a, "adapter_khz 4000\n", "adapter_khz", "adapter speed"),
        edit(&b, "jtag_khz 100\n", "jtag_khz", "adapter speed"),
    ];
    (a, b, edits)
}

#[test]
fn one_file_that_cannot_be_written_leaves_every_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, edits) = two_files(dir.path());
    let plan = fix::plan(&edits).unwrap();
    assert_eq!(plan.len(), 2);
    // b's temporary file cannot be created: its name is taken by a folder (root ignores
    // permissions, a folder in the way stops everyone).
    let blocker = dir
        .path()
        .join(format!("sub/.b.cfg.ocdoctor-tmp-{}", std::process::id()));
    std::fs::create_dir(&blocker).unwrap();
    let err = fix::apply(&plan).unwrap_err();
    assert!(err.to_string().contains("b.cfg"), "{err}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "adapter_khz 4000\n");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "jtag_khz 100\n");
    // No temp file, no backup: nothing happened.
    assert_eq!(files_in(dir.path()), ["a.cfg", "sub"]);
    assert_eq!(
        files_in(&dir.path().join("sub")),
        [
            ".b.cfg.ocdoctor-tmp-".to_string() + &std::process::id().to_string(),
            "b.cfg".into()
        ]
    );
    // Once the way is clear, both are written.
    std::fs::remove_dir(&blocker).unwrap();
    let done = fix::apply(&plan).unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "adapter speed 4000\n");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "adapter speed 100\n");
    assert_eq!(files_in(dir.path()), ["a.cfg", "a.cfg.orig", "sub"]);
    assert_eq!(files_in(&dir.path().join("sub")), ["b.cfg", "b.cfg.orig"]);
}

#[test]
fn a_file_changed_since_the_check_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, edits) = two_files(dir.path());
    // Changed between the check and the plan.
    std::fs::write(&b, "jtag_khz 200\n").unwrap();
    let err = fix::plan(&edits).unwrap_err();
    assert!(
        matches!(err, ocdoctor_engine::EngineError::Changed { ref path } if *path == b),
        "{err}"
    );
    // Changed between the plan and the apply: nothing is written, a.cfg included.
    std::fs::write(&b, "jtag_khz 100\n").unwrap();
    let plan = fix::plan(&edits).unwrap();
    std::fs::write(&b, "jtag_khz 300\n").unwrap();
    assert!(matches!(
        fix::apply(&plan).unwrap_err(),
        ocdoctor_engine::EngineError::Changed { .. }
    ));
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "adapter_khz 4000\n");
    assert_eq!(files_in(dir.path()), ["a.cfg", "sub"]);
}

#[test]
fn exactly_one_orig_per_file_holding_the_first_original() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.cfg");
    for (i, text) in ["adapter_khz 1\n", "adapter_khz 2\n", "adapter_khz 3\n"]
        .iter()
        .enumerate()
    {
        std::fs::write(&a, text).unwrap();
        let plan = fix::plan(&[edit(&a, text, "adapter_khz", "adapter speed")]).unwrap();
        let done = fix::apply(&plan).unwrap();
        assert_eq!(done[0].1, dir.path().join("a.cfg.orig"), "run {i}");
    }
    assert_eq!(files_in(dir.path()), ["a.cfg", "a.cfg.orig"]);
    // The backup is the text before the first fix.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.cfg.orig")).unwrap(),
        "adapter_khz 1\n"
    );
}
