//! Every .cfg shipped with the installed OpenOCD: read with no reader error, resolved with no
//! unresolved include (except the known-broken references OpenOCD itself ships).

use ocdoctor_cfg::tcl::{self, Script, WordKind};
use ocdoctor_cfg::{Invocation, ResolveOptions, ScriptsIndex, resolve};
use std::path::Path;
use std::time::Instant;

const SCRIPTS: &str = "/usr/share/openocd/scripts";

/// References that are broken in OpenOCD 0.12's own tree (the file is not shipped).
const KNOWN_MISSING: &[(&str, &str)] = &[
    (
        "interface/ftdi/calao-usb-a9260-c01.cfg",
        "target/at91sam9260minimal.cfg",
    ),
    (
        "interface/ftdi/calao-usb-a9260-c02.cfg",
        "target/at91sam9260minimal.cfg",
    ),
    // The path has a stray `tcl/` prefix (the source tree's layout, not the installed one).
    ("board/kontron_sl28.cfg", "tcl/cpld/altera-epm240.cfg"),
];

/// Proc bodies that are broken in OpenOCD 0.12's own tree (they fail only when called).
const KNOWN_BROKEN_BODIES: &[&str] = &[
    // `proc kc100_dump_flash`: `echo "Dumping 2MB flash chip to flashdump.bin.` lacks its quote.
    "board/kc100.cfg: missing \"",
];

fn scripts_dir() -> Option<&'static Path> {
    let p = Path::new(SCRIPTS);
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var_os("OCDOCTOR_SKIP_LIVE").is_some_and(|v| v == "1") {
        eprintln!("{SCRIPTS} absent and OCDOCTOR_SKIP_LIVE=1: skipping");
        return None;
    }
    panic!("{SCRIPTS} is missing: install openocd (or set OCDOCTOR_SKIP_LIVE=1)");
}

/// Read the bodies a config runs (proc, if/else, foreach, catch, eval, -event) recursively.
fn body_errors(src: &str, script: &Script, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    if depth > 20 {
        return out;
    }
    for c in &script.commands {
        let name = c.name().unwrap_or_default();
        for (i, w) in c.words.iter().enumerate() {
            if w.kind != WordKind::Braced {
                continue;
            }
            let prev = if i > 0 {
                c.words[i - 1].literal().unwrap_or_default()
            } else {
                String::new()
            };
            let is_body = match name.as_str() {
                "proc" => i == 3,
                "if" => i >= 2 && prev != "if" && prev != "elseif" || prev == "else",
                "foreach" | "while" => i == c.words.len() - 1,
                "catch" | "eval" => i == 1,
                _ => prev == "-event",
            };
            if is_body {
                let (s, e) = tcl::parse_body(src, w);
                out.extend(
                    e.iter()
                        .map(|e| format!("{} at {}", e.message(), e.span.start)),
                );
                out.extend(body_errors(src, &s, depth + 1));
            }
        }
    }
    out
}

