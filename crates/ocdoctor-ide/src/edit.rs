//! Suggested edits: a byte range and its replacement, so a fix touches only the value it fixes
//! and the file keeps its comments, trailing commas and indentation.

use crate::{LineIndex, Span};

/// Replace `span` of the file's text with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

impl Edit {
    pub fn new(span: Span, replacement: impl Into<String>) -> Edit {
        Edit {
            span,
            replacement: replacement.into(),
        }
    }

    /// The text with the edit applied (unchanged when the span does not fit the text).
    pub fn apply(&self, text: &str) -> String {
        // `str::get` is `None` for a reversed span, one past the end, or one inside a character.
        if text.get(self.span.clone()).is_none() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + self.replacement.len());
        out.push_str(&text[..self.span.start]);
        out.push_str(&self.replacement);
        out.push_str(&text[self.span.end..]);
        out
    }

    /// A unified diff (`--- a/path`, `+++ b/path`, one hunk with 3 lines of context) of the edit,
    /// for `git apply` / `patch -p1` or for showing the fix. `lines` is the line index of
    /// `file_text`: the diff reads the lines the edit touches and their context, never the
    /// whole file (a launch.json with thousands of edits is not copied once per edit).
    pub fn to_unified_diff(&self, file_text: &str, lines: &LineIndex, path: &str) -> String {
        let Some(sides) = Sides::new(self, file_text, lines) else {
            return String::new();
        };
        let (n_old, n_new) = (sides.old_len, sides.new_len());
        // Lines before the first difference and after the last one are shared; those outside
        // the edited lines are shared by construction.
        let mut pre = sides.first;
        while pre < n_old && pre < n_new && sides.old_line(pre) == sides.new_line(pre) {
            pre += 1;
        }
        let after = n_old - sides.first - sides.region_old.len();
        let mut post = after.min(n_old - pre).min(n_new - pre);
        while post < n_old - pre
            && post < n_new - pre
            && sides.old_line(n_old - 1 - post) == sides.new_line(n_new - 1 - post)
        {
            post += 1;
        }
        if pre == n_old && pre == n_new {
            return String::new();
        }
        let ctx = 3;
        let start = pre.saturating_sub(ctx);
        let old_end = (n_old - post + ctx).min(n_old);
        let new_end = (n_new - post + ctx).min(n_new);
        let mut out = diff_header(path, start, old_end, new_end);
        let mut push = |prefix: char, line: &str| push_diff_line(&mut out, prefix, line);
        for i in start..pre {
            push(' ', sides.old_line(i));
        }
        for i in pre..n_old - post {
            push('-', sides.old_line(i));
        }
        for i in pre..n_new - post {
            push('+', sides.new_line(i));
        }
        for i in n_old - post..old_end {
            push(' ', sides.old_line(i));
        }
        out
    }
}

/// The head of a one-hunk unified diff: the file names and the hunk's old lines
/// `start..old_end` and new lines `start..new_end` (0-based; an empty side is `s,0`).
fn diff_header(path: &str, start: usize, old_end: usize, new_end: usize) -> String {
    let range = |s: usize, e: usize| match e - s {
        0 => format!("{s},0"),
        n => format!("{},{n}", s + 1),
    };
    format!(
        "--- a/{path}\n+++ b/{path}\n@@ -{} +{} @@\n",
        range(start, old_end),
        range(start, new_end)
    )
}

/// One line of a hunk: its prefix (` `, `-`, `+`), the line, and the marker `diff` writes
/// after a last line without `\n`.
fn push_diff_line(out: &mut String, prefix: char, line: &str) {
    out.push(prefix);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// The file's lines before and after an edit, without building the new file: the lines the
/// edit touches (`region_*`) replace old lines `first..first + region_old.len()`, the others
/// are the old ones. Lines keep their `\n` (as `split_inclusive`).
struct Sides<'t> {
    text: &'t str,
    lines: &'t LineIndex,
    /// How many lines the old text has (a final `\n` ends the last line, it starts none).
    old_len: usize,
    /// 0-based index of the first line the edit touches.
    first: usize,
    region_old: Vec<&'t str>,
    region_new: Vec<String>,
}

