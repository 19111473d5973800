//! The blueprint record under `blueprints/`: manifests, candidate, approved
//! and rejected packets, evaluations, critiques and promotions, and the
//! revision fields of a draft. Each record is the agent's JSON kept verbatim
//! (so no field the runtime does not read is lost); the ids that link the
//! records to each other are read through typed views. What the agent
//! wrote is read like any file another process put where the daemon looks
//! (`input::read_text`): a FIFO or a link to `/dev/zero` fails the stage's
//! effect instead of hanging or filling the daemon.

use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::atomic::{rename_no_replace, write_atomic_creating_parent};
use super::documents::{BlueprintDraft, WorkDocument, is_valid_id, parse_json};
use super::family::{Family, LifecycleState};
use super::input::read_text;
use super::paths::WorkspacePaths;
use crate::fs_error::{FileError, at};

/// Why a blueprint record could not be read, checked or written.
#[derive(Debug, thiserror::Error)]
pub enum BlueprintRecordError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{name} is not valid: {message}")]
    Invalid { name: String, message: String },
    #[error("{field} `{value}` is not a valid id")]
    BadId { field: &'static str, value: String },
    #[error("{what}: {field} is `{found}` but must be `{expected}`")]
    Mismatch {
        what: &'static str,
        field: &'static str,
        found: String,
        expected: String,
    },
}

/// Where a packet is in its review: waiting, or judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketState {
    Candidates,
    Approved,
    Rejected,
}

impl PacketState {
    fn dir(self) -> &'static str {
        match self {
            PacketState::Candidates => "candidates",
            PacketState::Approved => "approved",
            PacketState::Rejected => "rejected",
        }
    }
}

impl WorkspacePaths {
    fn blueprints_dir(&self) -> PathBuf {
        self.agents_dir().join("blueprints")
    }

    /// `blueprints/manifests/<manifest_id>.json`: the manager's decomposition.
    pub fn blueprint_manifest(&self, manifest_id: &str) -> PathBuf {
        self.blueprints_dir()
            .join("manifests")
            .join(format!("{manifest_id}.json"))
    }

    /// `blueprints/packets/<state>/<blueprint_id>.<ext>` (`json` or `md`).
    pub fn blueprint_packet(&self, state: PacketState, blueprint_id: &str, ext: &str) -> PathBuf {
        self.blueprints_dir()
            .join("packets")
            .join(state.dir())
            .join(format!("{blueprint_id}.{ext}"))
    }

    /// `blueprints/evaluations/<evaluation_id>.json`.
    pub fn blueprint_evaluation(&self, evaluation_id: &str) -> PathBuf {
        self.blueprints_dir()
            .join("evaluations")
            .join(format!("{evaluation_id}.json"))
    }

    /// `blueprints/critiques/open/<critique_id>.json`: a critique the next
    /// revision must answer (the reference never moves one to `resolved/`).
    pub fn blueprint_critique(&self, critique_id: &str) -> PathBuf {
        self.blueprints_dir()
            .join("critiques/open")
            .join(format!("{critique_id}.json"))
    }

    /// `blueprints/promotions/promotion-<evaluation_id>.json`.
    pub fn blueprint_promotion(&self, evaluation_id: &str) -> PathBuf {
        self.blueprints_dir()
            .join("promotions")
            .join(format!("{}.json", promotion_id(evaluation_id)))
    }
}

/// The promotion id the reference derives from the approving evaluation.
pub fn promotion_id(evaluation_id: &str) -> String {
    format!("promotion-{evaluation_id}")
}

/// A record as the agent wrote it, with the typed view `T` of its ids.
#[derive(Debug, Clone)]
pub struct Record<T> {
    pub ids: T,
    pub value: Value,
}

/// The ids of a manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestIds {
    pub manifest_id: String,
    pub root_spec_id: String,
    pub root_idea_id: String,
    pub draft_ids: Vec<String>,
}

/// The ids of a packet (`revision` counts from 1).
#[derive(Debug, Clone, Deserialize)]
pub struct PacketIds {
    pub blueprint_id: String,
    pub draft_id: String,
    pub manifest_id: String,
    pub root_spec_id: String,
    pub root_idea_id: String,
    pub revision: u64,
    #[serde(default)]
    pub references: Vec<String>,
}

