//! The paths a source file names inside the crate: each `use` statement
//! (its tree expanded, `use a::{b, c::d}` is `a::b` and `a::c::d`) and each
//! path written in code (`super::routing_rules::check(...)`), made absolute
//! from the module the line is in. Paths into other crates are left out.

use super::source_tree::{SourceFile, strip_visibility};

/// One path a file names.
pub struct Reference {
    /// Where it is written (1-based line) and in which module.
    pub line: usize,
    pub module: Vec<String>,
    /// As written, for messages: `super::parser::Builder`.
    pub written: String,
    /// Absolute, without `crate`: `["syntax", "parser", "Builder"]`; a
    /// glob ends in `*`.
    pub path: Vec<String>,
    /// For a `pub use`: the name it exports (`*` for a glob).
    pub exports: Option<String>,
}

/// Every path `file` names inside the crate; `is_module` says which
/// absolute paths are modules (to tell `child::f` from `serde::f`).
pub fn references(file: &SourceFile, is_module: &dyn Fn(&[String]) -> bool) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut lines = file.lines.iter().peekable();
    while let Some(line) = lines.next() {
        let code = line.text.trim();
        let Some(tree) = strip_visibility(code).strip_prefix("use ") else {
            out.extend(code_paths(code, line.number, &line.module, is_module));
            continue;
        };
        let mut statement = tree.to_string();
        while !statement.contains(';') {
            let Some(next) = lines.next() else { break };
            statement.push_str(next.text.trim());
        }
        let public = code.starts_with("pub");
        let uses = expand_use_tree(statement.trim_end_matches(';'));
        for (written, alias) in uses {
            let at = (line.number, line.module.as_slice());
            out.extend(use_reference(&written, alias, public, at, is_module));
        }
    }
    out
}

fn use_reference(
    written: &[String],
    alias: Option<String>,
    public: bool,
    (line, module): (usize, &[String]),
    is_module: &dyn Fn(&[String]) -> bool,
) -> Option<Reference> {
    let mut segments = written.to_vec();
    if segments.last().is_some_and(|s| s == "self") {
        segments.pop();
    }
    let path = absolute(&segments, module, is_module)?;
    let exported = alias.or_else(|| segments.last().cloned());
    Some(Reference {
        line,
        module: module.to_vec(),
        written: written.join("::"),
        exports: exported.filter(|name| public && name != "_"),
        path,
    })
}

