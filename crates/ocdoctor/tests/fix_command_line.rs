//! `ocdoctor fix -- openocd …`: a command line has no file to edit, so `fix` answers with the
//! corrected command line (and the file patches for the problems inside cfg files). Checked
//! against the installed OpenOCD (Debian's 0.12.0 and its scripts): the original command line
//! makes the real `openocd` warn or fail, the corrected one (with `-c shutdown` appended, so it
//! stops after the configuration) is accepted without a deprecation warning, and `check` finds
//! nothing left in it. Without `openocd` on PATH these tests fail unless OCDOCTOR_SKIP_LIVE=1.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod live_support;

fn skip() -> bool {
    live_support::skip_without_openocd()
}

fn ocdoctor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocdoctor"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("OCDOCTOR_NO_CACHE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run ocdoctor")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            text(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// The real openocd on `args` (the program name dropped) with `-c shutdown` appended and no
/// servers, in `dir`, bounded to 15 s: (exit code, everything it printed).
fn openocd(dir: &Path, args: &[String]) -> (Option<i32>, String) {
    let mut args = args
        .strip_prefix(&["openocd".to_string()])
        .unwrap_or(args)
        .to_vec();
    args.extend(["-c".to_string(), "shutdown".to_string()]);
    let out = live_support::run_openocd(dir, &args, false);
    (out.status.code(), live_support::printed(&out))
}

/// What openocd 0.12 says when the target cfg comes before the interface cfg.
const WRONG_ORDER: &str = "Debug adapter does not support any transports? Check config file order.";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `fix --format json -- ARGV…`: the one corrected command of the `ocdoctor.fix/v1` object.
fn corrected(dir: &Path, argv: &[&str]) -> (Value, Vec<String>) {
    let mut args = vec!["fix", "--format", "json", "--"];
    args.extend(argv);
    let o = ocdoctor(dir, &args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a fix to show: exit 1\n{}",
        text(&o)
    );
    let doc = json(&o);
    assert_eq!(doc["schema"], "ocdoctor.fix/v1");
    assert_eq!(doc["applied"], false);
    let cmds = doc["commands"].as_array().expect("commands");
    assert_eq!(cmds.len(), 1, "{doc:#}");
    assert_eq!(cmds[0]["argv"], serde_json::json!(argv), "{doc:#}");
    let fixed: Vec<String> = cmds[0]["fixed_argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    (doc, fixed)
}

/// The corrected argv is accepted: the real openocd exits 0 on it and `check` finds nothing
/// left. Returns what openocd printed.
fn accepted(dir: &Path, fixed: &[String]) -> String {
    let (code, log) = openocd(dir, fixed);
    assert_eq!(code, Some(0), "{log}");
    assert_clean(dir, fixed);
    log
}

/// `check` on the corrected argv finds none of the command-line rules left.
fn assert_clean(dir: &Path, fixed: &[String]) {
    let mut args = vec!["check", "--format", "json", "--"];
    args.extend(fixed.iter().map(String::as_str));
    let r = json(&ocdoctor(dir, &args));
    let rules = live_support::finding_rules(&r);
    assert!(rules.is_empty(), "left in {fixed:?}: {rules:?}\n{r:#}");
}

/// `fix -- ARGV…`, the text form.
fn fix_text(dir: &Path, argv: &[&str]) -> Output {
    let mut args = vec!["fix", "--"];
    args.extend(argv);
    ocdoctor(dir, &args)
}

/// What a fixed command line goes through: the real openocd on `argv` prints each of `says`,
/// `fix` corrects `argv` to `want`, and the corrected line is [`accepted`]. Returns openocd's
/// exit code on `argv`, the fix document and what openocd printed on the corrected line.
fn fixed_and_accepted(
    dir: &Path,
    argv: &[&str],
    says: &[&str],
    want: &[&str],
) -> (Option<i32>, Value, String) {
    let (code, before) = openocd(dir, &strings(argv));
    for said in says {
        assert!(before.contains(said), "{argv:?}: {before}");
    }
    let (doc, fixed) = corrected(dir, argv);
    assert_eq!(fixed, strings(want), "{doc:#}");
    (code, doc, accepted(dir, &fixed))
}

/// The real openocd accepts `argv` as it is, and `fix` has nothing to change in it.
fn nothing_to_fix(dir: &Path, argv: &[&str]) {
    let (code, log) = openocd(dir, &strings(argv));
    assert_eq!(code, Some(0), "{log}");
    let o = fix_text(dir, argv);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(text(&o), "ocdoctor fix: no edit to make\n");
}

#[test]
fn a_deprecated_command_becomes_its_replacement() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let argv = [
        "openocd",
        "-f",
        "interface/stlink.cfg",
        "-f",
        "target/stm32f1x.cfg",
        "-c",
        "adapter_khz 4000",
    ];
    let (before_code, doc, log) = fixed_and_accepted(
        dir.path(),
        &argv,
        &["DEPRECATED! use 'adapter speed' not 'adapter_khz'"],
        &[
            "openocd",
            "-f",
            "interface/stlink.cfg",
            "-f",
            "target/stm32f1x.cfg",
            "-c",
            "adapter speed 4000",
        ],
    );
    assert_eq!(before_code, Some(0));
    assert_eq!(
        doc["commands"][0]["fixed_line"],
        "openocd -f interface/stlink.cfg -f target/stm32f1x.cfg -c 'adapter speed 4000'"
    );
    assert_eq!(doc["commands"][0]["changes"][0]["id"], "deprecated-command");
    assert!(!log.contains("DEPRECATED"), "{log}");
    assert!(log.contains("adapter speed: 4000 kHz"), "{log}");
    // The text form: what changes, then the line to copy.
    let o = fix_text(dir.path(), &argv);
    let t = text(&o);
    assert!(
        t.contains("'adapter_khz 4000' → 'adapter speed 4000'   (deprecated-command)"),
        "{t}"
    );
    assert!(
        t.lines().any(|l| l
            == "openocd -f interface/stlink.cfg -f target/stm32f1x.cfg -c 'adapter speed 4000'"),
        "{t}"
    );
}

