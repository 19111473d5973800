//! The daemon's own pruning: once at start, then after every few finished
//! runs, cheap enough to run between stages.

use std::collections::BTreeSet;

use super::policy::RetentionPolicy;
use super::report::PruneReport;
use super::{PruneMode, prune_runs};
use crate::workspace::config::RunsConfig;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::paths::WorkspacePaths;
use crate::workspace::state::RuntimeSnapshot;

/// Finished runs between two prunes at most (the cadence for large `keep_last`).
const MAX_RUNS_BETWEEN_PRUNES: u64 = 10;

/// Prunes run folders for a daemon, reading what it knows from its snapshot.
#[derive(Debug)]
pub struct RunsJanitor {
    policy: RetentionPolicy,
    /// Finished runs between two prunes.
    every: u64,
    /// Runs finished since the last prune; `None` until the first prune.
    finished: Option<u64>,
    /// The active runs the last tick saw.
    active: BTreeSet<String>,
}

impl RunsJanitor {
    /// A janitor applying `[runs]`.
    pub fn new(config: &RunsConfig) -> RunsJanitor {
        let policy = RetentionPolicy::from_config(config);
        // A prune lists every folder; doing it every keep_last/100 runs lets
        // the folder count overshoot keep_last by at most 1%.
        let every = policy
            .keep_last
            .map_or(MAX_RUNS_BETWEEN_PRUNES, |n| n / 100)
            .clamp(1, MAX_RUNS_BETWEEN_PRUNES);
        RunsJanitor {
            policy,
            every,
            finished: None,
            active: BTreeSet::new(),
        }
    }

    /// Takes up `[runs]` as reloaded: a changed policy applies from the
    /// next tick, with a prune then (a tighter limit is met at once).
    pub fn follow(&mut self, config: &RunsConfig) {
        if RetentionPolicy::from_config(config) != self.policy {
            let active = std::mem::take(&mut self.active);
            *self = RunsJanitor {
                active,
                ..RunsJanitor::new(config)
            };
        }
    }

    /// Called once per daemon tick with the live snapshot: prunes when due
    /// (the first call, then every few finished runs) and returns the events
    /// to journal (none when nothing was removed).
    pub fn after_tick(
        &mut self,
        paths: &WorkspacePaths,
        snapshot: &RuntimeSnapshot,
    ) -> Vec<RuntimeEvent> {
        let finished = self.count_finished(snapshot);
        if self.policy.keeps_everything() || finished.is_some_and(|n| n < self.every) {
            return Vec::new();
        }
        self.finished = Some(0);
        match prune_runs(paths, &self.policy, snapshot, PruneMode::Apply) {
            Ok(report) => events_of(&report),
            Err(error) => vec![RuntimeEvent::RuntimeError {
                origin: "runs prune".to_string(),
                message: error.to_string(),
            }],
        }
    }

    /// Adds the runs that left the snapshot's active runs since the last tick.
    fn count_finished(&mut self, snapshot: &RuntimeSnapshot) -> Option<u64> {
        let now: BTreeSet<String> = snapshot.runs().map(|(_, run)| run.run_id.clone()).collect();
        let ended = self.active.difference(&now).count() as u64;
        self.active = now;
        self.finished = self.finished.map(|n| n + ended);
        self.finished
    }
}

/// A prune that removed nothing is not worth a journal line.
fn events_of(report: &PruneReport) -> Vec<RuntimeEvent> {
    let mut events = Vec::new();
    if !report.removed.is_empty() {
        events.push(report.event("daemon"));
    }
    events.extend(report.failure_event());
    events
}
