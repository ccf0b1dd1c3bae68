//! `ocdoctor redact`, and what `diagnose --redact` and `upload` share with it: the secret key
//! (generated once, kept private), the user's own patterns, this machine's names, and the
//! redaction of a report's text. The detection itself is `ocdoctor_redact` (pure).

use ocdoctor_core::report::{Evidence, Report};
use ocdoctor_redact::{Kind, Redactor, UserPattern};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Redacting holds the text in memory (a key block spans lines); beyond this, a clear error.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

#[derive(clap::Args)]
pub struct RedactArgs {
    /// The text to redact: a log, a command line, a snapshot (`-` or none: standard input).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub keys: KeyOptions,
}

/// Where pseudonyms come from: the key, and the user's extra patterns.
#[derive(clap::Args, Default, Clone)]
pub struct KeyOptions {
    /// The secret key that makes pseudonyms (default: generated once and kept in
    /// ~/.config/ocdoctor/redact.key, or under $XDG_CONFIG_HOME, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Extra patterns to redact: a TOML file of `[[pattern]]` tables with `regex` and `kind`
    /// (a capture group named `value` limits the replacement to it).
    #[arg(long, value_name = "FILE")]
    pub patterns: Option<PathBuf>,
}

/// `ocdoctor redact FILE|-`: the redacted text on stdout, the manifest on stderr.
pub fn run(args: RedactArgs) -> Result<u8, String> {
    let (_, text) = read_input(args.file.as_deref())?;
    let mut r = redactor(&args.keys)?;
    let safe = r.redact(&text);
    let _ = std::io::stdout().lock().write_all(safe.as_bytes());
    eprintln!("{}", manifest_line(r.manifest()));
    Ok(0)
}

/// One line for stderr: `redacted: 3 user, 1 serial` (counts only, never the values).
pub fn manifest_line(manifest: &std::collections::BTreeMap<String, u64>) -> String {
    if manifest.is_empty() {
        return "redacted: nothing private found".into();
    }
    let parts: Vec<String> = manifest.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!("redacted: {}", parts.join(", "))
}

/// A file or standard input as text (invalid UTF-8 becomes U+FFFD), with a label for messages.
pub fn read_input(file: Option<&Path>) -> Result<(Option<String>, String), String> {
    let mut bytes = Vec::new();
    let label = match file {
        Some(p) if p.as_os_str() != "-" => {
            let label = p.display().to_string();
            if p.is_dir() {
                return Err(format!("{label} is a directory; give a file inside it"));
            }
            let f = std::fs::File::open(p).map_err(|e| format!("cannot open {label}: {e}"))?;
            f.take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read {label}: {e}"))?;
            Some(label)
        }
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err("no input given: pass a file, or `-` and pipe one in".into());
            }
            stdin
                .lock()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            None
        }
    };
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "{} is larger than {} MiB; redact a part of it",
            label.as_deref().unwrap_or("standard input"),
            MAX_INPUT_BYTES >> 20
        ));
    }
    Ok((label, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The redactor of this run: the key, the user's patterns, and this machine's own user and host
/// names (replaced wherever they appear, even without a path or prompt around them).
pub fn redactor(opts: &KeyOptions) -> Result<Redactor, String> {
    let key = match &opts.key_file {
        Some(path) => std::fs::read(path)
            .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?,
        None => default_key()?,
    };
    let key = trim_ascii(&key);
    let patterns = match &opts.patterns {
        Some(path) => load_patterns(path)?,
        None => Vec::new(),
    };
    let mut r = Redactor::new(key, &patterns).map_err(|e| e.to_string())?;
    for var in ["USER", "USERNAME", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            r.know(Kind::User, &v);
        }
    }
    if let Some(host) = this_host_name() {
        r.know(Kind::Host, &host);
    }
    Ok(r)
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end]
}

fn this_host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .filter(|h| !h.is_empty())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternFile {
    #[serde(default)]
    pattern: Vec<PatternEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternEntry {
    regex: String,
    kind: String,
}

fn load_patterns(path: &Path) -> Result<Vec<UserPattern>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the patterns file {}: {e}", path.display()))?;
    let file: PatternFile = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: not a patterns file ([[pattern]] regex = \"…\" kind = \"…\"): {e}",
            path.display()
        )
    })?;
    Ok(file
        .pattern
        .into_iter()
        .map(|p| UserPattern {
            regex: p.regex,
            kind: p.kind,
        })
        .collect())
}

/// `$XDG_CONFIG_HOME/ocdoctor/redact.key` or `~/.config/ocdoctor/redact.key`.
fn default_key_path() -> Result<PathBuf, String> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })
        .ok_or("neither XDG_CONFIG_HOME nor HOME is set: give --key-file")?;
    Ok(base.join("ocdoctor").join("redact.key"))
}

/// The key kept for this user, made on first use: 32 random bytes as hex, readable by the user
/// only. Two runs making it at once agree on one (the second finds the first's file).
fn default_key() -> Result<Vec<u8>, String> {
    let path = default_key_path()?;
    if let Ok(key) = std::fs::read(&path) {
        return Ok(key);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| format!("no randomness for a key: {e}"))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".redact.key.{}", std::process::id()));
    let written = write_private(&tmp, format!("{hex}\n").as_bytes());
    // A hard link never replaces an existing file: if another run won, its key stays.
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, &path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => eprintln!(
            "ocdoctor: made a redaction key in {} (keep it private: it makes the pseudonyms)",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot write the key {}: {e}", path.display())),
    }
    std::fs::read(&path).map_err(|e| format!("cannot read the key {}: {e}", path.display()))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// `diagnose --redact`: the report of the original log (so the diagnosis is the original's),
/// with its text redacted; `sources` (the log, the command line) are read for names first.
pub fn redact_diagnosis(
    report: &mut Report,
    opts: &KeyOptions,
    sources: &[Option<&str>],
) -> Result<(), String> {
    let mut r = redactor(opts)?;
    for s in sources.iter().flatten() {
        r.learn(s);
    }
    redact_report(report, &mut r);
    eprintln!("ocdoctor: {}", manifest_line(r.manifest()));
    Ok(())
}

/// Redact every text a report shows (inputs, evidence, titles, explanations, fixes), learning
/// from all of it first so a name recognised in one line is replaced in every line. Causes,
/// rule codes, stages and the OpenOCD version are the diagnosis and stay.
pub fn redact_report(report: &mut Report, r: &mut Redactor) {
    fn evidence_texts<'a>(ev: &'a mut [Evidence], out: &mut Vec<&'a mut String>) {
        for e in ev {
            out.extend(e.path.as_mut());
            out.push(&mut e.text);
        }
    }
    let mut texts: Vec<&mut String> = Vec::new();
    for input in &mut report.inputs {
        texts.extend(input.path.as_mut());
        texts.extend(input.config.as_mut());
        texts.extend(input.command.as_mut());
    }
    if let Some(o) = report.openocd.as_mut() {
        texts.push(&mut o.banner);
    }
    for f in &mut report.findings {
        texts.push(&mut f.title);
        texts.push(&mut f.explanation);
        texts.extend(f.checks.iter_mut());
        for fix in &mut f.fixes {
            texts.push(&mut fix.title);
            texts.extend(fix.commands.iter_mut());
            texts.extend(fix.edits.iter_mut());
            texts.extend(fix.config.iter_mut());
        }
        evidence_texts(&mut f.evidence, &mut texts);
    }
    evidence_texts(&mut report.unexplained, &mut texts);
    for t in texts.iter() {
        r.learn(t);
    }
    for t in texts {
        *t = r.redact(t);
    }
}
