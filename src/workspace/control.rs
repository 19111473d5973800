//! Runtime controls: pause, resume, stop, retry the active item of a plane,
//! and clear stale runtime state after a crash.
//!
//! They change the runtime snapshot in memory (the caller saves it) and, for
//! the last two, the queues. The CLI calls them directly when no daemon owns
//! the workspace; the daemon calls them when it drains the mailbox.

use std::collections::BTreeSet;
use std::io::ErrorKind;

use crate::fs_error::at;
use crate::workspace::family::{Family, LifecycleState, Plane};
use crate::workspace::interventions::{ACTOR, InterventionError, check_reason};
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::lock;
use crate::workspace::mailbox::MailboxCommand;
use crate::workspace::queue::{MoveReason, QueueStore};
use crate::workspace::state::RuntimeSnapshot;

/// The pause source of `pause` / `resume`.
pub const OPERATOR_PAUSE: &str = "operator";
/// The pause source of usage governance; an operator `resume` never removes it.
pub const USAGE_GOVERNANCE_PAUSE: &str = "usage_governance";

/// Adds the operator pause source.
pub fn pause(snapshot: &mut RuntimeSnapshot) -> String {
    let already = has_source(snapshot, OPERATOR_PAUSE);
    snapshot.pause(OPERATOR_PAUSE);
    if already {
        "runtime already paused by the operator".to_string()
    } else {
        "runtime paused".to_string()
    }
}

/// Removes the operator pause source (only that one). Refused while usage
/// governance still pauses the runtime; the operator source is removed anyway,
/// so the runtime resumes when governance lifts.
pub fn resume(snapshot: &mut RuntimeSnapshot) -> Result<String, InterventionError> {
    let had = has_source(snapshot, OPERATOR_PAUSE);
    snapshot.resume(OPERATOR_PAUSE);
    if has_source(snapshot, USAGE_GOVERNANCE_PAUSE) {
        return Err(InterventionError::ResumeBlocked);
    }
    if snapshot.paused {
        let others = snapshot.pause_sources.join(",");
        return Ok(format!("operator pause removed; still paused by {others}"));
    }
    Ok(if had {
        "runtime resumed".to_string()
    } else {
        "runtime was not paused".to_string()
    })
}

fn has_source(snapshot: &RuntimeSnapshot, source: &str) -> bool {
    snapshot.pause_sources.iter().any(|s| s == source)
}

/// Asks a live daemon to stop: it finishes the stages in flight, keeps the
/// next ones pending in the snapshot, and exits.
pub fn request_stop(snapshot: &mut RuntimeSnapshot) -> String {
    snapshot.stop_requested = true;
    "stop requested; the daemon finishes the stages in flight, then exits".to_string()
}

/// Marks the runtime stopped when no daemon runs (`process_running = false`,
/// no stop pending). Pending runs are kept: the next daemon resumes them.
pub fn mark_stopped(snapshot: &mut RuntimeSnapshot) -> String {
    let was_running = snapshot.process_running;
    snapshot.process_running = false;
    snapshot.stop_requested = false;
    if was_running {
        "no live daemon; runtime marked stopped".to_string()
    } else {
        "runtime is not running".to_string()
    }
}

/// Requeues the active item of `plane` (active → queue, with a requeue audit
/// line) and clears the plane's run. Without `plane`, the one busy plane;
/// refuses when none is busy, or several are.
pub fn retry_active(
    queue: &mut QueueStore,
    journal: &Journal,
    snapshot: &mut RuntimeSnapshot,
    plane: Option<Plane>,
    reason: &str,
) -> Result<String, InterventionError> {
    let reason = check_reason(reason)?;
    let active = active_items(queue)?;
    let plane = match plane {
        Some(plane) => plane,
        None => busy_plane(snapshot, &active)?,
    };
    let items: Vec<&(Family, String)> = active
        .iter()
        .filter(|(family, _)| family.plane() == plane)
        .collect();
    if items.is_empty() && !snapshot.runs().any(|(slot, _)| slot.plane == plane) {
        return Err(InterventionError::NothingToRetry);
    }
    let mut requeued = Vec::new();
    for (family, id) in items {
        requeue(queue, journal, *family, id, reason)?;
        requeued.push(format!("{family} {id}"));
    }
    let run = snapshot.take_runs_of(plane).into_iter().next();
    snapshot.status_markers.insert(plane, "IDLE".to_string());
    Ok(match (requeued.is_empty(), run) {
        (false, _) => format!("requeued {} from the {plane} plane", requeued.join(", ")),
        (true, Some(run)) => format!(
            "cleared run {} of the {plane} plane (it had no active work item)",
            run.run_id
        ),
        (true, None) => format!("the {plane} plane had nothing active"),
    })
}

/// Requeues one active item and clears the run that holds it, in whichever
/// lane: the other lanes of its plane go on.
pub fn retry_active_item(
    queue: &mut QueueStore,
    journal: &Journal,
    snapshot: &mut RuntimeSnapshot,
    id: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    let reason = check_reason(reason)?;
    let Some((family, _)) = active_items(queue)?.into_iter().find(|(_, i)| i == id) else {
        return Err(InterventionError::NotActive(id.to_string()));
    };
    requeue(queue, journal, family, id, reason)?;
    let holding = snapshot.runs().find_map(|(slot, run)| {
        let item = run.work_item.as_ref()?;
        (item.id == id).then_some(slot)
    });
    match holding.and_then(|slot| snapshot.take_run(slot).map(|run| (slot, run))) {
        Some((slot, run)) => Ok(format!(
            "requeued {family} {id} and cleared run {} of {slot}",
            run.run_id
        )),
        None => Ok(format!("requeued {family} {id}")),
    }
}

