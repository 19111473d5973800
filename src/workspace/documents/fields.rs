//! The markdown field-document reader: heading, `Label: value` lines, `Label:` lists, body.
//!
//! As in the reference, a line whose label the family knows is a field wherever
//! it stands: a `Depends-On:` after a paragraph is a dependency, not prose.
//! Every other line (prose, labels the family does not know) is body text, kept
//! in order. Which labels exist is the caller's business.

/// A field document split into its parts, before any schema is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawDocument {
    /// The H1 text.
    pub title: String,
    /// Fields of known labels in file order, repeated labels included.
    pub fields: Vec<RawField>,
    /// Every other non-blank line, in order (no leading or trailing blank lines).
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
pub(crate) fn read(text: &str, is_known: impl Fn(&str) -> bool) -> Result<RawDocument, usize> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = split_lines(text);
    let (title, start) = heading(&lines)?;
    let mut reader = Reader::new(&lines);
    let mut index = start;
    while index < lines.len() {
        index = reader.line(index, &is_known);
    }
    Ok(RawDocument {
        title,
        fields: reader.fields,
        body: reader.body.join("\n"),
    })
}

/// The lines of `text` as Python's `str.splitlines` cuts them, so a value
/// holding a line or paragraph separator ends where the reference ends it.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(is_line_break) {
        lines.push(&rest[..at]);
        let width = if rest[at..].starts_with("\r\n") {
            2
        } else {
            rest[at..].chars().next().map_or(1, char::len_utf8)
        };
        rest = &rest[at + width..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// The characters that end a line for the reference's reader (Python's `splitlines`).
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// The fields and body gathered line by line.
struct Reader<'a> {
    lines: &'a [&'a str],
    fields: Vec<RawField>,
    body: Vec<&'a str>,
    /// Blank lines seen since the last body line.
    blanks: usize,
    /// A field stood between the last body line and the next one.
    separated: bool,
}

impl<'a> Reader<'a> {
    fn new(lines: &'a [&'a str]) -> Reader<'a> {
        Reader {
            lines,
            fields: Vec::new(),
            body: Vec::new(),
            blanks: 0,
            separated: false,
        }
    }

    /// Reads the line at `index` (and a field's items); returns the next index.
    fn line(&mut self, index: usize, is_known: &impl Fn(&str) -> bool) -> usize {
        let line = self.lines[index];
        if line.trim().is_empty() {
            self.blanks += 1;
            return index + 1;
        }
        let Some((label, value)) = label_line(line).filter(|(label, _)| is_known(label)) else {
            self.push_body(line);
            return index + 1;
        };
        self.separated = true;
        self.blanks = 0;
        let (value, next) = if value.is_empty() {
            let (items, next) = list_items(self.lines, index + 1);
            (RawValue::List(items), next)
        } else {
            (RawValue::Scalar(value.to_string()), index + 1)
        };
        self.fields.push(RawField {
            label: label.to_string(),
            line: index + 1,
            value,
        });
        next
    }

    fn push_body(&mut self, line: &'a str) {
        if !self.body.is_empty() {
            let gap = self.blanks.max(usize::from(self.separated));
            self.body.extend(std::iter::repeat_n("", gap));
        }
        self.body.push(line.trim_end());
        self.blanks = 0;
        self.separated = false;
    }
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
        .strip_prefix('#')
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(str::trim)
        .unwrap_or_default();
    if title.is_empty() {
        return Err(index + 1);
    }
    Ok((title.to_string(), index + 1))
}

/// `Label: value` → (label, trimmed value). Labels are `[A-Za-z][A-Za-z0-9-]*`.
fn label_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let (label, value) = line.split_once(':')?;
    let mut chars = label.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    (first_ok && rest_ok).then(|| (label, value.trim()))
}

/// The `- item` lines from `start`. Blank lines before the first item are
/// skipped; a blank line after one, or any other line, ends the list.
fn list_items(lines: &[&str], start: usize) -> (Vec<String>, usize) {
    let mut items = Vec::new();
    let mut index = start;
    while let Some(line) = lines.get(index) {
        if line.trim().is_empty() && items.is_empty() {
            index += 1;
            continue;
        }
        let Some(item) = list_item(line) else {
            break;
        };
        items.push(item.to_string());
        index += 1;
    }
    if items.is_empty() {
        return (items, start);
    }
    (items, index)
}

/// `- item` (any whitespace after the dash); a lone `-` is an empty item.
fn list_item(line: &str) -> Option<&str> {
    let line = line.trim();
    if line == "-" {
        return Some("");
    }
    let rest = line.strip_prefix('-')?;
    rest.starts_with(char::is_whitespace).then(|| rest.trim())
}
