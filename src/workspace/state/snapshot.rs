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
    /// The run each busy plane is executing.
    pub active_runs: BTreeMap<Plane, ActiveRun>,
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
