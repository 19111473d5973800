//! Applying a finished stage: normalize the runner's answer, persist the
//! stage result, enqueue learn requests, run effects, route through the
//! plan, record the trace, and either start the next node or end the run.

use super::counts::ItemCounts;
use super::effects::{EffectContext, EffectResult, run_effect};
use super::engine::Engine;
use super::error::{RuntimeError, io_error};
use super::evidence::{ResultParts, RunTrace, TraceEdge, TraceNode, stage_result};
use super::flights::{Completion, InFlight};
use super::handoff::{HandoffSource, learning_request};
use super::monitor::short;
use super::route::{Decision, EFFECT_FAULT, Finished, route, route_port};
use crate::plan::{NodePlan, Target};
use crate::runners::{FailureClass, RunnerExit, StageOutcome, normalize};
use crate::vocab::{BLOCKED, Plane, ResultClass};
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::state::{Slot, item_key};

/// The facts of one applied stage, passed along to routing and the trace.
pub struct Applied {
    pub slot: Slot,
    pub inflight: InFlight,
    pub outcome: StageOutcome,
    pub result_path: String,
    pub result_class: ResultClass,
}

impl Engine {
    /// Applies a runner's completion. A cancelled stage (daemon stop) stays
    /// pending in the snapshot and is started again on the next run.
    pub fn apply(&mut self, completion: Completion) -> Result<(), RuntimeError> {
        let Some(inflight) = self.flights.land(completion.slot) else {
            return Ok(());
        };
        if completion.result.exit == RunnerExit::Cancelled {
            self.monitor.line(&format!(
                "stage cancelled {}/{} (it will run again)",
                completion.slot, inflight.request.node
            ));
            return Ok(());
        }
        if matches!(completion.result.exit, RunnerExit::Failed { .. }) {
            // Its run stays pending: a full disk pauses the daemon and the
            // stage runs again once there is room.
            super::disk_full::check_room(&self.store.paths().state_dir())?;
        }
        let outcome = normalize(&inflight.request, &completion.result);
        let node = self.node_plan(completion.slot.plane, &inflight.request.node)?;
        let result_class = result_class(&node, &outcome);
        let result_path = self.write_result(&inflight, &outcome, result_class, &completion)?;
        let applied = Applied {
            slot: completion.slot,
            inflight,
            outcome,
            result_path,
            result_class,
        };
        self.announce_done(&applied, &completion);
        let tokens = completion.result.tokens.map_or(0, |t| t.total);
        let request = &applied.inflight.request;
        self.governance
            .record(
                self.store.paths(),
                &request.run_id,
                &request.request_id,
                tokens,
            )
            .map_err(io_error("append to the usage ledger"))?;
        let item = self.item_key(&applied);
        let node_name = applied.inflight.request.node.clone();
        if self.schedule_retry(
            applied.slot,
            &item,
            &node_name,
            applied.outcome.failure_class,
        )? {
            return Ok(());
        }
        self.learn(&applied)?;
        let decision = self.decide(&applied, &node)?;
        self.record_trace(&applied, &decision)?;
        self.follow(applied, decision)
    }

    pub fn node_plan(&self, plane: Plane, node: &str) -> Result<NodePlan, RuntimeError> {
        self.plan
            .node(plane, node)
            .cloned()
            .ok_or_else(|| RuntimeError::Plan(format!("node `{node}` is not in the plan")))
    }

    fn write_result(
        &self,
        inflight: &InFlight,
        outcome: &StageOutcome,
        class: ResultClass,
        c: &Completion,
    ) -> Result<String, RuntimeError> {
        let result = stage_result(ResultParts {
            request: &inflight.request,
            outcome,
            result_class: class.to_string(),
            exit: serde_json::to_value(&c.result.exit).unwrap_or_default(),
            duration_seconds: inflight.started.elapsed().as_secs_f64(),
            tokens: c.result.tokens,
            artifacts: c.result.artifacts.clone(),
            started_at: inflight.started_at.clone(),
        });
        let path = result
            .write(&inflight.request.run_dir)
            .map_err(io_error("write stage result"))?;
        Ok(path.display().to_string())
    }

    fn announce_done(&mut self, a: &Applied, c: &Completion) {
        let r = &a.inflight.request;
        let secs = a.inflight.started.elapsed().as_secs_f64();
        let tokens = c.result.tokens.map_or_else(
            || "none".to_string(),
            |t| {
                format!(
                    "in={} cached={} out={} total={}",
                    t.input, t.cached_input, t.output, t.total
                )
            },
        );
        let failure = a
            .outcome
            .failure_class
            .map(|f| format!(" failure={}", f.as_str()))
            .unwrap_or_default();
        self.monitor.line(&format!(
            "stage done {}/{} run={} result={} dur={secs:.1}s tokens={tokens}{failure}",
            a.slot,
            r.node,
            short(&r.run_id),
            a.outcome.outcome
        ));
        self.event(RuntimeEvent::StageCompleted {
            plane: a.slot.plane,
            run_id: r.run_id.clone(),
            node: r.node.clone(),
            outcome: a.outcome.outcome.clone(),
            result_class: a.result_class.to_string(),
            duration_seconds: secs,
        });
    }

