//! The engine's side of closure targets: the review of every open target
//! before each dispatch, and what the operator is told (journal events and
//! monitor lines) when a target opens, is held by blocked work, is
//! released, or holds other lineages back.

use super::closure::{Change, Reviewed};
use super::engine::Engine;
use super::error::{RuntimeError, io_error};
use crate::workspace::closure_targets::{self, ClosureTarget};
use crate::workspace::journal::RuntimeEvent;

impl Engine {
    /// Reviews the open closure targets against the queue; saves and
    /// reports each one that changed.
    pub(super) fn review_closure(&mut self) -> Result<(), RuntimeError> {
        let changed = self.closure.review(self.store.paths(), self.store.queue());
        for reviewed in changed {
            closure_targets::save(self.store.paths(), &reviewed.target)
                .map_err(io_error("write closure target"))?;
            self.report_review(&reviewed);
        }
        for file in self.closure.take_unreadable() {
            let message = format!(
                "closure target {} does not read ({}); it is skipped and its lineage is not judged",
                file.path.display(),
                file.reason
            );
            self.monitor.line(&message);
            self.event(RuntimeEvent::RuntimeError {
                origin: "closure".into(),
                message,
            });
        }
        Ok(())
    }

    fn report_review(&mut self, reviewed: &Reviewed) {
        let target = &reviewed.target;
        let root = target.root_spec_id.clone();
        let (line, event) = match reviewed.change {
            Change::Held => (
                format!(
                    "closure target held root_spec={root} by {} ({})",
                    target.blocking_work_ids.join(", "),
                    how_to_clear(target)
                ),
                RuntimeEvent::ClosureTargetHeld {
                    root_spec_id: root,
                    blocking_work_ids: target.blocking_work_ids.clone(),
                },
            ),
            Change::Released => (
                format!("closure target released root_spec={root}"),
                RuntimeEvent::ClosureTargetReleased { root_spec_id: root },
            ),
            Change::Backpressure => (
                format!(
                    "closure target root_spec={root} holds back root specs {}",
                    target.deferred_root_spec_ids.join(", ")
                ),
                RuntimeEvent::ClosureTargetBackpressure {
                    open_root_spec_id: root,
                    deferred_root_spec_ids: target.deferred_root_spec_ids.clone(),
                },
            ),
            Change::Quiet => return,
        };
        self.monitor.line(&line);
        self.event(event);
    }

    /// Says a target opened; the next review takes it into account.
    pub(super) fn announce_opened(&mut self, target: &ClosureTarget) -> Result<(), RuntimeError> {
        self.closure.forget();
        self.monitor.line(&format!(
            "closure target opened root_spec={}",
            target.root_spec_id
        ));
        self.event(RuntimeEvent::ClosureTargetOpened {
            root_spec_id: target.root_spec_id.clone(),
            root_idea_id: target.root_idea_id.clone(),
        });
        // Claims later in this dispatch already keep to its lineage.
        self.review_closure()
    }

    /// Why work is still queued or held when the daemon has nothing it can
    /// start (`run daemon --until-idle` says it on exit); `None` when
    /// nothing is.
    pub(super) fn idle_note(&self) -> Option<String> {
        let waiting = self.approvals_note();
        let queued = self.queued_note();
        match (waiting, queued) {
            (Some(a), Some(q)) => Some(format!("{a}; {q}")),
            (a, q) => a.or(q),
        }
    }

    /// The stages held at a gate, which only an operator can release.
    fn approvals_note(&self) -> Option<String> {
        let store =
            crate::workspace::approvals::ApprovalStore::new(self.store.paths().agents_dir());
        let pending = store.pending();
        let first = pending.first()?;
        Some(format!(
            "{} stage(s) waiting for an approval (`millrace approvals ls`; first: `millrace approvals approve {}`)",
            pending.len(),
            first.approval_id
        ))
    }

    fn queued_note(&self) -> Option<String> {
        let depths = self.store.queue().depths();
        let queued: Vec<String> = depths
            .by_family
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(family, n)| format!("{family} {n}"))
            .collect();
        if queued.is_empty() {
            return None;
        }
        let why = match self.closure.focus() {
            Some(target) => format!(
                "held back by closure target `{}` until its lineage is done and judged",
                target.root_spec_id
            ),
            None => "waiting for dependencies that are not done".to_string(),
        };
        Some(format!("{} queued, {why}", queued.join(", ")))
    }
}

/// The commands that clear what holds `target`.
fn how_to_clear(target: &ClosureTarget) -> String {
    if target.lineage_drift {
        format!(
            "they name another root spec: repair with `millrace queue repair-lineage --root-spec-id {} --apply`",
            target.root_spec_id
        )
    } else {
        "retry with `millrace queue retry-blocked ID --force --reason ...` or cancel with `millrace queue cancel ID --reason ...`".to_string()
    }
}
