//! `cargo xtask fn-length`: no function outside tests is longer than [`LIMIT`] lines. Each
//! `.rs` file under [`ROOTS`] is parsed (syn), so braces in strings, chars and comments do not
//! count; a function is measured from its `fn` line to its closing brace (doc comments and
//! attributes above it are not counted). Free functions, methods, trait default methods and
//! functions nested in other functions are measured; whatever is `#[cfg(test)]` (a module, an
//! impl, a file with `#![cfg(test)]`) or a `#[test]` function is skipped.

use std::fmt;
use std::path::{Path, PathBuf};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Block, Meta, Signature, Token};

/// The most lines a function may have.
pub const LIMIT: usize = 100;

/// The source folders checked, from the workspace root.
pub const ROOTS: [&str; 5] = [
    "src",
    "record/src",
    "server/src",
    "test-support/src",
    "xtask/src",
];

/// A function over the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongFn {
    pub path: PathBuf,
    /// The line of its `fn` keyword (1-based).
    pub line: usize,
    pub name: String,
    pub lines: usize,
}

impl fmt::Display for LongFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} fn {}: {} lines",
            self.path.display(),
            self.line,
            self.name,
            self.lines
        )
    }
}

/// Runs the check from the workspace root: prints each function over the limit and fails if
/// there is one.
pub fn run() -> anyhow::Result<()> {
    nice_plug_xtask::chdir_workspace_root()?;
    let long = check(Path::new(""))?;
    for f in &long {
        println!("{f}");
    }
    anyhow::ensure!(
        long.is_empty(),
        "{} function(s) over {LIMIT} lines outside tests: split them",
        long.len()
    );
    println!("fn-length: no function outside tests is over {LIMIT} lines");
    Ok(())
}

/// Every function over [`LIMIT`] lines in the `.rs` files under [`ROOTS`] of `root`, by path
/// and line.
///
/// # Errors
/// A folder or file that cannot be read, a file that does not parse.
pub fn check(root: &Path) -> anyhow::Result<Vec<LongFn>> {
    let mut files = Vec::new();
    for dir in ROOTS {
        rust_files(&root.join(dir), &mut files)?;
    }
    files.sort();
    let mut long = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let found = long_fns(&source, LIMIT)
            .map_err(|e| anyhow::anyhow!("{}: does not parse: {e}", path.display()))?;
        long.extend(found.into_iter().map(|(line, name, lines)| LongFn {
            path: path.clone(),
            line,
            name,
            lines,
        }));
    }
    Ok(long)
}

/// Appends the `.rs` files under `dir` (every level) to `out`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The functions of one file's `source` longer than `limit` lines, outside tests: the line
/// of each one's `fn`, its name and its length in lines, in the order they appear.
///
/// # Errors
/// The source is not Rust that syn can parse.
pub fn long_fns(source: &str, limit: usize) -> syn::Result<Vec<(usize, String, usize)>> {
    let file = syn::parse_file(source)?;
    let mut finder = Finder {
        limit,
        found: Vec::new(),
    };
    if !is_test(&file.attrs) {
        finder.visit_file(&file);
    }
    Ok(finder.found)
}

/// Walks a file's items, measuring every function and stepping over tests.
struct Finder {
    limit: usize,
    found: Vec<(usize, String, usize)>,
}

impl Finder {
    /// Notes the function if it is over the limit: from its `fn` line to its closing brace.
    fn measure(&mut self, sig: &Signature, block: &Block) {
        let first = sig.fn_token.span.start().line;
        let last = block.brace_token.span.close().end().line;
        let lines = last + 1 - first;
        if lines > self.limit {
            self.found.push((first, sig.ident.to_string(), lines));
        }
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test(&m.attrs) {
            visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if !is_test(&i.attrs) {
            visit::visit_item_impl(self, i);
        }
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        if !is_test(&t.attrs) {
            visit::visit_item_trait(self, t);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test(&f.attrs) {
            self.measure(&f.sig, &f.block);
            visit::visit_item_fn(self, f);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            self.measure(&f.sig, &f.block);
            visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if !is_test(&f.attrs) {
            if let Some(block) = &f.default {
                self.measure(&f.sig, block);
            }
            visit::visit_trait_item_fn(self, f);
        }
    }
}

/// Whether the attributes make an item test-only: `#[cfg(test)]` (also inside `all(...)`),
/// or a test function (`#[test]`, `#[tokio::test]`).
fn is_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        if a.path().is_ident("cfg") {
            a.parse_args::<Meta>().is_ok_and(|m| needs_test(&m))
        } else {
            a.path().segments.last().is_some_and(|s| s.ident == "test")
        }
    })
}

