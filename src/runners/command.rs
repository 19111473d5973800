//! The `command` runner: runs any program as a stage.
//!
//! The program starts in the workspace root as the leader of its own process
//! group. It gets the prompt on stdin (then end of file) and the request in
//! `MILLRACE_*` environment variables (see [`stage_env`]) and as JSON at
//! `MILLRACE_REQUEST_PATH`. Its stdout and stderr are copied to
//! `stdout.<request_id>.txt` and `stderr.<request_id>.txt` in the run
//! directory. Its final message is the file `MILLRACE_LAST_MESSAGE_PATH` if it
//! wrote one, else its whole stdout, and it counts only after exit code 0
//! (a non-zero exit is a failure, a marker before it included); token
//! counts come from
//! `MILLRACE_TOKENS_PATH` (`{input, cached_input, output, thinking, total}`)
//! if it wrote that.
//!
//! The runner awaits the program's exit, its timeout (`timeout_s`; 0 means
//! none) or cancellation. On timeout or cancellation the whole group gets
//! SIGTERM, then SIGKILL after a grace period (2 s). When the leader is gone,
//! what is left of its group is stopped the same way, and the runner waits
//! until the group has closed its output pipes, so no process of the stage
//! outlives it: a process that left the group on purpose is found by its
//! `MILLRACE_REQUEST_ID` (or its ancestry) and killed too (see
//! [`proc_tree`](super::proc_tree)).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};
use tokio::task::JoinSet;

use super::command_env::{last_message_path, request_path, stage_env, tokens_path};
use super::group::ProcessGroup;
use super::proc_tree::{self, Leaders};
use super::tokens::read_token_file;
use super::{Cancel, FailureClass, RunFuture, Runner, RunnerExit, RunnerResult, StageRequest};
use super::{cancelled, compose_prompt, is_cancelled, remove_stage_metadata};

/// The default time between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// Which program the `command` runner starts, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandConfig {
    /// The program: a path, or a name looked up in `PATH`.
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables (the `MILLRACE_*` ones take precedence).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Runs a configured program per stage.
#[derive(Debug, Clone)]
pub struct CommandRunner {
    config: CommandConfig,
    grace: Duration,
}

/// Why a program could not be run (or waited for).
#[derive(Debug, thiserror::Error)]
enum CommandError {
    #[error("{path}: {source}")]
    Prepare {
        path: String,
        source: std::io::Error,
    },
    #[error("the workspace root {0} is not a directory")]
    NoWorkspace(String),
    #[error("runner binary not found: {0}")]
    Missing(String),
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("waiting for `{command}` failed: {source}")]
    Wait {
        command: String,
        source: std::io::Error,
    },
}

impl CommandError {
    fn exit(&self) -> RunnerExit {
        let class = match self {
            CommandError::Missing(_) => FailureClass::RunnerBinaryMissing,
            _ => FailureClass::RunnerTransportFailure,
        };
        let message = self.to_string();
        RunnerExit::Failed { class, message }
    }
}

/// What is ready before the program starts.
struct Prepared {
    prompt: Vec<u8>,
    stdout: std::fs::File,
    stderr: std::fs::File,
}

/// How waiting for the leader ended.
enum Ending {
    Exited(std::io::Result<std::process::ExitStatus>),
    TimedOut,
    Cancelled,
}

/// The tasks feeding the program's stdin and copying its output.
struct Streams {
    input: tokio::task::JoinHandle<()>,
    outputs: JoinSet<()>,
}

impl CommandRunner {
    /// A runner for `config`, with the default grace period.
    pub fn new(config: CommandConfig) -> CommandRunner {
        CommandRunner {
            config,
            grace: DEFAULT_GRACE,
        }
    }

    /// The same runner with another time between SIGTERM and SIGKILL.
    pub fn with_grace(mut self, grace: Duration) -> CommandRunner {
        self.grace = grace;
        self
    }

    /// Its configuration.
    pub fn config(&self) -> &CommandConfig {
        &self.config
    }

