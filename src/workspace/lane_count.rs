//! How many execution lanes a workspace can run (docs/lanes.md): the
//! requested count when the workspace root is inside a git work tree with
//! a branch checked out (the lanes' target branch), else one, with the
//! reason. Decided at daemon start; `compile show` and `doctor` print it.

use std::path::Path;

use super::worktrees::{Repository, WorktreeError};

/// The lanes a plan asks for and the lanes this workspace runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneCount {
    /// What the plan (mode or `millrace.toml`) asks for.
    pub requested: u64,
    /// What runs: `requested`, or 1 when lanes cannot work here.
    pub effective: u64,
    /// Why fewer lanes run than requested.
    pub reason: Option<String>,
}

impl LaneCount {
    /// The lanes `root` runs when `requested` are asked for. One lane needs
    /// no git, so nothing is asked of git then.
    pub fn decide(root: &Path, requested: u64) -> LaneCount {
        let reason = if requested > 1 {
            why_one_lane(root)
        } else {
            None
        };
        let effective = if reason.is_some() {
            1
        } else {
            requested.max(1)
        };
        LaneCount {
            requested,
            effective,
            reason,
        }
    }

    /// `4`, or `1 (4 requested: <reason>)`.
    pub fn describe(&self) -> String {
        match &self.reason {
            None => self.effective.to_string(),
            Some(reason) => format!("1 ({} requested: {reason})", self.requested),
        }
    }
}

/// Why lanes cannot run in `root`: no git work tree holds it, or no
/// branch is checked out there for lanes to merge into.
pub fn why_one_lane(root: &Path) -> Option<String> {
    let repository = match Repository::discover(root) {
        Ok(repository) => repository,
        Err(_) => return Some(format!("{} is not a git repository", root.display())),
    };
    match repository.current_branch() {
        Ok(_) => None,
        Err(WorktreeError::DetachedHead(dir)) => {
            Some(format!("HEAD is detached in {}", dir.display()))
        }
        Err(error) => Some(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lane_needs_no_repository() {
        let dir = tempfile::tempdir().expect("temp dir");
        let one = LaneCount::decide(dir.path(), 1);
        assert_eq!((one.effective, one.describe()), (1, "1".to_string()));
        assert_eq!(one.reason, None);
    }

    #[test]
    fn lanes_outside_git_fall_back_to_one_with_the_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let four = LaneCount::decide(dir.path(), 4);
        let reason = format!("{} is not a git repository", dir.path().display());
        assert_eq!(four.effective, 1);
        assert_eq!(four.describe(), format!("1 (4 requested: {reason})"));
    }
}
