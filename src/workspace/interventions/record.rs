//! What every intervention leaves behind: the archived file (never a
//! deletion), one line of `<family_dir>/interventions.jsonl`, and a journal event.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::macros::format_description;

use super::InterventionError;
use crate::fs_error::{at, json_at};
use crate::workspace::atomic::{append_line, rename_no_replace};
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::queue::{FileEvent, QueueStore};
use crate::workspace::timestamp::Timestamp;

/// Who applies interventions, in audit lines and move records.
pub const ACTOR: &str = "operator";

/// One line of `<family_dir>/interventions.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionRecord {
    /// `1.0`.
    pub schema_version: String,
    /// `operator_intervention`.
    pub kind: String,
    /// The intervention (`cancel_work_item`, `supersede_task`, ...).
    pub action: String,
    /// The family of the item.
    pub work_item_family_id: Family,
    /// The item id (the file name for `archive_invalid_incident`).
    pub work_item_id: String,
    /// The state the item was in, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_state: Option<LifecycleState>,
    /// Where the item's file went, when it moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_path: Option<PathBuf>,
    /// Why (the operator's words).
    pub reason: String,
    /// `operator`.
    pub actor: String,
    /// Action-specific facts (replacement, cascade, dependencies, ...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    /// When.
    pub occurred_at: Timestamp,
}

impl InterventionRecord {
    /// A record of `action` on `family` item `id`, stamped now.
    pub fn new(action: &str, family: Family, id: &str, reason: &str) -> InterventionRecord {
        InterventionRecord {
            schema_version: "1.0".to_string(),
            kind: "operator_intervention".to_string(),
            action: action.to_string(),
            work_item_family_id: family,
            work_item_id: id.to_string(),
            from_state: None,
            archive_path: None,
            reason: reason.to_string(),
            actor: ACTOR.to_string(),
            details: serde_json::Value::Null,
            occurred_at: Timestamp::now(),
        }
    }

    /// The same record with the state left and the archive path.
    pub fn moved(mut self, from: LifecycleState, archive: &Path) -> InterventionRecord {
        self.from_state = Some(from);
        self.archive_path = Some(archive.to_path_buf());
        self
    }

    /// The same record with action-specific facts.
    pub fn details(mut self, details: serde_json::Value) -> InterventionRecord {
        self.details = details;
        self
    }
}

/// `<family_dir>/interventions.jsonl`.
pub fn audit_log(queue: &QueueStore, family: Family) -> PathBuf {
    queue.paths().family_dir(family).join("interventions.jsonl")
}

/// Appends the record to its family's audit log.
pub fn audit(queue: &QueueStore, record: &InterventionRecord) -> Result<(), InterventionError> {
    let path = audit_log(queue, record.work_item_family_id);
    let line = serde_json::to_string(record).map_err(json_at("encode an audit line for", &path))?;
    Ok(append_line(&path, &line).map_err(at("append to", &path))?)
}

/// Journals `event`; a journal that cannot be written is reported in the
/// returned detail rather than failing an intervention already applied.
pub fn journal(journal: &Journal, event: RuntimeEvent, detail: String) -> String {
    match journal.append(event) {
        Ok(()) => detail,
        Err(error) => format!("{detail}; journal not written: {error}"),
    }
}

/// `<id>.<YYYYmmddTHHMMSSZ>.<hex8>.<state>.<ext>`: unique, sortable by time,
/// and naming the state the item left.
pub fn archive_name(id: &str, state_dir: &str, ext: &str) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let now = Timestamp::now().instant();
    let stamp = now
        .format(&format)
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    let hex = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!("{id}.{stamp}.{hex}.{state_dir}.{ext}")
}

/// Moves the document of `id` out of its lifecycle directory into `dir`
/// (created when missing) under an archive name, keeping the queue index current.
pub fn archive_item(
    queue: &mut QueueStore,
    family: Family,
    id: &str,
    state: LifecycleState,
    dir: &Path,
) -> Result<PathBuf, InterventionError> {
    let source = queue.paths().item_path(family, state, id);
    let name = archive_name(id, state.dir_name(family), family.extension());
    let target = dir.join(name);
    move_file(&source, &target)?;
    queue.apply_event(&FileEvent::Removed(source));
    Ok(target)
}

/// Renames `source` to `target` (never replacing), creating `target`'s directory.
pub fn move_file(source: &Path, target: &Path) -> Result<(), InterventionError> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    }
    match rename_no_replace(source, target) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::NotFound => Err(InterventionError::Vanished {
            path: source.to_path_buf(),
        }),
        Err(error) => Err(at("archive", source)(error).into()),
    }
}

/// The folders an intervention archives into, beside a lifecycle folder,
/// with the state name `queue show` gives what it finds there.
const ARCHIVE_FOLDERS: [&str; 3] = ["cancelled", "superseded", "operator"];

/// A work item an operator archived (cancelled, superseded, resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedItem {
    pub family: Family,
    /// `<state>_<folder>` as the reference names it (`queue_superseded`,
    /// `blocked_cancelled`), and `operator_resolved` for an incident.
    pub state: String,
    pub path: PathBuf,
}

/// The id an archive name (`<id>.<stamp>.<hex8>.<state>.<ext>`) stands for.
pub fn archived_id(name: &str) -> Option<&str> {
    let mut parts = name.rsplitn(5, '.');
    let _ext_state_hex_stamp = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    parts.next()
}

/// Every archived copy of `id`, newest last within each folder.
pub fn find_archived(paths: &crate::workspace::WorkspacePaths, id: &str) -> Vec<ArchivedItem> {
    let mut found = Vec::new();
    for family in Family::ALL {
        for state in family.states() {
            for folder in ARCHIVE_FOLDERS {
                let dir = paths.lifecycle_dir(family, *state).join(folder);
                let label = archive_state(family, *state, folder);
                found.extend(archived_in(&dir, id).into_iter().map(|path| ArchivedItem {
                    family,
                    state: label.clone(),
                    path,
                }));
            }
        }
    }
    found
}

fn archive_state(family: Family, state: LifecycleState, folder: &str) -> String {
    match (family, folder) {
        (Family::Incident, "operator") => "operator_resolved".to_string(),
        _ => format!("{}_{folder}", state.dir_name(family)),
    }
}

/// The files of `dir` archived under `id`, in name (time) order.
fn archived_in(dir: &Path, id: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            name.to_str().and_then(archived_id) == Some(id)
        })
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    paths
}

/// How many files `dir` holds (0 when it does not exist).
pub fn archived_count(
    paths: &crate::workspace::WorkspacePaths,
    family: Family,
    states: &[LifecycleState],
    folder: &str,
) -> usize {
    let count = |state: &LifecycleState| {
        let dir = paths.lifecycle_dir(family, *state).join(folder);
        std::fs::read_dir(dir).map_or(0, |entries| entries.filter_map(Result::ok).count())
    };
    states.iter().map(count).sum()
}
