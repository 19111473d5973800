//! Operator interventions on work items: cancel, archive, supersede,
//! retarget a dependency, retry a blocked task, resolve or cancel an
//! incident, archive a quarantined incident file, repair closure lineage.
//!
//! This is the one implementation both callers share: the CLI applies an
//! intervention directly when no daemon owns the workspace, and the daemon
//! applies the same mailbox command at a safe boundary (see [`blocking_run`]).
//! Every intervention refuses unsafe ids and empty reasons, archives instead
//! of deleting, appends one line to `<family_dir>/interventions.jsonl`,
//! journals a typed event and returns a one-line detail for the operator.

mod blocked;
mod checks;
mod error;
mod incidents;
mod lineage;
mod options;
mod record;
mod tasks;

pub use blocked::{BlockedDiagnostics, blocked_diagnostics_path, read_blocked_diagnostics};
pub use checks::{check_id, check_reason};
pub use error::InterventionError;
pub use incidents::{archive_invalid_incident, cancel_incident, resolve_incident};
pub use lineage::{repair_lineage, repair_plans};
pub use options::{Cascade, RetryPolicy};
pub use record::{
    ACTOR, ArchivedItem, InterventionRecord, archive_name, archived_count, audit_log, find_archived,
};
pub use tasks::{
    archive_blocked_task, cancel_work_item, retarget_dependency, retry_blocked, supersede_task,
};

use crate::workspace::family::{Family, Plane};
use crate::workspace::journal::Journal;
use crate::workspace::mailbox::MailboxCommand;
use crate::workspace::queue::QueueStore;
use crate::workspace::state::RuntimeSnapshot;