/// Whether a cfg predicate holds only in test builds.
fn needs_test(predicate: &Meta) -> bool {
    match predicate {
        Meta::Path(p) => p.is_ident("test"),
        Meta::List(l) if l.path.is_ident("all") => l
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .is_ok_and(|all| all.iter().any(needs_test)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A function `name` of exactly `lines` lines (at least 2): its `fn` line, `lines - 2`
    /// statements, its closing brace.
    fn function(name: &str, lines: usize) -> String {
        let body = "    let _x = 1;\n".repeat(lines - 2);
        format!("fn {name}() {{\n{body}}}\n")
    }

    fn long(source: &str) -> Vec<(usize, String, usize)> {
        long_fns(source, LIMIT).expect("parses")
    }

    #[test]
    fn a_function_of_101_lines_is_caught_and_one_of_100_is_not() {
        let source = format!(
            "//! A file.\n\n{}\n/// Docs do not count.\n#[inline]\n{}",
            function("exactly", 100),
            function("over", 101)
        );
        assert_eq!(long(&source), [(106, "over".to_owned(), 101)]);
        // The one let through is measured as 100 lines.
        let at_99 = long_fns(&source, 99).expect("parses");
        assert_eq!(at_99[0], (3, "exactly".to_owned(), 100));
    }

    #[test]
    fn methods_trait_defaults_and_nested_functions_are_measured() {
        let inner = function("inner", 101).replace('\n', "\n    ");
        let source = format!(
            "struct S;\nimpl S {{\n{}}}\ntrait T {{\n{}}}\nfn outer() {{\n    {inner}}}\n",
            function("method", 101),
            function("default", 101)
        );
        let names: Vec<String> = long(&source).into_iter().map(|(_, n, _)| n).collect();
        assert_eq!(names, ["method", "default", "outer", "inner"]);
    }

    #[test]
    fn tests_are_skipped() {
        let long_one = function("long_one", 150);
        let source = format!(
            "fn short() {{}}\n\
             #[cfg(test)]\nmod tests {{\n    use super::*;\n{long_one}\n    #[test]\n{long_one}}}\n\
             #[cfg(test)]\nimpl S {{\n{long_one}}}\n\
             #[cfg(all(test, unix))]\nmod unix_tests {{\n{long_one}}}\n\
             #[test]\n{long_one}"
        );
        assert_eq!(long(&source), []);
        assert_eq!(long(&format!("#![cfg(test)]\n{long_one}")), []);
        // Not only in tests: still measured.
        let source = format!("#[cfg(any(test, unix))]\nmod m {{\n{long_one}}}\n");
        assert_eq!(long(&source), [(3, "long_one".to_owned(), 150)]);
    }

    #[test]
    fn braces_in_strings_chars_and_comments_do_not_count() {
        let tricky = "fn tricky<'a>(s: &'a str) -> usize {\n\
                      let a = \"}}}\";\n\
                      let b = r#\"} \"}\" {\"#;\n\
                      let c = '}';\n\
                      let d = b'{';\n\
                      // }\n\
                      /* } { */\n\
                      s.len() + a.len() + b.len() + c.len_utf8() + d as usize\n\
                      }\n";
        // The short function ends where its own brace is, and the long one after it is whole.
        let source = format!("{tricky}{}", function("after", 101));
        assert_eq!(long(&source), [(10, "after".to_owned(), 101)]);
        let stuffed = format!(
            "fn stuffed() {{\n    let _s = \"{{{{{{\";\n{}}}\n",
            "    let _x = '{';\n".repeat(99)
        );
        assert_eq!(long(&stuffed), [(1, "stuffed".to_owned(), 102)]);
    }

    #[test]
    fn an_offender_is_printed_as_path_line_name_and_length() {
        let f = LongFn {
            path: PathBuf::from("server/src/store/postgres.rs"),
            line: 42,
            name: "push".into(),
            lines: 130,
        };
        assert_eq!(
            f.to_string(),
            "server/src/store/postgres.rs:42 fn push: 130 lines"
        );
    }
}
