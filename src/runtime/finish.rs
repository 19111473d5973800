//! The end of a run: a final decides the work item's lifecycle move by its
//! class, creates a handoff item in another plane when it names one, and
//! settles a closure target when the run judged one.

use super::apply::Applied;
use super::closure::MAX_REMEDIATION_ROUNDS;
use super::engine::Engine;
use super::error::{RuntimeError, io_error};
use super::handoff::handoff_incident;
use crate::plan::FinalPlan;
use crate::vocab::{Family, ResultClass};
use crate::workspace::closure_targets;
use crate::workspace::documents::WorkDocument;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::queue::MoveReason;
use crate::workspace::state::{StatusMarker, item_key};
use crate::workspace::{LifecycleState, Timestamp};

impl Engine {
    pub fn finish_run(&mut self, a: Applied, name: &str, reason: &str) -> Result<(), RuntimeError> {
        let fin = self
            .plan
            .plane(a.slot.plane)
            .and_then(|p| p.finals.get(name))
            .cloned()
            .ok_or_else(|| RuntimeError::Plan(format!("final `{name}` is not in the plan")))?;
        self.set_status(
            a.slot,
            StatusMarker::new(&fin.status).unwrap_or_else(StatusMarker::idle),
        )?;
        let spawned = self.handoff(&a, name, &fin)?;
        match &a.inflight.document {
            Some(document) => {
                self.settle_item(document, &fin, name)?;
                if !fin.class.finishes() {
                    self.write_blocked_diagnostics(
                        document,
                        &a.inflight.request.node,
                        name,
                        a.outcome.failure_class,
                    )?;
                }
            }
            None => self.settle_closure(&a, &fin, spawned.is_some())?,
        }
        self.store.snapshot_mut().take_run(a.slot);
        self.save_snapshot()?;
        self.sweep_lanes();
        let verb = if fin.class.finishes() {
            "done"
        } else {
            "blocked"
        };
        let spawned = spawned
            .map(|id| format!(" spawned={id}"))
            .unwrap_or_default();
        self.monitor.line(&format!(
            "route {} {verb} final={name} reason={reason}{spawned}",
            a.slot
        ));
        Ok(())
    }

    /// A final with `handoff <family>` creates that work item, with lineage.
    fn handoff(
        &mut self,
        a: &Applied,
        name: &str,
        fin: &FinalPlan,
    ) -> Result<Option<String>, RuntimeError> {
        let Some(family) = fin.handoff else {
            return Ok(None);
        };
        if family != Family::Incident {
            return Err(RuntimeError::Plan(format!(
                "final `{name}` hands off to `{family}`, which the runtime cannot create"
            )));
        }
        let mut source = self.handoff_source(a, name);
        let target = a
            .inflight
            .request
            .closure_target
            .as_ref()
            .and_then(|c| closure_targets::load(self.store.paths(), &c.root_spec_id));
        source.root_idea_id = target.as_ref().and_then(|t| t.root_idea_id.as_deref());
        let document = handoff_incident(&source, &a.inflight.request.request_id);
        if self
            .store
            .queue()
            .find(document.family(), document.id())
            .is_some()
        {
            return Ok(Some(document.id().to_string()));
        }
        self.store.queue_mut().enqueue(&document)?;
        self.event(RuntimeEvent::WorkItemEnqueued {
            family: document.family(),
            id: document.id().to_string(),
            source: format!("handoff from {}", a.inflight.request.node),
        });
        Ok(Some(document.id().to_string()))
    }

    /// Success and no-op finish the item; every other class blocks it.
    fn settle_item(
        &mut self,
        document: &WorkDocument,
        fin: &FinalPlan,
        name: &str,
    ) -> Result<(), RuntimeError> {
        let reason = MoveReason::new("runtime", &format!("final {name} ({})", fin.class));
        let (family, id) = (document.family(), document.id());
        if self
            .store
            .queue()
            .find(family, id)
            .is_none_or(|l| l.state != LifecycleState::Active)
        {
            // Already moved (a run finished just before a crash and is replayed).
            return Ok(());
        }
        let done = fin.class.finishes();
        if done {
            self.store.queue_mut().complete(family, id, &reason)?;
        } else {
            self.store.queue_mut().block(family, id, &reason)?;
        }
        // Counters are written only when there was something to forget.
        if self.store.counters_mut().reset_item(&item_key(family, id)) {
            self.store.save_counters()?;
        }
        Ok(())
    }

    /// Closes, re-opens for remediation, or parks a closure target.
    fn settle_closure(
        &mut self,
        a: &Applied,
        fin: &FinalPlan,
        remediation: bool,
    ) -> Result<(), RuntimeError> {
        let Some(closure_ref) = &a.inflight.request.closure_target else {
            return Ok(());
        };
        let Some(mut target) = closure_targets::load(self.store.paths(), &closure_ref.root_spec_id)
        else {
            return Ok(());
        };
        target.last_run_id = Some(a.inflight.request.run_id.clone());
        if closure_ref.verdict_path.is_file() {
            target.latest_verdict = Some(closure_ref.verdict_path.display().to_string());
        }
        match fin.class {
            ResultClass::Success | ResultClass::NoOp => {
                target.closure_open = false;
                target.closed_at = Some(Timestamp::now());
                self.monitor.line(&format!(
                    "closure target closed root_spec={}",
                    target.root_spec_id
                ));
                self.event(RuntimeEvent::ClosureTargetClosed {
                    root_spec_id: target.root_spec_id.clone(),
                });
            }
            _ if remediation && target.remediation_rounds < MAX_REMEDIATION_ROUNDS => {
                target.remediation_rounds += 1
            }
            _ => {
                target.waiting_for_operator = true;
                self.monitor.line(&format!(
                    "closure target waits for an operator root_spec={}",
                    target.root_spec_id
                ));
                self.event(RuntimeEvent::ClosureTargetWaitingForOperator {
                    root_spec_id: target.root_spec_id.clone(),
                });
            }
        }
        self.closure.forget();
        closure_targets::save(self.store.paths(), &target).map_err(io_error("write closure target"))
    }
}
