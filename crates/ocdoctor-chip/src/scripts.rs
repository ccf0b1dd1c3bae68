//! An index of an OpenOCD scripts tree: which cfg expects which TAP/DP ids.
//!
//! Line-oriented on purpose: the cfgs are Tcl, but ids are declared in a few
//! stereotyped ways (`-expected-id 0x…`, `set _CPUTAPID 0x…` consumed by
//! `-expected-id $_CPUTAPID`, ids set for a file that sources another), and a
//! brace stack is enough to know whether a `set` sits under `[using_jtag]`,
//! its else-branch, or the `info exists` default.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// How an id reaches `-expected-id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Declared {
    /// `-expected-id 0x…` written out.
    Literal,
    /// `set VAR 0x…` then `-expected-id $VAR` in the same file.
    Variable(String),
    /// `set VAR 0x…` never used here: a file sourced later consumes it.
    SetOnly(String),
    /// `-expected-id $VAR` where VAR comes from another file (id unknown here).
    FromOtherFile(String),
}

/// One declared id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdDecl {
    /// Relative to the scripts dir, with `/` separators (`target/stm32f1x.cfg`).
    pub cfg: String,
    /// `None` for [`Declared::FromOtherFile`].
    pub idcode: Option<u32>,
    /// 1-based line of the id literal.
    pub line: usize,
    pub declared: Declared,
    /// `jtag`, `swd(else of using_jtag)`, `default(overridable)`, `cond:…` or empty.
    pub transport_context: String,
}

impl IdDecl {
    /// True when this declaration applies to `transport` ("jtag"/"swd");
    /// declarations not tied to a transport apply to both.
    pub fn applies_to(&self, transport: &str) -> bool {
        match self.transport_context.as_str() {
            "jtag" => transport == "jtag",
            "swd(else of using_jtag)" => transport != "jtag",
            _ => true,
        }
    }
}

/// What a cfg file says about itself, for ranking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CfgInfo {
    /// Flash drivers from `flash bank … <driver>`.
    pub flash_drivers: Vec<String>,
    /// Target types from `target create … <type>`.
    pub target_types: Vec<String>,
    /// Cores named in comments (`Cortex-M4`, …).
    pub cores_mentioned: Vec<String>,
    /// Files it sources (`source [find target/…]`).
    pub sources: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ScriptsIndex {
    pub root: PathBuf,
    pub decls: Vec<IdDecl>,
    pub files: BTreeMap<String, CfgInfo>,
}

impl ScriptsIndex {
    /// Index every `.cfg`/`.tcl` under `root`. Unreadable files are skipped.
    pub fn build(root: &Path) -> ScriptsIndex {
        let mut paths = Vec::new();
        walk(root, &mut paths);
        paths.sort();
        let mut index = ScriptsIndex {
            root: root.to_path_buf(),
            ..ScriptsIndex::default()
        };
        for p in paths {
            let Ok(bytes) = fs::read(&p) else { continue };
            let text = String::from_utf8_lossy(&bytes);
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let (decls, info) = index_text(&rel, &text);
            index.decls.extend(decls);
            index.files.insert(rel, info);
        }
        index
    }

    /// Declarations of `id`.
    pub fn expecting(&self, id: u32) -> Vec<&IdDecl> {
        self.decls.iter().filter(|d| d.idcode == Some(id)).collect()
    }

    /// Declarations in one cfg.
    pub fn declared_in(&self, cfg: &str) -> Vec<&IdDecl> {
        self.decls.iter().filter(|d| d.cfg == cfg).collect()
    }

    pub fn exists(&self, cfg: &str) -> bool {
        self.files.contains_key(cfg)
    }

    pub fn info(&self, cfg: &str) -> Option<&CfgInfo> {
        self.files.get(cfg)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(_) => {
                if matches!(p.extension().and_then(|x| x.to_str()), Some("cfg" | "tcl")) {
                    out.push(p);
                }
            }
            Err(_) => {}
        }
    }
}

