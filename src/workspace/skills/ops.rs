//! The skill operations that change the store, as the CLI applies them
//! directly and the daemon applies them from its mailbox: install a
//! package a reference names, promote a learning candidate. Each returns
//! the [`Change`] with the journal event that records it.

use std::path::PathBuf;

use super::error::SkillError;
use super::index::Origin;
use super::package::Package;
use super::remote::RemoteSettings;
use super::source::load;
use super::store::{InstallOptions, SkillStore, Written};
use crate::workspace::WorkspacePaths;
use crate::workspace::journal::RuntimeEvent;

/// A write to the store and where its package came from.
#[derive(Debug, Clone)]
pub struct Change {
    pub operation: &'static str,
    pub written: Written,
    pub source: String,
}

impl Change {
    /// One line for the operator.
    pub fn detail(&self) -> String {
        let e = &self.written.entry;
        if self.written.unchanged {
            return format!(
                "skill {} version {} is already installed, unchanged",
                e.id, e.version
            );
        }
        match self.written.previous_version {
            Some(previous) => format!(
                "skill {} updated to version {} (version {previous} kept in history)",
                e.id, e.version
            ),
            None => format!(
                "skill {} version {} installed at {}",
                e.id, e.version, e.path
            ),
        }
    }

    /// The journal record, with the learning request and run that caused it.
    pub fn event(&self, request: Option<&str>, run: Option<&str>) -> RuntimeEvent {
        let e = &self.written.entry;
        RuntimeEvent::SkillChanged {
            skill_id: e.id.clone(),
            operation: self.operation.to_string(),
            version: e.version,
            previous_version: self.written.previous_version,
            path: e.path.clone(),
            source: self.source.clone(),
            learning_request_id: request.map(str::to_string),
            run_id: run.map(str::to_string),
        }
    }
}

/// Whether a skill's `SKILL.md` (relative to `millrace-agents/`) is read
/// by a stage running now; such a skill is not replaced.
pub type InUse<'a> = &'a dyn Fn(&str) -> bool;

/// Nothing runs (the CLI applies only when no daemon owns the workspace).
pub fn never_in_use(_: &str) -> bool {
    false
}

/// Installs the package `reference` names (see [`load`]).
pub fn install(
    paths: &WorkspacePaths,
    reference: &str,
    options: InstallOptions,
    settings: &RemoteSettings,
    in_use: InUse<'_>,
) -> Result<Change, SkillError> {
    let loaded = load(reference, &paths.skills_dir(), settings)?;
    let store = SkillStore::new(paths);
    refuse_in_use(&store, loaded.package.id(), in_use)?;
    let written = store.install(&loaded.package, Origin::Installed, options)?;
    let operation = if written.previous_version.is_some() {
        "update"
    } else {
        "install"
    };
    let change = Change {
        operation,
        written,
        source: loaded.source,
    };
    log(&store, &change);
    Ok(change)
}

/// `learning/skill-candidates/<id>/`.
pub fn candidate_dir(paths: &WorkspacePaths, id: &str) -> PathBuf {
    paths.skill_candidates_dir().join(id)
}

/// Installs the learning candidate `id` as a learned skill: a new one, or
/// the next version of the installed one (refused when that was edited by
/// hand since it was written).
pub fn promote(paths: &WorkspacePaths, id: &str, in_use: InUse<'_>) -> Result<Change, SkillError> {
    let dir = candidate_dir(paths, id);
    if !dir.is_dir() {
        return Err(SkillError::NotFound(format!(
            "no skill candidate `{id}` in {}",
            paths.skill_candidates_dir().display()
        )));
    }
    let package = Package::from_dir(&dir)?;
    if package.id() != id {
        return Err(SkillError::Invalid(format!(
            "the candidate in `{id}/` is named `{}`",
            package.id()
        )));
    }
    let store = SkillStore::new(paths);
    refuse_in_use(&store, id, in_use)?;
    let update = InstallOptions {
        force: false,
        update: true,
    };
    let written = store.install(&package, Origin::Learned, update)?;
    let change = Change {
        operation: "promote",
        written,
        source: dir.display().to_string(),
    };
    log(&store, &change);
    Ok(change)
}

/// [`SkillError::Busy`] when the installed skill `id` is read by a running stage.
pub fn refuse_in_use(store: &SkillStore, id: &str, in_use: InUse<'_>) -> Result<(), SkillError> {
    match store.find(id) {
        Ok(entry) if in_use(&entry.path) => Err(SkillError::Busy(format!(
            "a running stage reads skill `{id}`; applied when it ends"
        ))),
        _ => Ok(()),
    }
}

fn log(store: &SkillStore, change: &Change) {
    if !change.written.unchanged {
        let e = &change.written.entry;
        store.log_operation(change.operation, &e.id, &change.source, &e.path);
    }
}
