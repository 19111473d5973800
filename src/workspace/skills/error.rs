//! Why a skill operation failed.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A skill operation's failure. Nothing was written when it is returned
/// from an install, an update or a promotion.
#[derive(Debug, Error)]
pub enum SkillError {
    /// The package is refused (id, front matter, paths, symlinks, size).
    #[error("invalid skill package: {0}")]
    Invalid(String),
    /// No skill, candidate or index entry has this id.
    #[error("{0}")]
    NotFound(String),
    /// The operation would replace something it must not.
    #[error("{0}")]
    Refused(String),
    /// A stage that reads the skill is running: try again when it ends.
    #[error("{0}")]
    Busy(String),
    /// The remote index or a package could not be fetched.
    #[error("{0}")]
    Fetch(String),
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SkillError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> SkillError {
        SkillError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
