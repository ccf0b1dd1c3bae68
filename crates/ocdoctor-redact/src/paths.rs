//! Paths: the user name in a home folder (Linux, macOS, Windows; forward slashes, backslashes,
//! and backslashes doubled by Tcl or JSON), and the folders of a project (`D:\Work\AcmeFw\…`,
//! `~/clients/acme/…`) that name a person, a customer or a product.
//!
//! A path keeps its shape: separators, the scripts tree (`…/share/openocd/scripts/target/…`),
//! tool folders, versions and the file name stay, so a reader (and the diagnosis) still sees
//! which OpenOCD and which cfg file; only the private folder names become pseudonyms.

use regex::Regex;
use std::sync::LazyLock;

/// A found piece of a path to replace: byte range in the text and its kind.
pub(crate) struct PathPiece {
    pub start: usize,
    pub end: usize,
    pub kind: &'static str,
}

/// A separator as logs print it: `/`, `\`, or a backslash doubled or quadrupled by escaping.
const SEP: &str = r"(?:\\{1,4}|/)";
/// One folder name. It may hold single spaces when a separator follows ("Program Files",
/// "John Smith"), but a word after a space never starts with `-` (that is the next option of a
/// command line: `-s /x/scripts -f interface/…`) or
/// punctuation (a prompt's `$ ./openocd`): it starts with a letter, a digit or `(`.
// Typographic quotes (“ ” ‘ ’ « »: forum software and word processors turn `"` into them)
// end a path like ASCII quotes.
const DIR: &str = r#"[^\s\\/"'“”‘’«»<>|*?:;,=]+(?: [A-Za-z0-9(][^\s\\/"'“”‘’«»<>|*?:;,=]*)*"#;
const LEAF: &str = r#"[^\s\\/"'“”‘’«»<>|*?:;,=]+"#;

fn path_regexes() -> &'static [Regex; 3] {
    static RES: LazyLock<[Regex; 3]> = LazyLock::new(|| {
        let windows = format!(r"(?i)(?-u:\b)(?P<path>[a-z]:{SEP}(?:{DIR}{SEP})*(?:{LEAF})?)");
        // After a start of line, a space, a quote, `=`, `(`, `[`, `,`, `{` or `:` (PATH lists).
        let unix =
            format!(r#"(?m)(?:^|[\s"'“‘«=(\[,{{:])(?P<path>(?:~/|/)(?:{DIR}{SEP})*(?:{LEAF})?)"#);
        // A UNC path, `\\server\share\…` (its server is a host name, found elsewhere).
        let unc = format!(r#"(?m)(?:^|[\s"'“‘«=(])(?P<path>\\{{2,4}}(?:{DIR}{SEP})*(?:{LEAF})?)"#);
        [windows, unix, unc].map(|p| Regex::new(&p).unwrap_or_else(|e| panic!("path pattern: {e}")))
    });
    &RES
}

/// The folder-name vocabulary of `data/path_words.txt`.
struct Words {
    keep: WordList,
    anchor: WordList,
    system: WordList,
}

/// One section of `data/path_words.txt`, case folded: the plain names in a set, the names
/// with `*` as their pieces between the stars (most names are plain; every folder of every
/// path is looked up, so a lookup is one hash, not a walk over every pattern).
#[derive(Default)]
struct WordList {
    exact: std::collections::HashSet<String>,
    globs: Vec<Vec<String>>,
}

impl WordList {
    fn push(&mut self, word: String) {
        if word.contains('*') {
            self.globs
                .push(word.split('*').map(str::to_string).collect());
        } else {
            self.exact.insert(word);
        }
    }

    /// Whether `name` (case folded already) is in the list.
    fn contains(&self, name: &str) -> bool {
        self.exact.contains(name) || self.globs.iter().any(|g| glob(g, name))
    }
}

fn words() -> &'static Words {
    static WORDS: LazyLock<Words> = LazyLock::new(|| {
        let mut w = Words {
            keep: WordList::default(),
            anchor: WordList::default(),
            system: WordList::default(),
        };
        let mut section = "";
        for line in include_str!("../data/path_words.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                section = line;
                continue;
            }
            let list = match section {
                "[keep]" => &mut w.keep,
                "[anchor]" => &mut w.anchor,
                "[system]" => &mut w.system,
                other => panic!("data/path_words.txt: unknown section {other}"),
            };
            list.push(line.to_ascii_lowercase());
        }
        w
    });
    &WORDS
}

