//! Plane status marker files (`state/<plane>_status.md`): one line `### MARKER`.

use std::fmt;
use std::path::Path;

use super::error::StateError;
use crate::fs_error::at;
use crate::workspace::atomic::write_atomic_unsynced;

/// A status marker: SCREAMING_SNAKE (`IDLE`, `BUILDER_RUNNING`, `CHECKER_PASS`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusMarker(String);

impl StatusMarker {
    /// `IDLE`.
    pub fn idle() -> StatusMarker {
        StatusMarker("IDLE".to_string())
    }

    /// `<STAGE>_RUNNING` for a stage name (`builder` → `BUILDER_RUNNING`).
    pub fn running(stage: &str) -> StatusMarker {
        StatusMarker(format!("{}_RUNNING", stage.to_ascii_uppercase()))
    }

    /// A marker from its text, without `### `; `None` unless `^[A-Z][A-Z0-9_]*$`.
    pub fn new(text: &str) -> Option<StatusMarker> {
        let mut chars = text.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        ok.then(|| StatusMarker(text.to_string()))
    }

    /// The marker text (`IDLE`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StatusMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a status file: exactly one non-blank line `### MARKER`.
pub(super) fn read(path: &Path) -> Result<Option<StatusMarker>, StateError> {
    let text = match crate::workspace::input::read_text(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(at("read", path)(error).into()),
    };
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let marker = match (lines.next(), lines.next()) {
        (Some(line), None) => line
            .strip_prefix("###")
            .map(str::trim)
            .and_then(StatusMarker::new),
        _ => None,
    };
    let bad = || StateError::BadMarker {
        path: path.to_path_buf(),
        text: text.trim().to_string(),
    };
    marker.map(Some).ok_or_else(bad)
}

/// Writes `### MARKER\n` atomically, without fsync: the marker mirrors the
/// durable snapshot, and the daemon resets one it cannot read at start.
pub(super) fn write(path: &Path, marker: &StatusMarker) -> Result<(), StateError> {
    let text = format!("### {marker}\n");
    Ok(write_atomic_unsynced(path, text.as_bytes()).map_err(at("write", path))?)
}
