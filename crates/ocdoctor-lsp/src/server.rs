//! The server's state and its handlers: open buffers, what each check published, and the
//! answers to hover, definition, completion and code actions.

use crate::engine::{self, Finding};
use crate::knowledge;
use crate::text::{self, Document};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CompletionItem, CompletionItemKind,
    CompletionResponse, CompletionTextEdit, Diagnostic, DiagnosticSeverity, GotoDefinitionResponse,
    Hover, HoverContents, Location, MarkupContent, MarkupKind, NumberOrString, Position, Range,
    TextEdit, Url, WorkspaceEdit,
};
use ocdoctor_core::kb::Severity;
use ocdoctor_engine::check::Options;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// How many completion items one answer carries (the client filters further as you type).
const MAX_COMPLETIONS: usize = 300;

/// One published diagnostic and the fix that goes with it.
#[derive(Debug, Clone)]
pub struct Published {
    pub target: Url,
    pub diagnostic: Diagnostic,
    pub fix: Option<(Url, TextEdit)>,
}

#[derive(Default)]
pub struct State {
    /// Open buffers by URI, each with its line index (built once per version).
    pub docs: HashMap<Url, Document>,
    /// The folder checks run in (the workspace root; `ocdoctor check` run there).
    pub root: PathBuf,
    pub options: Options,
    /// What the check of each open document found, in whichever files it found it.
    pub published: HashMap<Url, Vec<Published>>,
    /// The cfg files of the installed scripts tree (relative names), read on first use.
    cfg_names: Option<Vec<String>>,
    scripts_dirs: Option<Vec<PathBuf>>,
}

/// Whether the server checks this file: OpenOCD scripts and the launch files `check` reads.
pub fn is_checked(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    matches!(ext, "cfg" | "tcl" | "launch")
        || name == "platformio.ini"
        || (name == "launch.json"
            && path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|d| d == ".vscode"))
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .is_some_and(|x| b.canonicalize().ok() == Some(x))
}

impl State {
    pub fn new(root: PathBuf) -> State {
        State {
            root,
            ..Default::default()
        }
    }

    fn scripts_dirs(&mut self) -> &[PathBuf] {
        let options = &self.options;
        self.scripts_dirs
            .get_or_insert_with(|| engine::scripts_dirs(options))
    }

