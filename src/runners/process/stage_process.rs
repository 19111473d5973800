//! An agent CLI or program run as one stage: spawned in the workspace root
//! as the leader of its own process group, tagged with the stage's
//! `MILLRACE_*` environment, its output copied line by line into capped
//! logs in the run directory (see [`output`](crate::runners::output)), and
//! stopped as a whole tree.
//!
//! Stopping (timeout, cancellation) is SIGTERM to the group and to every
//! process of the stage (see [`tree`]), a grace
//! period for the leader, then SIGKILL. Whether it was stopped or exited on
//! its own, [`StageProcess::finish`] then kills and reaps whatever of the
//! stage is left, tools in sessions of their own included, and waits until
//! the output pipes are closed and the group is gone, and reports whether
//! every output was kept.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::task::JoinSet;

use super::containment;
use super::group::{DEFAULT_GRACE, ProcessGroup};
use super::launch::{Launch, LaunchError};
use super::tree::{self, Leaders, Scope};
use crate::fs_error::at;
use crate::platform::StageContainer;
use crate::runners::output::{CappedLog, Captured, LineSink, Style, pump};
use crate::runners::{Cancel, StageRequest, cancelled, stage_env};

/// Where the program's stdout goes.
pub enum StdoutTo<'a> {
    /// Kept (capped) in this text file.
    File(&'a Path),
    /// JSONL events: kept (capped) in this file, each line also handed to
    /// the sink as it arrives.
    Events(&'a Path, LineSink),
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

/// A running stage program.
pub struct StageProcess {
    child: Child,
    group: ProcessGroup,
    /// The stage's container (a cgroup on Linux), when containers are in use.
    container: Option<StageContainer>,
    leader: i32,
    tag: String,
    grace: Duration,
    outputs: JoinSet<Captured>,
    /// The first output that could not be kept, once its copy ended.
    lost: Captured,
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
        let stdout_log = stdout_log(stdout)?;
        let stderr_log = log(stderr_to, Style::Text)?;
        let started = start_leader(launch, request, stdin)?;
        let mut process = StageProcess {
            child: started.child,
            group: started.group,
            container: started.container,
            leader: started.pid,
            tag: request.request_id.clone(),
            grace: DEFAULT_GRACE,
            outputs: JoinSet::new(),
            lost: Ok(()),
        };
        process.copy_outputs(stdout_log, stderr_log);
        Ok(process)
    }

    /// The same process with another time between SIGTERM and SIGKILL.
    pub fn with_grace(mut self, grace: Duration) -> StageProcess {
        self.grace = grace;
        self
    }

    fn copy_outputs(&mut self, stdout: Option<(CappedLog, Option<LineSink>)>, stderr: CappedLog) {
        if let Some((log, sink)) = stdout {
            if let Some(pipe) = self.child.stdout.take() {
                self.outputs.spawn(pump(pipe, log, sink));
            }
        }
        if let Some(pipe) = self.child.stderr.take() {
            self.outputs.spawn(pump(pipe, stderr, None));
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
        let members = tree::stage_processes(&self.tag, &[self.leader], Scope::Running);
        tree::signal_all(&members, Signal::SIGTERM);
        self.signal_container(Signal::SIGTERM);
        self.group
            .stop_with_leader(&mut self.child, self.grace)
            .await;
        tree::signal_all(&members, Signal::SIGKILL);
        self.signal_container(Signal::SIGKILL);
    }

    /// Stops the leader with its whole tree (see [`StageProcess::stop`])
    /// unless it has exited and been reaped already.
    pub async fn stop_if_running(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            self.stop().await;
        }
    }

    /// After the leader is gone: stops what is left of the stage (its
    /// container, its group, then what the process tree attributes to it),
    /// reaps it, and waits until the output pipes are closed and the group
    /// is gone. `Err` names the first output that could not be kept: the
    /// stage's answer may be missing from it.
    pub async fn finish(mut self) -> Captured {
        tree::forget_leader(self.leader);
        self.group.signal(Signal::SIGTERM);
        self.signal_container(Signal::SIGTERM);
        let strays = self.container.is_none() && self.terminate_strays();
        self.drained_within(self.grace).await;
        self.group.signal(Signal::SIGKILL);
        if let Some(container) = self.container.take() {
            container.close(self.grace).await;
            tree::reap_orphans();
        }
        // The backstop: what escaped the container, or all there is without one.
        if strays || tree::may_have_strays() {
            tree::kill_stage(&self.tag, &[], Scope::Ended).await;
            tree::reap_orphans();
        }
        self.drained_within(self.grace).await;
        self.group.wait_empty(self.grace).await;
        self.group.disarm();
        std::mem::replace(&mut self.lost, Ok(()))
    }

    /// SIGTERM to what the process tree attributes to the ended stage;
    /// false (and nothing sent) when nothing can be there: walking `/proc`
    /// costs hundreds of reads, and a subreaper with no child but running
    /// stage leaders knows there is nothing to find.
    fn terminate_strays(&self) -> bool {
        if !tree::may_have_strays() {
            return false;
        }
        let members = tree::stage_processes(&self.tag, &[], Scope::Ended);
        tree::signal_all(&members, Signal::SIGTERM);
        true
    }

    fn signal_container(&self, signal: Signal) {
        if let Some(container) = &self.container {
            container.signal(signal);
        }
    }

    /// Waits up to `grace` for every copied output to reach end of file,
    /// keeping the first failure to keep one.
    async fn drained_within(&mut self, grace: Duration) -> bool {
        let (outputs, lost) = (&mut self.outputs, &mut self.lost);
        let drain = async {
            while let Some(copied) = outputs.join_next().await {
                match copied {
                    Ok(Err(error)) if lost.is_ok() => *lost = Err(error),
                    _ => {}
                }
            }
        };
        tokio::time::timeout(grace, drain).await.is_ok()
    }
}

/// A leader just started, and where.
struct Started {
    child: Child,
    group: ProcessGroup,
    pid: i32,
    container: Option<StageContainer>,
}

/// Starts the leader, in a container of its own when containers are in use.
fn start_leader(
    launch: &Launch,
    request: &StageRequest,
    stdin: Stdio,
) -> Result<Started, LaunchError> {
    let container = contained(launch, request)?;
    let mut command = command_for(launch, request, container.as_ref());
    command.stdin(stdin);
    match spawn_leader(&mut command, &launch.program) {
        Ok((child, group, pid)) => Ok(Started {
            child,
            group,
            pid,
            container,
        }),
        Err(error) => {
            if let Some(unused) = container {
                unused.discard();
            }
            Err(error)
        }
    }
}

/// The capped log of the program's stdout and who else reads it, unless
/// the runner reads the pipe itself.
fn stdout_log(stdout: StdoutTo<'_>) -> Result<Option<(CappedLog, Option<LineSink>)>, LaunchError> {
    Ok(match stdout {
        StdoutTo::File(path) => Some((log(path, Style::Text)?, None)),
        StdoutTo::Events(path, sink) => Some((log(path, Style::Json)?, Some(sink))),
        StdoutTo::Piped => None,
    })
}

/// The stage's container, when containers are in use. The shell that moves the
/// leader in would report a missing program only by an exit code, so the
/// program is looked up first.
fn contained(
    launch: &Launch,
    request: &StageRequest,
) -> Result<Option<StageContainer>, LaunchError> {
    let Some(container) = containment::stage_container(request) else {
        return Ok(None);
    };
    if !findable(launch, &request.workspace_root) {
        container.discard();
        return Err(LaunchError::Missing(launch.program.clone()));
    }
    Ok(Some(container))
}

/// Whether `program` names a file the way exec finds it: a path (relative
/// to the working directory), else a file in a directory of `PATH` (the
/// stage's own, when its environment sets one).
fn findable(launch: &Launch, cwd: &Path) -> bool {
    if launch.program.contains('/') {
        return cwd.join(&launch.program).is_file();
    }
    let stage_path = launch.env.iter().find(|(k, _)| k == "PATH");
    let path = stage_path.map_or_else(
        || std::env::var_os("PATH").unwrap_or_default(),
        |(_, v)| v.into(),
    );
    std::env::split_paths(&path).any(|dir| dir.join(&launch.program).is_file())
}

/// The command that starts the leader: in the workspace root, in a process
/// group of its own, with the stage's environment, inside `container` if any.
fn command_for(
    launch: &Launch,
    request: &StageRequest,
    container: Option<&StageContainer>,
) -> tokio::process::Command {
    let mut command = match container {
        Some(container) => container.command(&launch.program, &launch.args),
        None => {
            let mut plain = tokio::process::Command::new(&launch.program);
            plain.args(&launch.args);
            plain
        }
    };
    command
        .current_dir(&request.workspace_root)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .envs(stage_env(request))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    command
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

fn log(path: &Path, style: Style) -> Result<CappedLog, LaunchError> {
    Ok(CappedLog::create(path, style).map_err(at("create", path))?)
}

/// The exit code, or 128 + the signal that killed the program.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(program: &str, path: Option<&str>) -> Launch {
        let env = path.map(|p| vec![("PATH".to_string(), p.to_string())]);
        Launch {
            program: program.into(),
            args: Vec::new(),
            env: env.unwrap_or_default(),
        }
    }

    #[test]
    fn a_program_is_looked_up_as_exec_would() {
        let root = Path::new("/");
        assert!(findable(&launch("sh", Some("/nowhere:/bin")), root));
        assert!(!findable(&launch("sh", Some("/nowhere")), root));
        assert!(findable(&launch("/bin/sh", None), Path::new("/tmp")));
        assert!(findable(&launch("bin/sh", None), root));
        assert!(!findable(&launch("bin/sh", None), Path::new("/tmp")));
        assert!(!findable(&launch("millrace-no-such-program", None), root));
    }
}
