//! The runtime snapshot (`state/runtime_snapshot.json`): what the daemon is doing right now.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SCHEMA_VERSION;
use crate::workspace::family::{Family, Plane};
use crate::workspace::timestamp::Timestamp;

/// A reference to a work item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItemRef {
    /// Its family.
    pub family: Family,
    /// Its id.
    pub id: String,
}

/// A mailbox command the daemon could not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedCommand {
    /// The command (`reload_config`, `cancel_work_item`, ...).
    pub command: String,
    /// Its id (`state/mailbox/failed/` holds it under that id).
    pub command_id: String,
    /// Why it failed.
    pub error: String,
    /// When.
    pub failed_at: Timestamp,
}

/// The run a plane is executing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveRun {
    /// The run id (`runs/<run_id>/`).
    pub run_id: String,
    /// The graph node being run.
    pub node: String,
    /// The stage kind of that node.
    pub stage: String,
    /// The work item, when the run has one (a closure run has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item: Option<WorkItemRef>,
    /// The plan the run was launched with (it is routed with that plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// When the run started.
    pub started_at: Timestamp,
    /// The request of the stage started last (its runner may have finished
    /// before a crash: its result is then adopted instead of rerun).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The request id a stage waiting at an approval gate will run as (a
    /// `stage`-scoped approval names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_request: Option<String>,
}

/// Where a run executes: a plane, and one of its lanes (numbered from 1).
/// Every plane has lane 1; only the execution plane may have more
/// (docs/lanes.md). Lane numbers are places, not identities: the task id
/// names a lane's branch and worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub plane: Plane,
    pub lane: u16,
}

impl Slot {
    /// The first (for most planes, the only) lane of `plane`.
    pub fn of(plane: Plane) -> Slot {
        Slot { plane, lane: 1 }
    }

    /// Lane `lane` of `plane`.
    pub fn lane(plane: Plane, lane: u16) -> Slot {
        Slot { plane, lane }
    }
}

impl std::fmt::Display for Slot {
    /// `execution` for a first lane (as before lanes existed), else
    /// `execution.2`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.lane {
            1 => write!(f, "{}", self.plane),
            lane => write!(f, "{}.{lane}", self.plane),
        }
    }
}

impl Serialize for Slot {
    /// As its display name: a slot is a map key in `status --format json`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A compiled plan by id and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRef {
    pub plan_id: String,
    pub fingerprint: String,
}

/// The runtime snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeSnapshot {
    /// `1.0`.
    pub schema_version: String,
    /// `runtime_snapshot`.
    pub kind: String,
    /// True while a daemon runs.
    pub process_running: bool,
    /// The active mode.
    pub mode_id: Option<String>,
    /// The compiled plan in force.
    pub plan_id: Option<String>,
    /// Its fingerprint.
    pub plan_fingerprint: Option<String>,
    /// A plan `reload-config` compiled that waits for the running work to
    /// end (it is already saved as `state/compiled_plan.json`).
    pub pending_plan: Option<PlanRef>,
    /// True when any pause source is set.
    pub paused: bool,
    /// Why the runtime is paused (`operator`, `usage_governance`), sorted, unique.
    pub pause_sources: Vec<String>,
    /// A stop was asked; the daemon exits after in-flight work.
    pub stop_requested: bool,
    /// The run each busy plane executes in its first lane (see [`Slot`]).
    active_runs: BTreeMap<Plane, ActiveRun>,
    /// The runs of a plane's lanes after the first, by lane number; absent
    /// when none, so a one-lane snapshot is written as before lanes existed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    lane_runs: BTreeMap<Plane, BTreeMap<u16, ActiveRun>>,
    /// The last status marker per plane (`IDLE`, `BUILDER_RUNNING`, ...).
    pub status_markers: BTreeMap<Plane, String>,
    /// Queued items per plane.
    pub queue_depths: BTreeMap<Plane, usize>,
    /// The last runtime error, for `status`.
    pub last_error: Option<String>,
    /// Where the last runtime error arose (`dispatch`, `reload_config`, ...).
    pub last_error_origin: Option<String>,
    /// The last mailbox command the daemon failed to apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failed_command: Option<FailedCommand>,
    /// When the daemon started.
    pub started_at: Option<Timestamp>,
    /// When this snapshot was written.
    pub updated_at: Timestamp,
}

