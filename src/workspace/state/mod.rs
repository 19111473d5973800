//! The state store: versioned JSON state files, the runtime snapshot, budget counters, status markers.

mod counters;
mod error;
mod snapshot;
mod status;

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use counters::{BudgetCounters, ItemBudgets, item_key};
pub use error::StateError;
pub use snapshot::{ActiveRun, FailedCommand, PlanRef, RuntimeSnapshot, Slot, WorkItemRef};
pub use status::StatusMarker;

use super::atomic::write_atomic;
use super::family::Plane;
use super::paths::WorkspacePaths;
use crate::fs_error::{at, json_at};

/// The schema version this build writes and the newest it reads.
pub const SCHEMA_VERSION: &str = "1.0";

/// Reads a versioned JSON state file; `Ok(None)` when it does not exist.
pub fn read_state<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StateError> {
    let text = match crate::workspace::input::read_text(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(at("read", path)(error).into()),
    };
    let value: Value = serde_json::from_str(&text).map_err(|error| invalid(path, &error))?;
    check_version(path, &value)?;
    serde_json::from_value(value)
        .map(Some)
        .map_err(|error| invalid(path, &error))
}

/// Writes a state file atomically as pretty JSON.
pub fn write_state<T: Serialize>(path: &Path, value: &T) -> Result<(), StateError> {
    let text = serde_json::to_string_pretty(value).map_err(json_at("write", path))?;
    Ok(write_atomic(path, format!("{text}\n").as_bytes()).map_err(at("write", path))?)
}

/// Refuses a missing, malformed or future `schema_version`.
fn check_version(path: &Path, value: &Value) -> Result<(), StateError> {
    let found = value.get("schema_version").and_then(Value::as_str);
    let Some(found) = found else {
        let message = "missing string field `schema_version`".to_string();
        return Err(StateError::Invalid {
            path: path.to_path_buf(),
            line: 0,
            message,
        });
    };
    match (parse_version(found), parse_version(SCHEMA_VERSION)) {
        (Some(file), Some(ours)) if file <= ours => Ok(()),
        (Some(_), _) => Err(StateError::FutureVersion {
            path: path.to_path_buf(),
            found: found.to_string(),
            supported: SCHEMA_VERSION,
        }),
        (None, _) => {
            let message = format!("`schema_version` `{found}` is not `MAJOR.MINOR`");
            Err(StateError::Invalid {
                path: path.to_path_buf(),
                line: 0,
                message,
            })
        }
    }
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn invalid(path: &Path, error: &serde_json::Error) -> StateError {
    StateError::Invalid {
        path: path.to_path_buf(),
        line: error.line(),
        message: error.to_string(),
    }
}

/// The state files of one workspace.
#[derive(Debug, Clone)]
pub struct StateStore {
    paths: WorkspacePaths,
}

impl StateStore {
    /// The state store of `paths`.
    pub fn new(paths: &WorkspacePaths) -> StateStore {
        StateStore {
            paths: paths.clone(),
        }
    }

    /// The runtime snapshot, or a fresh one when none was written yet.
    pub fn load_snapshot(&self) -> Result<RuntimeSnapshot, StateError> {
        Ok(read_state(&self.paths.snapshot_file())?.unwrap_or_default())
    }

    /// Stamps `updated_at` and writes the snapshot.
    pub fn save_snapshot(&self, snapshot: &mut RuntimeSnapshot) -> Result<(), StateError> {
        snapshot.updated_at = super::timestamp::Timestamp::now();
        write_state(&self.paths.snapshot_file(), snapshot)
    }

    /// The budget counters, or empty ones.
    pub fn load_counters(&self) -> Result<BudgetCounters, StateError> {
        Ok(read_state(&self.paths.counters_file())?.unwrap_or_default())
    }

    /// Writes the budget counters.
    pub fn save_counters(&self, counters: &BudgetCounters) -> Result<(), StateError> {
        write_state(&self.paths.counters_file(), counters)
    }

    /// The plane's status marker (`None` when the file does not exist).
    pub fn read_status(&self, plane: Plane) -> Result<Option<StatusMarker>, StateError> {
        status::read(&self.paths.status_file(plane))
    }

    /// Writes the plane's status marker file (`### MARKER`).
    pub fn write_status(&self, plane: Plane, marker: &StatusMarker) -> Result<(), StateError> {
        status::write(&self.paths.status_file(plane), marker)
    }

    /// Every state file that cannot be read, with why (for `doctor`).
    pub fn check(&self) -> Vec<StateError> {
        let mut problems = Vec::new();
        problems.extend(self.load_snapshot().err());
        problems.extend(self.load_counters().err());
        problems.extend(
            Plane::ALL
                .iter()
                .filter_map(|plane| self.read_status(*plane).err()),
        );
        problems
    }
}