#[test]
fn a_removed_cfg_becomes_the_file_that_replaced_it() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let argv = [
        "openocd",
        "-f",
        "interface/stlink.cfg",
        "-f",
        "target/kl25z_hla.cfg",
    ];
    let (before_code, doc, _) = fixed_and_accepted(
        dir.path(),
        &argv,
        &["Can't find target/kl25z_hla.cfg"],
        &[
            "openocd",
            "-f",
            "interface/stlink.cfg",
            "-f",
            "target/kl25.cfg",
        ],
    );
    assert_eq!(before_code, Some(1));
    assert_eq!(doc["commands"][0]["changes"][0]["id"], "removed-file");
}

#[test]
fn deprecated_and_removed_parts_are_fixed_together_and_apply_says_it_wrote_no_command() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A cfg of the project's own with a deprecated command: that one is a file edit.
    let board = dir.path().join("board.cfg");
    std::fs::write(&board, "# speed\nadapter_khz 1000\n").unwrap();
    let argv = [
        "openocd",
        "-f",
        "interface/stlink-v2.cfg",
        "-f",
        "target/kl25z_hla.cfg",
        "-c",
        "adapter_khz 4000",
        "-f",
        "board.cfg",
    ];
    let (doc, fixed) = corrected(dir.path(), &argv);
    let want = strings(&[
        "openocd",
        "-f",
        "interface/stlink.cfg",
        "-f",
        "target/kl25.cfg",
        "-c",
        "adapter speed 4000",
        "-f",
        "board.cfg",
    ]);
    assert_eq!(fixed, want, "{doc:#}");
    let ids: Vec<&str> = doc["commands"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["deprecated-file", "removed-file", "deprecated-command"],
        "{doc:#}"
    );
    // The file patch comes with it, and the dry run wrote nothing.
    let diff = doc["edits"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("+adapter speed 1000"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(&board).unwrap(),
        "# speed\nadapter_khz 1000\n"
    );
    // --apply: the file is written; the command line is printed, said plainly not written.
    let mut args = vec!["fix", "--apply", "--"];
    args.extend(argv);
    let o = ocdoctor(dir.path(), &args);
    let t = text(&o);
    assert_eq!(
        std::fs::read_to_string(&board).unwrap(),
        "# speed\nadapter speed 1000\n",
        "{t}"
    );
    assert!(t.contains("ocdoctor fix: wrote "), "{t}");
    assert!(
        t.contains("a command line cannot be written for you and nothing was run"),
        "{t}"
    );
    assert!(
        t.lines().any(|l| l
            == "openocd -f interface/stlink.cfg -f target/kl25.cfg -c 'adapter speed 4000' -f board.cfg"),
        "{t}"
    );
    // The re-check is of the corrected command and the written file: nothing left.
    assert_eq!(o.status.code(), Some(0), "{t}");
    let log = accepted(dir.path(), &fixed);
    assert!(
        !log.contains("DEPRECATED") && !log.contains("deprecated"),
        "{log}"
    );
}

