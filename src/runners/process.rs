//! An agent CLI run as one stage: spawned in the workspace root as the
//! leader of its own process group, tagged with the stage's `MILLRACE_*`
//! environment, its output copied to the run directory, and stopped as a
//! whole tree.
//!
//! Stopping (timeout, cancellation) is SIGTERM to the group and to every
//! process of the stage (see [`proc_tree`](super::proc_tree)), a grace
//! period for the leader, then SIGKILL. Whether it was stopped or exited on
//! its own, [`StageProcess::finish`] then kills and reaps whatever of the
//! stage is left, tools in sessions of their own included, and waits until
//! the output pipes are closed.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::task::JoinSet;

use super::group::ProcessGroup;
use super::proc_tree::{self, Leaders};
use super::{Cancel, FailureClass, RunnerExit, StageRequest, cancelled, stage_env};

/// What to start: the program, its arguments and extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    /// Added to the daemon's environment; the stage's `MILLRACE_*`
    /// variables are added after these and win.
    pub env: Vec<(String, String)>,
}

/// Where the program's stdout goes.
pub enum StdoutTo<'a> {
    /// Copied into this file.
    File(&'a Path),
    /// Left to the runner (the pi RPC client reads it).
    Piped,
}

/// How waiting for the leader ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    TimedOut,
    Cancelled,
}

/// Why a program could not be started or waited for.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("runner binary not found: {0}")]
    Missing(String),
    #[error("the workspace root {0} is not a directory")]
    NoWorkspace(String),
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl LaunchError {
    /// The runner exit this error stands for.
    pub fn exit(&self) -> RunnerExit {
        let class = match self {
            LaunchError::Missing(_) => FailureClass::RunnerBinaryMissing,
            _ => FailureClass::RunnerTransportFailure,
        };
        let message = self.to_string();
        RunnerExit::Failed { class, message }
    }

    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> LaunchError {
        let path = path.display().to_string();
        LaunchError::Io { path, source }
    }
}

/// A running stage program.
pub struct StageProcess {
    child: Child,
    group: ProcessGroup,
    leader: i32,
    tag: String,
    grace: Duration,
    outputs: JoinSet<()>,
}

impl StageProcess {
    /// Starts `launch` for `request`; stderr goes to `stderr_to`.
    pub fn spawn(
        launch: &Launch,
        request: &StageRequest,
        stdin: Stdio,
        stdout: StdoutTo<'_>,
        stderr_to: &Path,
    ) -> Result<StageProcess, LaunchError> {
        let root = &request.workspace_root;
        if !root.is_dir() {
            return Err(LaunchError::NoWorkspace(root.display().to_string()));
        }
        let stdout_file = match stdout {
            StdoutTo::File(path) => Some(create(path)?),
            StdoutTo::Piped => None,
        };
        let stderr_file = create(stderr_to)?;
        let mut command = tokio::process::Command::new(&launch.program);
        command
            .args(&launch.args)
            .current_dir(root)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .envs(stage_env(request))
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let (child, group, leader) = spawn_leader(&mut command, &launch.program)?;
        let mut process = StageProcess {
            child,
            group,
            leader,
            tag: request.request_id.clone(),
            grace: super::DEFAULT_GRACE,
            outputs: JoinSet::new(),
        };
        process.copy_outputs(stdout_file, stderr_file);
        Ok(process)
    }

    fn copy_outputs(&mut self, stdout: Option<std::fs::File>, stderr: std::fs::File) {
        if let Some(file) = stdout {
            if let Some(pipe) = self.child.stdout.take() {
                self.outputs.spawn(copy_to(pipe, file));
            }
        }
        if let Some(pipe) = self.child.stderr.take() {
            self.outputs.spawn(copy_to(pipe, stderr));
        }
    }

