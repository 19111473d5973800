//! Interventions on work items and tasks: cancel, archive a blocked task,
//! supersede, retarget a dependency, retry a blocked task.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::checks::{check_id, check_reason};
use super::error::InterventionError;
use super::options::{Cascade, RetryPolicy};
use super::record::{self, ACTOR, InterventionRecord};
use crate::fs_error::at;
use crate::workspace::atomic::write_atomic;
use crate::workspace::documents::{self, WorkDocument};
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::queue::{self, FileEvent, Located, MoveReason, QueueStore};

use LifecycleState::{Active, Blocked, Done, Queued};

/// Cancels a queued or blocked work item of any family: its document moves to
/// `<state_dir>/cancelled/<id>.<stamp>.<hex8>.<state>.<ext>`. `family` picks
/// one when the id exists in several. Refuses an active or finished item.
pub fn cancel_work_item(
    queue: &mut QueueStore,
    journal: &Journal,
    id: &str,
    family: Option<Family>,
    reason: &str,
) -> Result<String, InterventionError> {
    check_id("work item id", id)?;
    let reason = check_reason(reason)?;
    let located = locate_one(queue, id, family)?;
    match located.state {
        Queued | Blocked => cancel_located(queue, journal, &located, id, reason),
        Active => Err(wrong_state(
            &located,
            id,
            "requeue it first (`millrace retry-active`), then cancel it",
        )),
        _ => Err(wrong_state(
            &located,
            id,
            "only queued or blocked items can be cancelled",
        )),
    }
}

