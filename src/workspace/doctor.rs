//! The integrity scan behind `millrace doctor`: every problem found, each with a path.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::closure_targets;
use super::config::Config;
use super::documents::{self, DocumentError, ProblemKind};
use super::family::{Family, LifecycleState, Plane};
use super::lock::{self, LockState};
use super::paths::WorkspacePaths;
use super::state::StateStore;

/// What kind of problem an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// A layout directory is missing.
    MissingDirectory,
    /// `millrace.toml` is missing.
    MissingConfig,
    /// `millrace.toml` does not load.
    ConfigInvalid,
    /// A work document does not parse.
    InvalidDocument,
    /// A work document's id differs from its file name.
    StemMismatch,
    /// One id is in two lifecycle directories of a family.
    DuplicateLifecycleState,
    /// A plane has more than one active item.
    MultipleActive,
    /// A quarantined `.invalid` file waits for an operator.
    QuarantinedArtifact,
    /// A state file does not load.
    StateFileInvalid,
    /// The ownership lock's owner is gone.
    LockStale,
    /// The ownership lock cannot be read.
    LockInvalid,
    /// A closure target cannot be judged until blocked work is cleared.
    ClosureTargetHeld,
    /// A closure target file does not read: the daemon skips it.
    ClosureTargetInvalid,
}

impl IssueCode {
    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::MissingDirectory => "missing_directory",
            IssueCode::MissingConfig => "missing_config",
            IssueCode::ConfigInvalid => "config_invalid",
            IssueCode::InvalidDocument => "invalid_document",
            IssueCode::StemMismatch => "stem_mismatch",
            IssueCode::DuplicateLifecycleState => "duplicate_lifecycle_state",
            IssueCode::MultipleActive => "multiple_active",
            IssueCode::QuarantinedArtifact => "quarantined_artifact",
            IssueCode::StateFileInvalid => "state_file_invalid",
            IssueCode::LockStale => "lock_stale",
            IssueCode::LockInvalid => "lock_invalid",
            IssueCode::ClosureTargetHeld => "closure_target_held",
            IssueCode::ClosureTargetInvalid => "closure_target_invalid",
        }
    }
}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by [`doctor`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// What kind of problem.
    pub code: IssueCode,
    /// The file or directory concerned.
    pub path: PathBuf,
    /// A message for the operator.
    pub message: String,
}

