//! Why a run folder past the limits is kept anyway: its run is executing, its
//! work is unfinished or blocked, open work names it as evidence, or nothing
//! identifies it and it is young (a run being created looks like that).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::folders::RunFolder;
use super::keep_reason::KeepReason;
use super::named::{OPEN_STATES, runs_named_by_open_work};
use super::work::{self, RunWork};
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::paths::WorkspacePaths;
use crate::workspace::state::RuntimeSnapshot;

/// How long a run folder that names no work item is kept: a run's folder is
/// made a moment before its request is written, and a prune in between must
/// not take it.
pub const UNIDENTIFIED_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// A run folder past the limits that stays, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptRun {
    /// The run id.
    pub run_id: String,
    /// Why it stays.
    pub reason: KeepReason,
}

/// Decides, folder by folder, whether a run folder past the limits stays.
pub struct Keeper<'a> {
    paths: &'a WorkspacePaths,
    active_runs: BTreeSet<String>,
    /// Read on the first question, so a prune with nothing past the limits reads no document.
    named: Option<BTreeMap<String, KeepReason>>,
    now: SystemTime,
}

impl<'a> Keeper<'a> {
    /// A keeper for the workspace at `now`, with the snapshot's active runs.
    pub fn new(paths: &'a WorkspacePaths, snapshot: &RuntimeSnapshot, now: SystemTime) -> Self {
        let active_runs = snapshot.runs().map(|(_, run)| run.run_id.clone()).collect();
        Keeper {
            paths,
            active_runs,
            named: None,
            now,
        }
    }

    /// Why `folder` must stay, or `None` when its run is finished.
    pub fn reason(&mut self, folder: &RunFolder) -> Option<KeepReason> {
        if self.active_runs.contains(&folder.run_id) {
            return Some(KeepReason::ActiveRun);
        }
        let paths = self.paths;
        let named = self
            .named
            .get_or_insert_with(|| runs_named_by_open_work(paths));
        if let Some(reason) = named.get(&folder.run_id) {
            return Some(*reason);
        }
        match work::read(&folder.path) {
            RunWork::Item { family, id } => open_state(self.paths, family, &id).map(reason_of),
            RunWork::FinishedWithoutItem => None,
            RunWork::Unknown => self
                .is_recent(folder)
                .then_some(KeepReason::RecentUnidentified),
        }
    }

    fn is_recent(&self, folder: &RunFolder) -> bool {
        self.now
            .duration_since(folder.modified)
            .map_or(true, |age| age < UNIDENTIFIED_GRACE)
    }
}

/// The open state of a work item, by a `stat` per open lifecycle folder.
fn open_state(paths: &WorkspacePaths, family: Family, id: &str) -> Option<LifecycleState> {
    OPEN_STATES
        .into_iter()
        .find(|state| paths.item_path(family, *state, id).is_file())
}

fn reason_of(state: LifecycleState) -> KeepReason {
    match state {
        LifecycleState::Queued => KeepReason::WorkQueued,
        LifecycleState::Active => KeepReason::WorkActive,
        _ => KeepReason::WorkBlocked,
    }
}
