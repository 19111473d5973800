//! Running the `git` CLI: one place that spawns it, with a fixed locale and
//! no prompts, and the typed errors of the worktree manager.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::fs_error::FileError;

/// Why a worktree operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("cannot run `git`: {0}")]
    GitMissing(#[source] io::Error),
    #[error("`{}` is not inside a git work tree", .0.display())]
    NotARepository(PathBuf),
    #[error("`{}` has no branch checked out (detached HEAD)", .0.display())]
    DetachedHead(PathBuf),
    #[error("task id `{0}` cannot name a branch")]
    InvalidTaskId(String),
    #[error("target branch `{0}` does not exist")]
    NoTargetBranch(String),
    #[error("branch `{0}` already exists")]
    BranchExists(String),
    #[error("branch `{0}` does not exist")]
    NoSuchBranch(String),
    #[error("`{}` already exists and is not this task's worktree", .0.display())]
    PathTaken(PathBuf),
    #[error("lane worktree `{}` is not on its branch `{branch}`", worktree.display())]
    LaneOffBranch { worktree: PathBuf, branch: String },
    #[error(
        "the checkout of `{target}` at `{}` has local changes the merge would overwrite ({}): commit or stash them, then the merge runs again",
        checkout.display(),
        paths.join(", ")
    )]
    TargetCheckoutDirty {
        target: String,
        checkout: PathBuf,
        paths: Vec<String>,
    },
    #[error("target branch `{target}` moved during each of {attempts} merge attempts")]
    TargetKeptMoving { target: String, attempts: usize },
    #[error("cannot start the merge check `{command}`: {source}")]
    CheckNotStarted {
        command: String,
        #[source]
        source: io::Error,
    },
    #[error("`git {args}` failed: {stderr}")]
    Git { args: String, stderr: String },
    #[error(transparent)]
    File(#[from] FileError),
}

impl WorktreeError {
    /// Whether trying again later may succeed: a lock another git process
    /// holds, a full disk, a target that moved, local changes the operator
    /// is asked to commit. The others wait for the operator: a task id that
    /// cannot name a branch, a worktree an agent left on another branch, a
    /// repository, branch or `git` that is gone, a merge check that cannot
    /// start.
    pub fn passes_with_time(&self) -> bool {
        !matches!(
            self,
            WorktreeError::GitMissing(_)
                | WorktreeError::NotARepository(_)
                | WorktreeError::DetachedHead(_)
                | WorktreeError::InvalidTaskId(_)
                | WorktreeError::NoTargetBranch(_)
                | WorktreeError::LaneOffBranch { .. }
                | WorktreeError::CheckNotStarted { .. }
        )
    }
}

/// Runs `git -C dir args...`; a non-zero exit is [`WorktreeError::Git`]
/// with git's own message.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, WorktreeError> {
    let output = run(dir, args)?;
    if !output.status.success() {
        return Err(WorktreeError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `git -C dir args...` for a yes/no question (`show-ref --verify`):
/// true on exit status 0.
pub fn git_succeeds(dir: &Path, args: &[&str]) -> Result<bool, WorktreeError> {
    Ok(run(dir, args)?.status.success())
}

/// Runs `git -C dir args...` for a question git answers with exit status
/// 0 (yes) or 1 (no), such as `merge-base --is-ancestor` or `diff --quiet`;
/// any other status is [`WorktreeError::Git`].
pub fn git_yes_no(dir: &Path, args: &[&str]) -> Result<bool, WorktreeError> {
    let output = run(dir, args)?;
    match output.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(WorktreeError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        }),
    }
}

fn run(dir: &Path, args: &[&str]) -> Result<Output, WorktreeError> {
    let mut command = Command::new("git");
    #[cfg(test)]
    test_env::apply(&mut command);
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        // Messages in English (callers match none, but reports quote them)
        // and never a credential prompt from a daemon without a terminal.
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        // A daemon started from a git hook inherits these; they would
        // point every call at the hook's repository instead of `dir`.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        .output()
        .map_err(WorktreeError::GitMissing)
}

/// The environment a test gives the `git` its thread runs (a user without
/// an identity): thread-local, so tests running in parallel keep theirs.
#[cfg(test)]
pub mod test_env {
    use std::cell::RefCell;
    use std::process::Command;

    thread_local! {
        static VARS: RefCell<Vec<(String, Option<String>)>> = const { RefCell::new(Vec::new()) };
    }

    /// Sets (`Some`) or removes (`None`) each variable for this thread's `git`.
    pub fn set(vars: &[(&str, Option<&str>)]) {
        let owned = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)));
        VARS.with(|cell| cell.replace(owned.collect()));
    }

    pub(super) fn apply(command: &mut Command) {
        VARS.with(|cell| {
            for (key, value) in cell.borrow().iter() {
                match value {
                    Some(value) => command.env(key, value),
                    None => command.env_remove(key),
                };
            }
        });
    }
}
