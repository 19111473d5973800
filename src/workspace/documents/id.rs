//! Work item ids: the safe identifier shape every family shares, and the
//! ids derived from names (an idea file's spec, an old `Source-ID` path).

use std::path::Path;

/// The longest id: every name derived from one (`<id>.requeue.jsonl`,
/// `learning_request-<id>.json`, `<id>.md.<n>.invalid`) must still fit in
/// the 255 bytes a file name may have.
pub const MAX_ID_LEN: usize = 200;

/// True when `id` matches `^[A-Za-z0-9][A-Za-z0-9._-]*$`.
pub fn is_valid_id(id: &str) -> bool {
    if id.len() > MAX_ID_LEN {
        return false;
    }
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The spec id of an idea file: `idea-` + the stem lower-cased, other characters as `-`.
pub fn idea_spec_id(idea_file: &Path) -> Option<String> {
    let stem = idea_file.file_stem()?.to_str()?.to_ascii_lowercase();
    let mut name = String::with_capacity(stem.len());
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name = name.trim_matches(|c| matches!(c, '-' | '.' | '_'));
    (!name.is_empty()).then(|| format!("idea-{name}"))
}

/// The id an earlier build's `Source-ID` path stands for: the spec of an
/// idea (`ideas/inbox/greeting.md` → `idea-greeting`), else the file's
/// stem. Documents queued by those builds keep loading; they are written
/// back with the id.
pub fn legacy_source_id(text: &str) -> Option<String> {
    if !text.contains('/') {
        return None;
    }
    let path = Path::new(text);
    if text.starts_with("ideas/") {
        return idea_spec_id(path);
    }
    let stem = path.file_stem()?.to_str()?;
    is_valid_id(stem).then(|| stem.to_string())
}
