//! Running the merge check (`[lanes] merge_check`) in a lane's worktree:
//! `sh -c <command>` in its own process group, killed whole at its
//! timeout, its combined output kept in a temporary file of which the
//! last few KiB are reported.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::git::WorktreeError;
use crate::fs_error::at;

/// How much of the end of the check's output a failure carries.
pub const LOG_TAIL_BYTES: u64 = 4096;

/// The check to run on the rebased commit before the target moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeCheck {
    /// Run with `sh -c` in the lane's worktree; exit status 0 passes.
    pub command: String,
    /// After this long the check (its whole process group) is killed and fails.
    pub timeout: Duration,
}

/// How a check run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// Its exit code; `None` when a signal ended it (the timeout's included).
    pub code: Option<i32>,
    pub timed_out: bool,
    /// The last [`LOG_TAIL_BYTES`] of its stdout and stderr, interleaved.
    pub log_tail: String,
}

impl CheckRun {
    pub fn passed(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }
}

impl MergeCheck {
    /// Runs the check in `dir` and waits for it (at most its timeout).
    pub fn run(&self, dir: &Path) -> Result<CheckRun, WorktreeError> {
        let temp_dir = std::env::temp_dir();
        let mut log = tempfile::tempfile().map_err(at("create a file in", &temp_dir))?;
        let child = self
            .spawn(dir, &log)
            .map_err(|source| WorktreeError::CheckNotStarted {
                command: self.command.clone(),
                source,
            })?;
        let (status, timed_out) = wait_or_kill(child, self.timeout);
        let status = status.map_err(at("wait for the merge check in", dir))?;
        let log_tail = tail(&mut log).map_err(at("read the merge check's output in", &temp_dir))?;
        Ok(CheckRun {
            code: status.code(),
            timed_out,
            log_tail,
        })
    }

    fn spawn(&self, dir: &Path, log: &File) -> io::Result<Child> {
        Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .current_dir(dir)
            // As for `git` itself: a daemon started from a hook must not
            // point the check's git calls at the hook's repository.
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_COMMON_DIR")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            // Its own group, so the timeout kills what it started too.
            .process_group(0)
            .spawn()
    }
}

/// Waits for `child` on a thread while this one waits for that thread's
/// answer at most `timeout`; past it the child's group is killed. (Not
/// after a normal exit: the group id may then be free for reuse.)
fn wait_or_kill(mut child: Child, timeout: Duration) -> (io::Result<ExitStatus>, bool) {
    let group = i32::try_from(child.id()).ok().map(Pid::from_raw);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait()));
    match receiver.recv_timeout(timeout) {
        Ok(status) => (status, false),
        Err(_) => {
            if let Some(group) = group {
                // The group is ours while its leader is unreaped.
                let _ = killpg(group, Signal::SIGKILL);
            }
            let status = receiver.recv().unwrap_or_else(|e| Err(io::Error::other(e)));
            (status, true)
        }
    }
}

/// The last [`LOG_TAIL_BYTES`] of `log`, cut at a character boundary.
fn tail(log: &mut File) -> io::Result<String> {
    let length = log.seek(SeekFrom::End(0))?;
    log.seek(SeekFrom::Start(length.saturating_sub(LOG_TAIL_BYTES)))?;
    let mut bytes = Vec::new();
    log.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    // A cut through a multi-byte character leaves a replacement at the start.
    Ok(text.trim_start_matches('\u{FFFD}').to_string())
}
