//! Turning serde's "unknown field" into "unknown key `a.b.c`; did you mean `a.b.d`?" with a line.

use std::path::Path;

use super::error::ConfigError;

/// Maps a TOML deserialization error to a [`ConfigError`] with file and line.
pub(super) fn to_config_error(error: &toml::de::Error, text: &str, path: &Path) -> ConfigError {
    let message = error.message().trim().to_string();
    let span = error.span();
    let line = span.as_ref().map(|span| line_at(text, span.start));
    if let (Some(span), Some((unknown, expected))) =
        (span.as_ref(), unknown_name(&message, "unknown field"))
    {
        let key = dotted_key(text, span.start, &unknown);
        let suggestion = closest(&expected, &unknown);
        return ConfigError::UnknownKey {
            path: path.to_path_buf(),
            line: line.unwrap_or(1),
            key,
            suggestion,
        };
    }
    let message = match unknown_name(&message, "unknown variant") {
        Some((value, expected)) => variant_message(&value, &expected),
        None => message,
    };
    // serde names the expected type (in Rust's words) but not the key; the
    // operator needs both.
    let message = plain_types(&message);
    let message = match span.and_then(|span| key_of_value(text, span.start)) {
        Some(key) => format!("`{key}`: {message}"),
        None => message,
    };
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn variant_message(value: &str, expected: &[String]) -> String {
    let allowed = expected
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = closest(expected, value)
        .map(|name| format!("; did you mean `{name}`?"))
        .unwrap_or_default();
    format!("unknown value `{value}`, expected one of {allowed}{hint}")
}

/// "expected u64" in the words of a config file's reader.
fn plain_types(message: &str) -> String {
    const WORDS: [(&str, &str); 4] = [
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
    ];
    WORDS
        .iter()
        .fold(message.to_string(), |text, (rust, plain)| {
            text.replace(rust, plain)
        })
}

/// From "unknown field `x`, expected one of `a`, `b`": (`x`, [`a`, `b`]).
fn unknown_name(message: &str, prefix: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix(prefix)?;
    let mut names = rest.split('`').skip(1).step_by(2).map(str::to_string);
    let unknown = names.next()?;
    Some((unknown, names.collect()))
}

/// The closest known name, when close enough to be a likely typo.
pub(super) fn closest(known: &[String], wanted: &str) -> Option<String> {
    known
        .iter()
        .map(|name| (strsim::normalized_damerau_levenshtein(name, wanted), name))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name.clone())
}

/// 1-based line of a byte offset.
pub(super) fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|byte| **byte == b'\n')
        .count()
        + 1
}

/// The dotted path of the key at `offset`: the enclosing `[table]` header,
/// any dotted prefix written on the key's line, and the key.
fn dotted_key(text: &str, offset: usize, key: &str) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let header = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.starts_with('['))
        .map(|line| {
            line.trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string()
        });
    let before = text[line_start..offset].trim();
    let in_header = before.starts_with('[');
    let prefix = before
        .trim_start_matches('[')
        .trim_matches('"')
        .trim_end_matches('.');
    let mut parts: Vec<String> = match in_header {
        true => Vec::new(),
        false => header.into_iter().filter(|h| !h.is_empty()).collect(),
    };
    if !prefix.is_empty() && !prefix.contains('=') {
        parts.push(prefix.to_string());
    }
    parts.push(key.to_string());
    parts.join(".")
}

/// The dotted key whose value starts at `offset`, when the value is written
/// as `key = value` (`None` inside multi-line arrays and inline tables).
fn key_of_value(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let key = text[line_start..offset].trim().strip_suffix('=')?.trim();
    let bare = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    (!key.is_empty() && key.chars().all(bare)).then(|| dotted_key(text, line_start, key))
}

/// The 1-based line where `key = ...` is written, if it is.
pub(super) fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
}
