//! The daemon's side of the mailbox, apart from the engine: which commands
//! wait for a safe boundary (a command that touches a work item whose run is
//! in progress waits, the others go ahead), what the commands the daemon
//! carries out itself do to the store, and how each outcome is reported.
//! The engine applies them in issue order every tick (`engine/mailbox.rs`).

use std::collections::BTreeSet;

use super::store::Store;
use crate::vocab::Plane;
use crate::workspace::atomic::write_atomic_new;
use crate::workspace::documents::{is_valid_id, parse_json};
use crate::workspace::interventions::{self, RetryPolicy};
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::mailbox::MailboxCommand;
use crate::workspace::state::{FailedCommand, RuntimeSnapshot};
use crate::workspace::{Family, MailboxDir, Timestamp, WorkspacePaths, control};

/// Mailbox commands that wait for a safe boundary.
#[derive(Debug, Default)]
pub struct MailboxWaits {
    /// Some command waits: the mailbox is read again every tick.
    deferred: bool,
    /// Planes whose runs stop at their next stage boundary for a command
    /// (retry-active, clear-stale-state) that is applied there, before the
    /// next stage is dispatched.
    holds: BTreeSet<Plane>,
}

impl MailboxWaits {
    /// True while some command waits.
    pub fn any(&self) -> bool {
        self.deferred
    }

    /// True when `plane`'s run must stop at its next boundary.
    pub fn holds(&self, plane: Plane) -> bool {
        self.holds.contains(&plane)
    }

    /// A command stays in `incoming/`: the mailbox is read again next tick.
    pub fn defer(&mut self) {
        self.deferred = true;
    }

    /// Why `command` waits for the stages in flight (`flying`) in the planes
    /// whose runs it changes, holding those planes at their next boundary so
    /// that it is applied there; `None` when no such stage is running.
    pub fn hold_for(
        &mut self,
        command: &MailboxCommand,
        flying: impl Fn(Plane) -> bool,
    ) -> Option<String> {
        let running: Vec<Plane> = runs_touched(command)
            .into_iter()
            .filter(|plane| flying(*plane))
            .collect();
        if running.is_empty() {
            return None;
        }
        self.holds.extend(running.iter().copied());
        let planes: Vec<String> = running.iter().map(Plane::to_string).collect();
        Some(format!(
            "a stage is running in {}; applied when it ends",
            planes.join(", ")
        ))
    }
}

/// The planes whose runs `command` changes (none for most commands).
fn runs_touched(command: &MailboxCommand) -> Vec<Plane> {
    match command {
        MailboxCommand::RetryActive {
            plane: Some(name), ..
        } => Plane::parse(name).into_iter().collect(),
        MailboxCommand::RetryActive { plane: None, .. }
        | MailboxCommand::ClearStaleState { .. } => Plane::ALL.to_vec(),
        _ => Vec::new(),
    }
}

/// `status` shows the last command that failed, and says so in `last_error`.
pub fn remember_failure(snapshot: &mut RuntimeSnapshot, name: &str, command_id: &str, error: &str) {
    snapshot.last_error = Some(format!("mailbox {name} failed: {error}"));
    snapshot.last_failed_command = Some(FailedCommand {
        command: name.to_string(),
        command_id: command_id.to_string(),
        error: error.to_string(),
        failed_at: Timestamp::now(),
    });
}

/// A command's outcome as the monitor line and the journal event that report it.
pub fn report(
    name: &str,
    command_id: &str,
    outcome: &Result<String, String>,
) -> (String, RuntimeEvent) {
    match outcome {
        Ok(detail) => (
            format!("mailbox {name} applied: {detail}"),
            RuntimeEvent::MailboxCommandApplied {
                command: name.into(),
                command_id: command_id.into(),
            },
        ),
        Err(error) => (
            format!("mailbox {name} failed: {error}"),
            RuntimeEvent::MailboxCommandFailed {
                command: name.into(),
                command_id: command_id.into(),
                error: error.clone(),
            },
        ),
    }
}

/// Controls and interventions, implemented once for the CLI and the daemon.
pub fn apply_shared(
    store: &mut Store,
    command: &MailboxCommand,
    policy: &RetryPolicy,
) -> Result<String, String> {
    let (queue, journal, snapshot) = store.for_command();
    let controlled = control::apply(queue, journal, snapshot, command);
    let result = match controlled {
        Some(result) => result,
        None => interventions::apply(queue, journal, command, policy).unwrap_or_else(|| {
            Ok(format!(
                "`{}` needs nothing from the daemon",
                command.name()
            ))
        }),
    };
    result.map_err(|e| e.to_string())
}

/// Enqueues the document an `add_work_item` command carries; returns what
/// the operator reads and the event to journal.
pub fn enqueue_work_item(
    store: &mut Store,
    family: &str,
    document: &serde_json::Value,
) -> Result<(String, RuntimeEvent), String> {
    let family = Family::parse(family).ok_or_else(|| format!("unknown family `{family}`"))?;
    let origin = store.paths().mailbox_dir(MailboxDir::Incoming);
    let document = parse_json(family, &origin, &document.to_string()).map_err(|e| e.to_string())?;
    let path = store
        .queue_mut()
        .enqueue(&document)
        .map_err(|e| e.to_string())?;
    let detail = format!(
        "enqueued {} {} at {}",
        family.as_str(),
        document.id(),
        path.display()
    );
    let event = RuntimeEvent::WorkItemEnqueued {
        family,
        id: document.id().to_string(),
        source: "mailbox".into(),
    };
    Ok((detail, event))
}

/// Writes the idea an `add_idea` command carries into the ideas inbox.
pub fn write_idea(
    paths: &WorkspacePaths,
    source_name: &str,
    markdown: &str,
) -> Result<String, String> {
    let stem = source_name.strip_suffix(".md").unwrap_or(source_name);
    if !is_valid_id(stem) {
        return Err(format!("unsafe idea file name `{source_name}`"));
    }
    let path = paths.ideas_inbox().join(format!("{stem}.md"));
    write_atomic_new(&path, markdown.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!("idea written to {}", path.display()))
}
