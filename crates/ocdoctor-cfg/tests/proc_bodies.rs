//! Tcl reads a proc body only when the proc is called (checked with openocd 0.12.0: a proc
//! with an unterminated quote that nobody calls runs fine, exit 0; calling it, directly or
//! from another proc, fails with `missing quote`, exit 1). The check must agree.

use ocdoctor_cfg::{Invocation, ResolveOptions, resolve};

fn syntax_lines(name: &str, text: &str) -> Vec<u32> {
    let dir = std::env::temp_dir().join(format!("ocdoctor-proc-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x.cfg"), text).unwrap();
    let inv = Invocation::parse_args(&["-f".to_string(), "x.cfg".to_string()]);
    let s = resolve(&inv, &ResolveOptions::with_scripts(&dir, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    s.problems
        .iter()
        .filter(|p| p.id == "tcl-syntax")
        .map(|p| p.location.as_ref().unwrap().line)
        .collect()
}

#[test]
fn uncalled_proc_body_is_opaque() {
    assert!(
        syntax_lines(
            "uncalled",
            "proc foo {} { puts \"unterminated }\nadapter driver dummy\n"
        )
        .is_empty()
    );
    // kc100.cfg's shape: a multi-line body with a stray quote, never called.
    assert!(
        syntax_lines(
            "kc100",
            "proc dump {} {\n\techo \"Dumping.\n\tflash probe 0\n}\n"
        )
        .is_empty()
    );
    // Called only by another proc that is never called.
    assert!(
        syntax_lines(
            "indirect",
            "proc foo {} {\n  echo \"x\n}\nproc bar {} { foo }\n"
        )
        .is_empty()
    );
}

#[test]
fn called_proc_body_is_read() {
    assert_eq!(
        syntax_lines("called", "proc foo {} { puts \"unterminated }\nfoo\nfoo\n"),
        [1]
    );
    assert_eq!(
        syntax_lines(
            "nested",
            "proc foo {} {\n  echo \"x\n}\nproc bar {} { foo }\nbar\n"
        ),
        [2]
    );
}

#[test]
fn unbalanced_braces_still_count() {
    // The body's braces decide where the proc command ends: that is read at once.
    assert!(!syntax_lines("braces", "proc foo {} {\n  echo x\n").is_empty());
}
