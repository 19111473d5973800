//! The engine applying the mailbox: every tick, operator commands in issue
//! order, each at a safe boundary, each archived with its result or error.
//! A bad file is archived in `failed/` with the reason; the daemon keeps
//! running. What the commands do is in `runtime/mailbox.rs`; this file
//! lends them the engine's parts.

use std::path::Path;

use super::Engine;
use crate::runtime::error::RuntimeError;
use crate::runtime::mailbox::{
    MailboxWaits, apply_shared, enqueue_work_item, remember_failure, report, write_idea,
};
use crate::workspace::approvals;
use crate::workspace::interventions::{RetryPolicy, blocking_run};
use crate::workspace::mailbox::{self, MailboxCommand};
use crate::workspace::state::Slot;

/// What applying one command did.
pub(super) enum Applied {
    Done(String),
    Failed(String),
    /// Not safe yet; it stays in `incoming/`.
    Deferred(String),
}

impl Engine {
    /// Applies the mailbox; returns whether anything was applied.
    pub fn drain_mailbox(&mut self) -> Result<bool, RuntimeError> {
        let mut applied = false;
        self.waits = MailboxWaits::default();
        for path in mailbox::incoming(self.store.paths()) {
            let envelope = match mailbox::read(&path) {
                Ok(envelope) => envelope,
                Err(reason) => {
                    self.archive(&path, "unreadable", "none", Err(reason));
                    continue;
                }
            };
            let name = envelope.command.name();
            match self.apply_command(&envelope.command) {
                Applied::Deferred(why) => {
                    self.waits.defer();
                    self.monitor
                        .line(&format!("mailbox {name} deferred: {why}"));
                }
                Applied::Done(detail) => {
                    applied = true;
                    // State first, then the archive that tells the operator.
                    self.save_snapshot()?;
                    self.archive(&path, &name, &envelope.command_id, Ok(detail));
                }
                Applied::Failed(error) => {
                    let snapshot = self.store.snapshot_mut();
                    remember_failure(snapshot, &name, &envelope.command_id, &error);
                    self.save_snapshot()?;
                    self.archive(&path, &name, &envelope.command_id, Err(error))
                }
            }
        }
        Ok(applied)
    }

    /// Reports a command's outcome on the monitor and in the journal, then
    /// moves its file out of `incoming/`.
    fn archive(
        &mut self,
        path: &Path,
        name: &str,
        command_id: &str,
        outcome: Result<String, String>,
    ) {
        let (line, event) = report(name, command_id, &outcome);
        self.monitor.line(&line);
        self.event(event);
        if let Err(e) = mailbox::archive(self.store.paths(), path, outcome) {
            self.monitor.line(&format!(
                "mailbox archive of {} failed: {e}",
                path.display()
            ));
        }
    }

    fn apply_command(&mut self, command: &MailboxCommand) -> Applied {
        if let Some(busy) = self.unsafe_now(command) {
            return Applied::Deferred(busy);
        }
        if let Some(applied) = self.skill_command(command) {
            return applied;
        }
        let result = match command {
            MailboxCommand::AddWorkItem { family, document } => {
                self.add_work_item(family, document)
            }
            MailboxCommand::AddIdea {
                source_name,
                markdown,
            } => write_idea(self.store.paths(), source_name, markdown),
            MailboxCommand::ReloadConfig => self.reload(),
            MailboxCommand::ApproveExecutionCapability { .. }
            | MailboxCommand::DenyExecutionCapability { .. } => self.answer_approval(command),
            _ => self.apply_control(command),
        };
        match result {
            Ok(detail) => Applied::Done(detail),
            Err(error) => Applied::Failed(error),
        }
    }

    /// Why `command` cannot be applied yet, if it cannot: a stage running in
    /// a plane it touches (that plane is held at its next boundary), or a
    /// recorded run on an item it changes.
    fn unsafe_now(&mut self, command: &MailboxCommand) -> Option<String> {
        let flights = &self.flights;
        let flying = |plane| flights.flying().any(|(slot, _)| slot.plane == plane);
        self.waits
            .hold_for(command, flying)
            .or_else(|| blocking_run(self.store.snapshot(), command).map(|e| e.to_string()))
    }

    /// An operator's answer to an approval gate; the gated stage sees it
    /// at the next dispatch.
    fn answer_approval(&mut self, command: &MailboxCommand) -> Result<String, String> {
        let agents = self.store.paths().agents_dir().to_path_buf();
        let Some((result, event)) = approvals::apply(&agents, command, "operator") else {
            return Err(format!("`{}` is not an approval", command.name()));
        };
        if let Some(event) = event {
            self.event(event);
        }
        result.map_err(|e| e.to_string())
    }

    fn add_work_item(
        &mut self,
        family: &str,
        document: &serde_json::Value,
    ) -> Result<String, String> {
        let (detail, event) = enqueue_work_item(&mut self.store, family, document)?;
        self.event(event);
        Ok(detail)
    }

    /// A control or an intervention, and what it changes in the engine
    /// itself: a stop drains, a pause is said, a cleared run's retry ends.
    fn apply_control(&mut self, command: &MailboxCommand) -> Result<String, String> {
        let policy = RetryPolicy {
            max_auto_requeues: self.settings.auto_recovery.max_auto_requeues_per_work_item,
        };
        let result = apply_shared(&mut self.store, command, &policy);
        if matches!(command, MailboxCommand::Stop) {
            self.draining = true;
        }
        if matches!(command, MailboxCommand::Pause) {
            self.monitor.line("paused reason=operator");
        }
        self.forget_cleared_runs();
        // A cancelled or superseded task's lane leftovers go at once.
        self.sweep_lanes();
        if result.is_ok() && !matches!(command, MailboxCommand::Pause | MailboxCommand::Resume) {
            // An intervention may have moved or rewritten lineage work.
            self.closure.forget();
        }
        result
    }

    /// Runs a control command removed from the snapshot end here too.
    fn forget_cleared_runs(&mut self) {
        let cleared: Vec<Slot> = self
            .flights
            .waiting()
            .filter(|slot| !self.store.has_run(*slot))
            .collect();
        for slot in cleared {
            self.flights.forget_retry(slot);
        }
    }
}