/// A pattern given as its pieces between `*`s (`*` matches any run of characters; everything
/// else literally, case already folded): whether `name` matches it.
fn glob(parts: &[String], name: &str) -> bool {
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return name.is_empty();
    };
    if parts.len() == 1 {
        return first == name;
    }
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn listed(list: &WordList, name: &str) -> bool {
    list.contains(&name.to_ascii_lowercase())
}

/// A name a reader needs and that names nobody (used for paths and for bare learned names).
pub(crate) fn is_public_word(name: &str) -> bool {
    let w = words();
    let name = name.to_ascii_lowercase();
    w.keep.contains(&name) || w.anchor.contains(&name) || w.system.contains(&name)
}

/// Folder names under `/Users` or `C:\Users` that are not a person.
const NOT_A_PERSON: &[&str] = &[
    "shared",
    "public",
    "default",
    "default user",
    "all users",
    "guest",
];

/// `1.2`, `v0.12.0-esp32-20250707`, `python3.8`: a version says which tool, not who.
fn has_version(name: &str) -> bool {
    let b = name.as_bytes();
    b.windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit())
}

/// A file name: a stem and an extension (`stlink.cfg`, `zephyr.elf`, `libusb-1.0.dll`).
fn is_file_name(name: &str) -> bool {
    name.rfind('.').is_some_and(|i| {
        i > 0
            && (1..=8).contains(&(name.len() - i - 1))
            && name[i + 1..].bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Every private piece of every path in `text`.
pub(crate) fn find(text: &str) -> Vec<PathPiece> {
    let mut pieces = Vec::new();
    for re in path_regexes() {
        for caps in re.captures_iter(text) {
            let Some(m) = caps.name("path") else { continue };
            pieces_of_path(m.as_str(), m.start(), &mut pieces);
        }
    }
    // `C:/Users/x` is read by both readers.
    pieces.sort_by_key(|p| (p.start, p.end));
    pieces.dedup_by_key(|p| (p.start, p.end));
    pieces
}

/// One path: split it into components (byte ranges) and decide which are private.
fn pieces_of_path(path: &str, offset: usize, out: &mut Vec<PathPiece>) {
    // A URL's `//host/…` is not a file path.
    if path.starts_with("//") {
        return;
    }
    // Trailing punctuation belongs to the sentence (`…/zephyr$`, `(see /x/y)`), not the path.
    let path = path.trim_end_matches(['$', '#', '%', ')', ']', '}', '.', '!', '>']);
    let mut comps: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' || bytes[i] == b'\\' {
            if i > start {
                comps.push((start, i));
            }
            while i < bytes.len() && (bytes[i] == b'/' || bytes[i] == b'\\') {
                i += 1;
            }
            start = i;
        } else {
            i += 1;
        }
    }
    if start < bytes.len() {
        comps.push((start, bytes.len()));
    }
    let ends_with_sep = path.ends_with(['/', '\\']);
    let name = |c: (usize, usize)| &path[c.0..c.1];
    if path.starts_with("\\\\") {
        // `\\server\share\…`: everything after the server is the network share's own folders.
        for &c in comps.iter().skip(1) {
            let n = name(c);
            let last = c.1 == path.len() && !ends_with_sep;
            if !((last && is_file_name(n)) || has_version(n) || is_public_word(n)) {
                out.push(PathPiece {
                    start: offset + c.0,
                    end: offset + c.1,
                    kind: "path",
                });
            }
        }
        return;
    }
    // Drop the root: `C:` or `~`; a Unix path's root is its leading `/`.
    let (tilde, drive) = match comps.first().map(|&c| name(c)) {
        Some("~") => (true, false),
        Some(d) if d.len() == 2 && d.ends_with(':') => (false, true),
        _ => (false, false),
    };
    if tilde || drive {
        comps.remove(0);
    }
    if comps.len() < if tilde { 1 } else { 2 } {
        return; // `/x` alone is an option or a fraction more often than a path
    }
    let w = words();
    let mut push = |c: (usize, usize), kind| {
        out.push(PathPiece {
            start: offset + c.0,
            end: offset + c.1,
            kind,
        })
    };
    // The home folder: /home/NAME, /Users/NAME, C:\Users\NAME, /c/Users/NAME (MSYS),
    // /mnt/c/Users/NAME (WSL), /var/home/NAME, /media/NAME, /run/media/NAME.
    let home = (0..comps.len().min(3)).find(|&i| {
        let n = name(comps[i]).to_ascii_lowercase();
        matches!(
            n.as_str(),
            "home" | "users" | "documents and settings" | "media"
        ) && i + 1 < comps.len()
    });
    let walk_from = match home {
        Some(i) => {
            let user = comps[i + 1];
            if NOT_A_PERSON.contains(&name(user).to_ascii_lowercase().as_str()) {
                i + 2
            } else {
                push(user, "user");
                i + 2
            }
        }
        None if tilde => 0,
        None => {
            let top = name(comps[0]);
            // MSYS's `/c/…` is a drive.
            let msys_drive = !drive && top.len() == 1;
            if !msys_drive && listed(&w.system, top) {
                return;
            }
            if drive && listed(&w.system, top) {
                return;
            }
            0
        }
    };
    for (k, &c) in comps.iter().enumerate().skip(walk_from) {
        let n = name(c);
        let last = k + 1 == comps.len() && !ends_with_sep;
        if n != "." && n != ".." && listed(&w.anchor, n) {
            return; // a tool's own tree: everything below is public
        }
        if (last && is_file_name(n)) || has_version(n) || listed(&w.keep, n) {
            continue;
        }
        push(c, "path");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(text: &str) -> Vec<(&str, &str)> {
        find(text)
            .into_iter()
            .map(|p| (&text[p.start..p.end], p.kind))
            .collect()
    }

    #[test]
    fn homes_on_every_os() {
        assert_eq!(private("/home/alice/x.cfg"), [("alice", "user")]);
        // A forum's typographic quotes around a traceback path.
        assert_eq!(
            private("File “/home/alice/x.cfg”, line 5"),
            [("alice", "user")]
        );
        assert_eq!(private("at /Users/Bob/Library/x"), [("Bob", "user")]);
        assert_eq!(
            private(r"C:\Users\Jo Ann\AppData\Local"),
            [("Jo Ann", "user")]
        );
        assert_eq!(
            private(r"C:\\Users\\carol\\.platformio"),
            [("carol", "user")]
        );
        assert_eq!(private("C:/Users/dave/.vscode/x.json"), [("dave", "user")]);
        assert_eq!(private("/mnt/c/Users/erin/.a"), [("erin", "user")]);
        assert_eq!(private("/Users/Shared/x.cfg"), []);
    }

    #[test]
    fn project_folders_but_not_tool_trees() {
        assert_eq!(
            private(r"D:\Work\AcmeFw\build\zephyr\zephyr.elf"),
            [("AcmeFw", "path")]
        );
        assert_eq!(
            private("-s /home/al/proj-x/scripts -f interface/stlink.cfg"),
            [("al", "user"), ("proj-x", "path")]
        );
        assert_eq!(
            private("/usr/share/openocd/scripts/target/stm32f4x.cfg"),
            []
        );
        assert_eq!(private("see http://openocd.org/doc/doxygen/bugs.html"), []);
        assert_eq!(
            private("/home/u/.espressif/tools/openocd-esp32/v0.12.0/x"),
            [("u", "user")]
        );
        assert_eq!(
            private("~/secret-client/fw.elf"),
            [("secret-client", "path")]
        );
    }
}
