//! Audit records written beside the queues: moves, requeues, quarantined documents.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::QueueError;
use crate::fs_error::{at, json_at};
use crate::workspace::atomic::append_line;
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::timestamp::Timestamp;

/// Who asked for a move and why; one JSONL line per move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveReason {
    /// Who moved it (`runtime`, `operator`, `auto_recovery`).
    pub actor: String,
    /// Why.
    pub reason: String,
    /// True for automatic retries (these count toward the auto-requeue budget).
    #[serde(default)]
    pub auto: bool,
}

impl MoveReason {
    /// A move by `actor` for `reason`, not automatic.
    pub fn new(actor: &str, reason: &str) -> MoveReason {
        MoveReason {
            actor: actor.to_string(),
            reason: reason.to_string(),
            auto: false,
        }
    }

    /// The same reason marked automatic.
    pub fn automatic(mut self) -> MoveReason {
        self.auto = true;
        self
    }
}

/// One line of `<family>/transitions.jsonl` or `<queue_dir>/<id>.requeue.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveRecord {
    /// `1.0`.
    pub schema_version: String,
    /// `work_item_transition` or `work_item_requeue`.
    pub kind: String,
    /// The family.
    pub work_item_family_id: Family,
    /// The id.
    pub work_item_id: String,
    /// The state left.
    pub from: LifecycleState,
    /// The state entered.
    pub to: LifecycleState,
    /// Who and why.
    #[serde(flatten)]
    pub reason: MoveReason,
    /// For requeues: this requeue's number for the item (1 for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_number: Option<usize>,
    /// When.
    pub occurred_at: Timestamp,
}

/// One line of `<dir>/invalid-artifacts.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRecord {
    /// `1.0`.
    pub schema_version: String,
    /// `invalid_artifact`.
    pub kind: String,
    /// The family whose directory held the file.
    pub work_item_family_id: Family,
    /// Where the document was (lossy when its name is not UTF-8).
    pub original_path: String,
    /// Where it is now (`<file>.invalid`).
    pub quarantined_path: String,
    /// Why it was refused (the parser's message).
    pub reason: String,
    /// When.
    pub quarantined_at: Timestamp,
}

impl QuarantineRecord {
    /// The journal event for this quarantine.
    pub fn to_event(&self) -> RuntimeEvent {
        RuntimeEvent::WorkItemQuarantined {
            family: self.work_item_family_id,
            path: self.original_path.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// Appends one JSON line.
pub(crate) fn append_record<T: Serialize>(path: &Path, record: &T) -> Result<(), QueueError> {
    let line = serde_json::to_string(record).map_err(json_at("encode a record for", path))?;
    Ok(append_line(path, &line).map_err(at("append to", path))?)
}

/// The requeue log of an item: `<queue_dir>/<id>.requeue.jsonl`.
pub(crate) fn requeue_log(queue_dir: &Path, id: &str) -> PathBuf {
    queue_dir.join(format!("{id}.requeue.jsonl"))
}

/// The records of a requeue log (missing file: none; unreadable lines are skipped).
pub fn read_requeue_log(path: &Path) -> Result<Vec<MoveRecord>, QueueError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(at("read", path)(error).into()),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}
