//! A span-keeping reader for PlatformIO's `platformio.ini` (Python `ConfigParser` as PlatformIO
//! configures it): `[section]` headers, `key = value` (first `=` or `:`), full-line `;`/`#`
//! comments (also between the lines of a multi-line value), inline comments after whitespace,
//! multi-line values whose continuation lines are indented, `extends`, and lazy `${section.option}`
//! / `${sysenv.NAME}` / `${this.__env__}` interpolation with a cycle guard.
//!
//! Never fails: a line it cannot read is recorded in [`Ini::errors`] and skipped.

use crate::Span;
use std::collections::HashMap;

/// One `key = value` (with its continuation lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEntry {
    pub key: String,
    pub key_span: Span,
    /// Each line of the value (the first is the text after `=`, maybe empty), comments removed,
    /// trimmed, with its span in the file. Empty lines are dropped.
    pub lines: Vec<(String, Span)>,
    /// From the key to the end of the last value line.
    pub span: Span,
}

impl IniEntry {
    /// The value as ConfigParser returns it: the lines joined with `\n`.
    pub fn value(&self) -> String {
        self.lines
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniSection {
    pub name: String,
    pub header_span: Span,
    /// From the header to the end of its last entry.
    pub span: Span,
    pub entries: Vec<IniEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    pub sections: Vec<IniSection>,
    /// Lines that are neither a header, an entry, a continuation nor a comment.
    pub errors: Vec<(Span, String)>,
}

/// Strip an inline comment: `;` or `#` preceded by whitespace.
fn strip_inline(s: &str) -> &str {
    let b = s.as_bytes();
    for i in 1..b.len() {
        if (b[i] == b';' || b[i] == b'#') && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return &s[..i];
        }
    }
    s
}

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut off = 0;
        // Entries before any header go to an unnamed section (ConfigParser rejects them).
        for raw_line in text.split_inclusive('\n') {
            let start = off;
            off += raw_line.len();
            let line = raw_line.trim_end_matches(['\n', '\r']);
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
                continue;
            }
            // A continuation line: indented and inside an entry.
            if indent > 0
                && let Some(e) = ini.sections.last_mut().and_then(|s| s.entries.last_mut())
            {
                let v = strip_inline(trimmed).trim_end();
                let vs = start + indent;
                e.lines.push((v.to_string(), vs..vs + v.len()));
                e.span.end = vs + v.len();
                if let Some(s) = ini.sections.last_mut() {
                    s.span.end = vs + v.len();
                }
                continue;
            }
            if trimmed.starts_with('[') {
                match trimmed.find(']') {
                    Some(j) => {
                        let name = trimmed[1..j].trim().to_string();
                        let hs = start + indent;
                        ini.sections.push(IniSection {
                            name,
                            header_span: hs..hs + j + 1,
                            span: hs..hs + j + 1,
                            entries: Vec::new(),
                        });
                    }
                    None => ini.errors.push((
                        start + indent..start + line.len(),
                        "section header without `]`".into(),
                    )),
                }
                continue;
            }
            let delim = trimmed.find(['=', ':']);
            let Some(d) = delim else {
                ini.errors.push((
                    start + indent..start + line.len(),
                    "expected `key = value`".into(),
                ));
                continue;
            };
            let key = trimmed[..d].trim_end();
            let ks = start + indent;
            let after = &trimmed[d + 1..];
            let lead = after.len() - after.trim_start().len();
            let v = strip_inline(after.trim_start()).trim_end();
            let vs = ks + d + 1 + lead;
            if ini.sections.is_empty() {
                ini.sections.push(IniSection {
                    name: String::new(),
                    header_span: 0..0,
                    span: 0..0,
                    entries: Vec::new(),
                });
            }
            let sec = ini.sections.last_mut().expect("pushed above");
            let mut lines = Vec::new();
            if !v.is_empty() {
                lines.push((v.to_string(), vs..vs + v.len()));
            }
            sec.entries.push(IniEntry {
                key: key.to_string(),
                key_span: ks..ks + key.len(),
                lines,
                span: ks..vs + v.len(),
            });
            sec.span.end = vs + v.len();
        }
        ini
    }

    pub fn section(&self, name: &str) -> Option<&IniSection> {
        self.sections.iter().rev().find(|s| s.name == name)
    }

    /// The entry for `key` as PlatformIO looks it up for section `name`: the section itself, then
    /// the sections it `extends` (depth-first, in order), then `[env]` for `env:` sections.
    pub fn lookup(&self, name: &str, key: &str) -> Option<(&IniSection, &IniEntry)> {
        let mut seen = Vec::new();
        self.lookup_in(name, key, &mut seen).or_else(|| {
            if name.starts_with("env:") {
                let s = self.section("env")?;
                s.entries
                    .iter()
                    .rev()
                    .find(|e| e.key == key)
                    .map(|e| (s, e))
            } else {
                None
            }
        })
    }

    fn lookup_in<'a>(
        &'a self,
        name: &str,
        key: &str,
        seen: &mut Vec<String>,
    ) -> Option<(&'a IniSection, &'a IniEntry)> {
        if seen.iter().any(|s| s == name) || seen.len() > 32 {
            return None;
        }
        seen.push(name.to_string());
        let s = self.section(name)?;
        if let Some(e) = s.entries.iter().rev().find(|e| e.key == key) {
            return Some((s, e));
        }
        let ext = s.entries.iter().rev().find(|e| e.key == "extends")?;
        for parent in ext
            .value()
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if let Some(r) = self.lookup_in(parent, key, seen) {
                return Some(r);
            }
        }
        None
    }

    /// Interpolate `${…}` in `value` as PlatformIO does for section `this`. Unknown references
    /// stay as written and are returned.
    pub fn interpolate(
        &self,
        value: &str,
        this: &str,
        env: &HashMap<String, String>,
        builtins: &HashMap<String, String>,
    ) -> (String, Vec<String>) {
        let mut unresolved = Vec::new();
        let out = self.interp(value, this, env, builtins, &mut Vec::new(), &mut unresolved);
        (out, unresolved)
    }

    fn interp(
        &self,
        value: &str,
        this: &str,
        env: &HashMap<String, String>,
        builtins: &HashMap<String, String>,
        stack: &mut Vec<(String, String)>,
        unresolved: &mut Vec<String>,
    ) -> String {
        let resolve = |name: &str,
                       unresolved: &mut Vec<String>,
                       stack: &mut Vec<(String, String)>|
         -> Option<String> {
            let (sec, opt) = name.split_once('.')?;
            if sec == "sysenv" {
                return env.get(opt).cloned();
            }
            if sec == "this" && opt == "__env__" {
                return Some(this.strip_prefix("env:").unwrap_or(this).to_string());
            }
            let sec = if sec == "this" { this } else { sec };
            if sec == "platformio"
                && self.lookup("platformio", opt).is_none()
                && let Some(b) = builtins.get(opt)
            {
                return Some(b.clone());
            }
            let key = (sec.to_string(), opt.to_string());
            if stack.contains(&key) || stack.len() > 32 {
                unresolved.push(format!("${{{name}}} (cycle)"));
                return None;
            }
            let (_, e) = self.lookup(sec, opt)?;
            stack.push(key);
            let v = self.interp(&e.value(), sec, env, builtins, stack, unresolved);
            stack.pop();
            Some(v)
        };
        let mut out = String::new();
        let mut rest = value;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(j) = after.find('}') else {
                out.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let name = &after[..j];
            match resolve(name, unresolved, stack) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str(&rest[i..i + 3 + j]);
                    let u = format!("${{{name}}}");
                    if !unresolved.iter().any(|x| x.starts_with(&u)) {
                        unresolved.push(u);
                    }
                }
            }
            rest = &after[j + 1..];
        }
        out.push_str(rest);
        out
    }
}
