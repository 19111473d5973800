//! The prune plan: which run folders go, and which past the limits stay and why.

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use super::folders::{self, RunFolder};
use super::keep::{Keeper, KeptRun};
use super::policy::RetentionPolicy;
use crate::workspace::paths::WorkspacePaths;
use crate::workspace::state::RuntimeSnapshot;

/// What a prune is to do.
#[derive(Debug)]
pub struct PrunePlan {
    /// The limits applied.
    pub policy: RetentionPolicy,
    /// Run folders found.
    pub runs: usize,
    /// Finished runs past the limits, to remove.
    pub remove: Vec<RunFolder>,
    /// Runs past the limits that stay.
    pub kept_anyway: Vec<KeptRun>,
    /// Half-removed folders of an interrupted prune, to finish.
    pub leftovers: Vec<PathBuf>,
    /// Entries of `runs/` that are not run folders, left alone.
    pub skipped: Vec<String>,
}

impl PrunePlan {
    /// Plans a prune of `paths`' runs at `now`. Only the folders past the
    /// limits are read, so a prune with little to do costs a directory listing.
    pub fn compute(
        paths: &WorkspacePaths,
        policy: RetentionPolicy,
        snapshot: &RuntimeSnapshot,
        now: SystemTime,
    ) -> io::Result<PrunePlan> {
        let listing = folders::list(&paths.runs_dir())?;
        let mut keeper = Keeper::new(paths, snapshot, now);
        let mut plan = PrunePlan {
            policy,
            runs: listing.runs.len(),
            remove: Vec::new(),
            kept_anyway: Vec::new(),
            leftovers: listing.leftovers,
            skipped: listing.skipped,
        };
        for (rank, folder) in listing.runs.into_iter().enumerate() {
            if !policy.is_past(rank, folder.modified, now) {
                continue;
            }
            match keeper.reason(&folder) {
                Some(reason) => plan.kept_anyway.push(KeptRun {
                    run_id: folder.run_id,
                    reason,
                }),
                None => plan.remove.push(folder),
            }
        }
        Ok(plan)
    }
}
