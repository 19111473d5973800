//! Lineage integrity of closure targets. A closure target judges every item
//! whose root spec is its own; an item that came from the same idea but
//! names another root spec (a planner that minted a new id, a hand edit)
//! has drifted: the target would be judged without it. This module finds
//! such items and plans the repair: queued and blocked tasks and incidents
//! get the target's root spec; anything else is reported, not changed.

use std::path::PathBuf;

use serde::Serialize;

use super::atomic::write_atomic;
use super::closure_targets::ClosureTarget;
use super::documents::{DocumentError, WorkDocument};
use super::family::{Family, LifecycleState};
use super::queue::{FileEvent, QueueStore};
use crate::fs_error::at;

/// The families whose items carry a lineage, and the states scanned.
const FAMILIES: [Family; 3] = [Family::Task, Family::Spec, Family::Incident];
const STATES: [LifecycleState; 3] = [
    LifecycleState::Queued,
    LifecycleState::Active,
    LifecycleState::Blocked,
];

/// One item tied to a target by its idea but naming another root spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub family: Family,
    pub id: String,
    pub state: LifecycleState,
    pub path: PathBuf,
    pub expected_root_spec_id: String,
    pub actual_root_spec_id: Option<String>,
    /// `same_root_idea_different_root_spec`.
    pub reason: &'static str,
}

/// One field to rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub family: Family,
    pub id: String,
    pub state: LifecycleState,
    pub path: PathBuf,
    /// `root_spec_id` or `spec_id`.
    pub field: &'static str,
    pub old: Option<String>,
    pub new: String,
}

/// What a repair of one target would change, and what it leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairPlan {
    pub root_spec_id: String,
    pub changes: Vec<FieldChange>,
    /// Findings a repair does not touch (active items, specs): said, not changed.
    pub skipped: Vec<Finding>,
}

impl RepairPlan {
    /// How many documents the repair rewrites.
    pub fn documents(&self) -> usize {
        let mut paths: Vec<&PathBuf> = self.changes.iter().map(|c| &c.path).collect();
        paths.dedup();
        paths.len()
    }
}

/// The root spec an item belongs to: its `Root-Spec-ID`, else a task's
/// `Spec-ID`, an incident's `Source-Spec-ID`, or a spec's own id.
pub fn effective_root(document: &WorkDocument) -> Option<String> {
    if let Some(root) = document.root_spec_id() {
        return Some(root.to_string());
    }
    match document {
        WorkDocument::Task(task) => task.spec_id.clone(),
        WorkDocument::Incident(incident) => incident.source_spec_id.clone(),
        WorkDocument::Spec(spec) => Some(spec.spec_id.clone()),
        _ => None,
    }
}

/// Every drifted item of `target`'s lineage.
pub fn scan(queue: &QueueStore, target: &ClosureTarget) -> Vec<Finding> {
    let Some(idea) = target.root_idea_id.as_deref() else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for family in FAMILIES {
        for state in STATES {
            for id in queue.ids(family, state) {
                let path = queue.paths().item_path(family, state, &id);
                let Ok(document) = super::documents::read_document(family, &path) else {
                    continue;
                };
                let actual = effective_root(&document);
                let drifted = document.root_idea_id() == Some(idea)
                    && actual.as_deref() != Some(target.root_spec_id.as_str());
                if drifted {
                    findings.push(Finding {
                        family,
                        id,
                        state,
                        path,
                        expected_root_spec_id: target.root_spec_id.clone(),
                        actual_root_spec_id: actual,
                        reason: "same_root_idea_different_root_spec",
                    });
                }
            }
        }
    }
    findings
}

/// The repair of `target`'s drifted items.
pub fn plan(queue: &QueueStore, target: &ClosureTarget) -> RepairPlan {
    let mut repair = RepairPlan {
        root_spec_id: target.root_spec_id.clone(),
        changes: Vec::new(),
        skipped: Vec::new(),
    };
    for finding in scan(queue, target) {
        let repairable = matches!(finding.family, Family::Task | Family::Incident)
            && matches!(
                finding.state,
                LifecycleState::Queued | LifecycleState::Blocked
            );
        if repairable {
            repair.changes.extend(changes_for(&finding));
        } else {
            repair.skipped.push(finding);
        }
    }
    repair
}

/// `Root-Spec-ID` to the target's; a task's `Spec-ID` too when it named
/// the old root.
fn changes_for(finding: &Finding) -> Vec<FieldChange> {
    let change = |field, old: Option<String>| FieldChange {
        family: finding.family,
        id: finding.id.clone(),
        state: finding.state,
        path: finding.path.clone(),
        field,
        old,
        new: finding.expected_root_spec_id.clone(),
    };
    let document = super::documents::read_document(finding.family, &finding.path).ok();
    let mut changes = vec![change(
        "root_spec_id",
        document
            .as_ref()
            .and_then(|d| d.root_spec_id().map(str::to_string)),
    )];
    if let Some(WorkDocument::Task(task)) = &document {
        if task.spec_id.is_some() && task.spec_id == finding.actual_root_spec_id {
            changes.push(change("spec_id", task.spec_id.clone()));
        }
    }
    changes
}

/// Rewrites the documents of `plan`, each once with all its changes;
/// returns how many were rewritten.
pub fn apply(queue: &mut QueueStore, plan: &RepairPlan) -> Result<usize, DocumentError> {
    let mut paths: Vec<&FieldChange> = plan.changes.iter().collect();
    paths.dedup_by(|a, b| a.path == b.path);
    for first in &paths {
        let mut document = super::documents::read_document(first.family, &first.path)?;
        for change in plan.changes.iter().filter(|c| c.path == first.path) {
            set_field(&mut document, change.field, &change.new);
        }
        let text = document.render();
        write_atomic(&first.path, text.as_bytes()).map_err(at("write", &first.path))?;
        queue.apply_event(&FileEvent::Created(first.path.clone()));
    }
    Ok(paths.len())
}

fn set_field(document: &mut WorkDocument, field: &str, value: &str) {
    let value = Some(value.to_string());
    match (document, field) {
        (WorkDocument::Task(task), "root_spec_id") => task.root_spec_id = value,
        (WorkDocument::Task(task), "spec_id") => task.spec_id = value,
        (WorkDocument::Incident(incident), "root_spec_id") => incident.root_spec_id = value,
        _ => {}
    }
}
