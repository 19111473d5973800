//! Recovery without an operator. After a crash (even `kill -9`) the next
//! daemon kills the runner processes the dead one left behind (the stage
//! cgroups it recorded, then every process carrying the workspace's
//! `MILLRACE_AGENTS_DIR`), repairs state
//! no plan can produce, and resumes each interrupted run: a stage whose
//! routing was recorded continues from the recorded edge, a stage whose
//! runner finished has its result adopted, and any other stage runs again.

use std::collections::BTreeMap;
use std::path::Path;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::apply::Applied;
use super::engine::Engine;
use super::error::RuntimeError;
use super::evidence::{RunTrace, TraceEdge};
use super::flights::{Completion, InFlight};
use super::monitor::short;
use crate::platform::processes;
use crate::runners::{RunnerResult, StageOutcome, StageRequest};
use crate::vocab::{Plane, ResultClass};
use crate::workspace::atomic::sweep_stale_temps;
use crate::workspace::documents::WorkDocument;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::queue::MoveReason;
use crate::workspace::state::{ActiveRun, Slot, StatusMarker};
use crate::workspace::{Family, LifecycleState, MailboxDir};

/// How old a temp file must be to count as left behind (a live atomic write
/// takes milliseconds; another process may be in the middle of one).
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The environment variable every runner process of a workspace carries.
pub const AGENTS_ENV: &str = "MILLRACE_AGENTS_DIR";

/// Kills the process groups of runner processes a dead daemon of this
/// workspace left behind; returns how many groups it signalled.
pub fn kill_orphans(agents_dir: &Path) -> usize {
    let wanted = agents_dir.display().to_string().into_bytes();
    let own_group = nix::unistd::getpgrp();
    let mut groups = std::collections::BTreeSet::new();
    for (pid, value) in processes::environ_values(AGENTS_ENV) {
        if value != wanted {
            continue;
        }
        if let Ok(group) = nix::unistd::getpgid(Some(Pid::from_raw(pid))) {
            if group != own_group {
                groups.insert(group.as_raw());
            }
        }
    }
    groups
        .iter()
        .filter(|g| killpg(Pid::from_raw(**g), Signal::SIGKILL).is_ok())
        .count()
}

impl Engine {
    /// Startup repairs: orphaned runners, impossible markers, active items
    /// that no run owns, runs whose node the plan no longer has.
    pub fn reconcile_at_start(&mut self) -> Result<(), RuntimeError> {
        // The stage containers (cgroups) first: they hold every process of
        // their stages, untagged ones included, which the environment scan
        // cannot see.
        let cgroups = crate::runners::sweep_stage_containers(self.store.paths().agents_dir());
        if cgroups > 0 {
            self.repaired(format!(
                "killed and removed {cgroups} stage cgroup(s) left by a dead daemon"
            ));
        }
        let killed = kill_orphans(self.store.paths().agents_dir());
        if killed > 0 {
            self.repaired(format!(
                "killed {killed} runner process group(s) left by a dead daemon"
            ));
        }
        self.drop_unknown_runs()?;
        // Quarantined while the queue was opened: a copy of an item that
        // another lifecycle state holds, entries that cannot be documents.
        self.report_quarantines();
        self.requeue_unowned_items()?;
        self.sweep_lanes();
        self.bring_lanes_home();
        self.reset_impossible_markers()?;
        self.sweep_stale_temps();
        Ok(())
    }

