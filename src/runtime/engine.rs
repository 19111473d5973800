//! The engine: the daemon's single owner of state. Every mutation of the
//! queue, the snapshot, counters and the journal happens here, one at a time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::monitor::Monitor;
use crate::check::Plane;
use crate::plan::Plan;
use crate::runners::{RunnerResult, Runners, StageRequest};
use crate::workspace::documents::WorkDocument;
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::queue::QueueStore;
use crate::workspace::state::{BudgetCounters, RuntimeSnapshot, StateStore, StatusMarker};
use crate::workspace::{Timestamp, WorkspacePaths};

/// A failure that stops the daemon (state could not be persisted).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Queue(#[from] crate::workspace::queue::QueueError),
    #[error("{0}")]
    State(#[from] crate::workspace::state::StateError),
    #[error("{0}")]
    Lock(#[from] crate::workspace::lock::LockError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Plan(String),
}

pub fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RuntimeError {
    let what = what.into();
    move |source| RuntimeError::Io { what, source }
}

/// A stage whose runner is running.
pub struct InFlight {
    pub request: StageRequest,
    pub document: Option<WorkDocument>,
    pub started_at: Timestamp,
    pub started: Instant,
}

/// A runner's answer, sent back to the engine.
pub struct Completion {
    pub plane: Plane,
    pub result: RunnerResult,
}

pub struct Engine {
    pub paths: WorkspacePaths,
    pub plan: Plan,
    pub queue: QueueStore,
    pub state: StateStore,
    pub snapshot: RuntimeSnapshot,
    pub counters: BudgetCounters,
    pub journal: Journal,
    pub monitor: Monitor,
    pub runners: Arc<Runners>,
    pub inflight: BTreeMap<Plane, InFlight>,
    pub done_tx: mpsc::UnboundedSender<Completion>,
    pub cancel_rx: watch::Receiver<bool>,
    /// No new work is started (stop requested, signal, `--max-ticks` reached).
    pub draining: bool,
    /// The closure target claims focus on, read once from `arbiter/targets/`
    /// and forgotten whenever the daemon writes a target (`None`: read again).
    pub closure_focus: Option<Option<super::closure::ClosureTarget>>,
    /// The mailbox holds commands waiting for a safe boundary.
    pub mailbox_deferred: bool,
    /// Planes whose runs stop at their next stage boundary because a
    /// mailbox command (retry-active, clear-stale-state) waits for it: the
    /// command is applied before the next stage is dispatched.
    pub boundary_holds: std::collections::BTreeSet<Plane>,
    /// Planes waiting for a transient-failure retry, and when it is due.
    pub retry_at: BTreeMap<Plane, Instant>,
    pub auto_recovery: crate::workspace::config::AutoRecoveryConfig,
    /// Recompiles the workspace (`reload-config`); the runtime itself never
    /// reads `.loop` files.
    pub recompile: Option<Recompile>,
    /// A reloaded plan waiting for the running work to end.
    pub pending_plan: Option<Plan>,
    pub governance: super::governance::Governance,
    /// The config file the daemon was started with (re-read on reload).
    pub config_path: PathBuf,
}

/// The compiler, as the daemon may call it.
pub type Recompile = Box<dyn Fn() -> Result<Plan, String>>;

impl Engine {
    /// Appends an event; a journal that cannot be written is reported once
    /// on the monitor and does not stop the daemon.
    pub fn event(&mut self, event: RuntimeEvent) {
        if let Err(e) = self.journal.append(event) {
            self.monitor.line(&format!("journal write failed: {e}"));
        }
    }

    pub fn save_snapshot(&mut self) -> Result<(), RuntimeError> {
        self.snapshot.queue_depths =
            self.queue
                .depths()
                .by_family
                .iter()
                .fold(BTreeMap::new(), |mut acc, (f, n)| {
                    *acc.entry(f.plane()).or_insert(0) += n;
                    acc
                });
        Ok(self.state.save_snapshot(&mut self.snapshot)?)
    }

    pub fn save_counters(&mut self) -> Result<(), RuntimeError> {
        Ok(self.state.save_counters(&self.counters)?)
    }

    pub fn set_status(&mut self, plane: Plane, marker: StatusMarker) -> Result<(), RuntimeError> {
        self.snapshot
            .status_markers
            .insert(plane, marker.as_str().to_string());
        Ok(self.state.write_status(plane, &marker)?)
    }

    /// True when a run is pending or running in `plane`.
    pub fn busy(&self, plane: Plane) -> bool {
        self.inflight.contains_key(&plane) || self.snapshot.active_runs.contains_key(&plane)
    }

    /// Whether `plane` may start beside the planes that are busy now.
    pub fn may_start(&self, plane: Plane) -> bool {
        if self.busy(plane) || self.plan.plane(plane).is_none() {
            return false;
        }
        let together = |a: Plane, b: Plane| {
            self.plan
                .concurrency
                .get(&a)
                .is_some_and(|w| w.contains(&b))
                || self
                    .plan
                    .concurrency
                    .get(&b)
                    .is_some_and(|w| w.contains(&a))
        };
        Plane::ALL
            .iter()
            .filter(|p| **p != plane && self.busy(**p))
            .all(|p| together(plane, *p))
    }

    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.paths.run_dir(run_id)
    }
}
