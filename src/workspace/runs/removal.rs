//! Removing run folders safely. A folder is renamed to `.removing-<run_id>`
//! first: readers stop seeing a run at once, and a prune killed halfway
//! leaves a folder that no one takes for a run and the next prune finishes.
//! Symbolic links are never followed, so nothing outside `runs/` is touched.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::folders::{REMOVING_PREFIX, RunFolder};
use super::plan::PrunePlan;
use super::report::{FailedRemoval, PruneReport};

/// Carries out `plan`, or with `dry_run` only measures it.
pub fn carry_out(plan: &PrunePlan, runs_dir: &Path, dry_run: bool) -> PruneReport {
    let mut report = PruneReport::of(plan, dry_run);
    for leftover in &plan.leftovers {
        let bytes = disk_usage(leftover);
        if dry_run || remove_tree(leftover).is_ok() {
            report.leftovers_finished += 1;
            report.bytes_freed += bytes;
        }
    }
    for folder in &plan.remove {
        let removed = if dry_run {
            Ok(disk_usage(&folder.path))
        } else {
            remove_run(runs_dir, folder)
        };
        record(&mut report, folder, removed);
    }
    report
}

fn record(report: &mut PruneReport, folder: &RunFolder, removed: io::Result<u64>) {
    match removed {
        Ok(bytes) => {
            report.removed.push(folder.run_id.clone());
            report.bytes_freed += bytes;
            report.kept -= 1;
        }
        Err(error) => report.failed.push(FailedRemoval {
            run_id: folder.run_id.clone(),
            error: error.to_string(),
        }),
    }
}

/// Removes one run folder; returns the disk space it took.
fn remove_run(runs_dir: &Path, folder: &RunFolder) -> io::Result<u64> {
    let bytes = disk_usage(&folder.path);
    let doomed = runs_dir.join(format!("{REMOVING_PREFIX}{}", folder.run_id));
    // A plain rename, not synced: if a crash undoes it the folder is whole
    // and is pruned again; syncing would cost a disk flush per folder.
    std::fs::rename(&folder.path, &doomed)?;
    remove_tree(&doomed)?;
    Ok(bytes)
}

/// `remove_dir_all` unlinks a symbolic link instead of following it; a tree
/// another pruner removed first is no error.
fn remove_tree(path: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        result => result,
    }
}

/// The disk space (allocated blocks) of the tree at `path`, not following
/// links; entries that vanish meanwhile count as nothing.
fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let own = meta.blocks() * 512;
    if !meta.is_dir() {
        return own;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return own;
    };
    own + entries
        .filter_map(Result::ok)
        .map(|entry| disk_usage(&entry.path()))
        .sum::<u64>()
}
