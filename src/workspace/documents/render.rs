//! The canonical markdown rendering: heading, scalars in schema order, then list blocks, then body.

use serde_json::Value;

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
        out.push_str(&format!("- {item}\n"));
    }
}

/// The text of a scalar, or `None` when absent or equal to its default.
fn scalar_text(spec: &Field, value: Option<&Value>) -> Option<String> {
    let value = value.filter(|value| !value.is_null())?;
    match (spec.kind, value) {
        (Kind::Json, value) => serde_json::to_string(value).ok(),
        (Kind::Bool(default), Value::Bool(flag)) => (*flag != default).then(|| flag.to_string()),
        (Kind::Choice(_, Some(default)), Value::String(text)) if text == default => None,
        (_, Value::String(text)) if text.is_empty() => None,
        (_, Value::String(text)) => Some(text.clone()),
        (_, other) => Some(other.to_string()),
    }
}
