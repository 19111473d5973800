//! Document errors: every problem names the file, the line when there is one, and the field.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

use crate::fs_error::FileError;

/// Reading or validating a work document failed.
#[derive(Debug, Error)]
pub enum DocumentError {
    /// The file could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// The document is malformed; every problem found is listed.
    #[error("{}", Problems { path, problems })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, in line order.
        problems: Vec<Problem>,
    },
}

impl DocumentError {
    /// The problems of an invalid document (empty for I/O errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            DocumentError::File(_) => &[],
            DocumentError::Invalid { problems, .. } => problems,
        }
    }
}

/// One thing wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when the problem has one (JSON imports have none).
    pub line: Option<usize>,
    /// The field label (markdown) or key (JSON) concerned.
    pub field: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl Problem {
    pub(crate) fn new(line: Option<usize>, field: Option<&str>, kind: ProblemKind) -> Problem {
        Problem {
            line,
            field: field.map(str::to_string),
            kind,
        }
    }
}

/// The kinds of document problems. Messages are lowercase with names in backticks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProblemKind {
    /// Line 1 is not `# <title>`.
    #[error("a work document starts with a `# <title>` line")]
    MissingHeading,
    /// A known label appears twice.
    #[error("`{field}` is repeated at line {line} (first at line {first_line})")]
    Repeated {
        /// The label.
        field: String,
        /// Where it is repeated.
        line: usize,
        /// Where it first appeared.
        first_line: usize,
    },
    /// A required field is absent or empty.
    #[error("missing required field `{field}`")]
    Missing {
        /// The label.
        field: String,
    },
    /// A list that needs an item has none.
    #[error("`{field}` needs at least one `- item`")]
    EmptyList {
        /// The label.
        field: String,
    },
    /// `Title:` differs from the heading.
    #[error("`Title` is `{title}` but the heading is `{heading}`")]
    TitleMismatch {
        /// The `Title:` value.
        title: String,
        /// The H1 text.
        heading: String,
    },
    /// An id does not match `^[A-Za-z0-9][A-Za-z0-9._-]*$` or is longer than
    /// [`MAX_ID_LEN`](super::id::MAX_ID_LEN).
    #[error(
        "`{field}` value `{value}` is not a valid id (letters, digits, `.`, `_`, `-`; starting with a letter or digit; at most 200 characters)"
    )]
    InvalidId {
        /// The label.
        field: String,
        /// The value.
        value: String,
    },
    /// A value outside an enumeration.
    #[error(
        "`{field}` must be one of {allowed}, not `{value}`{}",
        suggestion_text(suggestion)
    )]
    InvalidChoice {
        /// The label.
        field: String,
        /// The value.
        value: String,
        /// The legal values, comma separated.
        allowed: String,
        /// The closest legal value, if any is close.
        suggestion: Option<String>,
    },
    /// A value that is not an ISO-8601 datetime.
    #[error("`{field}` value `{value}` is not an ISO-8601 datetime like `2026-01-01T00:00:00Z`")]
    InvalidDatetime {
        /// The label.
        field: String,
        /// The value.
        value: String,
    },
    /// A value that is not `true` or `false`.
    #[error("`{field}` must be `true` or `false`, not `{value}`")]
    InvalidBool {
        /// The label.
        field: String,
        /// The value.
        value: String,
    },
    /// An inline JSON value that does not parse.
    #[error("`{field}` is not valid inline JSON: {message}")]
    InvalidJson {
        /// The label.
        field: String,
        /// The parser's message.
        message: String,
    },
    /// A single-value field written as a list.
    #[error("`{field}` takes a single value, not a list")]
    ExpectedScalar {
        /// The label.
        field: String,
    },
    /// A JSON value of the wrong type.
    #[error("`{field}` must be {expected}")]
    WrongType {
        /// The key.
        field: String,
        /// What was expected (`a string`, `a list of strings`).
        expected: &'static str,
    },
    /// A JSON key the family does not have.
    #[error("unknown key `{key}`{}", suggestion_text(suggestion))]
    UnknownKey {
        /// The key.
        key: String,
        /// The closest known key, if any is close.
        suggestion: Option<String>,
    },
    /// The file stem differs from the document id.
    #[error("file name `{stem}` does not match `{field}` `{id}`")]
    StemMismatch {
        /// The id label.
        field: String,
        /// The file stem.
        stem: String,
        /// The id in the document.
        id: String,
    },
    /// The document is not JSON, or not a JSON object.
    #[error("invalid JSON: {message}")]
    Json {
        /// The parser's message.
        message: String,
    },
    /// The family has no document of this format.
    #[error("{family} documents are {expected}")]
    WrongFormat {
        /// The family id.
        family: &'static str,
        /// The expected format (`JSON`, `markdown or JSON`).
        expected: &'static str,
    },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|name| format!("; did you mean `{name}`?"))
        .unwrap_or_default()
}

struct Problems<'a> {
    path: &'a PathBuf,
    problems: &'a [Problem],
}

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.path.display())?;
            if let Some(line) = problem.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": {}", problem.kind)?;
        }
        Ok(())
    }
}
