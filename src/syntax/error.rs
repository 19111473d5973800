//! A syntax error as data: where, what was expected and what was found, and
//! the message and label it is shown with.

use super::source::Span;

/// A syntax error: where, what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    /// User-facing names of what would have been accepted here.
    pub expected: Vec<String>,
    /// What stands at the error position, as the user wrote it.
    pub found: String,
    /// A message that replaces "expected ..., found ..." (an unclosed `{`,
    /// an unterminated string).
    pub custom: Option<(String, String)>,
    /// A hint: the keyword or spelling that was probably meant.
    pub help: Option<String>,
}

impl SyntaxError {
    pub fn message(&self) -> String {
        if let Some((message, _)) = &self.custom {
            return message.clone();
        }
        match self.expected.as_slice() {
            [] => format!("unexpected {}", self.found),
            [one] => format!("expected {one}, found {}", self.found),
            many => {
                let (last, rest) = many.split_last().unwrap_or((&many[0], &[]));
                format!(
                    "expected {} or {last}, found {}",
                    rest.join(", "),
                    self.found
                )
            }
        }
    }

    /// The label on the error's span.
    pub fn label(&self) -> String {
        if let Some((_, label)) = &self.custom {
            return label.clone();
        }
        match self.expected.as_slice() {
            [] => "unexpected here".to_string(),
            [one] => format!("expected {one}"),
            many => {
                let (last, rest) = many.split_last().unwrap_or((&many[0], &[]));
                format!("expected {} or {last}", rest.join(", "))
            }
        }
    }
}
