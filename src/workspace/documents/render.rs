//! The canonical markdown rendering: heading, scalars in schema order, then list blocks, then body.

use serde_json::Value;

use super::fields::is_line_break;
use super::schema::{Field, Kind};

/// Renders checked fields (snake_case keys) as a canonical field document.
pub(crate) fn render_markdown(schema: &[Field], fields: &Value) -> String {
    let title = fields
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out = format!("# {title}\n\n");
    for spec in schema.iter().filter(|spec| !spec.kind.is_list()) {
        if let Some(text) = scalar_text(spec, fields.get(spec.key())) {
            out.push_str(&format!("{}: {text}\n", spec.label));
        }
    }
    for spec in schema.iter().filter(|spec| spec.kind.is_list()) {
        render_list(&mut out, spec.label, fields.get(spec.key()));
    }
    if let Some(body) = fields
        .get("body")
        .and_then(Value::as_str)
        .filter(|body| !body.is_empty())
    {
        out.push_str(&format!("\n{body}\n"));
    }
    out
}

fn render_list(out: &mut String, label: &str, value: Option<&Value>) {
    let Some(Value::Array(items)) = value else {
        return;
    };
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("\n{label}:\n"));
    for item in items.iter().filter_map(Value::as_str) {
        out.push_str(&format!("- {}\n", one_line(item)));
    }
}

/// The text of a scalar, or `None` when absent or equal to its default.
fn scalar_text(spec: &Field, value: Option<&Value>) -> Option<String> {
    let value = value.filter(|value| !value.is_null())?;
    match (spec.kind, value) {
        (Kind::Json, Value::Object(object)) if object.is_empty() => None,
        (Kind::Json, value) => Some(compact_json(value)),
        (Kind::Bool(default), Value::Bool(flag)) => (*flag != default).then(|| flag.to_string()),
        (Kind::Choice(_, Some(default)), Value::String(text)) if text == default => None,
        (_, Value::String(text)) if text.trim().is_empty() => None,
        (_, Value::String(text)) => Some(one_line(text)),
        (_, other) => Some(other.to_string()),
    }
}

/// A value on one line: a field line ends at the first line break, so the
/// breaks of a multi-line value (from a JSON import) become spaces.
fn one_line(text: &str) -> String {
    if !text.contains(is_line_break) {
        return text.to_string();
    }
    text.split(is_line_break)
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Inline JSON as the reference writes it: sorted keys, no spaces, ASCII only.
fn compact_json(value: &Value) -> String {
    let text = serde_json::to_string(&sorted(value)).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let mut units = [0_u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    out
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<_> = object.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
