//! `ocdoctor lsp` driven as an editor drives it: the built binary spawned, JSON-RPC with
//! Content-Length framing over stdio. Open/change/close, diagnostics where `ocdoctor check`
//! puts them (UTF-16 columns, multi-byte text), the code-action round trip, hover,
//! definition, completion from the installed scripts (the real openocd package's tree).

mod lsp_client;

use lsp_client::{Client, range, uri};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ocdoctor"))
}

/// What `ocdoctor check FILE --format json` (run in `dir`) finds in `file`: (rule, LSP range).
fn check_ranges(dir: &Path, file: &Path) -> Vec<(String, Value)> {
    let out = Command::new(bin())
        .args(["check", &file.display().to_string(), "--format", "json"])
        .current_dir(dir)
        .env("OCDOCTOR_NO_CACHE", "1")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    let mut found = Vec::new();
    for f in report["findings"].as_array().unwrap() {
        for e in f["evidence"].as_array().unwrap() {
            let here = e["path"]
                .as_str()
                .is_some_and(|p| Path::new(p) == file || Path::new(p).ends_with(file));
            if let (true, Some(span)) = (here, e["span"].as_array()) {
                let (a, b) = (span[0].as_u64().unwrap(), span[1].as_u64().unwrap());
                found.push((
                    f["rule"].as_str().unwrap().to_string(),
                    range(&text, a as usize, b as usize),
                ));
            }
        }
    }
    found
}

fn by_rule<'a>(diags: &'a [Value], rule: &str) -> &'a Value {
    diags
        .iter()
        .find(|d| d["code"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {diags:#?}"))
}

const BOARD: &str = "# carte d’évaluation 板 — see CFG106\nset NAME \"é𝄞\"; adapter_khz 4000\nsource [find interface/stlink-v3.cfgx]\nsource [find local.cfg]\nsource [find interface/stlink.cfg]\n";

/// The code action the server offers for diagnostic `diag` (rule `rule`) of `file`.
fn quick_fix(c: &mut Client, file: &Path, diag: &Value, rule: &str) -> Value {
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(file)}, "range": diag["range"], "context": {"diagnostics": [diag]}}),
    );
    actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["diagnostics"][0]["code"] == rule)
        .cloned()
        .unwrap_or_else(|| panic!("{actions}"))
}

#[test]
fn a_cfg_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let board = root.join("board.cfg");
    std::fs::write(&board, BOARD).unwrap();
    std::fs::write(root.join("local.cfg"), "adapter speed 1000\n").unwrap();
    let mut c = Client::start(bin(), &root);

    // Open: the check's findings, at the check's ranges.
    c.open(&board, BOARD);
    let diags = c.diagnostics(&uri(&board));
    let expected = check_ranges(&root, &board);
    assert!(expected.len() >= 2, "{expected:?}");
    for (rule, r) in &expected {
        let d = by_rule(&diags, rule);
        assert_eq!(&d["range"], r, "{rule}");
        assert_eq!(d["source"], "ocdoctor");
    }
    // By hand: `adapter_khz` follows `set NAME "é𝄞"; ` (15 characters, 16 UTF-16 units).
    let khz = by_rule(&diags, "CFG106");
    assert_eq!(
        khz["range"],
        json!({"start": {"line": 1, "character": 16}, "end": {"line": 1, "character": 27}})
    );
    assert_eq!(khz["severity"], 2);
    assert_eq!(by_rule(&diags, "CFG101")["severity"], 1);

    // Hover: the command, its replacement; a rule code in a comment.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&board)}, "position": {"line": 1, "character": 20}}),
    );
    let md = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("adapter_khz") && md.contains("`adapter speed`"),
        "{md}"
    );
    assert_eq!(hover["result"]["range"], khz["range"]);
    let col = BOARD.lines().next().unwrap().encode_utf16().count() - 3;
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&board)}, "position": {"line": 0, "character": col}}),
    );
    let md = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("# CFG106"), "{md}");

    // Code action: the check's edit as a WorkspaceEdit, applied by the "editor".
    let action = quick_fix(&mut c, &board, khz, "CFG106");
    assert_eq!(action["kind"], "quickfix");
    let edits = action["edit"]["changes"][uri(&board)].as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["range"], khz["range"]);
    assert_eq!(edits[0]["newText"], "adapter speed");
    let fixed = BOARD.replacen("adapter_khz", "adapter speed", 1);

    // Change: the fixed text; the warning is gone, the other findings stay.
    c.clear();
    c.change(&board, 2, &fixed);
    let after = c.diagnostics(&uri(&board));
    assert!(after.iter().all(|d| d["code"] != "CFG106"), "{after:#?}");
    assert!(after.iter().any(|d| d["code"] == "CFG101"));

    // Definition: a local file, and one of the installed scripts.
    let line = 3;
    let def = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri(&board)}, "position": {"line": line, "character": 15}}),
    );
    assert_eq!(def["result"]["uri"], uri(&root.join("local.cfg")), "{def}");
    let installed = Path::new("/usr/share/openocd/scripts/interface/stlink.cfg");
    if installed.is_file() {
        let def = c.request(
            "textDocument/definition",
            json!({"textDocument": {"uri": uri(&board)}, "position": {"line": 4, "character": 20}}),
        );
        let target = def["result"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(target.ends_with("/interface/stlink.cfg"), "{def}");

        // Completion of a cfg name being typed.
        let typing = format!("{fixed}source [find interface/stl");
        c.change(&board, 3, &typing);
        let last = typing.lines().count() - 1;
        let col = typing.lines().last().unwrap().encode_utf16().count();
        let items = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri(&board)}, "position": {"line": last, "character": col}}),
        );
        let labels: Vec<&str> = items["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["label"].as_str())
            .collect();
        assert!(labels.contains(&"interface/stlink.cfg"), "{labels:?}");
        assert!(
            labels.iter().all(|l| l.starts_with("interface/stl")),
            "{labels:?}"
        );
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the openocd package is missing"
        );
    }

    // Close: the file's diagnostics are cleared.
    c.clear();
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&board)}}),
    );
    assert!(c.diagnostics(&uri(&board)).is_empty());
    c.stop();
}

