//! The daemon's side of the mailbox: every tick it applies operator commands
//! in issue order, each at a safe boundary (a command that touches a work
//! item whose run is in progress waits, the others go ahead), and archives
//! each with its result or error. A bad file is archived in `failed/` with
//! the reason; the daemon keeps running.

use std::collections::BTreeSet;
use std::path::Path;

use super::engine::{Engine, RuntimeError};
use crate::vocab::Plane;
use crate::workspace::atomic::write_atomic_new;
use crate::workspace::documents::{is_valid_id, parse_json};
use crate::workspace::interventions::{self, RetryPolicy, blocking_run};
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::mailbox::{self, MailboxCommand};
use crate::workspace::state::FailedCommand;
use crate::workspace::{Family, Timestamp, control};

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
}

/// What applying one command did.
enum Applied {
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
                    self.waits.deferred = true;
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
                    self.remember_failure(&name, &envelope.command_id, &error)?;
                    self.archive(&path, &name, &envelope.command_id, Err(error))
                }
            }
        }
        Ok(applied)
    }

    /// `status` shows the last command that failed, and says so in `last_error`.
    fn remember_failure(
        &mut self,
        name: &str,
        command_id: &str,
        error: &str,
    ) -> Result<(), RuntimeError> {
        self.store.snapshot_mut().last_error = Some(format!("mailbox {name} failed: {error}"));
        self.store.snapshot_mut().last_failed_command = Some(FailedCommand {
            command: name.to_string(),
            command_id: command_id.to_string(),
            error: error.to_string(),
            failed_at: Timestamp::now(),
        });
        self.save_snapshot()
    }

    fn archive(
        &mut self,
        path: &Path,
        name: &str,
        command_id: &str,
        outcome: Result<String, String>,
    ) {
        let line = match &outcome {
            Ok(detail) => format!("mailbox {name} applied: {detail}"),
            Err(error) => format!("mailbox {name} failed: {error}"),
        };
        self.monitor.line(&line);
        let event = match &outcome {
            Ok(_) => RuntimeEvent::MailboxCommandApplied {
                command: name.into(),
                command_id: command_id.into(),
            },
            Err(error) => RuntimeEvent::MailboxCommandFailed {
                command: name.into(),
                command_id: command_id.into(),
                error: error.clone(),
            },
        };
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
        let result = match command {
            MailboxCommand::AddWorkItem { family, document } => {
                self.add_work_item(family, document)
            }
            MailboxCommand::AddIdea {
                source_name,
                markdown,
            } => self.add_idea(source_name, markdown),
            MailboxCommand::ReloadConfig => self.reload(),
            _ => self.apply_shared(command),
        };
        match result {
            Ok(detail) => Applied::Done(detail),
            Err(error) => Applied::Failed(error),
        }
    }

    /// Why `command` cannot be applied yet, if it cannot. A command that
    /// changes runs waits for the stages running in the planes it touches,
    /// and holds those planes at their next boundary so that it is applied
    /// there, before their next stage starts.
    fn unsafe_now(&mut self, command: &MailboxCommand) -> Option<String> {
        let running: Vec<Plane> = runs_touched(command)
            .into_iter()
            .filter(|plane| self.flights.is_flying(*plane))
            .collect();
        if !running.is_empty() {
            self.waits.holds.extend(running.iter().copied());
            let planes: Vec<String> = running.iter().map(Plane::to_string).collect();
            return Some(format!(
                "a stage is running in {}; applied when it ends",
                planes.join(", ")
            ));
        }
        blocking_run(self.store.snapshot(), command).map(|e| e.to_string())
    }

    /// Controls and interventions, implemented once for the CLI and the daemon.
    fn apply_shared(&mut self, command: &MailboxCommand) -> Result<String, String> {
        let policy = RetryPolicy {
            max_auto_requeues: self.settings.auto_recovery.max_auto_requeues_per_work_item,
        };
        let (queue, journal, snapshot) = self.store.for_command();
        let controlled = control::apply(queue, journal, snapshot, command);
        let result = match controlled {
            Some(result) => result,
            None => interventions::apply(queue, journal, command, &policy).unwrap_or_else(|| {
                Ok(format!(
                    "`{}` needs nothing from the daemon",
                    command.name()
                ))
            }),
        };
        if matches!(command, MailboxCommand::Stop) {
            self.draining = true;
        }
        if matches!(command, MailboxCommand::Pause) {
            self.monitor.line("paused reason=operator");
        }
        self.forget_cleared_runs();
        result.map_err(|e| e.to_string())
    }

    /// Runs a control command removed from the snapshot end here too.
    fn forget_cleared_runs(&mut self) {
        let cleared: Vec<Plane> = self
            .flights
            .waiting()
            .filter(|p| !self.store.has_run(*p))
            .collect();
        for plane in cleared {
            self.flights.forget_retry(plane);
        }
    }

    fn add_work_item(
        &mut self,
        family: &str,
        document: &serde_json::Value,
    ) -> Result<String, String> {
        let family = Family::parse(family).ok_or_else(|| format!("unknown family `{family}`"))?;
        let origin = self
            .store
            .paths()
            .mailbox_dir(crate::workspace::MailboxDir::Incoming);
        let document =
            parse_json(family, &origin, &document.to_string()).map_err(|e| e.to_string())?;
        let path = self
            .store
            .queue_mut()
            .enqueue(&document)
            .map_err(|e| e.to_string())?;
        self.event(RuntimeEvent::WorkItemEnqueued {
            family,
            id: document.id().to_string(),
            source: "mailbox".into(),
        });
        Ok(format!(
            "enqueued {} {} at {}",
            family.as_str(),
            document.id(),
            path.display()
        ))
    }

    fn add_idea(&mut self, source_name: &str, markdown: &str) -> Result<String, String> {
        let stem = source_name.strip_suffix(".md").unwrap_or(source_name);
        if !is_valid_id(stem) {
            return Err(format!("unsafe idea file name `{source_name}`"));
        }
        let path = self.store.paths().ideas_inbox().join(format!("{stem}.md"));
        write_atomic_new(&path, markdown.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(format!("idea written to {}", path.display()))
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