#[test]
fn a_clean_command_line_gets_no_corrected_line() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let argv = [
        "openocd",
        "-f",
        "interface/stlink.cfg",
        "-f",
        "target/stm32f1x.cfg",
        "-c",
        "adapter speed 4000",
    ];
    nothing_to_fix(dir.path(), &argv);
    let mut args = vec!["fix", "--format", "json", "--"];
    args.extend(argv);
    let doc = json(&ocdoctor(dir.path(), &args));
    assert_eq!(doc["commands"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["edits"], serde_json::json!([]), "{doc:#}");
}

#[test]
fn advice_is_not_written_into_the_command_line() {
    if skip() {
        return;
    }
    // No adapter: the finding's advice is `-f interface/<your probe>.cfg`, a placeholder, not a
    // fix.
    let dir = tempfile::tempdir().unwrap();
    let o = fix_text(dir.path(), &["openocd", "-f", "target/stm32f1x.cfg"]);
    let t = text(&o);
    assert!(t.contains("no edit to make"), "{t}");
    assert!(!t.contains("<your probe>"), "{t}");
}

#[test]
fn a_misspelt_command_on_the_command_line_is_corrected_to_a_command_of_this_release() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let argv = [
        "openocd",
        "-f",
        "interface/stlink.cfg",
        "-c",
        "adaptr speed 1000",
        "-f",
        "target/stm32f4x.cfg",
    ];
    let (_, before) = openocd(dir.path(), &strings(&argv));
    assert!(
        before.contains("invalid command name \"adaptr\""),
        "{before}"
    );
    let (_, fixed) = corrected(dir.path(), &argv);
    assert_eq!(fixed[4], "adapter speed 1000", "{fixed:?}");
    accepted(dir.path(), &fixed);
}

#[test]
fn the_interface_cfg_moves_before_the_target_cfg() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, _, log) = fixed_and_accepted(
        dir.path(),
        &[
            "openocd",
            "-f",
            "target/stm32f1x.cfg",
            "-f",
            "interface/stlink.cfg",
        ],
        &[WRONG_ORDER],
        &[
            "openocd",
            "-f",
            "interface/stlink.cfg",
            "-f",
            "target/stm32f1x.cfg",
        ],
    );
    assert!(!log.contains("Error"), "{log}");
}

/// getopt_long reads `-fX`, `-cX` and `--file=X` as `-f X`, `-c X` and `--file X` (the real
/// openocd accepts them): the joined forms are fixed inside their word, the option kept.
#[test]
fn joined_options_are_fixed_in_their_word() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let argv = [
        "openocd",
        "-finterface/stlink-v2.cfg",
        "-ftarget/stm32f1x.cfg",
        "-cadapter_khz 4000",
    ];
    let (code, _, log) = fixed_and_accepted(
        dir.path(),
        &argv,
        &[
            "interface/stlink-v2.cfg is deprecated",
            "DEPRECATED! use 'adapter speed' not 'adapter_khz'",
        ],
        &[
            "openocd",
            "-finterface/stlink.cfg",
            "-ftarget/stm32f1x.cfg",
            "-cadapter speed 4000",
        ],
    );
    assert_eq!(code, Some(0));
    assert!(
        !log.contains("deprecated") && !log.contains("DEPRECATED"),
        "{log}"
    );
    assert!(log.contains("adapter speed: 4000 kHz"), "{log}");
}

#[test]
fn a_joined_interface_cfg_moves_before_the_joined_target_cfg() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, _, log) = fixed_and_accepted(
        dir.path(),
        &[
            "openocd",
            "-ftarget/stm32f1x.cfg",
            "--file=interface/stlink.cfg",
        ],
        &[WRONG_ORDER],
        &[
            "openocd",
            "--file=interface/stlink.cfg",
            "-ftarget/stm32f1x.cfg",
        ],
    );
    assert!(!log.contains("Error"), "{log}");
}