    /// Removes the temp files of atomic writes a killed process left in the
    /// folders the daemon writes (its state, the queues, the mailbox, closure
    /// targets, the runs in flight).
    fn sweep_stale_temps(&mut self) {
        let mut dirs = vec![
            self.store.paths().state_dir(),
            self.store.paths().closure_targets_dir(),
        ];
        dirs.extend(
            [
                MailboxDir::Incoming,
                MailboxDir::Processed,
                MailboxDir::Failed,
            ]
            .map(|which| self.store.paths().mailbox_dir(which)),
        );
        for family in Family::ALL {
            dirs.extend(
                family
                    .states()
                    .iter()
                    .map(|s| self.store.paths().lifecycle_dir(family, *s)),
            );
        }
        for (_, run) in self.store.snapshot().runs() {
            let run_dir = self.store.run_dir(&run.run_id);
            dirs.push(run_dir.join("stage_results"));
            dirs.push(run_dir);
        }
        let removed: usize = dirs
            .iter()
            .filter_map(|dir| sweep_stale_temps(dir, STALE_TEMP_AGE).ok())
            .sum();
        if removed > 0 {
            self.repaired(format!(
                "removed {removed} temp file(s) left by writes a killed process never finished"
            ));
        }
    }

    fn repaired(&mut self, message: String) {
        self.monitor.line(&format!("reconciled: {message}"));
        self.event(RuntimeEvent::RuntimeError {
            origin: "reconciliation".into(),
            message,
        });
    }

    fn drop_unknown_runs(&mut self) -> Result<(), RuntimeError> {
        let stale: Vec<(Slot, ActiveRun)> = self
            .store
            .snapshot()
            .runs()
            .filter(|(slot, r)| self.plan.node(slot.plane, &r.node).is_none())
            .map(|(slot, r)| (slot, r.clone()))
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        for (slot, run) in stale {
            self.store.snapshot_mut().take_run(slot);
            self.repaired(format!(
                "run {} was at node `{}`, which the plan does not have; its item is requeued",
                run.run_id, run.node
            ));
        }
        self.save_snapshot()
    }

    /// An item in an `active/` directory with no run recorded for its plane
    /// goes back to its queue.
    fn requeue_unowned_items(&mut self) -> Result<(), RuntimeError> {
        let owned: Vec<(Family, String)> = self
            .store
            .snapshot()
            .runs()
            .filter_map(|(_, r)| r.work_item.as_ref())
            .map(|w| (w.family, w.id.clone()))
            .collect();
        for family in Family::ALL {
            for id in self.store.queue().ids(family, LifecycleState::Active) {
                if owned.contains(&(family, id.clone())) {
                    continue;
                }
                self.store.queue_mut().requeue(
                    family,
                    &id,
                    &MoveReason::new("runtime", "active item without a run").automatic(),
                )?;
                self.repaired(format!(
                    "{} {id} was active without a run; requeued",
                    family.as_str()
                ));
            }
        }
        Ok(())
    }

    fn reset_impossible_markers(&mut self) -> Result<(), RuntimeError> {
        for plane in Plane::ALL {
            let Some(plane_plan) = self.plan.plane(plane) else {
                continue;
            };
            let marker = match self.store.read_status(plane) {
                Ok(Some(marker)) => marker,
                Ok(None) => continue,
                // Status files are not fsynced: a power loss may leave one unreadable.
                Err(e) => {
                    self.set_status(Slot::of(plane), StatusMarker::idle())?;
                    self.repaired(format!(
                        "{plane} status marker unreadable ({e}); reset to IDLE"
                    ));
                    continue;
                }
            };
            let possible = marker == StatusMarker::idle()
                || plane_plan
                    .nodes
                    .values()
                    .any(|n| n.running_marker == marker.as_str())
                || plane_plan
                    .finals
                    .values()
                    .any(|f| f.status == marker.as_str())
                || plane_plan
                    .nodes
                    .values()
                    .any(|n| n.outcome(marker.as_str()).is_some());
            if !possible {
                self.set_status(Slot::of(plane), StatusMarker::idle())?;
                self.repaired(format!(
                    "{plane} status marker `{marker}` cannot come from the plan; reset to IDLE"
                ));
            }
        }
        Ok(())
    }

