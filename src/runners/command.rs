//! The `command` runner: runs any program as a stage.
//!
//! The program starts in the workspace root as the leader of its own process
//! group. It gets the prompt on stdin (then end of file) and the request in
//! `MILLRACE_*` environment variables (see
//! [`stage_env`](super::stage_env)) and as JSON at `MILLRACE_REQUEST_PATH`.
//! Its stdout and stderr are kept in `stdout.<request_id>.txt` and
//! `stderr.<request_id>.txt` in the run directory, each up to
//! [`OUTPUT_MAX_BYTES`](super::OUTPUT_MAX_BYTES) (the beginning and the
//! end; a line says what was cut); output that could not be written (a
//! full disk) fails the stage as `runner_io_failure`, whatever the program
//! answered, since its answer may be what was lost. Its final message is
//! the file `MILLRACE_LAST_MESSAGE_PATH` if it wrote one, else its stdout,
//! either read from its end, at most [`MESSAGE_MAX_BYTES`]; it counts only
//! after exit code 0 (a non-zero exit is a failure, a marker before it
//! included). Token counts come from `MILLRACE_TOKENS_PATH` (`{input,
//! cached_input, output, thinking, total}`) if it wrote that.
//!
//! The runner awaits the program's exit, its timeout (`timeout_s`; 0 means
//! none) or cancellation. On timeout or cancellation the whole group gets
//! SIGTERM, then SIGKILL after a grace period (2 s). When the leader is gone,
//! what is left of its group is stopped the same way, and the runner waits
//! until the group has closed its output pipes, so no process of the stage
//! outlives it: a process that left the group on purpose is found and
//! killed too (see [`process`](super::process)).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdin;

use super::command_env::{last_message_path, request_path, tokens_path};
use super::output::{Captured, unless_lost};
use super::process::{DEFAULT_GRACE, Ending, Launch, LaunchError, StageProcess, StdoutTo};
use super::run_dir;
use super::tokens::read_token_file;
use super::{Cancel, RunFuture, Runner, RunnerExit, RunnerResult, StageRequest};
use super::{MESSAGE_MAX_BYTES, is_cancelled, read_tail};
use crate::vocab::RunnerKind;

/// `[runners.command]`: which program the `command` runner starts, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommandConfig {
    /// The program: a path, or a name looked up in `PATH` (required to use
    /// this runner).
    pub command: Option<String>,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (the `MILLRACE_*` ones take precedence).
    pub env: BTreeMap<String, String>,
}

/// Runs a configured program per stage.
#[derive(Debug, Clone)]
pub struct CommandRunner {
    config: CommandConfig,
    grace: Duration,
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
        cancel: Cancel,
    ) -> Result<RunnerExit, LaunchError> {
        if is_cancelled(&cancel) {
            return Ok(RunnerExit::Cancelled);
        }
        let Some(program) = self.config.command.clone() else {
            return Err(LaunchError::Missing(
                "no program is configured: set `[runners.command] command` in millrace.toml".into(),
            ));
        };
        let prompt = prepare(request)?;
        let launch = Launch {
            program,
            args: self.config.args.clone(),
            env: self.config.env.clone().into_iter().collect(),
        };
        let stdout = request.artifact("stdout", "txt");
        let stdout = StdoutTo::File(&stdout);
        let (ending, captured) =
            run_to_exit(&launch, request, prompt, stdout, cancel, self.grace).await?;
        let exit = match ending {
            Ending::Exited(code) => RunnerExit::Completed { code },
            Ending::TimedOut => RunnerExit::TimedOut,
            Ending::Cancelled => RunnerExit::Cancelled,
        };
        Ok(unless_lost(exit, &captured))
    }
}

impl Runner for CommandRunner {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Command
    }

    fn run<'a>(&'a self, request: &'a StageRequest, cancel: Cancel) -> RunFuture<'a> {
        Box::pin(self.run_stage(request, cancel))
    }
}

/// Runs a program with `input` on stdin (then end of file) and its stdout
/// going to `stdout` until it exits, times out or is cancelled; then
/// nothing of the stage is left running. Also says whether its output was
/// kept.
async fn run_to_exit(
    launch: &Launch,
    request: &StageRequest,
    input: Vec<u8>,
    stdout: StdoutTo<'_>,
    mut cancel: Cancel,
    grace: Duration,
) -> Result<(Ending, Captured), LaunchError> {
    let stderr = request.artifact("stderr", "txt");
    let mut process = StageProcess::spawn(launch, request, Stdio::piped(), stdout, &stderr)?;
    process = process.with_grace(grace);
    let feeding = tokio::spawn(feed(process.take_stdin(), input));
    let ending = process.wait(request.timeout_s, &mut cancel).await;
    if !matches!(ending, Ending::Exited(_)) {
        process.stop().await;
    }
    let captured = process.finish().await;
    feeding.abort();
    Ok((ending, captured))
}

/// Writes `bytes` to the program's stdin, then closes it.
async fn feed(stdin: Option<ChildStdin>, bytes: Vec<u8>) {
    if let Some(mut stdin) = stdin {
        let _ = stdin.write_all(&bytes).await;
        let _ = stdin.shutdown().await;
    }
}

/// Prepares the run directory like the agent-CLI runners, also clearing
/// the token counts of an earlier attempt; returns the prompt.
fn prepare(request: &StageRequest) -> Result<Vec<u8>, LaunchError> {
    let prompt = run_dir::prepare(request)?;
    run_dir::remove_if_present(&tokens_path(request))?;
    Ok(prompt.into_bytes())
}

/// The end of the last-message file if the program wrote one, else of its
/// stdout.
fn read_last_message(request: &StageRequest) -> Option<String> {
    let stdout = request.artifact("stdout", "txt");
    let path = [last_message_path(request), stdout]
        .into_iter()
        .find(|p| p.exists())?;
    Some(read_tail(&path, MESSAGE_MAX_BYTES))
}