/// Archives a blocked task into `tasks/blocked/cancelled/`.
pub fn archive_blocked_task(
    queue: &mut QueueStore,
    journal: &Journal,
    id: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    check_id("task id", id)?;
    let reason = check_reason(reason)?;
    expect_state(
        queue,
        Family::Task,
        id,
        &[Blocked],
        "only blocked tasks can be archived; use `queue cancel` for queued ones",
    )?;
    let dir = cancelled_dir(queue, Family::Task, Blocked);
    let archive = record::archive_item(queue, Family::Task, id, Blocked, &dir)?;
    let entry = InterventionRecord::new("archive_blocked_task", Family::Task, id, reason)
        .moved(Blocked, &archive);
    record::audit(queue, &entry)?;
    let detail = format!("archived blocked task {id} -> {}", shown(queue, &archive));
    let event = RuntimeEvent::BlockedTaskArchived {
        id: id.to_string(),
        archive_path: archive.display().to_string(),
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

/// Supersedes queued or blocked task `old` by `replacement` (queued, active or
/// done): `old` moves to `<state_dir>/superseded/`, and its queued dependents
/// are left, retargeted to `replacement`, or cancelled, as `cascade` says.
pub fn supersede_task(
    queue: &mut QueueStore,
    journal: &Journal,
    old: &str,
    replacement: &str,
    reason: &str,
    cascade: Cascade,
) -> Result<String, InterventionError> {
    check_id("task id", old)?;
    check_id("replacement task id", replacement)?;
    let reason = check_reason(reason)?;
    if old == replacement {
        return Err(InterventionError::Invalid(format!(
            "task `{old}` cannot supersede itself"
        )));
    }
    let hint = "the replacement must be queued, active or done";
    expect_state(
        queue,
        Family::Task,
        replacement,
        &[Queued, Active, Done],
        hint,
    )?;
    let hint = "only queued or blocked tasks can be superseded";
    let from = expect_state(queue, Family::Task, old, &[Queued, Blocked], hint)?;
    let dependents = queued_dependents(queue, old)?;
    let dir = queue
        .paths()
        .lifecycle_dir(Family::Task, from)
        .join("superseded");
    let archive = record::archive_item(queue, Family::Task, old, from, &dir)?;
    let cascade_reason = format!("superseded `{old}` by `{replacement}`: {reason}");
    let (retargeted, cancelled) = apply_cascade(
        queue,
        journal,
        &dependents,
        old,
        replacement,
        cascade,
        &cascade_reason,
    )?;
    let details = json!({
        "replacement_task_id": replacement,
        "cascade": cascade.as_str(),
        "dependents": dependents,
        "retargeted": retargeted,
        "cancelled": cancelled,
    });
    let entry = InterventionRecord::new("supersede_task", Family::Task, old, reason)
        .moved(from, &archive)
        .details(details);
    record::audit(queue, &entry)?;
    let detail = supersede_detail(queue, old, replacement, cascade, &archive, &dependents);
    let event = RuntimeEvent::TaskSuperseded {
        old_task_id: old.to_string(),
        replacement_task_id: replacement.to_string(),
        from,
        archive_path: archive.display().to_string(),
        cascade: cascade.as_str().to_string(),
        retargeted,
        cancelled,
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

fn supersede_detail(
    queue: &QueueStore,
    old: &str,
    replacement: &str,
    cascade: Cascade,
    archive: &Path,
    dependents: &[String],
) -> String {
    let what = match (cascade, dependents.is_empty()) {
        (_, true) => "no queued dependents".to_string(),
        (Cascade::None, false) => format!("dependents left waiting: {}", dependents.join(",")),
        (Cascade::Retarget, false) => format!("retargeted: {}", dependents.join(",")),
        (Cascade::Cancel, false) => format!("cancelled: {}", dependents.join(",")),
    };
    format!(
        "superseded task {old} by {replacement} -> {}; cascade={cascade}; {what}",
        shown(queue, archive)
    )
}

/// Retargets or cancels the dependents; returns (retargeted, cancelled).
fn apply_cascade(
    queue: &mut QueueStore,
    journal: &Journal,
    dependents: &[String],
    old: &str,
    replacement: &str,
    cascade: Cascade,
    reason: &str,
) -> Result<(Vec<String>, Vec<String>), InterventionError> {
    let (mut retargeted, mut cancelled) = (Vec::new(), Vec::new());
    for dependent in dependents {
        match cascade {
            Cascade::None => {}
            Cascade::Retarget => {
                rewrite_dependency(queue, journal, dependent, old, replacement, reason)?;
                retargeted.push(dependent.clone());
            }
            Cascade::Cancel => {
                let located = located(queue, Family::Task, Queued, dependent);
                cancel_located(queue, journal, &located, dependent, reason)?;
                cancelled.push(dependent.clone());
            }
        }
    }
    Ok((retargeted, cancelled))
}

/// Rewrites the `Depends-On` entry `from` of queued task `task` to `to` (which
/// must be a known task), re-rendering the document canonically.
pub fn retarget_dependency(
    queue: &mut QueueStore,
    journal: &Journal,
    task: &str,
    from: &str,
    to: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    check_id("task id", task)?;
    check_id("old dependency id", from)?;
    check_id("new dependency id", to)?;
    let reason = check_reason(reason)?;
    if to == task {
        return Err(InterventionError::Invalid(format!(
            "task `{task}` cannot depend on itself"
        )));
    }
    if from == to {
        return Err(InterventionError::Invalid(format!(
            "`{from}` is both the old and the new dependency; nothing to retarget"
        )));
    }
    let hint = "only queued tasks can be retargeted";
    expect_state(queue, Family::Task, task, &[Queued], hint)?;
    if state_of(queue, Family::Task, to).is_none() {
        return Err(InterventionError::Unknown {
            what: "dependency task",
            id: to.to_string(),
        });
    }
    rewrite_dependency(queue, journal, task, from, to, reason)
}

/// The shared core of retargeting: rewrite, audit, journal.
fn rewrite_dependency(
    queue: &mut QueueStore,
    journal: &Journal,
    task: &str,
    from: &str,
    to: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    let path = queue.paths().item_path(Family::Task, Queued, task);
    let WorkDocument::Task(mut doc) = documents::read_document(Family::Task, &path)? else {
        return Err(InterventionError::Invalid(format!(
            "`{task}` is not a task"
        )));
    };
    if !doc.depends_on.iter().any(|dep| dep == from) {
        return Err(InterventionError::Invalid(format!(
            "task `{task}` does not depend on `{from}` (Depends-On: {})",
            list_or_none(&doc.depends_on)
        )));
    }
    doc.depends_on = replaced(&doc.depends_on, from, to);
    let depends_on = doc.depends_on.clone();
    let text = WorkDocument::Task(doc).render();
    write_atomic(&path, text.as_bytes()).map_err(at("write", &path))?;
    queue.apply_event(&FileEvent::Created(path));
    let details = json!({
        "old_dependency_id": from,
        "new_dependency_id": to,
        "depends_on": depends_on,
    });
    let entry = InterventionRecord::new("retarget_task_dependency", Family::Task, task, reason)
        .details(details);
    record::audit(queue, &entry)?;
    let detail = format!("task {task} now depends on {to} instead of {from}");
    let event = RuntimeEvent::TaskDependencyRetargeted {
        task_id: task.to_string(),
        old_dependency_id: from.to_string(),
        new_dependency_id: to.to_string(),
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

/// `list` with `from` replaced by `to`, without duplicates, order kept.
fn replaced(list: &[String], from: &str, to: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for dep in list {
        let dep = if dep == from { to } else { dep.as_str() };
        if !out.iter().any(|seen| seen == dep) {
            out.push(dep.to_string());
        }
    }
    out
}

/// Puts a blocked task back in the queue. Without `force`, only when its
/// blocked diagnostics say the failure was transient and the auto-retry
/// budget of `policy` is not spent.
pub fn retry_blocked(
    queue: &mut QueueStore,
    journal: &Journal,
    id: &str,
    reason: &str,
    force: bool,
    policy: &RetryPolicy,
) -> Result<String, InterventionError> {
    check_id("task id", id)?;
    let reason = check_reason(reason)?;
    let hint = "only blocked tasks can be retried";
    expect_state(queue, Family::Task, id, &[Blocked], hint)?;
    let diagnostics = super::read_blocked_diagnostics(queue.paths(), Family::Task, id)?;
    let auto_requeues = auto_requeues(queue, id, diagnostics.as_ref())?;
    if !force {
        check_retryable(id, diagnostics.as_ref(), auto_requeues, policy)?;
    }
    queue.retry_blocked(Family::Task, id, &MoveReason::new(ACTOR, reason))?;
    let details = json!({
        "forced": force,
        "failure_class": diagnostics.as_ref().and_then(|d| d.failure_class.clone()),
        "transient": diagnostics.as_ref().map(|d| d.transient),
        "auto_requeues": auto_requeues,
    });
    let entry =
        InterventionRecord::new("retry_blocked_task", Family::Task, id, reason).details(details);
    record::audit(queue, &entry)?;
    let forced = if force { " (forced)" } else { "" };
    let detail = format!("requeued blocked task {id}{forced}");
    let event = RuntimeEvent::BlockedTaskRequeued {
        id: id.to_string(),
        forced: force,
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

/// Automatic requeues so far: the larger of the diagnostics' count and the
/// `auto` lines of the requeue log.
fn auto_requeues(
    queue: &QueueStore,
    id: &str,
    diagnostics: Option<&super::BlockedDiagnostics>,
) -> Result<u32, InterventionError> {
    let logged = queue.requeue_count(Family::Task, id, true)?;
    let logged = u32::try_from(logged).unwrap_or(u32::MAX);
    Ok(diagnostics.map_or(0, |d| d.auto_requeues).max(logged))
}

fn check_retryable(
    id: &str,
    diagnostics: Option<&super::BlockedDiagnostics>,
    auto_requeues: u32,
    policy: &RetryPolicy,
) -> Result<(), InterventionError> {
    let refuse = |why: String| {
        Err(InterventionError::NotRetryable {
            id: id.to_string(),
            why,
        })
    };
    let Some(diagnostics) = diagnostics else {
        return refuse(format!(
            "no blocked diagnostics (diagnostics/blocked/task-{id}.json) say its failure was transient"
        ));
    };
    let class = diagnostics.failure_class.as_deref().unwrap_or("unknown");
    if !diagnostics.transient {
        return refuse(format!("failure class `{class}` is not transient"));
    }
    if auto_requeues >= policy.max_auto_requeues {
        return refuse(format!(
            "auto-retry budget spent ({auto_requeues} of {} automatic requeues)",
            policy.max_auto_requeues
        ));
    }
    Ok(())
}

/// Archives a located queued or blocked item into `<state_dir>/cancelled/`.
pub(super) fn cancel_located(
    queue: &mut QueueStore,
    journal: &Journal,
    located: &Located,
    id: &str,
    reason: &str,
) -> Result<String, InterventionError> {
    let (family, from) = (located.family, located.state);
    let dir = cancelled_dir(queue, family, from);
    let archive = record::archive_item(queue, family, id, from, &dir)?;
    let entry =
        InterventionRecord::new("cancel_work_item", family, id, reason).moved(from, &archive);
    record::audit(queue, &entry)?;
    let detail = format!(
        "cancelled {family} {id} ({from}) -> {}",
        shown(queue, &archive)
    );
    let event = RuntimeEvent::WorkItemCancelled {
        family,
        id: id.to_string(),
        from,
        archive_path: archive.display().to_string(),
        reason: reason.to_string(),
    };
    Ok(record::journal(journal, event, detail))
}

/// `<state_dir>/cancelled/`.
pub(super) fn cancelled_dir(queue: &QueueStore, family: Family, state: LifecycleState) -> PathBuf {
    queue.paths().lifecycle_dir(family, state).join("cancelled")
}

/// The one place `id` is, across families (or in `family`), from the disk.
fn locate_one(
    queue: &QueueStore,
    id: &str,
    family: Option<Family>,
) -> Result<Located, InterventionError> {
    let mut found = queue::locate_on_disk(queue.paths(), id);
    found.retain(|located| family.is_none_or(|family| located.family == family));
    let mut families: Vec<Family> = found.iter().map(|located| located.family).collect();
    families.dedup();
    if families.len() > 1 {
        let names: Vec<&str> = families.iter().map(|family| family.as_str()).collect();
        return Err(InterventionError::Ambiguous {
            id: id.to_string(),
            families: names.join(", "),
        });
    }
    // Several states of one family is an integrity problem: an active copy wins (refused).
    let active = found.iter().position(|located| located.state == Active);
    let index = active.unwrap_or(0);
    match found.into_iter().nth(index) {
        Some(located) => Ok(located),
        None => Err(InterventionError::Unknown {
            what: "work item",
            id: id.to_string(),
        }),
    }
}

/// The first state (lifecycle order) holding `id` of `family`, from the disk.
pub(super) fn state_of(queue: &QueueStore, family: Family, id: &str) -> Option<LifecycleState> {
    let paths = queue.paths();
    let states = family.states().iter().copied();
    states
        .into_iter()
        .find(|state| paths.item_path(family, *state, id).is_file())
}

/// The state of `id`, which must be one of `allowed`.
pub(super) fn expect_state(
    queue: &QueueStore,
    family: Family,
    id: &str,
    allowed: &[LifecycleState],
    hint: &str,
) -> Result<LifecycleState, InterventionError> {
    let paths = queue.paths();
    if let Some(state) = allowed
        .iter()
        .copied()
        .find(|state| paths.item_path(family, *state, id).is_file())
    {
        return Ok(state);
    }
    match state_of(queue, family, id) {
        Some(state) => Err(wrong_state(&located(queue, family, state, id), id, hint)),
        None => Err(InterventionError::Unknown {
            what: family_noun(family),
            id: id.to_string(),
        }),
    }
}

fn family_noun(family: Family) -> &'static str {
    match family {
        Family::Task => "task",
        Family::Spec => "spec",
        Family::Probe => "probe",
        Family::Incident => "incident",
        Family::LearningRequest => "learning request",
        Family::BlueprintDraft => "blueprint draft",
    }
}

fn located(queue: &QueueStore, family: Family, state: LifecycleState, id: &str) -> Located {
    Located {
        family,
        state,
        path: queue.paths().item_path(family, state, id),
    }
}

fn wrong_state(located: &Located, id: &str, hint: &str) -> InterventionError {
    InterventionError::WrongState {
        family: located.family,
        id: id.to_string(),
        state: located.state.as_str().to_string(),
        hint: hint.to_string(),
    }
}

/// Queued tasks (other than `old`) whose `Depends-On` names `old`, sorted.
fn queued_dependents(queue: &QueueStore, old: &str) -> Result<Vec<String>, InterventionError> {
    let dir = queue.paths().lifecycle_dir(Family::Task, Queued);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(at("list", &dir)(error).into()),
    };
    let mut dependents = Vec::new();
    for entry in entries {
        let path = entry.map_err(at("list", &dir))?.path();
        if path.extension().is_none_or(|ext| ext != "md") {
            continue;
        }
        let Ok(WorkDocument::Task(doc)) = documents::read_document(Family::Task, &path) else {
            continue;
        };
        if doc.task_id != old && doc.depends_on.iter().any(|dep| dep == old) {
            dependents.push(doc.task_id);
        }
    }
    dependents.sort();
    Ok(dependents)
}

/// `path` relative to `millrace-agents/` when under it.
pub(super) fn shown(queue: &QueueStore, path: &Path) -> String {
    let agents = queue.paths().agents_dir();
    path.strip_prefix(agents)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn list_or_none(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}