    async fn run_stage(&self, request: &StageRequest, cancel: Cancel) -> RunnerResult {
        let started = Instant::now();
        let exit = match self.execute(request, cancel).await {
            Ok(exit) => exit,
            Err(error) => error.exit(),
        };
        let answered = matches!(exit, RunnerExit::Completed { .. } | RunnerExit::TimedOut);
        let artifacts = [
            request_path(request),
            request.artifact("stdout", "txt"),
            request.artifact("stderr", "txt"),
            last_message_path(request),
            tokens_path(request),
        ];
        RunnerResult {
            last_message: answered.then(|| read_last_message(request)).flatten(),
            tokens: read_token_file(&tokens_path(request)),
            duration_ms: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
            artifacts: artifacts.into_iter().filter(|p| p.exists()).collect(),
            exit,
        }
    }

    async fn execute(
        &self,
        request: &StageRequest,
        mut cancel: Cancel,
    ) -> Result<RunnerExit, CommandError> {
        if is_cancelled(&cancel) {
            return Ok(RunnerExit::Cancelled);
        }
        let prepared = prepare(request)?;
        let mut child = self.spawn(request)?;
        let leader = child.id().and_then(|id| i32::try_from(id).ok());
        let Some(mut group) = ProcessGroup::of(&child) else {
            let source = std::io::Error::other("the program has no process id");
            return Err(self.wait_error(source));
        };
        let streams = Streams::start(&mut child, prepared);
        let ending = self.wait(&mut child, request.timeout_s, &mut cancel).await;
        if !matches!(ending, Ending::Exited(_)) {
            group.stop_with_leader(&mut child, self.grace).await;
        }
        self.sweep(&group, streams).await;
        if let Some(pid) = leader {
            proc_tree::forget_leader(pid);
        }
        if proc_tree::may_have_strays() {
            proc_tree::kill_stage(&request.request_id, &[]).await;
            proc_tree::reap_orphans();
        }
        group.disarm();
        match ending {
            Ending::Exited(Ok(status)) => Ok(RunnerExit::Completed {
                code: exit_code(status),
            }),
            Ending::Exited(Err(source)) => Err(self.wait_error(source)),
            Ending::TimedOut => Ok(RunnerExit::TimedOut),
            Ending::Cancelled => Ok(RunnerExit::Cancelled),
        }
    }

    fn spawn(&self, request: &StageRequest) -> Result<Child, CommandError> {
        let root = &request.workspace_root;
        if !root.is_dir() {
            return Err(CommandError::NoWorkspace(root.display().to_string()));
        }
        let mut command = tokio::process::Command::new(&self.config.command);
        command
            .args(&self.config.args)
            .current_dir(root)
            .envs(&self.config.env)
            .envs(stage_env(request))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut leaders = Leaders::lock();
        let child = command.spawn().map_err(|source| self.spawn_error(source))?;
        if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
            leaders.add(pid);
        }
        Ok(child)
    }

    fn spawn_error(&self, source: std::io::Error) -> CommandError {
        let command = self.config.command.clone();
        if source.kind() == std::io::ErrorKind::NotFound {
            CommandError::Missing(command)
        } else {
            CommandError::Spawn { command, source }
        }
    }

    fn wait_error(&self, source: std::io::Error) -> CommandError {
        let command = self.config.command.clone();
        CommandError::Wait { command, source }
    }

    /// Awaits the leader's exit, the timeout or cancellation.
    async fn wait(&self, child: &mut Child, timeout_s: u64, cancel: &mut Cancel) -> Ending {
        let limit = async {
            match timeout_s {
                0 => std::future::pending().await,
                secs => tokio::time::sleep(Duration::from_secs(secs)).await,
            }
        };
        tokio::select! {
            status = child.wait() => Ending::Exited(status),
            _ = limit => Ending::TimedOut,
            _ = cancelled(cancel) => Ending::Cancelled,
        }
    }

    /// Stops what is left of the group once the leader is reaped, and waits
    /// until the group has closed its output.
    async fn sweep(&self, group: &ProcessGroup, mut streams: Streams) {
        group.signal(Signal::SIGTERM);
        if !streams.drained_within(self.grace).await {
            group.signal(Signal::SIGKILL);
            streams.drained_within(self.grace).await;
        }
        streams.input.abort();
        group.signal(Signal::SIGKILL);
        group.wait_empty(self.grace).await;
    }
}

