//! Embeds the knowledge base (`rules/**/rule.toml` and `rules/*.toml`) into the binary, so
//! `ocdoctor` is one self-contained file with no data directory to find. Each file is embedded
//! twice: as written (TOML, for tools and tests) and parsed here into JSON, which loads several
//! times faster at start-up. A rule file that is not valid TOML fails the build, naming the file.
//!
//! The message catalog (`rules/catalog/messages.tsv`) is indexed here too, with the catalog's
//! own row parser (`src/catalog_rows.rs`): its ~9 500 formats, key literals and key index become
//! static tables, so a diagnosis that meets an unexplained error line parses nothing first.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[allow(dead_code)] // the parser's items the build does not need
#[path = "src/catalog_rows.rs"]
mod catalog_rows;
#[path = "src/prefixes.rs"]
mod prefixes;

/// Every `regex` string anywhere in a knowledge-base file (facts and matchers).
fn regexes(value: &toml::Value, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match v {
                    toml::Value::String(s) if k == "regex" => out.push(s.clone()),
                    _ => regexes(v, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| regexes(v, out)),
        _ => {}
    }
}

/// The literal gate's prefixes of every pattern (and of the scanner's own two), sorted by
/// source, as a Rust static (included by `src/literals.rs`).
fn gate_prefixes(mut sources: Vec<String>) -> String {
    sources.push("Error".into());
    sources.push("Open On-Chip Debugger".into());
    sources.sort();
    sources.dedup();
    let mut out = String::from("static EMBEDDED_PREFIXES: &[(&str, Option<&[&[u8]]>)] = &[\n");
    for s in &sources {
        let prefixes = match prefixes::required_prefixes(s) {
            None => "None".to_string(),
            Some(ls) => {
                // `b"…"` with every byte escaped: the literal is the bytes, whatever they are.
                let ls: Vec<String> = ls
                    .iter()
                    .map(|l| {
                        let escaped: String = l.iter().map(|b| format!("\\x{b:02x}")).collect();
                        format!("b\"{escaped}\"")
                    })
                    .collect();
                format!("Some(&[{}])", ls.join(", "))
            }
        };
        writeln!(out, "    ({s:?}, {prefixes}),").unwrap();
    }
    out.push_str("];\n");
    out
}

/// The catalog's tables as Rust statics (included by `src/catalog.rs`).
fn catalog_index(messages: &str) -> String {
    let rows = catalog_rows::rows(messages);
    let (keys, key_of_row) = catalog_rows::keys(&rows);
    let (starts, formats) = catalog_rows::formats_by_key(&key_of_row, keys.len());
    let grams = catalog_rows::grams(&keys);
    let mut out = String::new();
    writeln!(out, "static EMBEDDED_FORMATS: [Format; {}] = [", rows.len()).unwrap();
    for r in &rows {
        writeln!(
            out,
            "    Format {{ level: Cow::Borrowed({:?}), subsystem: Cow::Borrowed({:?}), file: Cow::Borrowed({:?}), sources: Cow::Borrowed({:?}), text: Cow::Borrowed({:?}), pieces: OnceLock::new(), literal_chars: {} }},",
            r.level, r.subsystem, r.file, r.sources, r.text, r.literal_chars
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(
        out,
        "static EMBEDDED_KEYS: [Cow<'static, str>; {}] = [",
        keys.len()
    )
    .unwrap();
    for k in &keys {
        writeln!(out, "    Cow::Borrowed({k:?}),").unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(
        out,
        "static EMBEDDED_GRAMS: [([u8; KEY_GRAM], u32); {}] = [",
        grams.len()
    )
    .unwrap();
    for (g, k) in &grams {
        writeln!(out, "    ({g:?}, {k}),").unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(
        out,
        "static EMBEDDED_KEY_STARTS: [u32; {}] = {starts:?};",
        starts.len()
    )
    .unwrap();
    writeln!(
        out,
        "static EMBEDDED_KEY_FORMATS: [u32; {}] = {formats:?};",
        formats.len()
    )
    .unwrap();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let rules = manifest
        .join("../../rules")
        .canonicalize()
        .expect("rules/ folder at the workspace root");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut files = Vec::new();
    collect(&rules, &mut files);
    let mut sources = Vec::new();

    let mut toml_src = String::from(
        "/// (path relative to rules/, contents) of every TOML file in the knowledge base.\n#[allow(dead_code)]\npub static KB_FILES: &[(&str, &str)] = &[\n",
    );
    let mut json_src = String::from(
        "/// The same files, parsed at build time and embedded as JSON.\npub static KB_FILES_JSON: &[(&str, &str)] = &[\n",
    );
    for (i, f) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&rules)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            toml_src,
            "    ({rel:?}, include_str!({:?})),",
            f.display().to_string()
        )
        .unwrap();
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("rules/{rel}: {e}"));
        let value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("rules/{rel}: {e}"));
        regexes(&value, &mut sources);
        let json_path = out_dir.join(format!("kb_{i}.json"));
        std::fs::write(&json_path, serde_json::to_string(&value).unwrap()).unwrap();
        writeln!(
            json_src,
            "    ({rel:?}, include_str!({:?})),",
            json_path.display().to_string()
        )
        .unwrap();
    }
    toml_src.push_str("];\n");
    json_src.push_str("];\n");

    // Directories too, so a new rule folder (not only a changed file) triggers a rebuild.
    let mut dirs = vec![rules.clone()];
    while let Some(d) = dirs.pop() {
        println!("cargo:rerun-if-changed={}", d.display());
        if let Ok(rd) = std::fs::read_dir(&d) {
            dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    std::fs::write(out_dir.join("kb_files.rs"), toml_src + &json_src).unwrap();

    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("src/prefixes.rs").display()
    );
    std::fs::write(out_dir.join("gate_prefixes.rs"), gate_prefixes(sources)).unwrap();

    let messages = rules.join("catalog/messages.tsv");
    println!("cargo:rerun-if-changed={}", messages.display());
    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("src/catalog_rows.rs").display()
    );
    let messages = std::fs::read_to_string(&messages).expect("rules/catalog/messages.tsv");
    std::fs::write(out_dir.join("catalog_index.rs"), catalog_index(&messages)).unwrap();
}
