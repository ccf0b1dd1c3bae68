//! The Tcl reader against real Tcl (`info complete` in tclsh) on generated inputs, and
//! never-panic checks on random bytes.

use ocdoctor_cfg::tcl;
use std::io::Write;
use std::process::{Command, Stdio};

/// A small deterministic generator (xorshift) so failures are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Inputs made of the characters that matter to Tcl's syntax, with some whole tokens mixed
/// in so that nesting and multi-character forms (`{*}`, `${`, `\<newline>`) appear often.
fn generate(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "{", "}", "[", "]", "\"", "\\", "$", "(", ")", ";", "#", "\n", " ", "\t", "a", "b", "x1",
        "{*}", "${", "\\\n", "$a(", "\\{", "\\\"", "\\]", "set x ", "# c\n", ":", "::", "e\u{e9}",
    ];
    let len = rng.below(14) + 1;
    (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect()
}

fn tclsh_complete(inputs: &[String]) -> Option<Vec<bool>> {
    // Each input travels hex-encoded on one line so no quoting is involved.
    let script = String::from(
        "fconfigure stdout -translation lf\nwhile {[gets stdin line] >= 0} { set s [encoding convertfrom utf-8 [binary decode hex $line]]; puts [info complete $s] }\n",
    );
    let mut data = String::new();
    for i in inputs {
        for b in i.as_bytes() {
            data.push_str(&format!("{b:02x}"));
        }
        data.push('\n');
    }
    let dir = std::env::temp_dir().join(format!("ocdoctor-cfg-tclsh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let sp = dir.join("complete.tcl");
    std::fs::write(&sp, script).ok()?;
    let mut child = Command::new("tclsh")
        .arg(&sp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(data.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.lines().map(|l| l.trim() == "1").collect())
}

#[test]
fn agrees_with_tclsh_info_complete() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut inputs: Vec<String> = (0..5000).map(|_| generate(&mut rng)).collect();
    inputs.extend(
        [
            "set a {b",
            "set a \"b",
            "set a [b",
            "a \\\n",
            "# x \\\n",
            "${a",
            "$a(b",
            "{*}{a",
            "a {b}c",
            "\"a\"b {",
        ]
        .map(String::from),
    );
    let Some(expected) = tclsh_complete(&inputs) else {
        eprintln!("tclsh not available: skipping");
        return;
    };
    assert_eq!(
        expected.len(),
        inputs.len(),
        "tclsh answered {} of {}",
        expected.len(),
        inputs.len()
    );
    let mut bad = Vec::new();
    for (i, s) in inputs.iter().enumerate() {
        if tcl::is_complete(s) != expected[i] {
            bad.push(format!(
                "{s:?}: tclsh={} ours={}",
                expected[i], !expected[i]
            ));
        }
    }
    println!(
        "tclsh agreement: {} inputs, {} disagreements",
        inputs.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "disagreements:\n{}",
        bad[..bad.len().min(20)].join("\n")
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..3000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        let s = String::from_utf8_lossy(&bytes);
        let (script, errors) = tcl::parse(&s);
        for c in &script.commands {
            assert!(c.span.end <= s.len());
            for w in &c.words {
                let _ = tcl::parse_body(&s, w);
                assert!(w.span.start <= w.span.end && w.span.end <= s.len());
            }
        }
        for e in errors {
            assert!(e.span.end <= s.len());
        }
        let _ = ocdoctor_cfg::Invocation::parse_command_line(&s);
        let args: Vec<String> = s.split(' ').map(String::from).collect();
        let _ = ocdoctor_cfg::Invocation::parse_args(&args);
    }
    // Deep nesting stays bounded.
    let deep = "[".repeat(100_000) + &"$a(".repeat(10_000) + &"{".repeat(100_000);
    let _ = tcl::parse(&deep);
    let _ = tcl::is_complete(&deep);
}