/// The ids and decision of an evaluation.
#[derive(Debug, Clone, Deserialize)]
pub struct EvaluationIds {
    pub evaluation_id: String,
    pub blueprint_id: String,
    pub draft_id: String,
    pub decision: String,
    #[serde(default)]
    pub critique_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The ids of a critique.
#[derive(Debug, Clone, Deserialize)]
pub struct CritiqueIds {
    pub critique_id: String,
    pub evaluation_id: String,
    pub blueprint_id: String,
    pub draft_id: String,
    pub revision: u64,
}

/// Reads `name` from a run directory as a record.
pub fn read_record<T: DeserializeOwned>(
    dir: &Path,
    name: &str,
) -> Result<Record<T>, BlueprintRecordError> {
    let path = dir.join(name);
    read_record_at(&path, name)
}

/// Reads the record at `path`; `name` is what an error calls it.
pub fn read_record_at<T: DeserializeOwned>(
    path: &Path,
    name: &str,
) -> Result<Record<T>, BlueprintRecordError> {
    let text = read_text(path).map_err(at("read", path))?;
    let invalid = |e: serde_json::Error| BlueprintRecordError::Invalid {
        name: name.to_string(),
        message: e.to_string(),
    };
    let value: Value = serde_json::from_str(&text).map_err(invalid)?;
    let ids = T::deserialize(&value).map_err(invalid)?;
    Ok(Record { ids, value })
}

/// Fails unless `value` is a valid id.
pub fn check_id(field: &'static str, value: &str) -> Result<(), BlueprintRecordError> {
    if is_valid_id(value) {
        return Ok(());
    }
    Err(BlueprintRecordError::BadId {
        field,
        value: value.to_string(),
    })
}

/// Fails unless `found` equals `expected`.
pub fn check_equal(
    what: &'static str,
    field: &'static str,
    found: &str,
    expected: &str,
) -> Result<(), BlueprintRecordError> {
    if found == expected {
        return Ok(());
    }
    Err(BlueprintRecordError::Mismatch {
        what,
        field,
        found: found.to_string(),
        expected: expected.to_string(),
    })
}

/// Writes a record as pretty JSON. Writing the same record again (a stage
/// applied twice after a crash) leaves the same file.
pub fn write_record(path: &Path, value: &Value) -> Result<(), BlueprintRecordError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| BlueprintRecordError::Invalid {
            name: path.display().to_string(),
            message: e.to_string(),
        })?;
    text.push('\n');
    write_atomic_creating_parent(path, text.as_bytes()).map_err(at("write", path))?;
    Ok(())
}

/// Copies a file of the run (the packet's markdown) into the record.
pub fn copy_into_record(from: &Path, to: &Path) -> Result<(), BlueprintRecordError> {
    let text = read_text(from).map_err(at("read", from))?;
    write_atomic_creating_parent(to, text.as_bytes()).map_err(at("write", to))?;
    Ok(())
}

/// Moves a candidate packet (JSON and markdown) to `to`. A packet already
/// there and gone from the candidates was moved by an earlier application of
/// the same stage, which counts as moved.
pub fn judge_packet(
    paths: &WorkspacePaths,
    blueprint_id: &str,
    to: PacketState,
) -> Result<PathBuf, BlueprintRecordError> {
    for ext in ["json", "md"] {
        let from = paths.blueprint_packet(PacketState::Candidates, blueprint_id, ext);
        let target = paths.blueprint_packet(to, blueprint_id, ext);
        move_once(&from, &target)?;
    }
    Ok(paths.blueprint_packet(to, blueprint_id, "json"))
}

fn move_once(from: &Path, to: &Path) -> Result<(), BlueprintRecordError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    }
    match rename_no_replace(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound && to.is_file() => Ok(()),
        Err(e) => Err(at("move", from)(e).into()),
    }
}

/// The packet of `blueprint_id`, wherever its review has put it.
pub fn find_packet(paths: &WorkspacePaths, blueprint_id: &str) -> Option<PathBuf> {
    [
        PacketState::Candidates,
        PacketState::Approved,
        PacketState::Rejected,
    ]
    .into_iter()
    .map(|state| paths.blueprint_packet(state, blueprint_id, "json"))
    .find(|path| path.is_file())
}

/// The draft as it is now in `blueprints/drafts/active/` (the copy a stage
/// was claimed with does not see the revisions made since).
pub fn read_active_draft(
    paths: &WorkspacePaths,
    draft_id: &str,
) -> Result<BlueprintDraft, BlueprintRecordError> {
    let path = paths.item_path(Family::BlueprintDraft, LifecycleState::Active, draft_id);
    let text = read_text(&path).map_err(at("read", &path))?;
    match parse_json(Family::BlueprintDraft, &path, &text) {
        Ok(WorkDocument::BlueprintDraft(draft)) => Ok(draft),
        Ok(_) => Err(BlueprintRecordError::Invalid {
            name: path.display().to_string(),
            message: "not a blueprint draft".into(),
        }),
        Err(e) => Err(BlueprintRecordError::Invalid {
            name: path.display().to_string(),
            message: e.to_string(),
        }),
    }
}

/// Writes the active draft back (after a revision field changed).
pub fn write_active_draft(
    paths: &WorkspacePaths,
    draft: &BlueprintDraft,
) -> Result<(), BlueprintRecordError> {
    let path = paths.item_path(
        Family::BlueprintDraft,
        LifecycleState::Active,
        &draft.draft_id,
    );
    write_atomic_creating_parent(&path, draft.render().as_bytes()).map_err(at("write", &path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_the_agent_made_a_fifo_or_a_link_fails_without_blocking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("blueprint_packet.json"))
            .status();
        assert!(made.is_ok_and(|s| s.success()));
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("blueprint.md")).expect("link");
        let run_dir = dir.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let record = read_record::<Value>(&run_dir, "blueprint_packet.json").is_err();
            let copy = copy_into_record(&run_dir.join("blueprint.md"), &run_dir.join("kept.md"));
            let _ = tx.send((record, copy.is_err()));
        });
        let answer = rx.recv_timeout(std::time::Duration::from_secs(30));
        assert_eq!(answer.ok(), Some((true, true)));
    }
}