#[test]
fn every_shipped_cfg_reads_and_resolves() {
    let Some(dir) = scripts_dir() else { return };
    let t0 = Instant::now();
    let index = ScriptsIndex::scan(dir);
    let cfgs: Vec<&String> = index.files.iter().filter(|f| f.ends_with(".cfg")).collect();
    assert!(cfgs.len() > 500, "only {} cfg files", cfgs.len());

    // 1. The reader: no error in any file (.cfg and .tcl), bodies included.
    let mut read_errors = Vec::new();
    let mut commands = 0usize;
    for f in &index.files {
        let text = String::from_utf8_lossy(&std::fs::read(dir.join(f)).unwrap()).into_owned();
        let (script, errors) = tcl::parse(&text);
        commands += script.commands.len();
        for e in errors {
            read_errors.push(format!("{f}: {} at {}", e.message(), e.span.start));
        }
        for e in body_errors(&text, &script, 0) {
            let msg = format!("{f}: {e}");
            if !KNOWN_BROKEN_BODIES.iter().any(|k| msg.starts_with(k)) {
                read_errors.push(msg);
            }
        }
    }
    assert!(
        read_errors.is_empty(),
        "reader errors:\n{}",
        read_errors.join("\n")
    );

    // 2. Resolution: `openocd -f <file>` for each cfg.
    let opts = ResolveOptions {
        index: Some(index.clone()),
        ..ResolveOptions::with_scripts("/", dir)
    };
    let mut includes = 0usize;
    let mut evaluated = 0usize;
    let mut unresolved = Vec::new();
    let mut syntax = Vec::new();
    let mut invalid = Vec::new();
    let mut true_invalid = 0;
    let mut with_target = 0usize;
    for f in &cfgs {
        let inv = Invocation::parse_args(&["-f".to_string(), f.to_string()]);
        let s = resolve(&inv, &opts);
        includes += s.includes.len();
        evaluated += s.commands;
        if !s.model.targets.is_empty() {
            with_target += 1;
        }
        for i in s.unresolved() {
            if !KNOWN_MISSING.contains(&(f.as_str(), i.request.as_str())) {
                unresolved.push(format!(
                    "{f}: {} ({} at {}:{})",
                    i.request, i.via, i.location.file, i.location.line
                ));
            }
        }
        // kc100.cfg's broken proc body (KNOWN_BROKEN_BODIES) is never called: OpenOCD 0.12
        // runs the file fine, so the resolution must not report it either.
        for p in s.problems.iter().filter(|p| p.id == "tcl-syntax") {
            syntax.push(format!("{f}: {:?}", p));
        }
        // Every command the shipped scripts run exists (the check knows OpenOCD's commands,
        // Jim's, procs and created objects), and no shipped file sources itself.
        for p in s
            .problems
            .iter()
            .filter(|p| matches!(p.id.as_str(), "invalid-command-name" | "include-cycle"))
        {
            // OpenOCD's own test file: `syntax error here` really is `invalid command name
            // "syntax"` (openocd -f target/test_syntax_error.cfg says so).
            if f.as_str() == "target/test_syntax_error.cfg" {
                assert_eq!(p.message, "invalid command name \"syntax\"");
                true_invalid += 1;
                continue;
            }
            invalid.push(format!("{f}: {} at {:?}", p.message, p.location));
        }
    }
    println!(
        "shipped scripts: {} files ({} .cfg), {} commands read; resolved {} cfgs: {} includes, {} commands evaluated, {} with a target; {:.2?}",
        index.files.len(),
        cfgs.len(),
        commands,
        cfgs.len(),
        includes,
        evaluated,
        with_target,
        t0.elapsed()
    );
    assert!(syntax.is_empty(), "syntax problems:\n{}", syntax.join("\n"));
    assert!(
        invalid.is_empty(),
        "{} false invalid commands / cycles:\n{}",
        invalid.len(),
        invalid.join("\n")
    );
    assert_eq!(true_invalid, 1, "test_syntax_error.cfg's invalid command");
    assert!(
        unresolved.is_empty(),
        "unresolved includes:\n{}",
        unresolved.join("\n")
    );
}

#[test]
fn board_chain_builds_the_model() {
    let Some(dir) = scripts_dir() else { return };
    let opts = ResolveOptions::with_scripts("/", dir);
    let inv = Invocation::parse_command_line(
        "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c 'adapter speed 1800'",
    );
    let s = resolve(&inv, &opts);
    assert!(s.problems.is_empty(), "{:#?}", s.problems);
    let m = &s.model;
    assert_eq!(m.adapter_driver(), Some("hla"));
    assert_eq!(m.session_transport.as_deref(), Some("hla_swd"));
    assert_eq!(m.targets[0].name, "stm32f4x.cpu");
    assert_eq!(
        m.targets[0].kind,
        "hla_target".replace("hla_target", "cortex_m")
    );
    assert_eq!(m.taps[0].expected_ids, ["0x2ba01477"]);
    assert_eq!(m.speeds.last().unwrap().value, "1800");
    assert_eq!(m.speeds.last().unwrap().location.file, "<-c 1>");
    assert!(m.flash_banks.iter().any(|b| b.driver == "stm32f2x"));
    assert!(m.events.iter().any(|e| e.name == "examine-end"));

    // The session is plain data for the rules (and serializes).
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"session_transport\":\"hla_swd\""));

    // Wrong order: target first.
    let inv =
        Invocation::parse_command_line("openocd -f target/stm32f4x.cfg -f interface/stlink.cfg");
    let s = resolve(&inv, &opts);
    let p = s
        .problems
        .iter()
        .find(|p| p.id == "target-before-interface")
        .expect("target-before-interface");
    assert_eq!(
        p.location.as_ref().unwrap().span.text(&inv.line),
        "target/stm32f4x.cfg"
    );
}
