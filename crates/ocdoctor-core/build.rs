//! Embeds the knowledge base (`rules/**/rule.toml` and `rules/*.toml`) into the binary, so
//! `ocdoctor` is one self-contained file with no data directory to find. Each file is embedded
//! twice: as written (TOML, for tools and tests) and parsed here into static tables of its
//! values (`src/kb_tree.rs` reads them with serde), so start-up parses no text. A rule file that
//! is not valid TOML fails the build, naming the file.
//!
//! The message catalog (`rules/catalog/messages.tsv`) is indexed here too, with the catalog's
//! own row parser (`src/catalog_rows.rs`): its ~9 500 formats, key literals and key index become
//! static tables, so a diagnosis that meets an unexplained error line parses nothing first.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/anchor_form.rs"]
mod anchor_form;
#[allow(dead_code)] // the parser's items the build does not need
#[path = "src/catalog_rows.rs"]
mod catalog_rows;
#[allow(dead_code)] // the search side of the table
#[path = "src/literal_table.rs"]
mod literal_table;
#[path = "src/prefixes.rs"]
mod prefixes;

/// Every `regex` string anywhere in a knowledge-base file (facts and matchers), and the forms
/// the scanner's phase 2 runs of those with an `anchor` (`kb::Anchor::wrap`'s).
fn regexes(value: &toml::Value, out: &mut Vec<String>, anchored: &mut Vec<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match v {
                    toml::Value::String(s) if k == "regex" => {
                        out.push(s.clone());
                        match t.get("anchor").and_then(|a| a.as_str()) {
                            Some("start") => anchored.push(anchor_form::at_start(s)),
                            Some("whole") => anchored.push(anchor_form::whole(s)),
                            _ => {}
                        }
                    }
                    _ => regexes(v, out, anchored),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| regexes(v, out, anchored)),
        _ => {}
    }
}

/// A pattern's DFA with the scanner's syntax (bytes, ASCII classes; `scan::phase1_builder`),
/// serialized, or `None` when it does not compile or would be bigger than `limit` bytes.
fn dfa_bytes(patterns: &[&str], limit: usize, minimize: bool) -> Option<Vec<u8>> {
    use regex_automata::dfa::{StartKind, dense};
    use regex_automata::nfa::thompson;
    use regex_automata::util::syntax;
    let dfa = dense::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .thompson(thompson::Config::new().utf8(false))
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Unanchored)
                .minimize(minimize)
                .dfa_size_limit(Some(limit))
                .determinize_size_limit(Some(4 * limit)),
        )
        .build_many(patterns)
        .ok()?;
    let (bytes, padding) = dfa.to_bytes_native_endian();
    Some(bytes[padding..].to_vec())
}

/// Largest DFA kept for one pattern, and for the residual set; a bigger one is compiled at run
/// time as before (the binary would grow more than a start-up gains).
const LINE_DFA_LIMIT: usize = 64 << 10;
const RESIDUAL_DFA_LIMIT: usize = 4 << 20;

/// Writes `static NAME: [TY; N] = [ … ];` to `out`, each of `items` as `item` writes it, one
/// a line.
fn static_array<T>(
    out: &mut String,
    name: &str,
    ty: &str,
    items: &[T],
    item: impl Fn(&T) -> String,
) {
    writeln!(out, "static {name}: [{ty}; {}] = [", items.len()).unwrap();
    for t in items {
        writeln!(out, "    {},", item(t)).unwrap();
    }
    writeln!(out, "];").unwrap();
}

/// The build-time DFAs (`src/automata.rs`): one per pattern form the scanner runs on a line
/// (`forms`, sorted and without repeats) and one of the literal gate's residual patterns, in
/// one blob with each DFA at an 8-aligned offset.
fn automata(forms: &[String], residual: &[String], out_dir: &Path) -> String {
    let mut blob: Vec<u8> = Vec::new();
    let mut place = |bytes: Vec<u8>| {
        blob.resize(blob.len().next_multiple_of(8), 0);
        let at = (blob.len() as u32, bytes.len() as u32);
        blob.extend_from_slice(&bytes);
        at
    };
    let mut out = String::new();
    let mut line_dfas = Vec::new();
    for form in forms {
        if let Some(bytes) = dfa_bytes(&[form], LINE_DFA_LIMIT, true) {
            let (start, len) = place(bytes);
            line_dfas.push((form, start, len));
        }
    }
    let (kept, skipped) = (line_dfas.len(), forms.len() - line_dfas.len());
    let residual_refs: Vec<&str> = residual.iter().map(String::as_str).collect();
    let residual_dfa = match dfa_bytes(&residual_refs, RESIDUAL_DFA_LIMIT, false) {
        Some(bytes) => format!("Some({:?})", place(bytes)),
        None => "None".to_string(),
    };
    let path = out_dir.join("automata.bin");
    std::fs::write(&path, &blob).unwrap();
    writeln!(
        out,
        "// {kept} pattern DFAs, {skipped} patterns left to run time, {} bytes in all.",
        blob.len()
    )
    .unwrap();
    writeln!(
        out,
        "static AUTOMATA: &Aligned<[u8]> = &Aligned {{ bytes: *include_bytes!({:?}) }};",
        path.display().to_string()
    )
    .unwrap();
    static_array(
        &mut out,
        "LINE_DFAS",
        "(&str, u32, u32)",
        &line_dfas,
        |(form, start, len)| format!("({form:?}, {start}, {len})"),
    );
    writeln!(out, "static RESIDUAL_SOURCES: &[&str] = &{residual:?};").unwrap();
    writeln!(
        out,
        "const RESIDUAL_DFA: Option<(u32, u32)> = {residual_dfa};"
    )
    .unwrap();
    out
}

