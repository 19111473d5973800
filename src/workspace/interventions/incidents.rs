//! Interventions on incidents: resolve by the operator, cancel, and archive
//! quarantined (`*.invalid`) incident files.

use std::path::PathBuf;

use super::checks::{check_id, check_reason};
use super::error::InterventionError;
use super::record::{self, InterventionRecord};
use super::tasks::{cancelled_dir, expect_state, shown};
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::queue::QueueStore;

use LifecycleState::{Active, Blocked, Done, Queued};

/// The states an operator may resolve or cancel an incident from.
const OPEN: [LifecycleState; 3] = [Queued, Active, Blocked];

/// Resolves an open (incoming, active or blocked) incident by hand: it moves
/// to `incidents/resolved/operator/`.
pub fn resolve_incident(
    queue: &mut QueueStore,
    journal: &Journal,
    id: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    check_id("incident id", id)?;
    let reason = check_reason(reason)?;
    let hint = "only incoming, active or blocked incidents can be resolved";
    let from = expect_state(queue, Family::Incident, id, &OPEN, hint)?;
    let dir = queue
        .paths()
        .lifecycle_dir(Family::Incident, Done)
        .join("operator");
    let archive = record::archive_item(queue, Family::Incident, id, from, &dir)?;
    let entry = InterventionRecord::new("resolve_incident", Family::Incident, id, reason)
        .moved(from, &archive);
    record::audit(queue, &entry)?;
    let detail = format!("resolved incident {id} -> {}", shown(queue, &archive));
    let event = RuntimeEvent::IncidentResolvedByOperator {
        id: id.to_string(),
        from,
        archive_path: archive.display().to_string(),
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

/// Cancels an open incident: it moves to `<state_dir>/cancelled/`.
pub fn cancel_incident(
    queue: &mut QueueStore,
    journal: &Journal,
    id: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    check_id("incident id", id)?;
    let reason = check_reason(reason)?;
    let hint = "only incoming, active or blocked incidents can be cancelled";
    let from = expect_state(queue, Family::Incident, id, &OPEN, hint)?;
    let dir = cancelled_dir(queue, Family::Incident, from);
    let archive = record::archive_item(queue, Family::Incident, id, from, &dir)?;
    let entry = InterventionRecord::new("cancel_incident", Family::Incident, id, reason)
        .moved(from, &archive);
    record::audit(queue, &entry)?;
    let detail = format!("cancelled incident {id} -> {}", shown(queue, &archive));
    let event = RuntimeEvent::IncidentCancelled {
        id: id.to_string(),
        from,
        archive_path: archive.display().to_string(),
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

/// Moves a quarantined incident file (`<name>.invalid` in any incident
/// lifecycle directory) to `incidents/invalid-archive/`.
pub fn archive_invalid_incident(
    queue: &mut QueueStore,
    journal: &Journal,
    filename: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    check_invalid_name(filename)?;
    let reason = check_reason(reason)?;
    let (from, source) = find_invalid(queue, filename)?;
    let target = free_target(queue, filename);
    record::move_file(&source, &target)?;
    let entry = InterventionRecord::new(
        "archive_invalid_incident",
        Family::Incident,
        filename,
        reason,
    )
    .moved(from, &target);
    record::audit(queue, &entry)?;
    let detail = format!(
        "archived invalid incident file {filename} -> {}",
        shown(queue, &target)
    );
    let event = RuntimeEvent::InvalidIncidentArchived {
        filename: filename.to_string(),
        archive_path: target.display().to_string(),
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

/// A bare file name (no directories) ending in `.invalid`.
pub(super) fn check_invalid_name(filename: &str) -> Result<(), InterventionError> {
    check_id("invalid incident file name", filename)?;
    if filename.ends_with(".invalid") {
        return Ok(());
    }
    Err(InterventionError::Invalid(format!(
        "`{filename}` is not a quarantined file: only `*.invalid` incident files can be archived"
    )))
}

/// The incident lifecycle directory holding `filename`.
fn find_invalid(
    queue: &QueueStore,
    filename: &str,
) -> Result<(LifecycleState, PathBuf), InterventionError> {
    let paths = queue.paths();
    let found = Family::Incident.states().iter().find_map(|state| {
        let path = paths.lifecycle_dir(Family::Incident, *state).join(filename);
        path.is_file().then_some((*state, path))
    });
    found.ok_or_else(|| InterventionError::Unknown {
        what: "invalid incident file",
        id: filename.to_string(),
    })
}

/// `incidents/invalid-archive/<filename>`, or a stamped name when taken.
fn free_target(queue: &QueueStore, filename: &str) -> PathBuf {
    let dir = queue
        .paths()
        .family_dir(Family::Incident)
        .join("invalid-archive");
    let plain = dir.join(filename);
    if plain.exists() {
        dir.join(record::archive_name(filename, "archived", "invalid"))
    } else {
        plain
    }
}