#[test]
fn launch_json_diagnostics_match_check() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join(".vscode")).unwrap();
    let launch = root.join(".vscode/launch.json");
    let text = "{\n  // Débogage 板 𝄞\n  \"configurations\": [\n    {\n      \"name\": \"dé𝄞\", \"type\": \"cortex-debug\", \"request\": \"launch\", \"servertype\": \"openocd\",\n      \"executable\": \"build/app.elf\",\n      \"configFiles\": [\"interface/stlink-v2.cfgx\", \"target/stm32f1x.cfg\"], \"openOCDLaunchCommands\": [\"adapter_khz 4000\"]\n    }\n  ]\n}\n";
    std::fs::write(&launch, text).unwrap();
    let mut c = Client::start(bin(), &root);
    c.open(&launch, text);
    let diags = c.diagnostics(&uri(&launch));
    let expected = check_ranges(&root, &launch);
    assert!(!expected.is_empty());
    for (rule, r) in &expected {
        let hit = diags
            .iter()
            .any(|d| d["code"] == rule.as_str() && &d["range"] == r);
        assert!(hit, "{rule} at {r} not in {diags:#?}");
    }
    c.stop();
}

#[test]
fn bad_messages_get_errors_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let mut c = Client::start(bin(), &root);
    // A request the server does not know, and one with broken params.
    let r = c.request("textDocument/semanticTokens/full", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    let r = c.request("textDocument/hover", json!({"textDocument": 5}));
    assert_eq!(r["error"]["code"], -32602);
    // A file that is not ours, and hover on a document never opened.
    c.open(&root.join("notes.txt"), "adapter_khz 1");
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&root.join("x.cfg"))}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["result"], Value::Null);
    // A cfg with invalid UTF-8 replaced and CRLF line ends, opened unsaved (not on disk).
    let ghost = root.join("ghost.cfg");
    c.open(&ghost, "adapter_khz 4000\r\n\u{fffd}\u{fffd}\r\n");
    let diags = c.diagnostics(&uri(&ghost));
    let khz = by_rule(&diags, "CFG106");
    assert_eq!(khz["range"]["start"], json!({"line": 0, "character": 0}));
    // Fixed: the new check's list replaces the old one.
    c.clear();
    c.change(&ghost, 2, "adapter speed 4000\r\n");
    let after = c.diagnostics(&uri(&ghost));
    assert!(after.iter().all(|d| d["code"] != "CFG106"), "{after:#?}");
    c.stop();
}

/// LSP ends lines at `\n`, `\r\n` and a lone `\r` (an editor shows a CR-only part of a file as
/// lines). OpenOCD's Tcl reads the lone `\r` inside the comment as part of the comment, so the
/// check finds `adapter_khz` on its second line; the client counts it on the third.
#[test]
fn lone_carriage_returns_are_line_ends_for_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let board = root.join("board.cfg");
    let text = "# notes from an old Mac editor\r# more notes\nset NAME \"é\"; adapter_khz 4000\r\nsource [find interface/stlink.cfg]\r";
    std::fs::write(&board, text).unwrap();
    let mut c = Client::start(bin(), &root);
    c.open(&board, text);
    let diags = c.diagnostics(&uri(&board));
    let khz = by_rule(&diags, "CFG106");
    assert_eq!(
        khz["range"],
        json!({"start": {"line": 2, "character": 14}, "end": {"line": 2, "character": 25}})
    );
    // The same place as the check's byte span, counted by the protocol's rules.
    for (rule, r) in check_ranges(&root, &board) {
        assert!(
            diags
                .iter()
                .any(|d| d["code"] == rule.as_str() && d["range"] == r),
            "{rule} at {r} not in {diags:#?}"
        );
    }
    // A position the client sends is read with the same lines: hover on the third line.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&board)}, "position": {"line": 2, "character": 18}}),
    );
    let md = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(md.contains("adapter_khz"), "{hover}");
    assert_eq!(hover["result"]["range"], khz["range"]);
    // The quick fix replaces exactly `adapter_khz`.
    let action = quick_fix(&mut c, &board, khz, "CFG106");
    let edits = action["edit"]["changes"][uri(&board)].as_array().unwrap();
    assert_eq!(edits[0]["range"], khz["range"]);
    c.stop();
}
