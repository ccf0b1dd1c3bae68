//! Problem detection on small broken configurations (`tests/fixtures/<case>/`).
//!
//! Each case has `cmdline` (the openocd command line), the cfg files it names, and `expect`:
//! one line per expected problem, `id | file suffix | line | text at the span | suggestion`
//! (a text ending in `…` is a prefix). An empty `expect` means: no problem at all. Cases run
//! against the miniature scripts tree in `tests/fixtures/scripts`, with the case dir as cwd.

use ocdoctor_cfg::{Invocation, ResolveOptions, Session, Version, resolve};
use std::path::Path;

fn span_text(s: &Session, p: &ocdoctor_cfg::Problem) -> String {
    let l = p.location.as_ref().unwrap();
    let f = s
        .files
        .iter()
        .find(|f| f.name == l.file)
        .expect("location names a visited file");
    l.span.text(&f.text).to_string()
}

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let scripts = root.join("scripts");
    let mut cases = 0;
    let mut checked = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let Ok(cmdline) = std::fs::read_to_string(dir.join("cmdline")) else {
            continue;
        };
        let expect = std::fs::read_to_string(dir.join("expect")).unwrap();
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let version = std::fs::read_to_string(dir.join("version"))
            .ok()
            .and_then(|v| Version::parse(&v))
            .unwrap_or_default();
        let inv = Invocation::parse_command_line(cmdline.trim_end());
        let opts = ResolveOptions {
            version,
            ..ResolveOptions::with_scripts(&dir, &scripts)
        };
        let s = resolve(&inv, &opts);
        cases += 1;
        let lines: Vec<&str> = expect.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            assert!(
                s.problems.is_empty(),
                "{case}: expected no problem, got {:#?}",
                s.problems
            );
            assert!(
                !s.model.targets.is_empty(),
                "{case}: clean run builds a target"
            );
            continue;
        }
        for line in lines {
            let f: Vec<&str> = line
                .trim_end()
                .trim_end_matches(" |")
                .split(" | ")
                .map(str::trim)
                .collect();
            let (id, file, lno, text) = (f[0], f[1], f[2].parse::<u32>().unwrap(), f[3]);
            let sugg = f.get(4).copied().filter(|s| !s.is_empty());
            let hit = s.problems.iter().find(|p| {
                let Some(l) = &p.location else { return false };
                let t = span_text(&s, p);
                let text_ok = match text.strip_suffix('…') {
                    Some(prefix) => t.starts_with(prefix),
                    None => t == text,
                };
                p.id == id
                    && l.file.ends_with(file)
                    && l.line == lno
                    && text_ok
                    && (sugg.is_none() || p.suggestion.as_deref() == sugg)
            });
            assert!(
                hit.is_some(),
                "{case}: expected `{line}`; got:\n{}",
                s.problems
                    .iter()
                    .map(|p| format!(
                        "  {} | {} | {} | {:?} | {:?} — {}",
                        p.id,
                        p.location.as_ref().map(|l| l.file.as_str()).unwrap_or("-"),
                        p.location.as_ref().map(|l| l.line).unwrap_or(0),
                        p.location
                            .as_ref()
                            .map(|_| span_text(&s, p))
                            .unwrap_or_default(),
                        p.suggestion,
                        p.message
                    ))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            checked += 1;
        }
    }
    println!("problem fixtures: {cases} cases, {checked} expected problems");
    assert!(cases >= 15);
}
