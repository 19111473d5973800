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
    #[error("`git {args}` failed: {stderr}")]
    Git { args: String, stderr: String },
    #[error(transparent)]
    File(#[from] FileError),
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

fn run(dir: &Path, args: &[&str]) -> Result<Output, WorktreeError> {
    Command::new("git")
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