    /// Resumes one interrupted run; true if a stage started or was applied.
    pub fn resume_run(
        &mut self,
        slot: Slot,
        run: ActiveRun,
        document: Option<WorkDocument>,
    ) -> Result<bool, RuntimeError> {
        let Some(request_id) = run.request_id.clone() else {
            return self.rerun(slot, run, document);
        };
        let run_dir = self.store.run_dir(&run.run_id);
        let trace = RunTrace::load(&run_dir).unwrap_or_default();
        if let Some(index) = trace.nodes.iter().position(|n| n.request_id == request_id) {
            return self.replay(slot, run, document, &trace, index);
        }
        match load_finished(&run_dir, &request_id) {
            Some((request, result)) => {
                self.monitor.line(&format!(
                    "adopted finished stage {slot}/{} run={}",
                    request.node,
                    short(&run.run_id)
                ));
                self.flights.adopt(slot, InFlight::now(request, document));
                self.apply(Completion { slot, result })?;
                Ok(true)
            }
            None => self.rerun(slot, run, document),
        }
    }

    fn rerun(
        &mut self,
        slot: Slot,
        run: ActiveRun,
        document: Option<WorkDocument>,
    ) -> Result<bool, RuntimeError> {
        self.monitor.line(&format!(
            "resumed active {slot}/{} run={}",
            run.node,
            short(&run.run_id)
        ));
        self.start_stage(slot, run, document)
    }

    /// The stage was routed before the crash: take the recorded edge again.
    fn replay(
        &mut self,
        slot: Slot,
        mut run: ActiveRun,
        document: Option<WorkDocument>,
        trace: &RunTrace,
        index: usize,
    ) -> Result<bool, RuntimeError> {
        let Some(edge) = trace.edges.get(index).cloned() else {
            return self.rerun(slot, run, document);
        };
        self.monitor.line(&format!(
            "replayed routing {slot}/{} -> {} run={}",
            edge.from,
            edge.to,
            short(&run.run_id)
        ));
        match edge.to.strip_prefix("final:") {
            None => {
                run.node = edge.to.clone();
                run.request_id = None;
                self.rerun(slot, run, document)
            }
            Some(name) => {
                let applied = self.rebuild_applied(slot, &run, document, trace, index, &edge)?;
                self.finish_run(applied, name, &edge.reason)?;
                Ok(true)
            }
        }
    }

    fn rebuild_applied(
        &self,
        slot: Slot,
        run: &ActiveRun,
        document: Option<WorkDocument>,
        trace: &RunTrace,
        index: usize,
        edge: &TraceEdge,
    ) -> Result<Applied, RuntimeError> {
        let node = &trace.nodes[index];
        let request =
            read_request(&self.store.run_dir(&run.run_id), &node.request_id).ok_or_else(|| {
                RuntimeError::Plan(format!(
                    "run {} lost the request of its last stage",
                    run.run_id
                ))
            })?;
        let failure_class = node
            .failure_class
            .as_ref()
            .and_then(|c| serde_json::from_value(serde_json::json!(c)).ok());
        let outcome = StageOutcome {
            outcome: edge.outcome.clone(),
            failure_class,
            failure_message: None,
            detected_markers: Vec::new(),
            metadata: BTreeMap::new(),
            metadata_error: None,
        };
        let result_class = ResultClass::parse(&node.result_class).unwrap_or(ResultClass::Blocked);
        let inflight = InFlight::now(request, document);
        Ok(Applied {
            slot,
            inflight,
            outcome,
            result_path: node.result_path.display().to_string(),
            result_class,
        })
    }
}

fn read_request(run_dir: &Path, request_id: &str) -> Option<StageRequest> {
    serde_json::from_slice(&std::fs::read(run_dir.join(format!("request.{request_id}.json"))).ok()?)
        .ok()
}

/// The request and the runner's result, when the runner finished.
fn load_finished(run_dir: &Path, request_id: &str) -> Option<(StageRequest, RunnerResult)> {
    let result = std::fs::read(run_dir.join(format!("runner_result.{request_id}.json"))).ok()?;
    Some((
        read_request(run_dir, request_id)?,
        serde_json::from_slice(&result).ok()?,
    ))
}
