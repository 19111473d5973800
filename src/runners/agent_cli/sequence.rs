//! The run sequence every agent CLI shares, written once: prepare the run
//! directory, record the invocation, start the CLI as a stage process, read
//! it until it is done (or its timeout or a cancellation), stop it if it
//! still runs, make sure nothing of the stage is left, and turn what the
//! reader found into the runner's result (the runner's I/O failure when
//! the CLI's output could not be kept).
//!
//! Each CLI supplies only what differs ([`AgentCli`]): its program and
//! arguments, and how its output is read ([`EventReader`]): JSONL events
//! folded as they arrive (Codex, Claude Code), or an RPC conversation over
//! stdin and stdout (pi).

use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use super::invocation::{events_path, stderr_path, write_invocation};
use super::verdict::Verdict;
use crate::runners::output::Captured;
use crate::runners::process::{Launch, LaunchError, StageProcess, StdoutTo};
use crate::runners::run_dir::prepare;
use crate::runners::{Cancel, RunFuture, Runner, RunnerResult, StageRequest};
use crate::vocab::RunnerKind;

/// One agent CLI: what it is started as and how it is read.
pub trait AgentCli: Send + Sync {
    /// How its output is read while it runs.
    type Reader: EventReader;

    fn kind(&self) -> RunnerKind;

    /// The program, arguments and environment for a stage.
    fn launch(&self, request: &StageRequest, prompt: &str) -> Launch;

    /// A reader for one run.
    fn reader(&self) -> Self::Reader;

    /// Why the CLI must not start for this stage as configured: the
    /// operator's settings would undo a denial the plan says it holds.
    fn refusal(&self, _request: &StageRequest) -> Option<String> {
        None
    }
}

/// What a CLI's stdin is.
pub enum Stdin {
    /// `/dev/null`: the prompt is an argument.
    Closed,
    /// A pipe the reader writes to: the prompt is a message.
    Conversation,
}

impl Stdin {
    fn stdio(&self) -> Stdio {
        match self {
            Stdin::Closed => Stdio::null(),
            Stdin::Conversation => Stdio::piped(),
        }
    }

    /// As recorded in `invocation.<id>.json`.
    fn label(&self) -> &'static str {
        match self {
            Stdin::Closed => "null",
            Stdin::Conversation => "rpc",
        }
    }
}

/// How a CLI's output is read while it runs, and what it comes to.
pub trait EventReader: Send {
    const STDIN: Stdin;

    /// Where the CLI's stdout goes; `events` is `events.<id>.jsonl`.
    fn stdout<'a>(&mut self, events: &'a Path) -> Result<StdoutTo<'a>, LaunchError>;

    /// Reads the CLI until it is done, times out or is cancelled. A CLI
    /// still running afterwards is stopped with its whole tree.
    fn read(
        &mut self,
        process: &mut StageProcess,
        prompt: &str,
        request: &StageRequest,
        cancel: &mut Cancel,
    ) -> impl Future<Output = Result<(), LaunchError>> + Send;

    /// What the run came to, once nothing of the stage runs.
    fn verdict(self, request: &StageRequest) -> impl Future<Output = Verdict> + Send;
}

/// Every agent CLI is a runner through the one sequence.
impl<C: AgentCli> Runner for C {
    fn kind(&self) -> RunnerKind {
        AgentCli::kind(self)
    }

    fn run<'a>(&'a self, request: &'a StageRequest, cancel: Cancel) -> RunFuture<'a> {
        Box::pin(run_stage(self, request, cancel))
    }
}

async fn run_stage<C: AgentCli>(cli: &C, request: &StageRequest, cancel: Cancel) -> RunnerResult {
    let started = Instant::now();
    let verdict = match run_and_read(cli, request, cancel).await {
        Ok((reader, captured)) => reader.verdict(request).await.unless_lost(&captured),
        Err(error) => Verdict::exit(error.exit()),
    };
    verdict.into_result(request, started)
}

/// Runs the CLI to its end; then nothing of the stage is left running.
/// Also says whether the output the stage process copied was kept.
async fn run_and_read<C: AgentCli>(
    cli: &C,
    request: &StageRequest,
    mut cancel: Cancel,
) -> Result<(C::Reader, Captured), LaunchError> {
    if let Some(reason) = cli.refusal(request) {
        return Err(LaunchError::DenialUndone(reason));
    }
    let prompt = prepare(request)?;
    let launch = cli.launch(request, &prompt);
    let stdin = C::Reader::STDIN;
    let runner = AgentCli::kind(cli).as_str();
    write_invocation(request, runner, &launch, stdin.label())?;
    let mut reader = cli.reader();
    let events = events_path(request);
    let stdout = reader.stdout(&events)?;
    let stderr = stderr_path(request);
    let mut process = StageProcess::spawn(&launch, request, stdin.stdio(), stdout, &stderr)?;
    reader
        .read(&mut process, &prompt, request, &mut cancel)
        .await?;
    process.stop_if_running().await;
    let captured = process.finish().await;
    Ok((reader, captured))
}