impl Issue {
    fn new(code: IssueCode, path: &Path, message: impl Into<String>) -> Issue {
        Issue {
            code,
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Scans the whole workspace: layout, config, every work document, state files, lock.
pub fn doctor(paths: &WorkspacePaths) -> Vec<Issue> {
    let mut issues = layout_issues(paths);
    issues.extend(config_issues(paths));
    issues.extend(queue_issues(paths));
    let state = StateStore::new(paths).check();
    issues.extend(state.iter().map(|error| {
        Issue::new(
            IssueCode::StateFileInvalid,
            &paths.state_dir(),
            error.to_string(),
        )
    }));
    issues.extend(lock_issue(paths));
    issues.extend(closure_issues(paths));
    issues
}

/// Target files that do not read, and open closure targets held by
/// blocked work, with the commands that clear it.
fn closure_issues(paths: &WorkspacePaths) -> Vec<Issue> {
    let (targets, unreadable) = closure_targets::scan(paths);
    let mut issues: Vec<Issue> = unreadable
        .iter()
        .map(|file| {
            let message = format!(
                "closure target does not read ({}): the daemon skips it and its lineage is never judged; restore the file or remove it",
                file.reason
            );
            Issue::new(IssueCode::ClosureTargetInvalid, &file.path, message)
        })
        .collect();
    let held = targets
        .into_iter()
        .filter(|t| t.closure_open && t.closure_blocked_by_lineage_work);
    issues.extend(held.map(|target| {
        let items = target.blocking_work_ids.join(", ");
        let ids: Vec<&str> = target
            .blocking_work_ids
            .iter()
            .filter_map(|w| w.split_once('/').map(|(_, id)| id))
            .collect();
        let first = ids.first().copied().unwrap_or("<id>");
        let message = if target.lineage_drift {
            format!(
                "closure target `{root}` cannot be judged: {items} came from its idea but name another root spec; repair with `millrace queue repair-lineage --root-spec-id {root} --apply`",
                root = target.root_spec_id
            )
        } else {
            format!(
                "closure target `{}` cannot be judged while {items} is not done; retry a blocked task (`millrace queue retry-blocked {first} --force --reason \"...\"`) or cancel the item (`millrace queue cancel {first} --reason \"...\"`)",
                target.root_spec_id
            )
        };
        let path = paths.closure_target(&target.root_spec_id);
        Issue::new(IssueCode::ClosureTargetHeld, &path, message)
    }));
    issues
}

fn layout_issues(paths: &WorkspacePaths) -> Vec<Issue> {
    let missing = paths.missing_dirs().into_iter();
    missing
        .map(|dir| Issue::new(IssueCode::MissingDirectory, &dir, "directory is missing"))
        .collect()
}

fn config_issues(paths: &WorkspacePaths) -> Option<Issue> {
    let path = paths.config_file();
    if !path.exists() {
        return Some(Issue::new(
            IssueCode::MissingConfig,
            &path,
            "millrace.toml is missing",
        ));
    }
    Config::load(&path)
        .err()
        .map(|error| Issue::new(IssueCode::ConfigInvalid, &path, error.to_string()))
}

fn lock_issue(paths: &WorkspacePaths) -> Option<Issue> {
    let path = paths.lock_file();
    match lock::inspect(paths) {
        LockState::Stale(record, reason) => {
            let message = format!(
                "owner pid={} session={} is gone ({reason})",
                record.owner_pid, record.owner_session_id
            );
            Some(Issue::new(IssueCode::LockStale, &path, message))
        }
        LockState::Invalid(reason) => Some(Issue::new(IssueCode::LockInvalid, &path, reason)),
        LockState::Absent | LockState::Active(_) => None,
    }
}

/// Every document of every lifecycle directory, duplicates across states, active counts.
pub fn queue_issues(paths: &WorkspacePaths) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut active_by_plane: BTreeMap<Plane, usize> = BTreeMap::new();
    for family in Family::ALL {
        let mut seen: BTreeMap<String, Vec<LifecycleState>> = BTreeMap::new();
        for &state in family.states() {
            let dir = paths.lifecycle_dir(family, state);
            for (id, path) in scan_dir(family, &dir, &mut issues) {
                issues.extend(document_issue(family, &path));
                seen.entry(id).or_default().push(state);
            }
        }
        issues.extend(duplicates(paths, family, &seen));
        let active = seen
            .values()
            .filter(|states| states.contains(&LifecycleState::Active))
            .count();
        *active_by_plane.entry(family.plane()).or_default() += active;
    }
    for (plane, count) in active_by_plane.into_iter().filter(|(_, count)| *count > 1) {
        let message = format!("{count} items are active in the {plane} plane; one is expected");
        issues.push(Issue::new(
            IssueCode::MultipleActive,
            paths.agents_dir(),
            message,
        ));
    }
    issues
}

/// Documents of `dir` as (id, path); quarantined files become issues.
fn scan_dir(family: Family, dir: &Path, issues: &mut Vec<Issue>) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut documents = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".invalid") {
            issues.push(Issue::new(
                IssueCode::QuarantinedArtifact,
                &entry.path(),
                "quarantined document",
            ));
        } else if let Some(stem) = name.strip_suffix(&format!(".{}", family.extension())) {
            if !stem.is_empty() && !name.starts_with('.') {
                documents.push((stem.to_string(), entry.path()));
            }
        }
    }
    documents
}

fn document_issue(family: Family, path: &Path) -> Option<Issue> {
    let error = documents::read_document(family, path).err()?;
    let stem = matches!(&error, DocumentError::Invalid { problems, .. }
        if problems.iter().any(|p| matches!(p.kind, ProblemKind::StemMismatch { .. })));
    let code = if stem {
        IssueCode::StemMismatch
    } else {
        IssueCode::InvalidDocument
    };
    Some(Issue::new(code, path, error.to_string()))
}

fn duplicates(
    paths: &WorkspacePaths,
    family: Family,
    seen: &BTreeMap<String, Vec<LifecycleState>>,
) -> Vec<Issue> {
    let repeated = seen.iter().filter(|(_, states)| states.len() > 1);
    repeated
        .map(|(id, states)| {
            let names: Vec<&str> = states.iter().map(|state| state.dir_name(family)).collect();
            let message = format!("{family} `{id}` is in {}", names.join(" and "));
            Issue::new(
                IssueCode::DuplicateLifecycleState,
                &paths.item_path(family, states[0], id),
                message,
            )
        })
        .collect()
}
