//! Listing `runs/`: the run folders newest first, the half-removed folders an
//! interrupted prune left, and the entries that are neither (never touched).

use std::fs::DirEntry;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A folder being removed is first renamed to this prefix plus its run id.
pub const REMOVING_PREFIX: &str = ".removing-";

/// One run folder, `runs/<run_id>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFolder {
    /// The folder name, the run id.
    pub run_id: String,
    /// The folder.
    pub path: PathBuf,
    /// When the folder last changed: every stage adds files to it, so this is
    /// when the run was last active.
    pub modified: SystemTime,
}

/// What `runs/` holds.
#[derive(Debug, Default)]
pub struct RunsListing {
    /// The run folders, newest first.
    pub runs: Vec<RunFolder>,
    /// Folders an interrupted prune renamed but did not finish removing.
    pub leftovers: Vec<PathBuf>,
    /// Names of entries that are not run folders: symbolic links, files,
    /// hidden or non-UTF-8 names.
    pub skipped: Vec<String>,
}

/// Lists `runs_dir` without following a symbolic link; a missing `runs_dir` holds nothing.
pub fn list(runs_dir: &Path) -> io::Result<RunsListing> {
    let entries = match std::fs::read_dir(runs_dir) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(RunsListing::default()),
        result => result?,
    };
    let mut listing = RunsListing::default();
    for entry in entries {
        sort_entry(&mut listing, &entry?);
    }
    listing
        .runs
        .sort_by(|a, b| (b.modified, &b.run_id).cmp(&(a.modified, &a.run_id)));
    Ok(listing)
}

fn sort_entry(listing: &mut RunsListing, entry: &DirEntry) {
    let Ok(name) = entry.file_name().into_string() else {
        listing
            .skipped
            .push(entry.file_name().to_string_lossy().into_owned());
        return;
    };
    // `file_type` and `metadata` of a directory entry do not follow links.
    let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
    let modified = entry.metadata().and_then(|m| m.modified());
    match (is_dir, modified) {
        (true, _) if name.starts_with(REMOVING_PREFIX) => listing.leftovers.push(entry.path()),
        (true, Ok(modified)) if !name.starts_with('.') => listing.runs.push(RunFolder {
            run_id: name,
            path: entry.path(),
            modified,
        }),
        _ => listing.skipped.push(name),
    }
}
