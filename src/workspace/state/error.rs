//! Why reading or writing a state file failed: built by the store and by
//! the status markers, which therefore do not import each other.

use std::path::PathBuf;

use thiserror::Error;

use crate::fs_error::FileError;

/// Reading or writing a state file failed.
#[derive(Debug, Error)]
pub enum StateError {
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The file is not the JSON it should be.
    #[error("`{}`:{line}: invalid state file: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file was written by a newer millrace.
    #[error(
        "`{}` has schema_version {found}, newer than {supported} which this millrace reads; upgrade millrace",
        path.display()
    )]
    FutureVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: String,
        /// The newest version this build reads.
        supported: &'static str,
    },
    /// A status file that is not one `### MARKER` line.
    #[error("`{}`: expected one `### MARKER` line, found `{text}`", path.display())]
    BadMarker {
        /// The file.
        path: PathBuf,
        /// What it holds.
        text: String,
    },
}