/// Checks a command's ids, reason and cascade without touching the
/// workspace: what the CLI verifies before writing a mailbox command.
pub fn validate(command: &MailboxCommand) -> Result<(), InterventionError> {
    use MailboxCommand as C;
    let (ids, reason): (Vec<(&'static str, &str)>, Option<&str>) = match command {
        C::CancelWorkItem {
            work_item_id,
            family,
            reason,
        } => {
            parse_family(family.as_deref())?;
            (vec![("work item id", work_item_id)], Some(reason))
        }
        C::ArchiveBlockedTask { task_id, reason } => (vec![("task id", task_id)], Some(reason)),
        C::SupersedeTask {
            old_task_id,
            replacement_task_id,
            reason,
            cascade,
        } => {
            Cascade::parse(cascade)?;
            let ids = vec![
                ("task id", old_task_id.as_str()),
                ("replacement task id", replacement_task_id),
            ];
            (ids, Some(reason))
        }
        C::RetargetDependency {
            task_id,
            old_dependency_id,
            new_dependency_id,
            reason,
        } => {
            let ids = vec![
                ("task id", task_id.as_str()),
                ("old dependency id", old_dependency_id),
                ("new dependency id", new_dependency_id),
            ];
            (ids, Some(reason))
        }
        C::RetryBlocked {
            task_id, reason, ..
        } => (vec![("task id", task_id)], Some(reason)),
        C::ResolveIncident {
            incident_id,
            reason,
        }
        | C::CancelIncident {
            incident_id,
            reason,
        } => (vec![("incident id", incident_id)], Some(reason)),
        C::ArchiveInvalidIncident { filename, reason } => {
            incidents::check_invalid_name(filename)?;
            (Vec::new(), Some(reason))
        }
        C::RetryActive { reason, plane, .. } => {
            if let Some(plane) = plane.as_deref().filter(|p| Plane::parse(p).is_none()) {
                return Err(InterventionError::UnknownPlane(plane.to_string()));
            }
            (Vec::new(), Some(reason))
        }
        C::ClearStaleState { reason } => (Vec::new(), Some(reason)),
        C::ApproveExecutionCapability {
            approval_id,
            reason,
        }
        | C::DenyExecutionCapability {
            approval_id,
            reason,
        } => (vec![("approval id", approval_id.as_str())], Some(reason)),
        C::RepairLineage {
            root_spec_id,
            reason,
        } => {
            let ids = root_spec_id.iter().map(|id| ("root spec id", id.as_str()));
            (ids.collect(), Some(reason))
        }
        _ => (Vec::new(), None),
    };
    for (what, id) in ids {
        check_id(what, id)?;
    }
    reason.map_or(Ok(()), |reason| check_reason(reason).map(|_| ()))
}

/// The work item ids a command changes: it must wait while a stage of any of
/// them is running (or pending in the snapshot).
pub fn affected_ids(command: &MailboxCommand) -> Vec<String> {
    use MailboxCommand as C;
    match command {
        C::CancelWorkItem { work_item_id, .. } => vec![work_item_id.clone()],
        C::ArchiveBlockedTask { task_id, .. }
        | C::RetargetDependency { task_id, .. }
        | C::RetryBlocked { task_id, .. } => vec![task_id.clone()],
        C::SupersedeTask { old_task_id, .. } => vec![old_task_id.clone()],
        C::ResolveIncident { incident_id, .. } | C::CancelIncident { incident_id, .. } => {
            vec![incident_id.clone()]
        }
        _ => Vec::new(),
    }
}

/// The run recorded in the snapshot (running, or pending after a stop) on an
/// item `command` changes, as the refusal to report; `None` when it is safe
/// to apply now.
pub fn blocking_run(
    snapshot: &RuntimeSnapshot,
    command: &MailboxCommand,
) -> Option<InterventionError> {
    let ids = affected_ids(command);
    snapshot.runs().find_map(|(slot, run)| {
        let item = run.work_item.as_ref()?;
        ids.contains(&item.id).then(|| InterventionError::Busy {
            plane: slot.plane,
            node: run.node.clone(),
            run_id: run.run_id.clone(),
            family: item.family,
            id: item.id.clone(),
        })
    })
}

/// Applies an intervention command; `None` for commands that are not
/// interventions (pause, stop, add_*, ...). The caller checks
/// [`blocking_run`] first.
pub fn apply(
    queue: &mut QueueStore,
    journal: &Journal,
    command: &MailboxCommand,
    policy: &RetryPolicy,
) -> Option<Result<String, InterventionError>> {
    use MailboxCommand as C;
    let result = match command {
        C::CancelWorkItem {
            work_item_id,
            family,
            reason,
        } => parse_family(family.as_deref())
            .and_then(|family| cancel_work_item(queue, journal, work_item_id, family, reason)),
        C::ArchiveBlockedTask { task_id, reason } => {
            archive_blocked_task(queue, journal, task_id, reason)
        }
        C::SupersedeTask {
            old_task_id,
            replacement_task_id,
            reason,
            cascade,
        } => Cascade::parse(cascade).and_then(|cascade| {
            supersede_task(
                queue,
                journal,
                old_task_id,
                replacement_task_id,
                reason,
                cascade,
            )
        }),
        C::RetargetDependency {
            task_id,
            old_dependency_id,
            new_dependency_id,
            reason,
        } => retarget_dependency(
            queue,
            journal,
            task_id,
            old_dependency_id,
            new_dependency_id,
            reason,
        ),
        C::RetryBlocked {
            task_id,
            reason,
            force,
        } => retry_blocked(queue, journal, task_id, reason, *force, policy),
        C::ResolveIncident {
            incident_id,
            reason,
        } => resolve_incident(queue, journal, incident_id, reason),
        C::CancelIncident {
            incident_id,
            reason,
        } => cancel_incident(queue, journal, incident_id, reason),
        C::ArchiveInvalidIncident { filename, reason } => {
            archive_invalid_incident(queue, journal, filename, reason)
        }
        C::RepairLineage {
            root_spec_id,
            reason,
        } => repair_lineage(queue, journal, root_spec_id.as_deref(), reason),
        _ => return None,
    };
    Some(result)
}

/// A family name from a command, if given.
pub fn parse_family(family: Option<&str>) -> Result<Option<Family>, InterventionError> {
    match family {
        None => Ok(None),
        Some(name) => Family::parse(name)
            .map(Some)
            .ok_or_else(|| InterventionError::UnknownFamily(name.to_string())),
    }
}
