//! Approval gates: a stage whose plan grants include `approval_required`
//! does not start until an operator answers. Its work item stays claimed
//! by its plane (not blocked, not claimable by anyone else) with the run
//! recorded in the snapshot, so the wait survives a restart or a kill -9;
//! each tick looks again. An approval lets the stage run with the grant; a
//! denial ends it `BLOCKED` with the operator's reason.

use super::engine::Engine;
use super::error::{RuntimeError, io_error};
use super::flights::{Completion, InFlight};
use super::monitor::short;
use crate::plan::GrantPlan;
use crate::runners::{FailureClass, RunnerExit, RunnerResult};
use crate::vocab::capability::GateScope;
use crate::workspace::approvals::{Approval, ApprovalAsk, ApprovalStatus, ApprovalStore};
use crate::workspace::documents::WorkDocument;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::state::{ActiveRun, Slot};

/// What the gates of a stage say now.
pub enum Gate {
    /// No gate, or every gate approved.
    Open,
    /// An approval is pending.
    Waiting,
    /// An operator denied one.
    Denied(Box<Approval>),
}

impl Engine {
    /// The gates of `run`'s node. The first look fixes the request id the
    /// stage will run as (`run.gate_request`), which a `stage`-scoped
    /// approval names; approvals missing are asked for.
    pub fn gate(&mut self, slot: Slot, run: &mut ActiveRun) -> Result<Gate, RuntimeError> {
        let plane = slot.plane;
        let node = self.node_plan(plane, &run.node)?;
        let gated: Vec<&GrantPlan> = node.gated().collect();
        if gated.is_empty() {
            return Ok(Gate::Open);
        }
        let request_id = run
            .gate_request
            .get_or_insert_with(|| super::store::new_id("request"))
            .clone();
        // The snapshot names the request before any approval does: a kill
        // between the two must not leave an approval no run will look for.
        self.hold(slot, run.clone())?;
        let store = ApprovalStore::new(self.store.paths().agents_dir());
        let mut waiting = false;
        for grant in gated {
            let item = run
                .work_item
                .as_ref()
                .map(|w| (w.family.as_str(), w.id.as_str()));
            let ask = ApprovalAsk {
                run_id: &run.run_id,
                request_id: &request_id,
                interrupted_request: run.request_id.as_deref(),
                work_item: item,
                plane: plane.as_str(),
                node: &run.node,
                stage_kind: &node.stage_kind,
                grant_id: &grant.grant_id,
                capability: grant.capability,
                scope: grant.gate_scope.unwrap_or(GateScope::Stage),
                reason: format!(
                    "{} requires approval (set by {})",
                    grant.capability, grant.resolved_by
                ),
            };
            match store.covering(&ask).map(|a| (a.status, a)) {
                Some((ApprovalStatus::Approved, _)) => {}
                Some((ApprovalStatus::Denied, approval)) => {
                    return Ok(Gate::Denied(Box::new(approval)));
                }
                Some((ApprovalStatus::Pending, _)) => waiting = true,
                _ => {
                    let approval = store.ask(&ask).map_err(io_error("write an approval"))?;
                    self.announce_ask(slot, &approval);
                    waiting = true;
                }
            }
        }
        Ok(if waiting { Gate::Waiting } else { Gate::Open })
    }

    fn announce_ask(&mut self, slot: Slot, approval: &Approval) {
        let work = match (&approval.work_item_kind, &approval.work_item_id) {
            (Some(kind), Some(id)) => format!("{kind}:{id}"),
            _ => "closure_target".into(),
        };
        self.monitor.line(&format!(
            "stage awaiting approval {slot}/{} capability={} approval={} work={work} run={}",
            approval.node_id,
            approval.capability_id,
            approval.approval_id,
            short(&approval.run_id)
        ));
        self.event(RuntimeEvent::ApprovalRequested {
            approval_id: approval.approval_id.clone(),
            capability: approval.capability_id.to_string(),
            plane: slot.plane,
            node: approval.node_id.clone(),
            work_item: approval.work_item_id.clone(),
        });
    }

    /// Cancels the pending approvals no waiting stage will look at again:
    /// their run was requeued or cleared, or went on because a reload took
    /// the gate away. Left pending, `status` would list them for ever and an
    /// operator's approval of one would let nothing run.
    pub fn cancel_orphaned_approvals(&mut self) {
        let waiting: Vec<String> = self
            .store
            .snapshot()
            .runs()
            .filter_map(|(_, r)| r.gate_request.clone())
            .collect();
        let store = ApprovalStore::new(self.store.paths().agents_dir());
        let orphans = store
            .pending()
            .into_iter()
            .filter(|a| !waiting.contains(&a.request_id));
        for orphan in orphans {
            let reason = "no stage waits for it any more";
            let id = &orphan.approval_id;
            // Refused only when answered meanwhile: nothing to cancel then.
            if store
                .answer(id, ApprovalStatus::Cancelled, "runtime", reason)
                .is_ok()
            {
                self.monitor
                    .line(&format!("approval cancelled {id}: {reason}"));
                self.event(RuntimeEvent::ApprovalAnswered {
                    approval_id: id.clone(),
                    status: ApprovalStatus::Cancelled.to_string(),
                    reason: reason.into(),
                });
            }
        }
    }

    /// Keeps a gated run in the snapshot: its slot stays busy with it.
    pub fn hold(&mut self, slot: Slot, run: ActiveRun) -> Result<(), RuntimeError> {
        let known = self.store.snapshot().run(slot) == Some(&run);
        if !known {
            self.store.snapshot_mut().set_run(slot, run);
            self.save_snapshot()?;
        }
        Ok(())
    }

    /// A denied gate: the stage is applied as if its runner had failed with
    /// `capability_approval_denied`, the operator's reason as the message.
    pub fn refuse(
        &mut self,
        slot: Slot,
        request: crate::runners::StageRequest,
        document: Option<WorkDocument>,
        approval: &Approval,
    ) -> Result<(), RuntimeError> {
        let reason = approval.decision_reason.clone().unwrap_or_default();
        let message = format!(
            "{} denied by the operator ({}): {reason}",
            approval.capability_id, approval.approval_id
        );
        self.monitor
            .line(&format!("stage refused {slot}/{} {message}", request.node));
        let failure = (FailureClass::CapabilityApprovalDenied, message);
        self.answer_unlaunched(slot, request, document, failure)
    }

    /// Applies a stage that never ran as if its runner had failed with
    /// `failure` (its class and message).
    pub fn answer_unlaunched(
        &mut self,
        slot: Slot,
        request: crate::runners::StageRequest,
        document: Option<WorkDocument>,
        failure: (FailureClass, String),
    ) -> Result<(), RuntimeError> {
        let (class, message) = failure;
        let result = RunnerResult {
            exit: RunnerExit::Failed { class, message },
            last_message: None,
            tokens: None,
            duration_ms: 0,
            artifacts: Vec::new(),
        };
        self.flights.adopt(slot, InFlight::now(request, document));
        self.apply(Completion { slot, result })
    }
}
