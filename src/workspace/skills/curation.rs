//! A curator's decision on a skill candidate, and what becomes of it:
//! the candidate is kept as a package in `learning/skill-candidates/<id>/`
//! (what `skills promote` installs), and a record of the decision in
//! `learning/update-candidates/<state>/<run>-<request>.json` (the
//! reference's record, `state` one of `applied`, `deferred`, `rejected`).
//! An accepted candidate becomes the skill's next version (the previous
//! one kept in history), or waits in `deferred/` while a running stage
//! reads the skill.

use crate::workspace::input::read_text;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::SkillError;
use super::index::Origin;
use super::ops::Change;
use super::package::{Package, SKILL_FILE};
use super::store::{InstallOptions, SkillStore};
use crate::workspace::atomic::write_atomic_creating_parent;
use crate::workspace::{Timestamp, WorkspacePaths};

/// The curator's decision file, in the run directory.
pub const DECISION_FILE: &str = "curator_decision.md";
/// The professor's candidate, in the run directory.
pub const CANDIDATE_FILE: &str = "professor_skill_candidate.md";

/// What `curator_decision.md` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub accept: bool,
    /// `create` or `improve`.
    pub change_kind: String,
    pub skill_id: String,
    pub target_skill_path: String,
}

/// `learning/update-candidates/<state>/<run>-<request>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurationRecord {
    pub schema_version: String,
    pub kind: String,
    pub state: String,
    pub run_id: String,
    pub work_item_id: String,
    pub skill_id: String,
    pub change_kind: String,
    pub target_skill_path: String,
    /// The kept candidate, relative to `millrace-agents/`.
    pub candidate_path: String,
    pub artifact_paths: Vec<String>,
    pub recorded_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<u32>,
}

/// Reads the decision's `Label: value` fields.
pub fn read_decision(run_dir: &Path) -> Result<Decision, SkillError> {
    let path = run_dir.join(DECISION_FILE);
    // The agent wrote it: read it guarded (no link, no FIFO, bounded size).
    let text = read_text(&path).map_err(|e| SkillError::io("read", &path, e))?;
    let fields: BTreeMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let field = |name: &str| {
        fields
            .get(name)
            .map(|v| v.to_string())
            .ok_or_else(|| SkillError::Invalid(format!("`{DECISION_FILE}` has no `{name}:` field")))
    };
    let decision = field("Decision")?.to_ascii_lowercase();
    if decision != "accept" && decision != "reject" {
        return Err(SkillError::Invalid(format!(
            "`Decision: {decision}` is neither `accept` nor `reject`"
        )));
    }
    Ok(Decision {
        accept: decision == "accept",
        change_kind: field("Change-Kind")?.to_ascii_lowercase(),
        skill_id: field("Target-Skill-ID")?,
        target_skill_path: field("Target-Skill-Path")?,
    })
}

/// The candidate package: the installed skill's files (for `improve`)
/// with `SKILL.md` replaced by the professor's candidate, validated; its
/// name must be the decision's skill and its path the skill's own.
pub fn candidate(
    paths: &WorkspacePaths,
    run_dir: &Path,
    d: &Decision,
) -> Result<Package, SkillError> {
    let store = SkillStore::new(paths);
    let existing = store.find(&d.skill_id).ok();
    let expected = match (&existing, d.change_kind.as_str()) {
        (Some(entry), "improve") => entry.path.clone(),
        (None, "create") => format!("skills/{}/{SKILL_FILE}", d.skill_id),
        (Some(_), _) => {
            return Err(SkillError::Refused(format!(
                "`create` of `{}`, which exists",
                d.skill_id
            )));
        }
        (None, _) => {
            return Err(SkillError::NotFound(format!(
                "skill not found: {}",
                d.skill_id
            )));
        }
    };
    let given = d.target_skill_path.trim_start_matches("millrace-agents/");
    if given != expected {
        return Err(SkillError::Invalid(format!(
            "`Target-Skill-Path: {}` is not the skill's path `millrace-agents/{expected}`",
            d.target_skill_path
        )));
    }
    let mut files = match &existing {
        Some(entry) => store.package(entry).map(|p| p.files).unwrap_or_default(),
        None => BTreeMap::new(),
    };
    let path = run_dir.join(CANDIDATE_FILE);
    let text = read_text(&path).map_err(|e| SkillError::io("read", &path, e))?;
    files.insert(SKILL_FILE.to_string(), text.into_bytes());
    let package = Package::from_files(files)?;
    if package.id() != d.skill_id {
        return Err(SkillError::Invalid(format!(
            "the candidate is named `{}`, the decision targets `{}`",
            package.id(),
            d.skill_id
        )));
    }
    Ok(package)
}

