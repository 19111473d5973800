//! The crate's source as the architecture tests see it: every file under
//! `src/` with its module path, its lines without comments, the inline
//! modules it holds (`mod tests { ... }`), and the items it defines.
//!
//! It reads rustfmt-formatted text: an inline module closes with a `}` at
//! the indentation of its `mod` line, and items start at column 0.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One source file.
pub struct SourceFile {
    /// Relative to the crate root: `src/check/mod.rs`.
    pub path: String,
    /// `["check"]` for `src/check/mod.rs`, `["check", "model"]` for
    /// `src/check/model.rs`, empty for `src/lib.rs`.
    pub module: Vec<String>,
    /// Each line without its comment, with the module it belongs to (the
    /// file's, or an inline module's inside it).
    pub lines: Vec<CodeLine>,
    /// Names of the items defined at the top of the file.
    pub items: BTreeSet<String>,
}

/// A line of code and where it stands.
pub struct CodeLine {
    /// 1-based, for messages.
    pub number: usize,
    pub text: String,
    pub module: Vec<String>,
}

/// Every `.rs` file of the library under `root/src` (the binary's
/// `main.rs` names the library by its crate name, not `crate::`).
pub fn read_sources(root: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect_rs_files(&root.join("src"), &mut paths);
    paths.sort();
    paths
        .iter()
        .filter(|p| !p.ends_with("src/main.rs"))
        .map(|p| read_source(root, p))
        .collect()
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn read_source(root: &Path, path: &Path) -> SourceFile {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let relative = path.strip_prefix(root).unwrap_or(path);
    let module = module_of(relative);
    SourceFile {
        path: relative.display().to_string(),
        lines: code_lines(&text, &module),
        items: top_level_items(&text),
        module,
    }
}

/// The module path of a file: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .skip(1)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The lines without comments, each with the module it is in.
fn code_lines(text: &str, file_module: &[String]) -> Vec<CodeLine> {
    let mut open: Vec<(String, String)> = Vec::new(); // (name, indent) of inline modules
    let mut lines = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let code = strip_comment(raw);
        let indent = &raw[..raw.len() - raw.trim_start().len()];
        if open.last().is_some_and(|(_, i)| i == indent) && code.trim() == "}" {
            open.pop();
            continue;
        }
        let mut module = file_module.to_vec();
        module.extend(open.iter().map(|(name, _)| name.clone()));
        if let Some(name) = inline_module(code) {
            open.push((name, indent.to_string()));
        }
        let number = index + 1;
        let text = code.to_string();
        lines.push(CodeLine {
            number,
            text,
            module,
        });
    }
    lines
}

/// The line before its `//` comment. A `//` inside a string literal (an
/// even number of quotes before it ends the string) is kept.
fn strip_comment(line: &str) -> &str {
    let mut from = 0;
    while let Some(at) = line[from..].find("//") {
        let at = from + at;
        if line[..at].matches('"').count() % 2 == 0 {
            return &line[..at];
        }
        from = at + 2;
    }
    line
}

/// `mod tests {` (any visibility) opens an inline module.
fn inline_module(code: &str) -> Option<String> {
    let rest = strip_visibility(code.trim()).strip_prefix("mod ")?;
    let name = rest.strip_suffix('{')?.trim();
    is_ident(name).then(|| name.to_string())
}

/// `pub `, `pub(crate) `, `pub(super) ` removed from the front.
pub fn strip_visibility(code: &str) -> &str {
    let Some(rest) = code.strip_prefix("pub") else {
        return code;
    };
    match rest.strip_prefix('(') {
        Some(inner) => inner.split_once(')').map_or(code, |(_, r)| r.trim_start()),
        None if rest.starts_with(' ') => rest.trim_start(),
        None => code,
    }
}

pub fn is_ident(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Names of the items a file defines at column 0 (`pub struct X`, `fn f`).
fn top_level_items(text: &str) -> BTreeSet<String> {
    const KINDS: &[&str] = &[
        "fn ",
        "async fn ",
        "struct ",
        "enum ",
        "trait ",
        "type ",
        "const ",
        "static ",
        "union ",
        "mod ",
        "macro_rules! ",
    ];
    let mut items = BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with(char::is_whitespace)) {
        let code = strip_visibility(line);
        for rest in KINDS.iter().filter_map(|kind| code.strip_prefix(kind)) {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            items.insert(rest[..end].to_string());
        }
    }
    items
}

#[test]
fn module_paths_follow_the_file_layout() {
    let of = |p: &str| module_of(Path::new(p)).join("::");
    assert_eq!(of("src/lib.rs"), "");
    assert_eq!(of("src/check/mod.rs"), "check");
    assert_eq!(of("src/runners/agent_cli/pi.rs"), "runners::agent_cli::pi");
}

#[test]
fn comments_are_cut_but_strings_kept() {
    assert_eq!(strip_comment("use a::b; // see c::d"), "use a::b; ");
    assert_eq!(
        strip_comment(r#"let u = "http://x"; // c"#),
        r#"let u = "http://x"; "#
    );
    assert_eq!(strip_comment("//! doc"), "");
}
