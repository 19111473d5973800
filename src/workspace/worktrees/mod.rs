//! The git worktrees execution lanes run in (docs/lanes.md): one per task,
//! at `<lanes dir>/<task-id>` on branch `millrace/<task-id>`, made from the
//! target branch. Creating, listing, adopting after a crash, removing, and
//! finding what a crash left behind, over the `git` CLI; and the merge
//! gate's git side, which lands a lane's branch on the target branch.
//!
//! Every call runs `git` and waits for it: the runtime calls these off its
//! event loop (`spawn_blocking`).

mod git;
mod merge;
mod merge_check;
mod porcelain;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use git::WorktreeError;
pub use merge::{MOVE_ATTEMPTS, MergeOutcome, MergeRequest};
pub use merge_check::{LOG_TAIL_BYTES, MergeCheck};
pub use porcelain::{BRANCH_PREFIX, LaneWorktree};

use crate::fs_error::at;
use git::{git, git_succeeds};

/// The git work tree a workspace lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    root: PathBuf,
}

impl Repository {
    /// The work tree holding `dir`, or [`WorktreeError::NotARepository`].
    pub fn discover(dir: &Path) -> Result<Repository, WorktreeError> {
        let toplevel = git(dir, &["rev-parse", "--show-toplevel"])
            .map_err(|_| WorktreeError::NotARepository(dir.to_path_buf()))?;
        Ok(Repository {
            root: PathBuf::from(toplevel.trim_end()),
        })
    }

    /// The top folder of the work tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `dir` (inside the work tree) is relative to its top folder.
    pub fn relative_path(&self, dir: &Path) -> Result<PathBuf, WorktreeError> {
        let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
        Ok(PathBuf::from(prefix.trim_end()))
    }

    /// The branch checked out there: the lanes' target branch.
    pub fn current_branch(&self) -> Result<String, WorktreeError> {
        let name = git(&self.root, &["symbolic-ref", "--quiet", "--short", "HEAD"])
            .map_err(|_| WorktreeError::DetachedHead(self.root.clone()))?;
        Ok(name.trim_end().to_string())
    }
}

/// What a crash (or a finished task) left for one task id that no live
/// task owns: any of its worktree, a folder that is no worktree, its branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub task_id: String,
    /// Its registered worktree (possibly `missing` or `locked`).
    pub worktree: Option<LaneWorktree>,
    /// A folder under the lanes dir git does not know as a worktree (a
    /// `git worktree add` killed early, or a hand-made copy).
    pub stray_folder: Option<PathBuf>,
    /// Its `millrace/<task-id>` branch exists.
    pub branch: bool,
}

/// The lane worktrees of one repository and target branch.
#[derive(Debug, Clone)]
pub struct WorktreeManager {
    repo: PathBuf,
    lanes_dir: PathBuf,
    target: String,
}

impl WorktreeManager {
    /// Lanes of `repo` in `lanes_dir` (made if missing, with a `.gitignore`
    /// of `*` so the main checkout does not see them), branching from `target`.
    pub fn open(
        repo: &Repository,
        lanes_dir: &Path,
        target: &str,
    ) -> Result<WorktreeManager, WorktreeError> {
        ensure_lanes_dir(lanes_dir)?;
        let lanes_dir = lanes_dir.canonicalize().map_err(at("resolve", lanes_dir))?;
        Ok(WorktreeManager {
            repo: repo.root.clone(),
            lanes_dir,
            target: target.to_string(),
        })
    }

    /// The branch a task's lane works on, or why the id cannot name one.
    pub fn branch_name(task_id: &str) -> Result<String, WorktreeError> {
        if !valid_ref_component(task_id) {
            return Err(WorktreeError::InvalidTaskId(task_id.to_string()));
        }
        Ok(format!("{BRANCH_PREFIX}{task_id}"))
    }

    /// Where a task's worktree is.
    pub fn path_of(&self, task_id: &str) -> PathBuf {
        self.lanes_dir.join(task_id)
    }

    /// A new worktree for `task_id` on a new branch from the target's tip.
    pub fn create(&self, task_id: &str) -> Result<LaneWorktree, WorktreeError> {
        let branch = Self::branch_name(task_id)?;
        if !self.branch_exists(&self.target)? {
            return Err(WorktreeError::NoTargetBranch(self.target.clone()));
        }
        if self.branch_exists(&branch)? {
            return Err(WorktreeError::BranchExists(branch));
        }
        let path = self.path_of(task_id);
        if path.exists() {
            return Err(WorktreeError::PathTaken(path));
        }
        // The user may have deleted the folder while the daemon ran.
        ensure_lanes_dir(&self.lanes_dir)?;
        let path_text = path.to_string_lossy();
        let args = ["worktree", "add", "-b", &branch, &path_text, &self.target];
        git(&self.repo, &args)?;
        self.registered(task_id)
    }

    /// The lane worktrees git knows (under the lanes dir), in path order.
    pub fn list(&self) -> Result<Vec<LaneWorktree>, WorktreeError> {
        let text = git(&self.repo, &["worktree", "list", "--porcelain"])?;
        let mut ours: Vec<LaneWorktree> = porcelain::parse(&text)
            .into_iter()
            .filter_map(|w| w.in_lanes_dir(&self.lanes_dir))
            .collect();
        ours.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(ours)
    }

    /// The task ids that have a `millrace/<task-id>` branch.
    pub fn branches(&self) -> Result<BTreeSet<String>, WorktreeError> {
        let pattern = format!("refs/heads/{BRANCH_PREFIX}");
        let text = git(
            &self.repo,
            &["for-each-ref", "--format=%(refname)", &pattern],
        )?;
        let ids = text.lines().filter_map(|r| r.strip_prefix(&pattern));
        Ok(ids.map(str::to_string).collect())
    }