/// Keeps the candidate as `learning/skill-candidates/<id>/`, replacing an older one.
pub fn keep_candidate(paths: &WorkspacePaths, package: &Package) -> Result<PathBuf, SkillError> {
    let dir = paths.skill_candidates_dir().join(package.id());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| SkillError::io("replace", &dir, e))?;
    }
    for (name, bytes) in &package.files {
        let path = dir.join(name);
        write_atomic_creating_parent(&path, bytes)
            .map_err(|e| SkillError::io("write", &path, e))?;
    }
    Ok(dir)
}

/// Writes the accepted candidate as the skill's next version (or the new
/// skill). A skill the operator edited by hand is never replaced: that is
/// refused (see [`edited_by_operator`]).
pub fn apply(paths: &WorkspacePaths, package: &Package) -> Result<Change, SkillError> {
    let store = SkillStore::new(paths);
    let options = InstallOptions {
        force: false,
        update: true,
    };
    let written = store.install(package, Origin::Learned, options)?;
    let e = &written.entry;
    store.log_operation("curator_promotion", &e.id, "learning", &e.path);
    Ok(Change {
        operation: "curator_promotion",
        written,
        source: "curator".into(),
    })
}

/// True when skill `id` is installed and its files were edited by hand
/// since the store wrote them: the curator's update then waits for the
/// operator (`update-candidates/held/`).
pub fn edited_by_operator(paths: &WorkspacePaths, id: &str) -> bool {
    let entries = SkillStore::new(paths).entries().unwrap_or_default();
    entries.iter().any(|entry| entry.id == id && entry.modified)
}

/// Writes `record` into its state's folder; returns its path.
pub fn write_record(
    paths: &WorkspacePaths,
    record: &CurationRecord,
) -> Result<PathBuf, SkillError> {
    let dir = paths.update_candidates_dir(&record.state);
    let path = dir.join(format!("{}-{}.json", record.run_id, record.work_item_id));
    let text = serde_json::to_string_pretty(record).unwrap_or_default() + "\n";
    write_atomic_creating_parent(&path, text.as_bytes())
        .map_err(|e| SkillError::io("write", &path, e))?;
    Ok(path)
}

/// The deferred records, oldest name first.
pub fn deferred(paths: &WorkspacePaths) -> Vec<(PathBuf, CurationRecord)> {
    let dir = paths.update_candidates_dir("deferred");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let read = |p: &PathBuf| {
        std::fs::read(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    };
    files
        .into_iter()
        .filter_map(|p| read(&p).map(|r| (p, r)))
        .collect()
}

/// Applies a deferred record: its kept candidate becomes the skill's next
/// version; the record moves to `applied/` with the versions.
pub fn apply_deferred(
    paths: &WorkspacePaths,
    file: &Path,
    record: &CurationRecord,
) -> Result<Change, SkillError> {
    let package = Package::from_dir(&paths.agents_dir().join(&record.candidate_path))?;
    let change = apply(paths, &package)?;
    let applied = CurationRecord {
        state: "applied".into(),
        version: Some(change.written.entry.version),
        previous_version: change.written.previous_version,
        recorded_at: Timestamp::now(),
        ..record.clone()
    };
    write_record(paths, &applied)?;
    std::fs::remove_file(file).map_err(|e| SkillError::io("remove", file, e))?;
    Ok(change)
}