    /// The text the check read for a file: the buffer when it is open, else the disk.
    fn text_of(&self, path: &Path) -> Option<Cow<'_, Document>> {
        let open = self
            .docs
            .iter()
            .find(|(u, _)| u.to_file_path().is_ok_and(|p| same_file(&p, path)));
        match open {
            Some((_, d)) => Some(Cow::Borrowed(d)),
            None => std::fs::read(path)
                .ok()
                .map(|b| Cow::Owned(Document::new(String::from_utf8_lossy(&b).into_owned()))),
        }
    }

    /// Check a document; returns the URIs whose diagnostics changed (to publish).
    pub fn check(&mut self, uri: &Url) -> Vec<Url> {
        let Ok(path) = uri.to_file_path() else {
            return Vec::new();
        };
        let overlays: Vec<(PathBuf, String)> = self
            .docs
            .iter()
            .filter_map(|(u, d)| Some((u.to_file_path().ok()?, d.text.clone())))
            .collect();
        let found = match engine::check_file(&path, &overlays, &self.root, &self.options) {
            Ok(f) => f,
            Err(reason) => vec![Finding {
                path: None,
                bytes: 0..0,
                rule: None,
                severity: Severity::Error,
                title: format!("ocdoctor could not check this file: {reason}"),
                message: reason,
                edit: None,
            }],
        };
        let mut entries = Vec::new();
        for f in found {
            if let Some(p) = self.locate(uri, &path, f) {
                entries.push(p);
            }
        }
        let old = self
            .published
            .insert(uri.clone(), entries)
            .unwrap_or_default();
        let mut targets: BTreeSet<Url> = old.into_iter().map(|p| p.target).collect();
        targets.extend(self.published[uri].iter().map(|p| p.target.clone()));
        // The checked file always: a check that finds nothing clears what an earlier one found.
        targets.insert(uri.clone());
        targets.into_iter().collect()
    }

    /// A finding as an LSP diagnostic in its file (`None`: that file cannot be read).
    fn locate(&self, uri: &Url, path: &Path, f: Finding) -> Option<Published> {
        let (target, target_text) = match &f.path {
            Some(p) if !same_file(p, path) => (Url::from_file_path(p).ok()?, self.text_of(p)?),
            _ => (
                uri.clone(),
                self.docs
                    .get(uri)
                    .map(Cow::Borrowed)
                    .or_else(|| self.text_of(path))?,
            ),
        };
        let mut message = f.title.clone();
        if f.path.is_none() && f.rule.is_some() {
            // On the command line the check built: shown at the top of the file.
            message += " (on the OpenOCD command line that runs this file)";
        }
        let diagnostic = Diagnostic {
            range: target_text.range(f.bytes.start, f.bytes.end),
            severity: Some(match f.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
                Severity::Info => DiagnosticSeverity::INFORMATION,
            }),
            code: Some(NumberOrString::String(
                f.rule.clone().unwrap_or(f.message.clone()),
            )),
            source: Some("ocdoctor".into()),
            message,
            ..Default::default()
        };
        let fix = f.edit.and_then(|e| {
            let t = if same_file(&e.path, path) {
                self.docs
                    .get(uri)
                    .map(Cow::Borrowed)
                    .or_else(|| self.text_of(&e.path))?
            } else {
                self.text_of(&e.path)?
            };
            let range = t.range(e.bytes.start, e.bytes.end);
            Some((
                Url::from_file_path(&e.path).ok()?,
                TextEdit::new(range, e.replacement),
            ))
        });
        Some(Published {
            target,
            diagnostic,
            fix,
        })
    }

    /// Everything published for a file, by every open document's check (each once).
    pub fn diagnostics_for(&self, target: &Url) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = Vec::new();
        for p in self.published.values().flatten() {
            if &p.target == target && !out.contains(&p.diagnostic) {
                out.push(p.diagnostic.clone());
            }
        }
        out
    }

    /// Quick fixes for the diagnostics that touch `range`.
    pub fn code_actions(&self, uri: &Url, range: Range) -> Vec<CodeActionOrCommand> {
        let touches = |r: &Range| r.start <= range.end && range.start <= r.end;
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for p in self.published.values().flatten() {
            let Some((file, edit)) = &p.fix else { continue };
            if &p.target != uri || !touches(&p.diagnostic.range) || seen.contains(&p.diagnostic) {
                continue;
            }
            seen.push(p.diagnostic.clone());
            let changes = HashMap::from([(file.clone(), vec![edit.clone()])]);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("ocdoctor: {}", fix_title(edit)),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![p.diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }));
        }
        out
    }

    /// Hover: a rule code anywhere, an OpenOCD command in a script or launch file.
    pub fn hover(&self, uri: &Url, pos: Position) -> Option<Hover> {
        let d = self.docs.get(uri)?;
        let doc = d.text.as_str();
        let at = d.offset(pos);
        let (a, b) = text::word_at(doc, at)?;
        let word = &doc[a..b];
        let md = if is_rule_code(word) {
            knowledge::rule_hover(word)?
        } else {
            let name = command_name(doc, a, b)?;
            let help = engine::openocd_help(&self.options, &name);
            knowledge::command_hover(&name, help.as_deref())?
        };
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: md,
            }),
            range: Some(d.range(a, b)),
        })
    }

    /// Go to the file a `source [find X]` / `-f X` / `configFiles` name resolves to.
    pub fn definition(&mut self, uri: &Url, pos: Position) -> Option<GotoDefinitionResponse> {
        let d = self.docs.get(uri)?;
        let at = d.offset(pos);
        let (a, b) = text::word_at(&d.text, at)?;
        let name = d.text[a..b].to_string();
        let name = name.as_str();
        if !(name.ends_with(".cfg") || name.ends_with(".tcl")) {
            return None;
        }
        let here = uri.to_file_path().ok()?;
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(d) = here.parent() {
            dirs.push(d.to_path_buf());
        }
        dirs.push(self.root.clone());
        dirs.extend(self.scripts_dirs().iter().cloned());
        let found = if Path::new(name).is_absolute() {
            Some(PathBuf::from(name)).filter(|p| p.is_file())
        } else {
            dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
        }?;
        let target = Url::from_file_path(found.canonicalize().unwrap_or(found)).ok()?;
        Some(GotoDefinitionResponse::Scalar(Location::new(
            target,
            Range::default(),
        )))
    }

    /// Cfg names from the installed scripts tree that start with the name being typed.
    pub fn completion(&mut self, uri: &Url, pos: Position) -> Option<CompletionResponse> {
        let d = self.docs.get(uri)?;
        let at = d.offset(pos);
        let start = text::word_at(&d.text, at).map_or(at, |(a, _)| a.min(at));
        let typed = d.text[start..at].to_string();
        let range = d.range(start, at);
        if self.cfg_names.is_none() {
            let names = cfg_names(self.scripts_dirs());
            self.cfg_names = Some(names);
        }
        let names = self.cfg_names.as_deref().unwrap_or(&[]);
        let matching: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with(typed.as_str()))
            .collect();
        let items = matching
            .iter()
            .take(MAX_COMPLETIONS)
            .map(|n| CompletionItem {
                label: (*n).clone(),
                kind: Some(CompletionItemKind::FILE),
                detail: Some("OpenOCD script (installed)".into()),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, (*n).clone()))),
                ..Default::default()
            })
            .collect();
        Some(CompletionResponse::List(lsp_types::CompletionList {
            is_incomplete: matching.len() > MAX_COMPLETIONS,
            items,
        }))
    }
}

