//! One shape for a failed file operation, shared by every layer: what was
//! being done, to which path, and the I/O error underneath. This module uses
//! nothing of the crate.

use std::io;
use std::path::PathBuf;

/// A file operation failed: ``cannot write `state/x.json`: No space left on
/// device (os error 28)``.
///
/// The message ends with the I/O error's text so that a caller that logs it
/// with `to_string()` (journal events, monitor lines) keeps the cause;
/// `source()` returns that same I/O error for code that walks the chain (the
/// daemon's disk-full check), and the CLI's report says it once.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} `{}`: {source}", path.display())]
pub struct FileError {
    /// What was being done, as a verb phrase (`read`, `append to`).
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: io::Error,
}

impl FileError {
    /// The kind of the I/O error underneath (`NotFound` is often no failure).
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

/// The error of a failed `action` on `path`, for `map_err`:
/// `std::fs::read(&path).map_err(at("read", &path))?`.
pub fn at(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> FileError {
    let path = path.into();
    move |source| FileError {
        action,
        path,
        source,
    }
}

/// A value that could not be encoded or decoded on its way to or from `path`
/// (serde's error, carried as the I/O error's cause), for `map_err`.
pub fn json_at(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(serde_json::Error) -> FileError {
    let path = path.into();
    move |error| at(action, path)(io::Error::other(error))
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn the_message_names_action_path_and_cause() {
        let error = at("write", "state/x.json")(io::Error::from(io::ErrorKind::StorageFull));
        assert_eq!(
            error.to_string(),
            "cannot write `state/x.json`: no storage space"
        );
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn the_io_error_is_the_source() {
        let error = at("read", "a")(io::Error::from(io::ErrorKind::NotFound));
        let source = error.source().and_then(|e| e.downcast_ref::<io::Error>());
        assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::NotFound));
    }
}