/// The literal gate's prefixes of every pattern (and of the scanner's own two), sorted by
/// source, as a Rust static, and the `LiteralTable` of their literals (each owned by its
/// pattern's index in that list) as `GATE_*` statics, its bytes written beside them (included
/// by `src/literals.rs`).
fn gate_prefixes(mut sources: Vec<String>, out_dir: &Path) -> (String, Vec<String>) {
    sources.push("Error".into());
    sources.push("Open On-Chip Debugger".into());
    sources.sort();
    sources.dedup();
    let mut out = String::from("static EMBEDDED_PREFIXES: &[(&str, Option<&[&[u8]]>)] = &[\n");
    let mut literals = Vec::new();
    let mut residual = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let prefixes = match prefixes::required_prefixes(s) {
            None => {
                residual.push(s.clone());
                "None".to_string()
            }
            Some(ls) => {
                literals.extend(ls.iter().map(|l| (l.clone(), i as u32)));
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
    let table = literal_table::LiteralTable::build(literals).expect("the gate's literals");
    let bytes = out_dir.join("gate_bytes.bin");
    std::fs::write(&bytes, &*table.bytes).unwrap();
    let t = &table;
    writeln!(
        out,
        "static GATE_BYTES: &[u8] = include_bytes!({:?});",
        bytes.display().to_string()
    )
    .unwrap();
    static_array(
        &mut out,
        "GATE_LITERALS",
        "(u32, u32, u32)",
        &t.literals,
        |x| format!("{x:?}"),
    );
    static_array(&mut out, "GATE_HEADS", "[u8; 3]", &t.heads, |x| {
        format!("{x:?}")
    });
    static_array(&mut out, "GATE_HEAD_STARTS", "u32", &t.head_starts, |x| {
        format!("{x:?}")
    });
    static_array(&mut out, "GATE_PAIRS", "u64", &t.pairs, |x| {
        format!("{x:?}")
    });
    writeln!(out, "const GATE_MIN_LEN: u32 = {};", t.min_len).unwrap();
    (out, residual)
}

/// The knowledge base's TOML values as the static tables `src/kb_tree.rs` reads: nodes
/// (`Node::…` Rust expressions), table entries (key start, key length, node) and one string
/// blob, every distinct string once. A node's children are contiguous, so a node is two numbers.
#[derive(Default)]
struct TreeWriter {
    strings: String,
    string_at: HashMap<String, (u32, u32)>,
    nodes: Vec<String>,
    entries: Vec<(u32, u32, u32)>,
}

impl TreeWriter {
    fn string(&mut self, s: &str) -> (u32, u32) {
        if let Some(&at) = self.string_at.get(s) {
            return at;
        }
        let at = (self.strings.len() as u32, s.len() as u32);
        self.strings.push_str(s);
        self.string_at.insert(s.to_string(), at);
        at
    }

    /// A new root node for `value`; its index.
    fn root(&mut self, value: &toml::Value, file: &str) -> u32 {
        self.nodes.push(String::new());
        let slot = self.nodes.len() - 1;
        self.write(slot, value, file);
        slot as u32
    }

    /// Writes `value` into the node `slot`, its children into new contiguous slots.
    fn write(&mut self, slot: usize, value: &toml::Value, file: &str) {
        let node = match value {
            toml::Value::String(s) => {
                let (start, len) = self.string(s);
                format!("Node::Str({start}, {len})")
            }
            toml::Value::Integer(i) => format!("Node::Int({i})"),
            toml::Value::Float(f) if f.is_finite() => format!("Node::Float({f:?})"),
            toml::Value::Boolean(b) => format!("Node::Bool({b})"),
            toml::Value::Array(items) => {
                let first = self.nodes.len();
                self.nodes.resize(first + items.len(), String::new());
                for (i, item) in items.iter().enumerate() {
                    self.write(first + i, item, file);
                }
                format!("Node::Array({first}, {})", items.len())
            }
            toml::Value::Table(table) => {
                let first = self.entries.len();
                self.entries.resize(first + table.len(), (0, 0, 0));
                let first_node = self.nodes.len();
                self.nodes.resize(first_node + table.len(), String::new());
                for (i, (key, item)) in table.iter().enumerate() {
                    let (start, len) = self.string(key);
                    self.write(first_node + i, item, file);
                    self.entries[first + i] = (start, len, (first_node + i) as u32);
                }
                format!("Node::Table({first}, {})", table.len())
            }
            other => panic!("rules/{file}: the knowledge base has no use for the value {other}"),
        };
        self.nodes[slot] = node;
    }

    /// The tables as Rust source (included by `src/kb_tree.rs`), the blob written beside it.
    fn source(&self, files: &[(String, u32)], out_dir: &Path) -> String {
        let blob = out_dir.join("kb_strings.txt");
        std::fs::write(&blob, &self.strings).unwrap();
        let mut out = format!(
            "static KB_STRINGS: &str = include_str!({:?});\n",
            blob.display().to_string()
        );
        static_array(&mut out, "KB_NODES", "Node", &self.nodes, |n| n.clone());
        static_array(&mut out, "KB_ENTRIES", "Entry", &self.entries, |e| {
            format!("{e:?}")
        });
        static_array(
            &mut out,
            "KB_FILES_TREE",
            "(&str, u32)",
            files,
            |(path, root)| format!("({path:?}, {root})"),
        );
        out
    }
}

/// The catalog's tables as Rust statics (included by `src/catalog.rs`).
fn catalog_index(messages: &str) -> String {
    let rows = catalog_rows::rows(messages);
    let (keys, key_of_row) = catalog_rows::keys(&rows);
    let (starts, formats) = catalog_rows::formats_by_key(&key_of_row, keys.len());
    let grams = catalog_rows::grams(&keys);
    let mut out = String::new();
    static_array(&mut out, "EMBEDDED_FORMATS", "Format", &rows, |r| {
        format!(
            "Format {{ level: Cow::Borrowed({:?}), subsystem: Cow::Borrowed({:?}), file: Cow::Borrowed({:?}), sources: Cow::Borrowed({:?}), text: Cow::Borrowed({:?}), pieces: OnceLock::new(), family: OnceLock::new(), literal_chars: {} }}",
            r.level, r.subsystem, r.file, r.sources, r.text, r.literal_chars
        )
    });
    static_array(&mut out, "EMBEDDED_KEYS", "Cow<'static, str>", &keys, |k| {
        format!("Cow::Borrowed({k:?})")
    });
    static_array(
        &mut out,
        "EMBEDDED_GRAMS",
        "([u8; KEY_GRAM], u32)",
        &grams,
        |(g, k)| format!("({g:?}, {k})"),
    );
    static_array(&mut out, "EMBEDDED_KEY_STARTS", "u32", &starts, |n| {
        n.to_string()
    });
    static_array(&mut out, "EMBEDDED_KEY_FORMATS", "u32", &formats, |n| {
        n.to_string()
    });
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
    let mut anchored = Vec::new();

    let mut toml_src = String::from(
        "/// (path relative to rules/, contents) of every TOML file in the knowledge base.\n#[allow(dead_code)]\npub static KB_FILES: &[(&str, &str)] = &[\n",
    );
    let mut tree = TreeWriter::default();
    let mut roots = Vec::new();
    for f in &files {
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
        regexes(&value, &mut sources, &mut anchored);
        roots.push((rel.clone(), tree.root(&value, &rel)));
    }
    toml_src.push_str("];\n");

    // Directories too, so a new rule folder (not only a changed file) triggers a rebuild.
    let mut dirs = vec![rules.clone()];
    while let Some(d) = dirs.pop() {
        println!("cargo:rerun-if-changed={}", d.display());
        if let Ok(rd) = std::fs::read_dir(&d) {
            dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    std::fs::write(out_dir.join("kb_files.rs"), toml_src).unwrap();
    std::fs::write(out_dir.join("kb_tree.rs"), tree.source(&roots, &out_dir)).unwrap();

    for shared in [
        "src/prefixes.rs",
        "src/literal_table.rs",
        "src/anchor_form.rs",
    ] {
        println!("cargo:rerun-if-changed={}", manifest.join(shared).display());
    }
    let (gate, residual) = gate_prefixes(sources.clone(), &out_dir);
    std::fs::write(out_dir.join("gate_prefixes.rs"), gate).unwrap();
    let mut forms = sources;
    forms.extend(anchored);
    forms.sort();
    forms.dedup();
    std::fs::write(
        out_dir.join("automata.rs"),
        automata(&forms, &residual, &out_dir),
    )
    .unwrap();

    let messages = rules.join("catalog/messages.tsv");
    println!("cargo:rerun-if-changed={}", messages.display());
    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("src/catalog_rows.rs").display()
    );
    let messages = std::fs::read_to_string(&messages).expect("rules/catalog/messages.tsv");
    std::fs::write(out_dir.join("catalog_index.rs"), catalog_index(&messages)).unwrap();
}
