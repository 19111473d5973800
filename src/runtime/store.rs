//! The daemon's durable state, owned in one place: the queues, the runtime
//! snapshot, the budget counters, the status markers and the journal. The
//! store keeps what must agree on disk agreeing (the snapshot's queue depths
//! come from the queue index when it is saved).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::RuntimeError;
use crate::vocab::Plane;
use crate::workspace::WorkspacePaths;
use crate::workspace::journal::{Journal, JournalError, RuntimeEvent};
use crate::workspace::queue::QueueStore;
use crate::workspace::state::{
    BudgetCounters, RuntimeSnapshot, Slot, StateError, StateStore, StatusMarker,
};

/// The queues, snapshot, counters, status markers and journal of a workspace.
pub struct Store {
    paths: WorkspacePaths,
    queue: QueueStore,
    state: StateStore,
    snapshot: RuntimeSnapshot,
    counters: BudgetCounters,
    journal: Journal,
}

impl Store {
    /// Opens the workspace's state: scans the queues, loads the snapshot and
    /// the counters.
    pub fn open(paths: &WorkspacePaths) -> Result<Store, RuntimeError> {
        let state = StateStore::new(paths);
        Ok(Store {
            queue: QueueStore::open(paths)?,
            snapshot: state.load_snapshot()?,
            counters: state.load_counters()?,
            state,
            journal: Journal::new(paths),
            paths: paths.clone(),
        })
    }

    pub fn paths(&self) -> &WorkspacePaths {
        &self.paths
    }

    pub fn queue(&self) -> &QueueStore {
        &self.queue
    }

    pub fn queue_mut(&mut self) -> &mut QueueStore {
        &mut self.queue
    }

    pub fn snapshot(&self) -> &RuntimeSnapshot {
        &self.snapshot
    }

    /// The snapshot, to change; [`Store::save_snapshot`] makes it durable.
    pub fn snapshot_mut(&mut self) -> &mut RuntimeSnapshot {
        &mut self.snapshot
    }

    pub fn counters(&self) -> &BudgetCounters {
        &self.counters
    }

    /// The counters, to change; [`Store::save_counters`] makes them durable.
    pub fn counters_mut(&mut self) -> &mut BudgetCounters {
        &mut self.counters
    }

    /// What an operator command changes at once: queues, journal, snapshot.
    pub fn for_command(&mut self) -> (&mut QueueStore, &Journal, &mut RuntimeSnapshot) {
        (&mut self.queue, &self.journal, &mut self.snapshot)
    }

    /// What an effect handler changes: the queues, beside the paths.
    pub fn for_effect(&mut self) -> (&mut QueueStore, &WorkspacePaths) {
        (&mut self.queue, &self.paths)
    }

    /// Appends an event to the journal.
    pub fn append(&self, event: RuntimeEvent) -> Result<(), JournalError> {
        self.journal.append(event)
    }

    /// Writes the snapshot, with the queue depths of this moment.
    pub fn save_snapshot(&mut self) -> Result<(), RuntimeError> {
        self.snapshot.queue_depths =
            self.queue
                .depths()
                .by_family
                .iter()
                .fold(BTreeMap::new(), |mut acc, (family, n)| {
                    *acc.entry(family.plane()).or_insert(0) += n;
                    acc
                });
        Ok(self.state.save_snapshot(&mut self.snapshot)?)
    }

    pub fn save_counters(&self) -> Result<(), RuntimeError> {
        Ok(self.state.save_counters(&self.counters)?)
    }

    /// Records and writes the status marker of a slot. The marker files
    /// (one per plane) follow its first lane; the lanes after it are shown
    /// by their runs.
    pub fn set_status(&mut self, slot: Slot, marker: StatusMarker) -> Result<(), RuntimeError> {
        if slot != Slot::of(slot.plane) {
            return Ok(());
        }
        let text = marker.as_str().to_string();
        self.snapshot.status_markers.insert(slot.plane, text);
        Ok(self.state.write_status(slot.plane, &marker)?)
    }

    /// The status marker file of a plane, as written.
    pub fn read_status(&self, plane: Plane) -> Result<Option<StatusMarker>, StateError> {
        self.state.read_status(plane)
    }

    /// True when the snapshot records a run in `slot` (running or pending).
    pub fn has_run(&self, slot: Slot) -> bool {
        self.snapshot.run(slot).is_some()
    }

    /// `runs/<run_id>/`.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.paths.run_dir(run_id)
    }
}

/// A fresh run or request id: `<prefix>-<uuid>`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
