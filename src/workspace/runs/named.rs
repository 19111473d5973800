//! Runs that open work names as its evidence: an open incident's
//! `Related-Run-IDs` and an open learning request's `Originating-Run-IDs`.
//! Their folders stay until that work is resolved.

use std::collections::BTreeMap;

use super::keep_reason::KeepReason;
use crate::workspace::documents::{WorkDocument, read_document};
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::paths::WorkspacePaths;

/// The lifecycle states in which work is still open.
pub const OPEN_STATES: [LifecycleState; 3] = [
    LifecycleState::Active,
    LifecycleState::Queued,
    LifecycleState::Blocked,
];

/// Run ids named by open incidents and learning requests, with the reason to keep each.
pub fn runs_named_by_open_work(paths: &WorkspacePaths) -> BTreeMap<String, KeepReason> {
    let mut named = BTreeMap::new();
    for family in [Family::Incident, Family::LearningRequest] {
        for state in OPEN_STATES {
            for document in documents_in(paths, family, state) {
                add_named_runs(&mut named, &document);
            }
        }
    }
    named
}

fn add_named_runs(named: &mut BTreeMap<String, KeepReason>, document: &WorkDocument) {
    let (runs, reason) = match document {
        WorkDocument::Incident(incident) => (&incident.related_run_ids, KeepReason::OpenIncident),
        WorkDocument::LearningRequest(request) => (
            &request.originating_run_ids,
            KeepReason::OpenLearningRequest,
        ),
        _ => return,
    };
    for run_id in runs {
        named.insert(run_id.clone(), reason);
    }
}

/// The documents of one lifecycle folder that parse (a malformed one names nothing).
fn documents_in(
    paths: &WorkspacePaths,
    family: Family,
    state: LifecycleState,
) -> Vec<WorkDocument> {
    let Ok(entries) = std::fs::read_dir(paths.lifecycle_dir(family, state)) else {
        return Vec::new();
    };
    let extension = family.extension();
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .filter_map(|path| read_document(family, &path).ok())
        .collect()
}
