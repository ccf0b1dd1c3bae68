//! Suggested edits: a byte range and its replacement, so a fix touches only the value it fixes
//! and the file keeps its comments, trailing commas and indentation.

use crate::Span;

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
        if self.span.start > self.span.end
            || self.span.end > text.len()
            || !text.is_char_boundary(self.span.start)
            || !text.is_char_boundary(self.span.end)
        {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + self.replacement.len());
        out.push_str(&text[..self.span.start]);
        out.push_str(&self.replacement);
        out.push_str(&text[self.span.end..]);
        out
    }

    /// A unified diff (`--- a/path`, `+++ b/path`, one hunk with 3 lines of context) of the edit,
    /// for `git apply` / `patch -p1` or for showing the fix.
    pub fn to_unified_diff(&self, file_text: &str, path: &str) -> String {
        let new_text = self.apply(file_text);
        let old: Vec<&str> = file_text.split_inclusive('\n').collect();
        let new: Vec<&str> = new_text.split_inclusive('\n').collect();
        // Lines before the first difference and after the last one are shared.
        let mut pre = 0;
        while pre < old.len() && pre < new.len() && old[pre] == new[pre] {
            pre += 1;
        }
        let mut post = 0;
        while post < old.len() - pre.min(old.len())
            && post < new.len() - pre.min(new.len())
            && old[old.len() - 1 - post] == new[new.len() - 1 - post]
        {
            post += 1;
        }
        if pre == old.len() && pre == new.len() {
            return String::new();
        }
        let ctx = 3;
        let start = pre.saturating_sub(ctx);
        let old_end = (old.len() - post + ctx).min(old.len());
        let new_end = (new.len() - post + ctx).min(new.len());
        let mut out = format!("--- a/{path}\n+++ b/{path}\n");
        let range = |s: usize, e: usize| {
            let n = e - s;
            if n == 0 {
                format!("{},0", s)
            } else {
                format!("{},{}", s + 1, n)
            }
        };
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(start, old_end),
            range(start, new_end)
        ));
        let mut push = |prefix: char, line: &str| {
            out.push(prefix);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        };
        for l in &old[start..pre] {
            push(' ', l);
        }
        for l in &old[pre..old.len() - post] {
            push('-', l);
        }
        for l in &new[pre..new.len() - post] {
            push('+', l);
        }
        for l in &old[old.len() - post..old_end] {
            push(' ', l);
        }
        out
    }
}