impl<'t> Sides<'t> {
    fn new(edit: &Edit, text: &'t str, lines: &'t LineIndex) -> Option<Sides<'t>> {
        let span = &edit.span;
        text.get(span.clone())?;
        let old_len = match text.len() {
            0 => 0,
            _ if text.ends_with('\n') => lines.line_count() - 1,
            _ => lines.line_count(),
        };
        let first_line = lines.line_of(span.start);
        let region_start = lines.line_start(first_line).unwrap_or(0);
        let region_end = lines
            .line_start(lines.line_of(span.end) + 1)
            .unwrap_or(text.len());
        ocdoctor_cfg::lines::count_scanned(region_end - region_start);
        let region_old: Vec<&str> = text[region_start..region_end]
            .split_inclusive('\n')
            .collect();
        let new_text = format!(
            "{}{}{}",
            &text[region_start..span.start],
            edit.replacement,
            &text[span.end..region_end]
        );
        let region_new = new_text.split_inclusive('\n').map(str::to_string).collect();
        Some(Sides {
            text,
            lines,
            old_len,
            first: first_line - 1,
            region_old,
            region_new,
        })
    }

    fn new_len(&self) -> usize {
        self.old_len - self.region_old.len() + self.region_new.len()
    }

    /// Old line `i` (0-based).
    fn old_line(&self, i: usize) -> &str {
        let start = self.lines.line_start(i + 1).unwrap_or(self.text.len());
        let end = self.lines.line_start(i + 2).unwrap_or(self.text.len());
        ocdoctor_cfg::lines::count_scanned(end - start);
        &self.text[start..end]
    }

    /// New line `i` (0-based).
    fn new_line(&self, i: usize) -> &str {
        if i < self.first {
            self.old_line(i)
        } else if i < self.first + self.region_new.len() {
            &self.region_new[i - self.first]
        } else {
            self.old_line(i - self.region_new.len() + self.region_old.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diff as it was first written: both whole texts split into lines and compared.
    fn whole_file_diff(e: &Edit, text: &str, path: &str) -> String {
        let new_text = e.apply(text);
        let old: Vec<&str> = text.split_inclusive('\n').collect();
        let new: Vec<&str> = new_text.split_inclusive('\n').collect();
        let mut pre = 0;
        while pre < old.len() && pre < new.len() && old[pre] == new[pre] {
            pre += 1;
        }
        let mut post = 0;
        while post < old.len() - pre
            && post < new.len() - pre
            && old[old.len() - 1 - post] == new[new.len() - 1 - post]
        {
            post += 1;
        }
        if pre == old.len() && pre == new.len() {
            return String::new();
        }
        let start = pre.saturating_sub(3);
        let old_end = (old.len() - post + 3).min(old.len());
        let new_end = (new.len() - post + 3).min(new.len());
        let mut out = diff_header(path, start, old_end, new_end);
        let mut push = |prefix: char, line: &str| push_diff_line(&mut out, prefix, line);
        old[start..pre].iter().for_each(|l| push(' ', l));
        old[pre..old.len() - post].iter().for_each(|l| push('-', l));
        new[pre..new.len() - post].iter().for_each(|l| push('+', l));
        old[old.len() - post..old_end]
            .iter()
            .for_each(|l| push(' ', l));
        out
    }

    #[test]
    fn the_diff_of_the_touched_lines_is_the_whole_file_diff() {
        let texts = [
            "",
            "a",
            "a\n",
            "a\nb\nc\nd\ne\nf\ng\nh\n",
            "x\nx\nx\nx\ny\nx\nx\n",
            "one\r\ntwo\r\n\r\nthree",
            "\n\n\n",
            "{\n  \"a\": 1,\n  \"b\": \"é\"\n}",
        ];
        let replacements = ["", "Z", "x\n", "\n", "q\nr\n", "x\nx\n", "\ny"];
        // A small deterministic generator: every span of every text, every replacement.
        let mut checked = 0;
        for t in texts {
            let ix = LineIndex::new(t);
            for start in 0..=t.len() + 1 {
                for end in start..=t.len() + 1 {
                    for r in replacements {
                        let e = Edit::new(start..end, r);
                        assert_eq!(
                            e.to_unified_diff(t, &ix, "f"),
                            whole_file_diff(&e, t, "f"),
                            "{t:?} {start}..{end} -> {r:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000);
    }
}
