//! Claiming work and starting stages: the next eligible item per plane
//! (planning before execution, closure lineage first), the stage request and
//! prompt persisted under `runs/<run_id>/`, then the runner, on its own task.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::closure;
use super::engine::Engine;
use super::error::{RuntimeError, io_error};
use super::evidence::RunTrace;
use super::gates::Gate;
use super::lanes::{MergeAsk, failure_class};
use super::monitor::short;
pub use super::store::new_id;
use crate::plan::GrantPlan;
use crate::runners::{
    BudgetUse, ClosureRef, PreviousStage, RequestKind, StageGrant, StageRequest, WorkItemRef,
    compose_prompt,
};
use crate::vocab::capability::Decision;
use crate::vocab::{Builtin, Plane};
use crate::workspace::closure_targets::ClosureTarget;
use crate::workspace::documents::WorkDocument;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::queue::{ClaimFilter, TargetPaths};
use crate::workspace::state::{
    ActiveRun, Slot, StatusMarker, WorkItemRef as SnapshotItem, item_key,
};
use crate::workspace::worktrees::WorktreeError;
use crate::workspace::{Family, LifecycleState, Timestamp};

/// The foreground planes in claim order.
const FOREGROUND: [Plane; 2] = [Plane::Planning, Plane::Execution];

impl Engine {
    /// Pauses or resumes by the usage rules; called between stages.
    pub fn govern(&mut self) -> Result<(), RuntimeError> {
        let review = self.governance.review(self.store.snapshot_mut());
        for blocker in &review.paused_by {
            let line = blocker.line();
            self.monitor.line(&line);
            self.event(RuntimeEvent::RuntimeError {
                origin: "usage_governance_blocked".into(),
                message: line,
            });
        }
        if review.resumed {
            self.monitor.line("governance resume");
            self.event(RuntimeEvent::RuntimeError {
                origin: "usage_governance_resumed".into(),
                message: "no rule blocks".into(),
            });
        }
        if review.changed {
            self.governance
                .save_state(self.store.paths())
                .map_err(io_error("write governance state"))?;
            self.save_snapshot()?;
        }
        Ok(())
    }

    /// Starts every stage that may start now; true if any started.
    pub fn dispatch(&mut self) -> Result<bool, RuntimeError> {
        if self.draining || self.store.snapshot().paused {
            return Ok(false);
        }
        self.review_closure()?;
        let mut started = self.resume_pending()?;
        for plane in FOREGROUND {
            started |= self.fill_lanes(plane)?;
        }
        if !FOREGROUND.iter().any(|p| self.busy(*p)) && self.start_closure()? {
            started = true;
        }
        started |= self.fill_lanes(Plane::Learning)?;
        self.cancel_orphaned_approvals();
        Ok(started)
    }

    /// Claims work for every free lane of `plane` while there is some;
    /// true if any item was claimed.
    fn fill_lanes(&mut self, plane: Plane) -> Result<bool, RuntimeError> {
        let mut started = false;
        if self.waits.holds(plane) {
            // A free lane claiming new work would keep the plane busy, and
            // the command waiting for it waiting, for ever.
            return Ok(false);
        }
        while let Some(slot) = self.may_start(plane) {
            if !self.claim_and_start(slot)? {
                break;
            }
            started = true;
        }
        Ok(started)
    }

    /// Runs left pending in the snapshot (a stop, a restart) start again at
    /// their recorded node, under the same run id.
    fn resume_pending(&mut self) -> Result<bool, RuntimeError> {
        let pending: Vec<(Slot, ActiveRun)> = self
            .store
            .snapshot()
            .runs()
            .filter(|(s, _)| !self.flights.is_flying(*s) && !self.flights.is_waiting(*s))
            // A run held at its boundary for a mailbox command stays there
            // while another lane of its plane finishes its stage.
            .filter(|(s, _)| !self.waits.holds(s.plane))
            .map(|(s, r)| (s, r.clone()))
            .collect();
        let mut started = false;
        for (slot, run) in pending {
            let document = match &run.work_item {
                Some(item) => self.active_document(item.family, &item.id)?,
                None => None,
            };
            if run.work_item.is_some() && document.is_none() {
                self.drop_orphan_run(slot, &run)?;
                continue;
            }
            if run.gate_request.is_some() {
                // Waiting at an approval gate: look again, quietly.
                started |= self.start_stage(slot, run, document)?;
                continue;
            }
            self.monitor.line(&format!(
                "resumed active {slot}/{} run={}",
                run.node,
                short(&run.run_id)
            ));
            started |= self.resume_run(slot, run, document)?;
        }
        Ok(started)
    }

