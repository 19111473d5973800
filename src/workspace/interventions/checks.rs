//! The checks every intervention makes on its input before it touches the
//! workspace: an id that is safe as a file name, a reason that is not empty.

use super::error::InterventionError;
use crate::workspace::documents::is_valid_id;

/// Refuses an id that is not `^[A-Za-z0-9][A-Za-z0-9._-]*$` (no paths, no `..`).
pub fn check_id(what: &'static str, id: &str) -> Result<(), InterventionError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(InterventionError::UnsafeId {
            what,
            value: id.to_string(),
        })
    }
}

/// The reason, trimmed; refuses an empty one.
pub fn check_reason(reason: &str) -> Result<&str, InterventionError> {
    match reason.trim() {
        "" => Err(InterventionError::EmptyReason),
        trimmed => Ok(trimmed),
    }
}