/// A path made absolute from `module`, or `None` when it leaves the crate.
pub fn absolute(
    segments: &[String],
    module: &[String],
    is_module: &dyn Fn(&[String]) -> bool,
) -> Option<Vec<String>> {
    let first = segments.first()?;
    let mut base = module.to_vec();
    let mut rest = segments;
    match first.as_str() {
        "crate" => {
            base.clear();
            rest = &segments[1..];
        }
        "self" => rest = &segments[1..],
        "super" => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => {
            let mut child = module.to_vec();
            child.push(first.clone());
            if !is_module(&child) {
                return None;
            }
        }
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The paths of a `use` tree, each with its `as` name if it has one.
pub fn expand_use_tree(tree: &str) -> Vec<(Vec<String>, Option<String>)> {
    let tokens = tokenize(tree);
    let mut at = 0;
    let mut out = Vec::new();
    expand(&tokens, &mut at, &[], &mut out);
    out
}

type Expanded = Vec<(Vec<String>, Option<String>)>;

fn expand(tokens: &[String], at: &mut usize, prefix: &[String], out: &mut Expanded) {
    let mut path = prefix.to_vec();
    while let Some(token) = tokens.get(*at) {
        *at += 1;
        match token.as_str() {
            "{" => return expand_group(tokens, at, &path, out),
            "::" => continue,
            _ => path.push(token.clone()),
        }
        match tokens.get(*at).map(String::as_str) {
            Some("::") => continue,
            Some("as") => {
                let alias = tokens.get(*at + 1).cloned();
                *at += 2;
                return out.push((path, alias));
            }
            _ => return out.push((path, None)),
        }
    }
}

fn expand_group(tokens: &[String], at: &mut usize, prefix: &[String], out: &mut Expanded) {
    while let Some(token) = tokens.get(*at) {
        match token.as_str() {
            "}" => return *at += 1,
            "," => *at += 1,
            _ => expand(tokens, at, prefix, out),
        }
    }
}

/// Identifiers, `::`, `*` and the punctuation of a use tree.
fn tokenize(tree: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut chars = tree.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push("::".into());
        } else if "{},*".contains(c) {
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// Paths written in code (`a::b::c`, two segments or more) that stay in
/// the crate.
fn code_paths(
    code: &str,
    line: usize,
    module: &[String],
    is_module: &dyn Fn(&[String]) -> bool,
) -> Vec<Reference> {
    path_expressions(code)
        .into_iter()
        .filter_map(|segments| {
            let path = absolute(&segments, module, is_module)?;
            Some(Reference {
                line,
                module: module.to_vec(),
                written: segments.join("::"),
                path,
                exports: None,
            })
        })
        .collect()
}

/// Every `a::b(::c)*` outside string and char literals.
fn path_expressions(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        i = match chars[i] {
            '"' => skip_string(&chars, i),
            '\'' => skip_char_literal(&chars, i),
            c if is_ident_start(c) && !follows_path(&chars, i) => {
                let (segments, end) = read_path(&chars, i);
                if segments.len() > 1 {
                    found.push(segments);
                }
                end
            }
            _ => i + 1,
        };
    }
    found
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether the identifier at `i` continues something (`x1`, `a::b`, `$crate`).
fn follows_path(chars: &[char], i: usize) -> bool {
    i > 0 && (is_ident_char(chars[i - 1]) || chars[i - 1] == ':' || chars[i - 1] == '$')
}

fn read_path(chars: &[char], start: usize) -> (Vec<String>, usize) {
    let mut segments = Vec::new();
    let mut i = start;
    loop {
        let begin = i;
        while i < chars.len() && is_ident_char(chars[i]) {
            i += 1;
        }
        segments.push(chars[begin..i].iter().collect::<String>());
        let more = chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':');
        if !(more && chars.get(i + 2).is_some_and(|&c| is_ident_start(c))) {
            return (segments, i);
        }
        i += 2;
    }
}

fn skip_string(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() && chars[i] != '"' {
        i += if chars[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

/// Past `'x'` or `'\n'`; a lifetime (`'a`) is only its quote.
fn skip_char_literal(chars: &[char], start: usize) -> usize {
    let close = match chars.get(start + 1) {
        Some('\\') => chars[start + 2..]
            .iter()
            .position(|&c| c == '\'')
            .map(|p| start + 2 + p),
        Some(_) => (chars.get(start + 2) == Some(&'\'')).then_some(start + 2),
        None => None,
    };
    close.map_or(start + 1, |c| c + 1)
}

#[test]
fn a_use_tree_expands_into_its_paths() {
    let paths: Vec<String> = expand_use_tree("super::{a, b::{c, d as e}, self, f::*}")
        .into_iter()
        .map(|(p, alias)| {
            format!(
                "{}{}",
                p.join("::"),
                alias.map_or(String::new(), |a| format!(" as {a}"))
            )
        })
        .collect();
    assert_eq!(
        paths,
        [
            "super::a",
            "super::b::c",
            "super::b::d as e",
            "super::self",
            "super::f::*"
        ]
    );
}

#[test]
fn code_paths_skip_strings_chars_and_continuations() {
    let found = path_expressions(r#"let x = super::a::f(b"c::d", '"', std::io::x, y.z::<T>());"#);
    let found: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(found, ["super::a::f", "std::io::x"]);
}

#[test]
fn paths_are_made_absolute_from_their_module() {
    let module = ["runners".to_string(), "agent_cli".to_string()];
    let is_module = |m: &[String]| m.join("::") == "runners::agent_cli::events";
    let abs = |p: &str| {
        let segments: Vec<String> = p.split("::").map(String::from).collect();
        absolute(&segments, &module, &is_module).map(|a| a.join("::"))
    };
    assert_eq!(
        abs("super::process::Launch").as_deref(),
        Some("runners::process::Launch")
    );
    assert_eq!(abs("crate::vocab::Plane").as_deref(), Some("vocab::Plane"));
    assert_eq!(
        abs("events::count").as_deref(),
        Some("runners::agent_cli::events::count")
    );
    assert_eq!(abs("serde::Serialize"), None);
}
