//! Why reading `millrace.toml` failed: built by the loader and by the
//! unknown-key check, which therefore do not import each other.

use std::path::PathBuf;

use thiserror::Error;

use crate::fs_error::FileError;

/// Reading `millrace.toml` failed.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// A key millrace does not know.
    #[error("{}:{line}: unknown key `{key}`{}", path.display(), suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The dotted key (`runners.codex.permision_default`).
        key: String,
        /// The closest known key at that place, when one is close.
        suggestion: Option<String>,
    },
    /// Any other problem: bad TOML, a wrong type, a value out of range.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}