fn parse_hex(tok: &str) -> Option<u32> {
    let t = tok.trim_matches(|c| c == '"' || c == '{' || c == '}' || c == ';');
    let h = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    if h.is_empty() || h.len() > 8 {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

fn var_name(tok: &str) -> Option<String> {
    let t = tok.trim_matches(|c| c == '"' || c == ';');
    let v = t.strip_prefix('$')?;
    let v = v.trim_start_matches('{').trim_end_matches('}');
    let v: String = v
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    (!v.is_empty()).then_some(v)
}

/// Variable names that plausibly hold an id (as idcodes.tsv counts them).
fn id_like(var: &str) -> bool {
    let u = var.to_ascii_uppercase();
    (u.contains("TAPID") || u.contains("IDCODE") || u.ends_with("_ID") || u.ends_with("ID"))
        && !u.contains("WIDTH")
}

#[derive(Clone, Debug)]
struct Frame {
    label: String,
}

fn context_of(stack: &[Frame]) -> String {
    // The innermost transport decision wins; otherwise an `info exists`
    // else-branch means "default, overridable by the user".
    for f in stack.iter().rev() {
        match f.label.as_str() {
            "jtag" => return "jtag".into(),
            "else of jtag" => return "swd(else of using_jtag)".into(),
            _ => {}
        }
    }
    for f in stack.iter().rev() {
        if f.label == "else of exists" {
            return "default(overridable)".into();
        }
        if let Some(c) = f.label.strip_prefix("cond:") {
            return format!("cond:{c}");
        }
    }
    String::new()
}

/// Index one file's text (exposed for tests on fixture text).
pub fn index_text(rel: &str, text: &str) -> (Vec<IdDecl>, CfgInfo) {
    let mut info = CfgInfo::default();
    let mut stack: Vec<Frame> = Vec::new();
    // (var, value, line, context)
    let mut sets: Vec<(String, u32, usize, String)> = Vec::new();
    let mut uses: Vec<(String, usize)> = Vec::new();
    let mut decls = Vec::new();

    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with('#') {
            collect_cores(trimmed, &mut info);
            continue;
        }
        let code = match trimmed.find(";#") {
            Some(p) => &trimmed[..p],
            None => trimmed,
        };
        let ctx = context_of(&stack);
        let toks: Vec<&str> = code.split_whitespace().collect();

        for (k, t) in toks.iter().enumerate() {
            if *t == "-expected-id" {
                if let Some(next) = toks.get(k + 1) {
                    if let Some(v) = parse_hex(next) {
                        decls.push(IdDecl {
                            cfg: rel.into(),
                            idcode: Some(v),
                            line: lineno,
                            declared: Declared::Literal,
                            transport_context: ctx.clone(),
                        });
                    } else if let Some(var) = var_name(next) {
                        uses.push((var, lineno));
                    }
                }
            }
        }
        if toks.first() == Some(&"set") && toks.len() >= 3 {
            let var = toks[1].trim_start_matches("::").to_string();
            if let Some(v) = parse_hex(toks[2]) {
                sets.push((var, v, lineno, ctx.clone()));
            }
        }
        if toks.len() >= 5 && toks[0] == "flash" && toks[1] == "bank" {
            info.flash_drivers.push(toks[3].to_string());
        }
        if toks.len() >= 4 && toks[0] == "target" && toks[1] == "create" {
            info.target_types.push(toks[3].to_string());
        }
        if toks.first() == Some(&"source") {
            if let Some(p) = code.split("find ").nth(1) {
                info.sources
                    .push(p.trim_end_matches(']').trim().to_string());
            }
        }

        // Brace bookkeeping for the transport context of later lines.
        let mut popped: Option<String> = None;
        let depth_before = stack.len();
        for c in code.chars() {
            match c {
                '{' => stack.push(Frame {
                    label: String::new(),
                }),
                '}' => {
                    if let Some(f) = stack.pop() {
                        popped = Some(f.label);
                    }
                }
                _ => {}
            }
        }
        let opened_here = stack.len() > depth_before || popped.is_some();
        if opened_here && code.ends_with('{') {
            let is_if = code.starts_with("if") || code.starts_with("} elseif");
            let is_else = code.starts_with("} else") || code.starts_with("} {");
            let label = if code.starts_with("} elseif") || is_if {
                if code.contains("using_jtag") && !code.contains("![using_jtag]") {
                    "jtag".to_string()
                } else if code.contains("info exists") {
                    "exists".to_string()
                } else {
                    format!("cond:{}", code.chars().take(40).collect::<String>())
                }
            } else if is_else {
                match popped.as_deref() {
                    Some("jtag") => "else of jtag".into(),
                    Some("exists") => "else of exists".into(),
                    Some(l) if l.starts_with("cond:") => format!("else of {l}"),
                    _ => String::new(),
                }
            } else {
                String::new()
            };
            if let Some(top) = stack.last_mut() {
                top.label = label;
            }
        }
    }

    let used: Vec<&str> = uses.iter().map(|(v, _)| v.as_str()).collect();
    for (var, line) in &uses {
        let mine: Vec<&(String, u32, usize, String)> =
            sets.iter().filter(|(v, ..)| v == var).collect();
        if mine.is_empty() {
            decls.push(IdDecl {
                cfg: rel.into(),
                idcode: None,
                line: *line,
                declared: Declared::FromOtherFile(var.clone()),
                transport_context: String::new(),
            });
        }
    }
    let mut seen_set = std::collections::HashSet::new();
    for (var, v, line, ctx) in &sets {
        // A variable the file uses is a declaration; one it only sets counts when its name
        // says it is an id.
        let declared = if used.contains(&var.as_str()) {
            seen_set
                .insert((var.clone(), *line))
                .then(|| Declared::Variable(var.clone()))
        } else {
            id_like(var).then(|| Declared::SetOnly(var.clone()))
        };
        if let Some(declared) = declared {
            decls.push(IdDecl {
                cfg: rel.into(),
                idcode: Some(*v),
                line: *line,
                declared,
                transport_context: ctx.clone(),
            });
        }
    }
    decls.sort_by_key(|d| d.line);
    (decls, info)
}

fn collect_cores(comment: &str, info: &mut CfgInfo) {
    let lower = comment.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(p) = rest.find("cortex-m") {
        let tail = &rest[p + "cortex-m".len()..];
        let num: String = tail
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '+' || *c == 'p')
            .collect();
        if !num.is_empty() {
            let core = format!("Cortex-M{}", num.to_ascii_uppercase());
            if !info.cores_mentioned.contains(&core) {
                info.cores_mentioned.push(core);
            }
        }
        rest = tail;
    }
}