    /// The program's stdin, when it was piped.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// The program's stdout, when it was left piped.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Awaits the leader's exit, the timeout (`0`: none) or cancellation.
    pub async fn wait(&mut self, timeout_s: u64, cancel: &mut Cancel) -> Ending {
        let limit = async {
            match timeout_s {
                0 => std::future::pending().await,
                secs => tokio::time::sleep(Duration::from_secs(secs)).await,
            }
        };
        tokio::select! {
            status = self.child.wait() => Ending::Exited(status.map_or(-1, exit_code)),
            _ = limit => Ending::TimedOut,
            _ = cancelled(cancel) => Ending::Cancelled,
        }
    }

    /// Awaits the leader's exit for at most `limit`.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<i32> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => Some(status.map_or(-1, exit_code)),
            Err(_) => None,
        }
    }

    /// Stops a leader that still runs, with its whole tree: SIGTERM, the
    /// grace period, SIGKILL. Returns once the leader is reaped.
    pub async fn stop(&mut self) {
        let members = proc_tree::stage_processes(&self.tag, &[self.leader]);
        proc_tree::signal_all(&members, Signal::SIGTERM);
        self.group
            .stop_with_leader(&mut self.child, self.grace)
            .await;
        proc_tree::signal_all(&members, Signal::SIGKILL);
    }

    /// After the leader is gone: stops what is left of the stage, reaps it,
    /// and waits until the output pipes are closed.
    pub async fn finish(mut self) {
        self.group.signal(Signal::SIGTERM);
        // Walking `/proc` costs hundreds of reads; a subreaper with no
        // child but running stage leaders knows there is nothing to find.
        let strays = proc_tree::may_have_strays();
        if strays {
            let members = proc_tree::stage_processes(&self.tag, &[]);
            proc_tree::signal_all(&members, Signal::SIGTERM);
            if !self.drained_within(self.grace).await {
                self.group.signal(Signal::SIGKILL);
            }
            proc_tree::kill_stage(&self.tag, &[]).await;
        }
        self.drained_within(self.grace).await;
        self.group.disarm();
        proc_tree::forget_leader(self.leader);
        if strays {
            proc_tree::reap_orphans();
        }
    }

    /// Waits up to `grace` for every copied output to reach end of file.
    async fn drained_within(&mut self, grace: Duration) -> bool {
        let drain = async { while self.outputs.join_next().await.is_some() {} };
        tokio::time::timeout(grace, drain).await.is_ok()
    }
}

/// Spawns the leader with the registry locked, so the orphan reaper never
/// mistakes it for an orphan.
fn spawn_leader(
    command: &mut tokio::process::Command,
    program: &str,
) -> Result<(Child, ProcessGroup, i32), LaunchError> {
    let mut leaders = Leaders::lock();
    let child = command
        .spawn()
        .map_err(|source| spawn_error(program, source))?;
    let group = ProcessGroup::of(&child);
    let pid = child.id().and_then(|id| i32::try_from(id).ok());
    let (Some(group), Some(pid)) = (group, pid) else {
        let source = std::io::Error::other("the program has no process id");
        return Err(spawn_error(program, source));
    };
    leaders.add(pid);
    Ok((child, group, pid))
}

fn spawn_error(program: &str, source: std::io::Error) -> LaunchError {
    let command = program.to_string();
    if source.kind() == std::io::ErrorKind::NotFound {
        LaunchError::Missing(command)
    } else {
        LaunchError::Spawn { command, source }
    }
}

/// Copies one output pipe into its file until end of file.
async fn copy_to(mut from: impl AsyncRead + Unpin, file: std::fs::File) {
    let mut to = tokio::fs::File::from_std(file);
    let _ = tokio::io::copy(&mut from, &mut to).await;
    let _ = to.flush().await;
}

fn create(path: &Path) -> Result<std::fs::File, LaunchError> {
    std::fs::File::create(path).map_err(|e| LaunchError::io(path, e))
}

/// The exit code, or 128 + the signal that killed the program.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
