//! Run folders (`runs/<run_id>/`): the retention policy of `[runs]`, the
//! prune plan, and removing the folders past it safely, for the daemon and
//! for `millrace runs prune`.

mod folders;
mod janitor;
mod keep;
mod keep_reason;
mod named;
mod plan;
mod policy;
mod removal;
mod report;
mod work;

use std::time::SystemTime;

use thiserror::Error;

use crate::fs_error::{FileError, at};

pub use folders::REMOVING_PREFIX;
pub use janitor::RunsJanitor;
pub use keep::{KeptRun, UNIDENTIFIED_GRACE};
pub use keep_reason::KeepReason;
pub use policy::RetentionPolicy;
pub use report::{FailedRemoval, PruneReport};

use super::paths::WorkspacePaths;
use super::state::RuntimeSnapshot;
use plan::PrunePlan;

/// A prune could not start.
#[derive(Debug, Error)]
pub enum RunsError {
    /// `runs/` could not be listed.
    #[error(transparent)]
    File(#[from] FileError),
}

/// Whether a prune removes folders or only says what it would remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneMode {
    /// Remove the folders past the limits.
    Apply,
    /// Measure them; remove nothing.
    DryRun,
}

/// Removes the folders of finished runs past `policy`'s limits, and finishes
/// removals an interrupted prune left. Runs listed in `snapshot`'s active
/// runs, runs of queued, active or blocked work, runs open incidents and
/// learning requests name, and young unidentified runs are always kept.
/// A folder that cannot be removed is reported, not fatal.
pub fn prune_runs(
    paths: &WorkspacePaths,
    policy: &RetentionPolicy,
    snapshot: &RuntimeSnapshot,
    mode: PruneMode,
) -> Result<PruneReport, RunsError> {
    let runs_dir = paths.runs_dir();
    let plan = PrunePlan::compute(paths, *policy, snapshot, SystemTime::now())
        .map_err(at("list", &runs_dir))?;
    Ok(removal::carry_out(
        &plan,
        &runs_dir,
        mode == PruneMode::DryRun,
    ))
}
