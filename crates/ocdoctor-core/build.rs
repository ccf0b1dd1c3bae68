//! Embeds the knowledge base (`rules/**/rule.toml` and `rules/*.toml`) into the binary, so
//! `ocdoctor` is one self-contained file with no data directory to find. Each file is embedded
//! twice: as written (TOML, for tools and tests) and parsed here into JSON, which loads several
//! times faster at start-up. A rule file that is not valid TOML fails the build, naming the file.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
}