/// The single busy plane (an active item or a recorded run).
fn busy_plane(
    snapshot: &RuntimeSnapshot,
    active: &[(Family, String)],
) -> Result<Plane, InterventionError> {
    let mut busy: BTreeSet<Plane> = snapshot.runs().map(|(slot, _)| slot.plane).collect();
    busy.extend(active.iter().map(|(family, _)| family.plane()));
    let mut planes = busy.into_iter();
    match (planes.next(), planes.next()) {
        (None, _) => Err(InterventionError::NothingToRetry),
        (Some(plane), None) => Ok(plane),
        (Some(first), Some(second)) => {
            let mut names = vec![first.as_str(), second.as_str()];
            names.extend(planes.map(Plane::as_str));
            Err(InterventionError::PlaneRequired {
                planes: names.join(", "),
            })
        }
    }
}

/// After a crash: requeues every active item of every family, removes a stale
/// or invalid ownership lock (never a live one), and resets the snapshot (no
/// runs, not paused, no stop). Detail:
/// `cleared stale runtime state; requeued=N; runtime_ownership_lock=<missing|cleared_stale|cleared_invalid|active_owner>`.
pub fn clear_stale_state(
    queue: &mut QueueStore,
    journal: &Journal,
    snapshot: &mut RuntimeSnapshot,
    reason: &str,
) -> Result<String, InterventionError> {
    let reason = check_reason(reason)?;
    let mut requeued = 0;
    let mut failed = Vec::new();
    for (family, id) in active_items(queue)? {
        match requeue(queue, journal, family, &id, reason) {
            Ok(()) => requeued += 1,
            Err(error) => failed.push(format!("{family} {id} ({error})")),
        }
    }
    let lock = clear_lock(queue)?;
    reset(snapshot, lock == "active_owner");
    let event = RuntimeEvent::StaleStateCleared {
        requeued,
        runtime_ownership_lock: lock.to_string(),
        reason: reason.to_string(),
    };
    let mut detail =
        format!("cleared stale runtime state; requeued={requeued}; runtime_ownership_lock={lock}");
    if !failed.is_empty() {
        detail.push_str(&format!("; not_requeued={}", failed.join(", ")));
    }
    Ok(match journal.append(event) {
        Ok(()) => detail,
        Err(error) => format!("{detail}; journal not written: {error}"),
    })
}

/// Removes a stale or invalid lock; names what it found.
fn clear_lock(queue: &QueueStore) -> Result<&'static str, InterventionError> {
    Ok(lock::clear_left_lock(queue.paths())?)
}

/// No runs, not paused, no stop; still running only when a live owner holds the lock.
fn reset(snapshot: &mut RuntimeSnapshot, live_owner: bool) {
    snapshot.clear_runs();
    snapshot.pause_sources.clear();
    snapshot.paused = false;
    snapshot.stop_requested = false;
    snapshot.process_running = live_owner && snapshot.process_running;
    for plane in Plane::ALL {
        snapshot.status_markers.insert(plane, "IDLE".to_string());
    }
}

/// Active → queue, journaled.
fn requeue(
    queue: &mut QueueStore,
    journal: &Journal,
    family: Family,
    id: &str,
    reason: &str,
) -> Result<(), InterventionError> {
    queue.requeue(family, id, &MoveReason::new(ACTOR, reason))?;
    let _ = journal.append(RuntimeEvent::WorkItemMoved {
        family,
        id: id.to_string(),
        from: LifecycleState::Active,
        to: LifecycleState::Queued,
        reason: reason.to_string(),
    });
    Ok(())
}

/// Every item in an `active/` directory, from the disk, sorted per family.
fn active_items(queue: &QueueStore) -> Result<Vec<(Family, String)>, InterventionError> {
    let mut items = Vec::new();
    for family in Family::ALL {
        let dir = queue.paths().lifecycle_dir(family, LifecycleState::Active);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(error) => return Err(at("list", &dir)(error).into()),
        };
        let suffix = format!(".{}", family.extension());
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
            .filter(|name| !name.starts_with('.'))
            .filter_map(|name| name.strip_suffix(&suffix).map(str::to_string))
            .filter(|id| !id.is_empty())
            .collect();
        ids.sort();
        items.extend(ids.into_iter().map(|id| (family, id)));
    }
    Ok(items)
}

/// Applies a control command the way a live daemon does (`stop` requests a
/// stop); `None` for commands that are not controls. `reload_config` is the
/// daemon's own (it recompiles).
pub fn apply(
    queue: &mut QueueStore,
    journal: &Journal,
    snapshot: &mut RuntimeSnapshot,
    command: &MailboxCommand,
) -> Option<Result<String, InterventionError>> {
    use MailboxCommand as C;
    let result = match command {
        C::Pause => Ok(pause(snapshot)),
        C::Resume => resume(snapshot),
        C::Stop => Ok(request_stop(snapshot)),
        C::RetryActive {
            reason,
            work_item: Some(id),
            ..
        } => retry_active_item(queue, journal, snapshot, id, reason),
        C::RetryActive { reason, plane, .. } => parse_plane(plane.as_deref())
            .and_then(|plane| retry_active(queue, journal, snapshot, plane, reason)),
        C::ClearStaleState { reason } => clear_stale_state(queue, journal, snapshot, reason),
        _ => return None,
    };
    Some(result)
}

/// A plane name from a command or flag, if given.
pub fn parse_plane(plane: Option<&str>) -> Result<Option<Plane>, InterventionError> {
    match plane {
        None => Ok(None),
        Some(name) => Plane::parse(name)
            .map(Some)
            .ok_or_else(|| InterventionError::UnknownPlane(name.to_string())),
    }
}