    /// The worktree of `task_id` after a crash: the registered one when it
    /// is whole; otherwise what is left of it is removed and the worktree
    /// made again from the task's branch (which holds every commit).
    pub fn adopt(&self, task_id: &str) -> Result<LaneWorktree, WorktreeError> {
        let branch = Self::branch_name(task_id)?;
        if let Some(found) = self.find(task_id)? {
            if !found.missing && !found.locked {
                return Ok(found);
            }
        }
        if !self.branch_exists(&branch)? {
            return Err(WorktreeError::NoSuchBranch(branch));
        }
        self.remove_worktree(task_id)?;
        ensure_lanes_dir(&self.lanes_dir)?;
        let path = self.path_of(task_id);
        git(
            &self.repo,
            &["worktree", "add", &path.to_string_lossy(), &branch],
        )?;
        self.registered(task_id)
    }

    /// Removes the task's worktree (uncommitted changes and all) and its
    /// branch. Removing what is already gone is no error.
    pub fn remove(&self, task_id: &str) -> Result<(), WorktreeError> {
        let branch = Self::branch_name(task_id)?;
        self.remove_worktree(task_id)?;
        if self.branch_exists(&branch)? {
            git(&self.repo, &["branch", "-D", &branch])?;
        }
        Ok(())
    }

    /// Every task id with a worktree, folder or branch here for which
    /// `is_live` says no task owns it.
    pub fn leftovers(
        &self,
        is_live: impl Fn(&str) -> bool,
    ) -> Result<Vec<Leftover>, WorktreeError> {
        let worktrees = self.list()?;
        let branches = self.branches()?;
        let mut ids: BTreeSet<String> = branches.clone();
        ids.extend(worktrees.iter().map(|w| w.task_id.clone()));
        ids.extend(self.folder_names()?);
        let leftover = |id: String| Leftover {
            worktree: worktrees.iter().find(|w| w.task_id == id).cloned(),
            stray_folder: self.stray_folder(&id, &worktrees),
            branch: branches.contains(&id),
            task_id: id,
        };
        Ok(ids
            .into_iter()
            .filter(|id| !is_live(id))
            .map(leftover)
            .collect())
    }

    fn find(&self, task_id: &str) -> Result<Option<LaneWorktree>, WorktreeError> {
        Ok(self.list()?.into_iter().find(|w| w.task_id == task_id))
    }

    fn registered(&self, task_id: &str) -> Result<LaneWorktree, WorktreeError> {
        let path = self.path_of(task_id);
        self.find(task_id)?.ok_or_else(|| WorktreeError::Git {
            args: "worktree list".to_string(),
            stderr: format!("`{}` is not listed after it was added", path.display()),
        })
    }

    /// Unregisters and deletes the task's worktree, or deletes its stray
    /// folder; its branch stays.
    pub fn remove_worktree(&self, task_id: &str) -> Result<(), WorktreeError> {
        let path = self.path_of(task_id);
        if self.find(task_id)?.is_some() {
            // Twice forced: also removes a worktree git left locked
            // (`initializing`) when `worktree add` was killed, which
            // `worktree prune` keeps even once its folder is gone.
            let text = path.to_string_lossy();
            let args = ["worktree", "remove", "--force", "--force", &text];
            git(&self.repo, &args)?;
        }
        remove_path(&path)?;
        git(&self.repo, &["worktree", "prune"])?;
        Ok(())
    }

    fn branch_exists(&self, branch: &str) -> Result<bool, WorktreeError> {
        let reference = format!("refs/heads/{branch}");
        git_succeeds(&self.repo, &["show-ref", "--verify", "--quiet", &reference])
    }

    /// The names of the folders in the lanes dir that a task id could
    /// have: any other folder (`.cache`, `x.lock`) is no lane's, and is
    /// neither removed nor allowed to stop a sweep. A lanes dir the user
    /// deleted has none.
    fn folder_names(&self) -> Result<Vec<String>, WorktreeError> {
        let entries = match std::fs::read_dir(&self.lanes_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(at("read", &self.lanes_dir)(e).into()),
        };
        let folders = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()));
        let names = folders.map(|e| e.file_name().to_string_lossy().into_owned());
        Ok(names.filter(|name| valid_ref_component(name)).collect())
    }

    fn stray_folder(&self, task_id: &str, worktrees: &[LaneWorktree]) -> Option<PathBuf> {
        let path = self.path_of(task_id);
        let registered = worktrees.iter().any(|w| w.path == path);
        (path.is_dir() && !registered).then_some(path)
    }
}

/// Deletes what is at `path`: a folder with its contents, or a file or
/// link named like the task (which would stop its worktree being made).
fn remove_path(path: &Path) -> Result<(), WorktreeError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let removed = match meta.is_dir() {
        true => std::fs::remove_dir_all(path),
        false => std::fs::remove_file(path),
    };
    removed.map_err(at("remove", path))?;
    Ok(())
}

/// Makes the lanes folder, with a `.gitignore` of `*` so the main checkout
/// does not see the lanes (nor a `git add -A` there take them in).
fn ensure_lanes_dir(lanes_dir: &Path) -> Result<(), WorktreeError> {
    std::fs::create_dir_all(lanes_dir).map_err(at("create", lanes_dir))?;
    let ignore = lanes_dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, "*\n").map_err(at("write", &ignore))?;
    }
    Ok(())
}

/// True when `id` is a valid single git ref component (a work item id
/// already excludes most of what git refuses; these are the rest).
fn valid_ref_component(id: &str) -> bool {
    let legal = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id.chars().all(legal)
        && !id.contains("..")
        && !id.ends_with(".lock")
        && !id.ends_with('.')
}
