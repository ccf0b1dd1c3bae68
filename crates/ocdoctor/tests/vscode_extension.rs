//! The VS Code extension (`editors/vscode`) builds as CI builds it: `npm ci`, `tsc --strict`,
//! its unit tests under node's test runner (one runs this crate's real `ocdoctor diagnose`),
//! `vsce package`; then the .vsix is opened and its manifest checked. Runs in a temporary copy
//! so the work tree gets no node_modules. Needs node, npm and unzip (`.ci/run` installs them);
//! without them the test says so and passes, except under CI where it fails.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn have(tool: &str, version_flag: &str) -> bool {
    Command::new(tool)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn copy_sources(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if matches!(name.as_ref(), "node_modules" | "out") || name.ends_with(".vsix") {
            continue;
        }
        let dest = to.join(&*name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_sources(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn npm(dir: &Path, args: &[&str]) {
    let out = Command::new(if args[0] == "vsce" { "npx" } else { "npm" })
        .args(args)
        .current_dir(dir)
        .env("OCDOCTOR_BIN", env!("CARGO_BIN_EXE_ocdoctor"))
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .output()
        .expect("run npm");
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn unzip(vsix: &Path, member: &str) -> Vec<u8> {
    let out = Command::new("unzip")
        .arg("-p")
        .arg(vsix)
        .arg(member)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{member} is not in {}",
        vsix.display()
    );
    out.stdout
}

#[test]
fn the_extension_builds_tests_and_packages() {
    if !(have("node", "--version") && have("npm", "--version") && have("unzip", "-v")) {
        assert!(
            std::env::var_os("CI").is_none(),
            "node, npm and unzip are needed (`.ci/run` installs them)"
        );
        eprintln!("skipped: node, npm or unzip missing");
        return;
    }
    let src: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../editors/vscode");
    let dir = tempfile::tempdir().unwrap();
    copy_sources(&src, dir.path());
    npm(dir.path(), &["ci"]);
    npm(dir.path(), &["run", "compile"]);
    npm(dir.path(), &["test"]);
    npm(
        dir.path(),
        &[
            "vsce",
            "package",
            "--skip-license",
            "--allow-missing-repository",
            "-o",
            "ocdoctor.vsix",
        ],
    );
    let vsix = dir.path().join("ocdoctor.vsix");

    let manifest: Value = serde_json::from_slice(&unzip(&vsix, "extension/package.json")).unwrap();
    assert_eq!(manifest["main"], "./out/extension.js");
    let events: Vec<&str> = manifest["activationEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for e in [
        "workspaceContains:**/*.cfg",
        "workspaceContains:.vscode/launch.json",
        "workspaceContains:**/platformio.ini",
        "onCommand:ocdoctor.diagnoseLastFailure",
    ] {
        assert!(
            events.contains(&e),
            "activation event {e} missing: {events:?}"
        );
    }
    let commands = manifest["contributes"]["commands"].as_array().unwrap();
    let diagnose = commands
        .iter()
        .find(|c| c["command"] == "ocdoctor.diagnoseLastFailure")
        .expect("the diagnose command is contributed");
    assert_eq!(diagnose["title"], "Diagnose the last OpenOCD failure");
    let props = &manifest["contributes"]["configuration"]["properties"];
    assert_eq!(props["ocdoctor.path"]["default"], "ocdoctor");
    // What `main` names is in the package, and so is the runtime dependency it requires.
    let main_js = String::from_utf8(unzip(&vsix, "extension/out/extension.js")).unwrap();
    assert!(main_js.contains("vscode-languageclient/node"));
    assert!(main_js.contains("ocdoctor.diagnoseLastFailure"));
    unzip(
        &vsix,
        "extension/node_modules/vscode-languageclient/package.json",
    );
    unzip(&vsix, "extension.vsixmanifest");
    // Sources and tests stay out.
    let listing = Command::new("unzip").arg("-l").arg(&vsix).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(!listing.contains("extension/src/"), "{listing}");
    assert!(!listing.contains("out/test/"), "{listing}");
}