fn fix_title(edit: &TextEdit) -> String {
    if edit.new_text.is_empty() {
        "delete it".into()
    } else {
        format!("replace with `{}`", edit.new_text.trim())
    }
}

fn is_rule_code(w: &str) -> bool {
    w.len() == 6
        && w[..3].chars().all(|c| c.is_ascii_uppercase())
        && w[3..].chars().all(|c| c.is_ascii_digit())
}

/// The command the word at `a..b` names: with its neighbour on the line when the pair is a
/// two-word command (`adapter speed`), else alone.
fn command_name(doc: &str, a: usize, b: usize) -> Option<String> {
    let line_start = doc[..a].rfind('\n').map_or(0, |i| i + 1);
    let line_end = doc[b..].find('\n').map_or(doc.len(), |i| b + i);
    let before: Vec<&str> = doc[line_start..a].split_whitespace().collect();
    let after: Vec<&str> = doc[b..line_end].split_whitespace().collect();
    let word = &doc[a..b];
    let clean = |s: &str| s.trim_matches(|c: char| "\"'[]{};".contains(c)).to_string();
    let mut candidates = Vec::new();
    if let Some(prev) = before.last() {
        candidates.push(format!("{} {word}", clean(prev)));
    }
    if let Some(next) = after.first() {
        candidates.push(format!("{word} {}", clean(next)));
    }
    candidates.push(word.to_string());
    candidates
        .into_iter()
        .find(|c| knowledge::command(c).is_some() || knowledge::command_hover(c, None).is_some())
}

/// Every `.cfg` under the scripts folders, as `find` names it (`interface/stlink.cfg`).
fn cfg_names(dirs: &[PathBuf]) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>, depth: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && depth < 8 {
                walk(root, &p, out, depth + 1);
            } else if p.extension().is_some_and(|x| x == "cfg")
                && let Ok(rel) = p.strip_prefix(root)
            {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    for d in dirs {
        walk(d, d, &mut out, 0);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_files() {
        for p in [
            "a/board.cfg",
            "x.tcl",
            "proj/.vscode/launch.json",
            "dbg.launch",
            "platformio.ini",
        ] {
            assert!(is_checked(Path::new(p)), "{p}");
        }
        for p in ["launch.json", "a/README.md", "settings.json"] {
            assert!(!is_checked(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn two_word_commands() {
        let doc = "  adapter speed 4000\nadapter_khz 100\n";
        let a = doc.find("speed").unwrap();
        assert_eq!(
            command_name(doc, a, a + 5).as_deref(),
            Some("adapter speed")
        );
        let a = doc.find("adapter_khz").unwrap();
        assert_eq!(command_name(doc, a, a + 11).as_deref(), Some("adapter_khz"));
        assert!(is_rule_code("CFG106") && !is_rule_code("cfg106") && !is_rule_code("CFG10"));
    }
}