/// A command line OpenOCD reads as it is meant, written with joined options: nothing to fix.
#[test]
fn a_clean_command_line_with_joined_options_gets_no_corrected_line() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let argv = [
        "openocd",
        "-d2",
        "-finterface/stlink.cfg",
        "--file=target/stm32f1x.cfg",
        "-cadapter speed 4000",
    ];
    nothing_to_fix(dir.path(), &argv);
}

/// The problems of the command line's own words: each whole option is replaced by the
/// suggestion's shell words, and the real openocd accepts the result.
#[test]
fn whole_options_the_check_reports_are_rewritten() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("board.cfg"),
        "source [find target/stm32f1x.cfg]\n",
    )
    .unwrap();
    // (argv, what openocd 0.12 says about it, the corrected argv)
    let cases: [(&[&str], &str, &[&str]); 4] = [
        (
            &[
                "openocd",
                "-d",
                "3",
                "-f",
                "interface/stlink.cfg",
                "-f",
                "target/stm32f1x.cfg",
            ],
            "Unexpected command line argument: 3",
            &[
                "openocd",
                "-d3",
                "-f",
                "interface/stlink.cfg",
                "-f",
                "target/stm32f1x.cfg",
            ],
        ),
        (
            &[
                "openocd",
                "-f",
                "interface/stlink.cfg",
                "-c",
                "adapter",
                "speed",
                "1000",
                "-f",
                "target/stm32f1x.cfg",
            ],
            "Unexpected command line argument: speed",
            &[
                "openocd",
                "-f",
                "interface/stlink.cfg",
                "-c",
                "adapter speed 1000",
                "-f",
                "target/stm32f1x.cfg",
            ],
        ),
        (
            &["openocd", "-f", "interface/stlink.cfg", "board.cfg"],
            "Unexpected command line argument: board.cfg",
            &["openocd", "-f", "interface/stlink.cfg", "-f", "board.cfg"],
        ),
        (
            &[
                "openocd",
                "-p",
                "-f",
                "interface/stlink.cfg",
                "-f",
                "target/stm32f1x.cfg",
            ],
            "invalid option -- 'p'",
            &[
                "openocd",
                "-c",
                "gdb_port pipe; log_output openocd.log",
                "-f",
                "interface/stlink.cfg",
                "-f",
                "target/stm32f1x.cfg",
            ],
        ),
    ];
    for (argv, says, want) in cases {
        let (code, _, _) = fixed_and_accepted(dir.path(), argv, &[says], want);
        assert_eq!(code, Some(1), "{argv:?}");
    }
    // The pipe mode's log went where the corrected `-c` said.
    assert!(dir.path().join("openocd.log").is_file());
}

/// `-l "my log.txt"`: OpenOCD runs `log_output my log.txt` unbraced and prints the usage
/// instead of logging; the fix is the braced command.
#[test]
fn a_log_file_with_a_space_becomes_a_braced_log_output() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let argv = [
        "openocd",
        "-l",
        "my log.txt",
        "-f",
        "interface/stlink.cfg",
        "-f",
        "target/stm32f1x.cfg",
    ];
    let (_, before) = openocd(dir.path(), &strings(&argv));
    assert!(
        before.contains("log_output [file_name | \"default\"]"),
        "{before}"
    );
    assert!(!dir.path().join("my log.txt").exists());
    let (_, fixed) = corrected(dir.path(), &argv);
    assert_eq!(
        fixed,
        strings(&[
            "openocd",
            "-c",
            "log_output {my log.txt}",
            "-f",
            "interface/stlink.cfg",
            "-f",
            "target/stm32f1x.cfg"
        ])
    );
    accepted(dir.path(), &fixed);
    assert!(dir.path().join("my log.txt").is_file());
}

/// `-vp`: the `-p` of a cluster is reported, but replacing the word would drop the `-v`, so
/// the corrected line is not offered for it.
#[test]
fn a_removed_option_inside_a_cluster_is_not_rewritten() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, before) = openocd(dir.path(), &strings(&["openocd", "-vp"]));
    assert_eq!(code, Some(1), "{before}");
    assert!(before.contains("invalid option -- 'p'"), "{before}");
    let o = ocdoctor(
        dir.path(),
        &["fix", "--format", "json", "--", "openocd", "-vp"],
    );
    let doc = json(&o);
    assert_eq!(doc["commands"], serde_json::json!([]), "{doc:#}");
}
