//! Malformed files never panic: they give `parse-error` problems with positions.

mod common;

use common::{Machine, data, ids};
use ocdoctor_ide::{discover, load_bytes};
use std::path::Path;

fn first(f: &ocdoctor_ide::IdeFile) -> &ocdoctor_ide::IdeProblem {
    f.all_problems()
        .find(|p| p.id == "parse-error")
        .expect("parse-error")
}

#[test]
fn truncated_json() {
    let m = Machine::new("tj");
    let t = "{\n  \"configurations\": [\n    { \"type\": \"cortex-debug\",\n      \"configFiles\": [\"a.cfg\"";
    let f = m.load("launch.json", t);
    let p = first(&f);
    assert!(p.location.line >= 4, "{:?}", p.location);
    assert!(f.configs.is_empty());
}

#[test]
fn bad_xml() {
    let m = Machine::new("bx");
    let t = "<?xml version=\"1.0\"?>\n<launchConfiguration type=\"x\">\n<stringAttribute key=\"a\" value=\"b\">\n</launchConfiguration>\n";
    let f = m.load("a.launch", t);
    let p = first(&f);
    assert_eq!(p.location.line, 4, "{}", p.message);
}

#[test]
fn garbage_bytes_every_format() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let m = Machine::new("gb");
    for name in ["launch.json", "x.launch", "platformio.ini"] {
        let f = load_bytes(&m.root.join("ws").join(name), &garbage, &m.ctx);
        assert!(ids(&f).contains(&"parse-error"), "{name}");
    }
}

#[test]
fn invalid_utf8() {
    let m = Machine::new("iu");
    let mut b = b"{ \"configurations\": [ { \"name\": \"caf".to_vec();
    b.extend([0xC3, 0x28]);
    b.extend(b"\", \"type\": \"cppdbg\" } ] }");
    let f = load_bytes(&m.root.join("ws/launch.json"), &b, &m.ctx);
    let p = first(&f);
    assert_eq!((p.location.line, p.location.col), (1, 37));
    // What could be read still is.
    assert_eq!(f.configs.len(), 1);
}

#[test]
fn ini_bad_lines() {
    let m = Machine::new("ib");
    let f = m.load(
        "platformio.ini",
        "[env:a\ndebug_tool = stlink\njunk line\n[env:b]\ndebug_tool = cmsis-dap\n",
    );
    let errs: Vec<_> = f.problems.iter().map(|p| p.location.line).collect();
    assert_eq!(errs, vec![1, 3]);
    assert_eq!(f.configs.len(), 1);
}

#[test]
fn every_truncation_of_real_files_is_safe() {
    let m = Machine::new("trunc");
    for rel in [
        "vscode-cortex-debug/rust-embedded__cortex-m-quickstart__.vscode__launch.json",
        "eclipse-embedcdt/openwch__ch32v307__EVT__EXAM__FSMC__LCD_8bit__LCD_8bit.launch",
        "platformio/meshtastic__firmware__variants__nrf52840__nrf52840.ini",
    ] {
        let bytes = std::fs::read(data(rel)).unwrap();
        let name = Path::new(rel).file_name().unwrap();
        for cut in (0..bytes.len()).step_by(7) {
            let _ = load_bytes(&m.root.join("ws").join(name), &bytes[..cut], &m.ctx);
        }
    }
}

#[test]
fn discover_finds_all_kinds() {
    let m = Machine::new("disc");
    let ws = m.root.join("ws");
    for f in [
        ".vscode/launch.json",
        "platformio.ini",
        "a.launch",
        "sub/b Debug.launch",
        ".settings/c.launch",
        "target/x.launch",
    ] {
        let p = ws.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "{}").unwrap();
    }
    let found: Vec<String> = discover(&ws)
        .iter()
        .map(|p| p.strip_prefix(&ws).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        found,
        [
            ".settings/c.launch",
            ".vscode/launch.json",
            "a.launch",
            "platformio.ini",
            "sub/b Debug.launch"
        ]
    );
}

#[test]
fn ini_interpolation_extends_and_cycles() {
    let t = "[common]\nspeed = ${env:a.debug_speed}\n[env]\ndebug_tool = stlink\n[base]\ndebug_speed = 1000\nx = ${base.y}\ny = ${base.x}\n[env:a]\nextends = base\nname = ${this.__env__}-${sysenv.USER}\n";
    let ini = ocdoctor_ide::Ini::parse(t);
    let mut env = std::collections::HashMap::new();
    env.insert("USER".to_string(), "me".to_string());
    let b = std::collections::HashMap::new();
    let (v, u) = ini.interpolate(
        "${env:a.name} ${env:a.debug_speed} ${env:a.debug_tool}",
        "env:a",
        &env,
        &b,
    );
    assert_eq!(v, "a-me 1000 stlink");
    assert!(u.is_empty());
    let (_, u) = ini.interpolate("${base.x}", "base", &env, &b);
    assert!(u.iter().any(|x| x.contains("cycle")), "{u:?}");
}