    /// Learn rules of the mode: matching stages enqueue learning requests.
    fn learn(&mut self, a: &Applied) -> Result<(), RuntimeError> {
        if self.plan.plane(Plane::Learning).is_none() {
            return Ok(());
        }
        let rules: Vec<_> = self
            .plan
            .learn
            .iter()
            .filter(|r| {
                r.source_plane == a.slot.plane
                    && r.source == a.inflight.request.node
                    && r.outcomes.contains(&a.outcome.outcome)
            })
            .cloned()
            .collect();
        for rule in rules {
            let source = self.handoff_source(a, "learn");
            let seed = a.inflight.request.request_id.as_str();
            let Some(document) = learning_request(&rule, &a.outcome.outcome, &source, seed) else {
                continue;
            };
            if self
                .store
                .queue()
                .find(document.family(), document.id())
                .is_some()
            {
                continue;
            }
            self.store.queue_mut().enqueue(&document)?;
            self.monitor.line(&format!(
                "learn {}/{} {} -> learning/{} request={}",
                a.slot,
                rule.source,
                a.outcome.outcome,
                rule.target,
                document.id()
            ));
            self.event(RuntimeEvent::WorkItemEnqueued {
                family: document.family(),
                id: document.id().to_string(),
                source: format!("learn rule {}", rule.source),
            });
        }
        Ok(())
    }

    pub fn handoff_source<'a>(&self, a: &'a Applied, final_name: &'a str) -> HandoffSource<'a> {
        let closure = a.inflight.request.closure_target.as_ref();
        HandoffSource {
            plane: a.slot.plane,
            node: &a.inflight.request.node,
            run_id: &a.inflight.request.run_id,
            final_name,
            failure_class: a.outcome.failure_class.map(|c| c.as_str()),
            document: a.inflight.document.as_ref(),
            root_spec_id: closure.map(|c| c.root_spec_id.as_str()),
            root_idea_id: None,
            result_path: a.result_path.clone(),
            artifacts: vec![a.inflight.request.run_dir.display().to_string()],
        }
    }

    /// Effects first (they may take a port), then the plan's route.
    fn decide(&mut self, a: &Applied, node: &NodePlan) -> Result<Decision, RuntimeError> {
        if a.outcome.failure_class == Some(FailureClass::CapabilityApprovalDenied) {
            if let Some(decision) = self.denied_decision(a) {
                return Ok(decision);
            }
        }
        for effect in node
            .effects
            .iter()
            .filter(|e| e.on.contains(&a.outcome.outcome))
        {
            let bound = self.bound_skill_paths();
            let skills = self.settings.skills.clone();
            let (queue, paths) = self.store.for_effect();
            let mut ctx = EffectContext {
                queue,
                paths,
                run_dir: &a.inflight.request.run_dir,
                outcome: &a.outcome.outcome,
                document: a.inflight.document.as_ref(),
                run_id: &a.inflight.request.run_id,
                bound_skills: &bound,
                skills: &skills,
                changes: Vec::new(),
            };
            let result = run_effect(&effect.id, &mut ctx);
            let changes = std::mem::take(&mut ctx.changes);
            let item = a.inflight.document.as_ref().map(|d| d.id().to_string());
            for change in &changes {
                let run = Some(a.inflight.request.run_id.as_str());
                self.skill_changed(change, item.as_deref(), run);
            }
            match result {
                EffectResult::Proceed { note } => self
                    .monitor
                    .line(&format!("effect {} applied: {note}", effect.id)),
                EffectResult::Port { port, reason } => {
                    self.monitor
                        .line(&format!("effect {} {port}: {reason}", effect.id));
                    self.event(RuntimeEvent::RuntimeError {
                        origin: format!("effect {}", effect.id),
                        message: reason.clone(),
                    });
                    if let Some(decision) = route_port(effect, port, &reason) {
                        return Ok(decision);
                    }
                    return self.route_outcome(a, BLOCKED, Some(EFFECT_FAULT));
                }
            }
        }
        let class = a.outcome.failure_class.map(|c| c.as_str());
        self.route_outcome(a, &a.outcome.outcome.clone(), class)
    }

    /// An operator's denial ends the run at the plane's first `blocked`
    /// final; a loop without one routes it as `BLOCKED`.
    fn denied_decision(&self, a: &Applied) -> Option<Decision> {
        let finals = &self.plan.plane(a.slot.plane)?.finals;
        let (name, _) = finals
            .iter()
            .find(|(_, f)| f.class == ResultClass::Blocked)?;
        Some(Decision {
            to: Target::Final(name.clone()),
            spends: Vec::new(),
            reason: a.outcome.failure_message.clone().unwrap_or_default(),
        })
    }

    fn item_key(&self, a: &Applied) -> String {
        match &a.inflight.document {
            Some(doc) => item_key(doc.family(), doc.id()),
            None => a.inflight.request.run_id.clone(),
        }
    }

