//! The project's style rule "no function over 200 lines", kept by a test: every `fn` (free,
//! method, trait default, nested) in `crates/*/src` is parsed with `syn` and measured from its
//! signature to its closing brace. `cargo test -p ocdoctor --test function_length -- --nocapture`
//! prints the longest ones.

use std::path::{Path, PathBuf};
use syn::spanned::Spanned;
use syn::visit::Visit;

const LIMIT: usize = 200;

struct Function {
    file: PathBuf,
    name: String,
    first_line: usize,
    lines: usize,
}

struct Collector<'a> {
    file: &'a Path,
    found: Vec<Function>,
}

impl Collector<'_> {
    fn record(&mut self, name: &syn::Ident, whole: proc_macro2::Span) {
        let (first, last) = (whole.start().line, whole.end().line);
        self.found.push(Function {
            file: self.file.to_path_buf(),
            name: name.to_string(),
            first_line: first,
            lines: last + 1 - first,
        });
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.record(&item.sig.ident, item.span());
        syn::visit::visit_item_fn(self, item);
    }
    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.record(&item.sig.ident, item.span());
        syn::visit::visit_impl_item_fn(self, item);
    }
    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if item.default.is_some() {
            self.record(&item.sig.ident, item.span());
        }
        syn::visit::visit_trait_item_fn(self, item);
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn every_function() -> Vec<Function> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("crates/") {
        let src = krate.expect("crate entry").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    assert!(
        files.len() > 50,
        "only {} source files found under {}",
        files.len(),
        crates.display()
    );
    let mut functions = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let relative = file.strip_prefix(&crates).unwrap_or(file);
        let mut collector = Collector {
            file: relative,
            found: Vec::new(),
        };
        collector.visit_file(&ast);
        functions.extend(collector.found);
    }
    functions.sort_by_key(|f| std::cmp::Reverse(f.lines));
    functions
}

#[test]
fn no_function_is_over_200_lines() {
    let functions = every_function();
    assert!(
        functions.len() > 500,
        "only {} functions found",
        functions.len()
    );
    for f in functions.iter().take(15) {
        println!(
            "{:4} {}:{} {}",
            f.lines,
            f.file.display(),
            f.first_line,
            f.name
        );
    }
    let too_long: Vec<String> = functions
        .iter()
        .filter(|f| f.lines > LIMIT)
        .map(|f| {
            format!(
                "{}:{} {} ({} lines)",
                f.file.display(),
                f.first_line,
                f.name,
                f.lines
            )
        })
        .collect();
    assert!(
        too_long.is_empty(),
        "functions over {LIMIT} lines:\n{}",
        too_long.join("\n")
    );
}
