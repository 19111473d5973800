//! What a prune did, or in a dry run would do: for `runs prune`, scripts and the journal.

use serde::Serialize;

use super::keep::KeptRun;
use super::plan::PrunePlan;
use crate::workspace::journal::RuntimeEvent;

/// The outcome of a prune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Nothing was removed; the numbers say what a prune would do.
    pub dry_run: bool,
    /// The count limit applied (`None`: no limit).
    pub keep_last: Option<u64>,
    /// The age limit applied, in days (`None`: no limit).
    pub keep_days: Option<u64>,
    /// Run folders found.
    pub runs: usize,
    /// Run ids whose folders were removed.
    pub removed: Vec<String>,
    /// Disk space the removed folders took (allocated blocks), leftovers included.
    pub bytes_freed: u64,
    /// Run folders left.
    pub kept: usize,
    /// Run folders past the limits that stay, and why.
    pub kept_anyway: Vec<KeptRun>,
    /// Half-removed folders of an interrupted prune, finished now.
    pub leftovers_finished: usize,
    /// Entries of `runs/` that are not run folders (links, files), never touched.
    pub skipped: Vec<String>,
    /// Run folders that could not be removed, with why.
    pub failed: Vec<FailedRemoval>,
}

/// A run folder a prune could not remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRemoval {
    /// The run id.
    pub run_id: String,
    /// The error.
    pub error: String,
}

impl PruneReport {
    /// An empty report of `plan`, before anything is removed.
    pub fn of(plan: &PrunePlan, dry_run: bool) -> PruneReport {
        PruneReport {
            dry_run,
            keep_last: plan.policy.keep_last,
            keep_days: plan.policy.keep_days,
            runs: plan.runs,
            removed: Vec::new(),
            bytes_freed: 0,
            kept: plan.runs,
            kept_anyway: plan.kept_anyway.clone(),
            leftovers_finished: 0,
            skipped: plan.skipped.clone(),
            failed: Vec::new(),
        }
    }

    /// The journal event of this prune; `by` is `daemon` or `operator`.
    pub fn event(&self, by: &str) -> RuntimeEvent {
        RuntimeEvent::RunsPruned {
            by: by.to_string(),
            removed: self.removed.len(),
            bytes_freed: self.bytes_freed,
            kept: self.kept,
        }
    }

    /// The journal event of the removals that failed, if any did.
    pub fn failure_event(&self) -> Option<RuntimeEvent> {
        let first = self.failed.first()?;
        Some(RuntimeEvent::RuntimeError {
            origin: "runs prune".to_string(),
            message: format!(
                "{} run folder(s) could not be removed; {}: {}",
                self.failed.len(),
                first.run_id,
                first.error
            ),
        })
    }
}
