//! The markdown field-document reader: heading, `Label: value` lines, `Label:` lists, body.
//!
//! It knows shapes only; which labels exist and what they mean is the schema's business.

/// A field document split into its parts, before any schema is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawDocument {
    /// The H1 text.
    pub title: String,
    /// Fields in file order, repeated labels included.
    pub fields: Vec<RawField>,
    /// Free text after the fields (no trailing blank lines), possibly empty.
    pub body: String,
}

/// One `Label: value` line or `Label:` list block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawField {
    pub label: String,
    pub line: usize,
    pub value: RawValue,
}

/// A field's value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawValue {
    /// `Label: value` (trimmed, never empty).
    Scalar(String),
    /// `Label:` and its `- item` lines (possibly none).
    List(Vec<String>),
}

/// Splits `text` into heading, fields and body. Without a `# Title` heading,
/// fails with the 1-based line where it should be.
pub(crate) fn read(text: &str) -> Result<RawDocument, usize> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .collect();
    let (title, mut index) = heading(&lines)?;
    let mut fields = Vec::new();
    while index < lines.len() {
        let line = lines[index];
        if line.trim().is_empty() {
            index += 1;
            continue;
        }
        let Some((label, value)) = label_line(line) else {
            break;
        };
        let number = index + 1;
        index += 1;
        let value = if value.is_empty() {
            let (items, next) = list_items(&lines, index);
            index = next;
            RawValue::List(items)
        } else {
            RawValue::Scalar(value.to_string())
        };
        fields.push(RawField {
            label: label.to_string(),
            line: number,
            value,
        });
    }
    Ok(RawDocument {
        title,
        fields,
        body: body(&lines[index.min(lines.len())..]),
    })
}

/// Finds the `# Title` line (leading blank lines allowed); returns the title and
/// the next index, or the 1-based line where the heading should be.
fn heading(lines: &[&str]) -> Result<(String, usize), usize> {
    let index = lines
        .iter()
        .position(|line| !line.trim().is_empty())
        .ok_or(1_usize)?;
    let title = lines[index]
        .trim()
        .strip_prefix("# ")
        .map(str::trim)
        .unwrap_or_default();
    if title.is_empty() {
        return Err(index + 1);
    }
    Ok((title.to_string(), index + 1))
}

/// `Label: value` → (label, trimmed value). Labels are `[A-Za-z][A-Za-z0-9-]*`.
fn label_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    let (label, value) = line.split_once(':')?;
    let mut chars = label.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    (first_ok && rest_ok).then(|| (label, value.trim()))
}

/// The `- item` lines from `start`; a blank or any other line ends the list.
fn list_items(lines: &[&str], start: usize) -> (Vec<String>, usize) {
    let mut items = Vec::new();
    let mut index = start;
    while let Some(item) = lines.get(index).and_then(|line| list_item(line)) {
        items.push(item.to_string());
        index += 1;
    }
    (items, index)
}

fn list_item(line: &str) -> Option<&str> {
    let line = line.trim();
    if line == "-" {
        return Some("");
    }
    line.strip_prefix("- ").map(str::trim)
}

fn body(lines: &[&str]) -> String {
    lines.join("\n").trim_end().to_string()
}