impl Default for RuntimeSnapshot {
    fn default() -> RuntimeSnapshot {
        RuntimeSnapshot {
            schema_version: SCHEMA_VERSION.to_string(),
            kind: "runtime_snapshot".to_string(),
            process_running: false,
            mode_id: None,
            plan_id: None,
            plan_fingerprint: None,
            pending_plan: None,
            paused: false,
            pause_sources: Vec::new(),
            stop_requested: false,
            active_runs: BTreeMap::new(),
            lane_runs: BTreeMap::new(),
            status_markers: BTreeMap::new(),
            queue_depths: BTreeMap::new(),
            last_error: None,
            last_error_origin: None,
            last_failed_command: None,
            started_at: None,
            updated_at: Timestamp::now(),
        }
    }
}

impl RuntimeSnapshot {
    /// The plan in force from now on; no plan waits any more.
    pub fn set_plan(&mut self, plan_id: &str, fingerprint: &str) {
        self.plan_id = Some(plan_id.to_string());
        self.plan_fingerprint = Some(fingerprint.to_string());
        self.pending_plan = None;
    }

    /// Records a runtime error the daemon survived, for `status`.
    pub fn record_error(&mut self, origin: &str, message: &str) {
        self.last_error = Some(message.to_string());
        self.last_error_origin = Some(origin.to_string());
    }

    /// The run in `slot`, if any.
    pub fn run(&self, slot: Slot) -> Option<&ActiveRun> {
        match slot.lane {
            1 => self.active_runs.get(&slot.plane),
            lane => self.lane_runs.get(&slot.plane)?.get(&lane),
        }
    }

    /// The run in `slot`, to change.
    pub fn run_mut(&mut self, slot: Slot) -> Option<&mut ActiveRun> {
        match slot.lane {
            1 => self.active_runs.get_mut(&slot.plane),
            lane => self.lane_runs.get_mut(&slot.plane)?.get_mut(&lane),
        }
    }

    /// Puts `run` in `slot` (replacing what was there).
    pub fn set_run(&mut self, slot: Slot, run: ActiveRun) {
        match slot.lane {
            1 => drop(self.active_runs.insert(slot.plane, run)),
            lane => drop(
                self.lane_runs
                    .entry(slot.plane)
                    .or_default()
                    .insert(lane, run),
            ),
        }
    }

    /// Takes the run out of `slot`.
    pub fn take_run(&mut self, slot: Slot) -> Option<ActiveRun> {
        if slot.lane == 1 {
            return self.active_runs.remove(&slot.plane);
        }
        let lanes = self.lane_runs.get_mut(&slot.plane)?;
        let run = lanes.remove(&slot.lane);
        if lanes.is_empty() {
            self.lane_runs.remove(&slot.plane);
        }
        run
    }

    /// Every run, by slot (planes in order, lanes in order within each).
    pub fn runs(&self) -> impl Iterator<Item = (Slot, &ActiveRun)> {
        let mut runs: Vec<(Slot, &ActiveRun)> = self
            .active_runs
            .iter()
            .map(|(plane, run)| (Slot::of(*plane), run))
            .chain(self.lane_runs.iter().flat_map(|(plane, lanes)| {
                lanes
                    .iter()
                    .map(|(lane, run)| (Slot::lane(*plane, *lane), run))
            }))
            .collect();
        runs.sort_by_key(|(slot, _)| *slot);
        runs.into_iter()
    }

    /// Takes the runs of every lane of `plane`, first lane first.
    pub fn take_runs_of(&mut self, plane: Plane) -> Vec<ActiveRun> {
        let first = self.active_runs.remove(&plane);
        let others = self.lane_runs.remove(&plane).unwrap_or_default();
        first.into_iter().chain(others.into_values()).collect()
    }

    /// True when some slot holds a run.
    pub fn has_runs(&self) -> bool {
        !self.active_runs.is_empty() || !self.lane_runs.is_empty()
    }

    /// How many runs the slots hold.
    pub fn run_count(&self) -> usize {
        self.active_runs.len() + self.lane_runs.values().map(BTreeMap::len).sum::<usize>()
    }

    /// Empties every slot.
    pub fn clear_runs(&mut self) {
        self.active_runs.clear();
        self.lane_runs.clear();
    }

    /// Adds a pause source; `paused` follows.
    pub fn pause(&mut self, source: &str) {
        if !self.pause_sources.iter().any(|s| s == source) {
            self.pause_sources.push(source.to_string());
            self.pause_sources.sort();
        }
        self.paused = true;
    }

    /// Removes a pause source; `paused` stays true while others remain.
    pub fn resume(&mut self, source: &str) {
        self.pause_sources.retain(|s| s != source);
        self.paused = !self.pause_sources.is_empty();
    }
}
