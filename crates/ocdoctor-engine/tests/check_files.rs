//! `check_files` as a language server calls it: unsaved buffers (overlays) are read instead of
//! the disk, findings are located in the buffer (byte range, line/column) with the rule and
//! the edit. Runs against the installed OpenOCD (`openocd` on PATH, as `ocdoctor check` does).

use ocdoctor_core::kb::Severity;
use ocdoctor_engine::check::Input;
use ocdoctor_engine::{CheckRequest, check_files};
use std::path::PathBuf;

fn request(dir: &std::path::Path, file: &str, overlay: Option<&str>) -> CheckRequest {
    let path = dir.join(file);
    CheckRequest {
        inputs: vec![Input::Path(path.clone())],
        overlays: overlay
            .map(|t| vec![(path, t.to_string())])
            .unwrap_or_default(),
        cwd: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

#[test]
fn an_unsaved_buffer_is_checked_and_located() {
    let dir = tempfile::tempdir().unwrap();
    // Not on disk at all: only the editor has it.
    let text = "# é\nadapter driver ft232r\n  adapter_khz 4000\n";
    let r = check_files(&request(dir.path(), "board.cfg", Some(text))).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.id == "deprecated-command")
        .unwrap_or_else(|| panic!("{:#?}", r.diagnostics));
    assert_eq!(d.rule.as_deref(), Some("CFG106"));
    assert_eq!(d.severity, Severity::Warning);
    let span = d.span.as_ref().expect("located");
    assert_eq!(span.path, dir.path().join("board.cfg"));
    assert_eq!(&text[span.bytes.clone()], "adapter_khz");
    assert_eq!((span.start.line, span.start.column), (3, 3));
    assert_eq!((span.end.line, span.end.column), (3, 14));
    let edit = d.edit.as_ref().expect("an edit");
    assert_eq!(edit.replacement, "adapter speed");
    assert_eq!(&text[edit.span.clone()], "adapter_khz");
    assert!(r.edits.contains(edit));
    assert!(r.report.findings.iter().any(|f| f.rule == "CFG106"));
}

#[test]
fn the_overlay_wins_over_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("board.cfg"), "adapter_khz 4000\n").unwrap();
    let on_disk = check_files(&request(dir.path(), "board.cfg", None)).unwrap();
    assert!(
        on_disk
            .diagnostics
            .iter()
            .any(|d| d.id == "deprecated-command")
    );
    // The user fixed it in the editor and has not saved yet.
    let buffer = check_files(&request(
        dir.path(),
        "board.cfg",
        Some("adapter driver ft232r\nadapter speed 4000\n"),
    ))
    .unwrap();
    assert!(
        !buffer
            .diagnostics
            .iter()
            .any(|d| d.id == "deprecated-command"),
        "{:#?}",
        buffer.diagnostics
    );
}

#[test]
fn a_file_reached_through_an_include_is_read_from_its_overlay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("board.cfg"), "source [find inc.cfg]\n").unwrap();
    std::fs::write(dir.path().join("inc.cfg"), "adapter speed 4000\n").unwrap();
    let mut req = request(dir.path(), "board.cfg", None);
    let inc = dir.path().join("inc.cfg");
    req.overlays = vec![(inc.clone(), "jtag_khz 4000\n".into())];
    let r = check_files(&req).unwrap();
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.span.as_ref().is_some_and(|s| s.path == inc))
        .unwrap_or_else(|| panic!("{:#?}", r.diagnostics));
    assert_eq!(d.span.as_ref().unwrap().bytes, 0..8, "{d:#?}");
}

#[test]
fn a_launch_json_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let vscode = dir.path().join(".vscode");
    std::fs::create_dir(&vscode).unwrap();
    let text = r#"{
  "version": "0.2.0",
  "configurations": [
    {
      "name": "Debug",
      "type": "cortex-debug",
      "request": "launch",
      "servertype": "openocd",
      "executable": "build/app.elf",
      "configFiles": ["interface/stlink.cfg", "target/stm32f4x.cfgg"]
    }
  ]
}
"#;
    let path = vscode.join("launch.json");
    let req = CheckRequest {
        inputs: vec![Input::Path(path.clone())],
        overlays: vec![(path.clone(), text.into())],
        cwd: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let r = check_files(&req).unwrap();
    let located: Vec<_> = r
        .diagnostics
        .iter()
        .filter_map(|d| Some((d, d.span.as_ref()?)))
        .filter(|(_, s)| s.path == path)
        .collect();
    assert!(
        located
            .iter()
            .any(|(_, s)| text[s.bytes.clone()].contains("stm32f4x.cfgg")),
        "{:#?}",
        r.diagnostics
    );
}

#[test]
fn nothing_to_check_is_an_error_type() {
    let err = check_files(&CheckRequest {
        inputs: vec![Input::Path(PathBuf::from("/nonexistent/x.cfg"))],
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, ocdoctor_engine::EngineError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        "/nonexistent/x.cfg: no such file or directory"
    );
}