impl Runner for CommandRunner {
    fn name(&self) -> &'static str {
        "command"
    }

    fn run<'a>(&'a self, request: &'a StageRequest, cancel: Cancel) -> RunFuture<'a> {
        Box::pin(self.run_stage(request, cancel))
    }
}

impl Streams {
    /// Feeds the prompt and copies the output to the prepared files.
    fn start(child: &mut Child, prepared: Prepared) -> Streams {
        let mut outputs = JoinSet::new();
        if let Some(stdout) = child.stdout.take() {
            outputs.spawn(copy_to(stdout, prepared.stdout));
        }
        if let Some(stderr) = child.stderr.take() {
            outputs.spawn(copy_to(stderr, prepared.stderr));
        }
        let input = tokio::spawn(feed(child.stdin.take(), prepared.prompt));
        Streams { input, outputs }
    }

    /// Waits up to `grace` for every output pipe to reach end of file.
    async fn drained_within(&mut self, grace: Duration) -> bool {
        let drain = async { while self.outputs.join_next().await.is_some() {} };
        tokio::time::timeout(grace, drain).await.is_ok()
    }
}

/// Writes the prompt to the program's stdin, then closes it.
async fn feed(stdin: Option<ChildStdin>, prompt: Vec<u8>) {
    if let Some(mut stdin) = stdin {
        let _ = stdin.write_all(&prompt).await;
        let _ = stdin.shutdown().await;
    }
}

/// Copies one output pipe into its file until end of file.
async fn copy_to(mut from: impl AsyncRead + Unpin, file: std::fs::File) {
    let mut to = tokio::fs::File::from_std(file);
    let _ = tokio::io::copy(&mut from, &mut to).await;
    let _ = to.flush().await;
}

/// Creates the run directory and output files, writes the request and the
/// prompt if they are missing, and clears answers of an earlier attempt.
fn prepare(request: &StageRequest) -> Result<Prepared, CommandError> {
    std::fs::create_dir_all(&request.run_dir).map_err(|e| prep_error(&request.run_dir, e))?;
    remove_stage_metadata(request).map_err(|e| prep_error(&request.run_dir, e))?;
    for stale in [last_message_path(request), tokens_path(request)] {
        remove_if_present(&stale)?;
    }
    write_request(request)?;
    let prompt = prompt_bytes(request)?;
    let stdout = create(&request.artifact("stdout", "txt"))?;
    let stderr = create(&request.artifact("stderr", "txt"))?;
    Ok(Prepared {
        prompt,
        stdout,
        stderr,
    })
}

fn write_request(request: &StageRequest) -> Result<(), CommandError> {
    let path = request_path(request);
    if path.exists() {
        return Ok(());
    }
    let json = serde_json::to_vec_pretty(request).map_err(|e| prep_error(&path, e.into()))?;
    std::fs::write(&path, json).map_err(|e| prep_error(&path, e))
}

/// The prompt file's bytes; composed and written when it does not exist.
fn prompt_bytes(request: &StageRequest) -> Result<Vec<u8>, CommandError> {
    let path = &request.prompt_path;
    match std::fs::read(path) {
        Ok(bytes) => return Ok(bytes),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(prep_error(path, e)),
        Err(_) => {}
    }
    let prompt = compose_prompt(request);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| prep_error(dir, e))?;
    }
    std::fs::write(path, &prompt).map_err(|e| prep_error(path, e))?;
    Ok(prompt.into_bytes())
}

fn remove_if_present(path: &Path) -> Result<(), CommandError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(prep_error(path, e)),
        _ => Ok(()),
    }
}

fn create(path: &Path) -> Result<std::fs::File, CommandError> {
    std::fs::File::create(path).map_err(|e| prep_error(path, e))
}

fn prep_error(path: &Path, source: std::io::Error) -> CommandError {
    let path = path.display().to_string();
    CommandError::Prepare { path, source }
}

/// The exit code, or 128 + the signal that killed the program.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// The last-message file if the program wrote one, else its stdout.
fn read_last_message(request: &StageRequest) -> Option<String> {
    let bytes = std::fs::read(last_message_path(request))
        .or_else(|_| std::fs::read(request.artifact("stdout", "txt")))
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}