    fn active_document(
        &mut self,
        family: Family,
        id: &str,
    ) -> Result<Option<WorkDocument>, RuntimeError> {
        match self.store.queue().find(family, id) {
            Some(located) if located.state == LifecycleState::Active => {
                Ok(Some(self.store.queue().read(&located)?))
            }
            _ => Ok(None),
        }
    }

    /// A pending run whose item is no longer active cannot resume.
    fn drop_orphan_run(&mut self, slot: Slot, run: &ActiveRun) -> Result<(), RuntimeError> {
        self.store.snapshot_mut().take_run(slot);
        let message = format!(
            "run {} of {slot} had no active work item; dropped",
            run.run_id
        );
        self.event(RuntimeEvent::RuntimeError {
            origin: "reconciliation".into(),
            message: message.clone(),
        });
        self.monitor.line(&message);
        self.save_snapshot()
    }

    fn claim_filter(&mut self, plane: Plane) -> ClaimFilter {
        if plane == Plane::Learning {
            return ClaimFilter::default();
        }
        ClaimFilter {
            root_spec_id: self.closure.focus().map(|t| t.root_spec_id.clone()),
        }
    }

    /// Claims the next item of `plane` (families in the order of the loop's
    /// `entry` lines, which is the claim order) and starts its entry node;
    /// true if an item was claimed. A claimed item that did not launch (a
    /// gate holds it, or it was answered at once: a denied approval, a lane
    /// worktree that cannot be made) still counts: the next item may run,
    /// and `--until-idle` must not stop while one is queued.
    fn claim_and_start(&mut self, slot: Slot) -> Result<bool, RuntimeError> {
        let plane = slot.plane;
        let Some(plane_plan) = self.plan.plane(plane) else {
            return Ok(false);
        };
        let entries = plane_plan.entries.clone();
        let filter = self.claim_filter(plane);
        let running = self.running_footprints(plane);
        for entry in &entries {
            let family = entry.family;
            let queue = self.store.queue_mut();
            let Some(claimed) = queue.claim_family_beside(family, &filter, &running)? else {
                continue;
            };
            self.event(RuntimeEvent::WorkItemClaimed {
                family,
                id: claimed.document.id().to_string(),
                plane,
            });
            let opened = closure::open_for(self.store.paths(), &claimed.document, &claimed.path)
                .map_err(io_error("open closure target"))?;
            if let Some(target) = opened {
                self.announce_opened(&target)?;
            }
            let node = entry_node(&entry.nodes, &claimed.document);
            let run = ActiveRun {
                run_id: new_id("run"),
                node,
                stage: String::new(),
                work_item: Some(SnapshotItem {
                    family,
                    id: claimed.document.id().to_string(),
                }),
                plan_id: Some(self.plan.plan_id.clone()),
                started_at: Timestamp::now(),
                request_id: None,
                gate_request: None,
            };
            self.start_stage(slot, run, Some(claimed.document))?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The `Target-Paths` of the tasks `plane`'s other lanes run: a claim
    /// passes over a task that overlaps one (docs/lanes.md). An active task
    /// whose document cannot be read counts as touching everything.
    fn running_footprints(&self, plane: Plane) -> Vec<TargetPaths> {
        let runs = self.store.snapshot().runs();
        let tasks = runs.filter_map(|(slot, run)| {
            let item = run.work_item.as_ref()?;
            (slot.plane == plane && item.family == Family::Task).then_some(item.id.clone())
        });
        let tasks: Vec<String> = tasks.collect();
        let queue = self.store.queue();
        tasks
            .iter()
            .map(|id| {
                queue
                    .active_target_paths(id)
                    .unwrap_or_else(|_| TargetPaths::everything())
            })
            .collect()
    }

    /// The `on drained` stage, when a closure target's lineage has no work left.
    fn start_closure(&mut self) -> Result<bool, RuntimeError> {
        let Some(plane) = Plane::ALL.iter().copied().find(|p| {
            self.plan
                .plane(*p)
                .is_some_and(|pp| pp.completion.is_some())
        }) else {
            return Ok(false);
        };
        let Some(slot) = self.may_start(plane) else {
            return Ok(false);
        };
        if self.closure.ready().is_none() {
            return Ok(false);
        }
        let node = self
            .plan
            .plane(plane)
            .and_then(|p| p.completion.clone())
            .unwrap_or_default();
        let run = ActiveRun {
            run_id: new_id("run"),
            node,
            stage: String::new(),
            work_item: None,
            plan_id: Some(self.plan.plan_id.clone()),
            started_at: Timestamp::now(),
            request_id: None,
            gate_request: None,
        };
        self.start_stage(slot, run, None)
    }

    /// Builds and persists the request and prompt, marks the plane running,
    /// and hands the stage to its runner; false when an approval gate holds
    /// it (see `gates.rs`).
    pub fn start_stage(
        &mut self,
        slot: Slot,
        mut run: ActiveRun,
        document: Option<WorkDocument>,
    ) -> Result<bool, RuntimeError> {
        let gate = self.gate(slot, &mut run)?;
        if let Gate::Waiting = gate {
            self.hold(slot, run)?;
            return Ok(false);
        }
        let focus = self.closure.focus().cloned();
        let workdir = self.lane_workdir(slot, &run);
        let dir = workdir.as_ref().ok().cloned().flatten();
        let request = self.build_request(slot.plane, &run, document.as_ref(), focus, dir)?;
        run.stage = request.stage_kind.clone();
        run.request_id = Some(request.request_id.clone());
        run.gate_request = None;
        std::fs::create_dir_all(&request.run_dir).map_err(io_error("create run directory"))?;
        let prompt = compose_prompt(&request);
        // Plain writes of new files: nothing reads them before the snapshot
        // saved next names this request, and a power loss that takes them
        // takes that snapshot too (the stage then runs again).
        std::fs::write(&request.prompt_path, prompt.as_bytes())
            .map_err(io_error("write prompt"))?;
        let json = serde_json::to_vec_pretty(&request).unwrap_or_default();
        std::fs::write(request.artifact("request", "json"), &json)
            .map_err(io_error("write request"))?;
        self.store.snapshot_mut().set_run(slot, run.clone());
        if let Gate::Denied(approval) = gate {
            self.save_snapshot()?;
            // Applied at once: nothing is left in flight to wait for (a
            // next stage it routes to is in flight, and waited for).
            self.refuse(slot, request, document, &approval)?;
            return Ok(false);
        }
        if let Err(error) = workdir {
            self.save_snapshot()?;
            let message = format!("the lane's worktree could not be prepared: {error}");
            let failure = (failure_class(&error), message);
            self.answer_unlaunched(slot, request, document, failure)?;
            return Ok(false);
        }
        self.set_status(slot, StatusMarker::running(&request.stage_kind))?;
        self.save_snapshot()?;
        self.announce_start(slot, &request, &run);
        self.launch(slot, request, document);
        Ok(true)
    }

    /// Hands the stage to its runner, or runs it here when the plan says
    /// the runtime answers it (a builtin node).
    fn launch(&mut self, slot: Slot, request: StageRequest, document: Option<WorkDocument>) {
        let builtin = self
            .plan
            .node(slot.plane, &request.node)
            .and_then(|node| node.builtin);
        match builtin {
            Some(Builtin::MergeGate) => {
                let ask = MergeAsk {
                    task_id: request
                        .work_item
                        .as_ref()
                        .map(|w| w.id.clone())
                        .unwrap_or_default(),
                    title: document
                        .as_ref()
                        .map(|d| d.title().to_string())
                        .unwrap_or_default(),
                    report: request.artifact("merge_report", "md"),
                };
                let answer = self.lanes.merge(ask);
                self.flights.launch_job(slot, request, document, answer);
            }
            None => self.flights.launch(slot, request, document),
        }
    }

    /// Where a run's stages work: its lane's worktree for an execution
    /// task when lanes are in effect, else the workspace root (`None`).
    fn lane_workdir(&self, slot: Slot, run: &ActiveRun) -> Result<Option<PathBuf>, WorktreeError> {
        match &run.work_item {
            Some(item) if slot.plane == Plane::Execution && item.family == Family::Task => {
                self.lanes.workdir(&item.id)
            }
            _ => Ok(None),
        }
    }

    fn announce_start(&mut self, slot: Slot, request: &StageRequest, run: &ActiveRun) {
        let work = run.work_item.as_ref().map_or_else(
            || "closure_target".to_string(),
            |w| format!("{}:{}", w.family.as_str(), w.id),
        );
        self.monitor.line(&format!(
            "stage start {slot}/{} run={} work={work}",
            request.node,
            short(&run.run_id)
        ));
        self.event(RuntimeEvent::StageStarted {
            plane: slot.plane,
            run_id: run.run_id.clone(),
            node: request.node.clone(),
            stage: request.stage_kind.clone(),
            work_item: run.work_item.clone(),
        });
    }

    fn build_request(
        &self,
        plane: Plane,
        run: &ActiveRun,
        document: Option<&WorkDocument>,
        focus: Option<ClosureTarget>,
        workdir: Option<PathBuf>,
    ) -> Result<StageRequest, RuntimeError> {
        let node = self
            .plan
            .node(plane, &run.node)
            .ok_or_else(|| RuntimeError::Plan(format!("node `{}` is not in the plan", run.node)))?;
        let agents = self.store.paths().agents_dir();
        let run_dir = self.store.run_dir(&run.run_id);
        let request_id = run
            .gate_request
            .clone()
            .unwrap_or_else(|| new_id("request"));
        let work_item = match (document, &run.work_item) {
            (Some(doc), Some(item)) => Some(WorkItemRef {
                family: item.family.as_str().to_string(),
                id: doc.id().to_string(),
                path: self
                    .store
                    .paths()
                    .item_path(item.family, LifecycleState::Active, doc.id()),
            }),
            _ => None,
        };
        let closure_target = if run.work_item.is_none() {
            focus.map(|t| self.closure_ref(&t, &run.run_id))
        } else {
            None
        };
        Ok(StageRequest {
            prompt_path: run_dir.join(format!("prompt.{request_id}.md")),
            request_id,
            run_id: run.run_id.clone(),
            mode_id: self.plan.mode_id.clone(),
            plan_id: self.plan.plan_id.clone(),
            plane: plane.to_string(),
            node: run.node.clone(),
            stage_kind: node.stage_kind.clone(),
            request_kind: if work_item.is_some() {
                RequestKind::WorkItem
            } else {
                RequestKind::ClosureTarget
            },
            work_item,
            closure_target,
            legal_outcomes: node.outcomes.iter().map(|o| o.name.clone()).collect(),
            running_marker: node.running_marker.clone(),
            workspace_root: workdir.unwrap_or_else(|| self.store.paths().root().to_path_buf()),
            agents_dir: agents.to_path_buf(),
            entrypoint: agents.join(&node.entrypoint),
            skills: node.skills.iter().map(|s| agents.join(s)).collect(),
            runner: node.runner.clone(),
            model: node.model.clone(),
            thinking: node.thinking.clone(),
            timeout_s: node.timeout_s,
            budgets: self.budgets_used(plane, run),
            previous_stages: previous_stages(&run_dir),
            run_dir,
            grants: node.grants.iter().map(stage_grant).collect(),
        })
    }

    fn budgets_used(&self, plane: Plane, run: &ActiveRun) -> BTreeMap<String, BudgetUse> {
        let item = run
            .work_item
            .as_ref()
            .map(|w| item_key(w.family, &w.id))
            .unwrap_or_else(|| run.run_id.clone());
        let Some(pp) = self.plan.plane(plane) else {
            return BTreeMap::new();
        };
        pp.budgets
            .iter()
            .map(|(name, b)| {
                (
                    name.clone(),
                    BudgetUse {
                        used: u64::from(self.store.counters().total(&item, name)),
                        limit: b.cap.unwrap_or(b.limit),
                    },
                )
            })
            .collect()
    }

    fn closure_ref(&self, target: &ClosureTarget, run_id: &str) -> ClosureRef {
        let paths = self.store.paths();
        let root = &target.root_spec_id;
        ClosureRef {
            root_spec_id: root.clone(),
            target_path: paths.closure_target(root),
            root_spec_contract_path: Some(target.root_spec_contract.clone()),
            root_idea_contract_path: target.root_idea_contract.clone(),
            rubric_path: paths.closure_rubric(root),
            verdict_path: paths.closure_verdict(root),
            report_path: paths.closure_report(run_id),
        }
    }
}

/// The entry node: a learning request's `Target-Stage` when it names one of
/// the entry's nodes, else the first.
fn entry_node(nodes: &[String], document: &WorkDocument) -> String {
    if let WorkDocument::LearningRequest(request) = document {
        let target = request
            .target_stage
            .and_then(|t| serde_json::to_value(t).ok());
        if let Some(name) = target.as_ref().and_then(|v| v.as_str()) {
            if nodes.iter().any(|n| n == name) {
                return name.to_string();
            }
        }
    }
    nodes.first().cloned().unwrap_or_default()
}

/// A frozen grant as the runner gets it: a gate reached here was approved.
fn stage_grant(grant: &GrantPlan) -> StageGrant {
    let decision = match grant.decision {
        Decision::ApprovalRequired => Decision::Granted,
        other => other,
    };
    StageGrant {
        grant_id: grant.grant_id.clone(),
        capability: grant.capability,
        decision,
        enforcement: grant.enforcement,
    }
}

/// Stages of this run so far, from its trace.
fn previous_stages(run_dir: &std::path::Path) -> Vec<PreviousStage> {
    let Some(trace) = RunTrace::load(run_dir) else {
        return Vec::new();
    };
    trace
        .nodes
        .into_iter()
        .map(|n| PreviousStage {
            node: n.node,
            outcome: n.outcome,
            result_path: n.result_path,
        })
        .collect()
}