    /// Routes `outcome` and records the budgets it spends.
    fn route_outcome(
        &mut self,
        a: &Applied,
        outcome: &str,
        class: Option<&str>,
    ) -> Result<Decision, RuntimeError> {
        let item = self.item_key(a);
        let plane_plan = self.plan.plane(a.slot.plane).ok_or_else(|| {
            RuntimeError::Plan(format!("plane {} is not in the plan", a.slot.plane))
        })?;
        let finished = Finished {
            node: &a.inflight.request.node,
            outcome,
            failure_class: class,
            metadata: &a.outcome.metadata,
        };
        let counts = ItemCounts {
            counters: self.store.counters(),
            item: &item,
        };
        let decision =
            route(plane_plan, &counts, &finished).map_err(|e| RuntimeError::Plan(e.to_string()))?;
        for spend in &decision.spends {
            self.store
                .counters_mut()
                .increment(&item, &spend.budget, spend.class.as_deref());
        }
        if !decision.spends.is_empty() {
            self.store.save_counters()?;
        }
        Ok(decision)
    }

    fn record_trace(&mut self, a: &Applied, decision: &Decision) -> Result<(), RuntimeError> {
        let r = &a.inflight.request;
        let mut trace = RunTrace::load(&r.run_dir).unwrap_or_else(|| RunTrace {
            schema_version: "1.0".into(),
            run_id: r.run_id.clone(),
            plane: r.plane.clone(),
            plan_id: r.plan_id.clone(),
            work_item_family: r.work_item.as_ref().map(|w| w.family.clone()),
            work_item_id: r.work_item.as_ref().map(|w| w.id.clone()),
            status: "running".into(),
            nodes: Vec::new(),
            edges: Vec::new(),
        });
        trace.nodes.push(TraceNode {
            request_id: r.request_id.clone(),
            node: r.node.clone(),
            stage_kind: r.stage_kind.clone(),
            outcome: a.outcome.outcome.clone(),
            result_class: a.result_class.to_string(),
            failure_class: a.outcome.failure_class.map(|c| c.as_str().to_string()),
            result_path: a.result_path.clone().into(),
        });
        trace.edges.push(TraceEdge {
            from: r.node.clone(),
            outcome: a.outcome.outcome.clone(),
            to: decision.to.to_string(),
            reason: decision.reason.clone(),
            spawned: Vec::new(),
        });
        if let Target::Final(name) = &decision.to {
            trace.status = name.clone();
        }
        trace.write(&r.run_dir).map_err(io_error("write run trace"))
    }

    /// The next node of the same run, or the end of the run.
    fn follow(&mut self, a: Applied, decision: Decision) -> Result<(), RuntimeError> {
        self.event(RuntimeEvent::RouterDecision {
            plane: a.slot.plane,
            run_id: a.inflight.request.run_id.clone(),
            node: a.inflight.request.node.clone(),
            outcome: a.outcome.outcome.clone(),
            action: match &decision.to {
                Target::Node(_) => "run_stage".into(),
                Target::Final(_) => "final".into(),
            },
            to: Some(decision.to.to_string()),
            reason: decision.reason.clone(),
        });
        match decision.to.clone() {
            Target::Node(next) => self.continue_run(a, &next, &decision.reason),
            Target::Final(name) => self.finish_run(a, &name, &decision.reason),
        }
    }

    fn continue_run(&mut self, a: Applied, next: &str, reason: &str) -> Result<(), RuntimeError> {
        self.monitor
            .line(&format!("route {} -> {next} reason={reason}", a.slot));
        let Some(mut run) = self.store.snapshot().run(a.slot).cloned() else {
            return Err(RuntimeError::Plan(format!(
                "no active run recorded for {}",
                a.slot
            )));
        };
        run.node = next.to_string();
        self.store.snapshot_mut().set_run(a.slot, run.clone());
        self.govern()?;
        if self.waits.holds(a.slot.plane) {
            self.monitor.line(&format!(
                "route {} held at the boundary for a mailbox command",
                a.slot
            ));
        }
        if self.draining || self.store.snapshot().paused || self.waits.holds(a.slot.plane) {
            return self.save_snapshot();
        }
        // `start_stage` saves the snapshot with the next node and its request.
        self.start_stage(a.slot, run, a.inflight.document)
            .map(|_| ())
    }
}

/// The class of a normalized outcome: a runner failure is recoverable, a
/// declared `BLOCKED` is blocked, any other outcome takes its first class.
fn result_class(node: &NodePlan, outcome: &StageOutcome) -> ResultClass {
    if outcome.outcome == BLOCKED {
        let transient = outcome.failure_class.is_some_and(|c| c.is_transient());
        return if transient {
            ResultClass::RecoverableFailure
        } else {
            ResultClass::Blocked
        };
    }
    node.outcome(&outcome.outcome)
        .and_then(|o| o.classes.first().copied())
        .unwrap_or(ResultClass::Blocked)
}
