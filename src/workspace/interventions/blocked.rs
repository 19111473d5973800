//! Blocked-item diagnostics (`diagnostics/blocked/<family>-<id>.json`): why
//! an item was blocked, written by the daemon, read by `retry_blocked`. The
//! type reads what `runtime::retry` writes (its fields are a subset of these).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::InterventionError;
use crate::fs_error::{at, json_at};
use crate::workspace::atomic::write_atomic;
use crate::workspace::family::Family;
use crate::workspace::paths::WorkspacePaths;
use crate::workspace::timestamp::Timestamp;

/// Why an item is blocked, and how often it was requeued automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedDiagnostics {
    /// The family (`task`); kept as written by the daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// The item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The node whose outcome blocked the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The final (terminal) the item was routed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_name: Option<String>,
    /// The failure class of the last stage (`runner_timeout`, `blocked`, ...).
    #[serde(default)]
    pub failure_class: Option<String>,
    /// True when the failure may pass by itself (network, rate limit, timeout).
    #[serde(default)]
    pub transient: bool,
    /// When the item was blocked.
    #[serde(default)]
    pub blocked_at: Option<Timestamp>,
    /// Automatic requeues so far (they count toward the auto-retry budget).
    #[serde(default)]
    pub auto_requeues: u32,
}

/// `diagnostics/blocked/<family>-<id>.json`.
pub fn blocked_diagnostics_path(paths: &WorkspacePaths, family: Family, id: &str) -> PathBuf {
    paths
        .blocked_diagnostics_dir()
        .join(format!("{}-{id}.json", family.as_str()))
}

/// The diagnostics of a blocked item; `Ok(None)` when none were written.
pub fn read_blocked_diagnostics(
    paths: &WorkspacePaths,
    family: Family,
    id: &str,
) -> Result<Option<BlockedDiagnostics>, InterventionError> {
    let path = blocked_diagnostics_path(paths, family, id);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(at("read", &path)(error).into()),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| json_at("parse", &path)(error).into())
}

impl BlockedDiagnostics {
    /// Writes the diagnostics of a blocked item atomically (the daemon's side).
    pub fn write(
        &self,
        paths: &WorkspacePaths,
        family: Family,
        id: &str,
    ) -> Result<PathBuf, InterventionError> {
        let path = blocked_diagnostics_path(paths, family, id);
        let text = serde_json::to_string_pretty(self).map_err(json_at("encode", &path))?;
        ensure_parent(&path)?;
        write_atomic(&path, format!("{text}\n").as_bytes()).map_err(at("write", &path))?;
        Ok(path)
    }
}

fn ensure_parent(path: &Path) -> Result<(), InterventionError> {
    match path.parent() {
        Some(dir) => Ok(std::fs::create_dir_all(dir).map_err(at("create", dir))?),
        None => Ok(()),
    }
}
