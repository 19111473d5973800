//! What the agent-CLI runners (`codex_cli`, `pi_rpc`, `claude_code`) share:
//! preparing the run directory, recording the exact invocation, and
//! assembling the result.
//!
//! Per stage, in the run directory: `request.<id>.json`, `prompt.<id>.md`,
//! `invocation.<id>.json` (the argv and the names, not the values, of the
//! environment variables the CLI was given), `events.<id>.jsonl` (the CLI's
//! JSONL output, folded into the runner's report line by line as it
//! arrives and kept up to a cap, see [`output`](super::output)),
//! `stderr.<id>.txt` and `last_message.<id>.txt`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::markers::ends_in_one_legal_marker;
use super::output::LineSink;
use super::process::{Ending, Input, Launch, LaunchError, StdoutTo, run_to_exit};
use super::{Cancel, RunnerExit, RunnerResult, StageRequest, TokenUsage};
use super::{compose_prompt, last_message_path, remove_stage_metadata, request_path, stage_env};

/// `invocation.<request_id>.json`.
#[derive(Debug, Serialize)]
struct Invocation<'a> {
    runner: &'a str,
    program: &'a str,
    argv: &'a [String],
    cwd: &'a Path,
    /// Names of the variables set for the CLI (values are not recorded:
    /// they may be secrets).
    env_keys: Vec<&'a str>,
    stdin: &'a str,
    prompt_path: &'a Path,
}

/// `<run_dir>/events.<request_id>.jsonl`: the CLI's JSONL output.
pub fn events_path(request: &StageRequest) -> PathBuf {
    request.artifact("events", "jsonl")
}

/// `<run_dir>/stderr.<request_id>.txt`.
pub fn stderr_path(request: &StageRequest) -> PathBuf {
    request.artifact("stderr", "txt")
}

/// `<run_dir>/invocation.<request_id>.json`.
pub fn invocation_path(request: &StageRequest) -> PathBuf {
    request.artifact("invocation", "json")
}

/// Creates the run directory, clears answers of an earlier attempt, writes
/// the request and the prompt if missing; returns the prompt.
pub fn prepare(request: &StageRequest) -> Result<String, LaunchError> {
    let dir = &request.run_dir;
    std::fs::create_dir_all(dir).map_err(|e| LaunchError::io(dir, e))?;
    remove_stage_metadata(request).map_err(|e| LaunchError::io(dir, e))?;
    remove_if_present(&last_message_path(request))?;
    write_if_missing(&request_path(request), || {
        serde_json::to_string_pretty(request).unwrap_or_default()
    })?;
    write_if_missing(&request.prompt_path, || compose_prompt(request))?;
    let path = &request.prompt_path;
    std::fs::read_to_string(path).map_err(|e| LaunchError::io(path, e))
}

/// Removes a file left by an earlier attempt, if there is one.
pub fn remove_if_present(path: &Path) -> Result<(), LaunchError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(LaunchError::io(path, e)),
        _ => Ok(()),
    }
}

fn write_if_missing(path: &Path, text: impl FnOnce() -> String) -> Result<(), LaunchError> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LaunchError::io(dir, e))?;
    }
    std::fs::write(path, text()).map_err(|e| LaunchError::io(path, e))
}

/// Records exactly what the CLI is given.
pub fn write_invocation(
    request: &StageRequest,
    runner: &str,
    launch: &Launch,
    stdin: &str,
) -> Result<(), LaunchError> {
    let stage = stage_env(request);
    let mut env_keys: Vec<&str> = launch.env.iter().map(|(k, _)| k.as_str()).collect();
    env_keys.extend(stage.iter().map(|(k, _)| *k));
    env_keys.sort_unstable();
    env_keys.dedup();
    let record = Invocation {
        runner,
        program: &launch.program,
        argv: &launch.args,
        cwd: &request.workspace_root,
        env_keys,
        stdin,
        prompt_path: &request.prompt_path,
    };
    let path = invocation_path(request);
    let json = serde_json::to_string_pretty(&record).unwrap_or_default();
    std::fs::write(&path, json).map_err(|e| LaunchError::io(&path, e))
}

/// A run directory path the CLIs accept: absolute, without `..` (Codex
/// refuses `--output-last-message` paths containing `..`).
pub fn plain_path(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// What a harness runner found out, before it becomes a [`RunnerResult`].
pub struct Verdict {
    pub exit: RunnerExit,
    pub last_message: Option<String>,
    pub tokens: Option<TokenUsage>,
}

impl Verdict {
    /// A verdict with only an exit.
    pub fn exit(exit: RunnerExit) -> Verdict {
        Verdict {
            exit,
            last_message: None,
            tokens: None,
        }
    }

    /// The runner result: the last message is written to
    /// `last_message.<id>.txt`, and the artifacts that exist are listed.
    pub fn into_result(self, request: &StageRequest, started: Instant) -> RunnerResult {
        if let Some(text) = &self.last_message {
            let _ = std::fs::write(last_message_path(request), text);
        }
        let candidates = [
            request_path(request),
            invocation_path(request),
            events_path(request),
            stderr_path(request),
            last_message_path(request),
        ];
        RunnerResult {
            exit: self.exit,
            last_message: self.last_message,
            tokens: self.tokens,
            duration_ms: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
            artifacts: candidates.into_iter().filter(|p| p.exists()).collect(),
        }
    }
}

/// A reader of a CLI's JSONL events, fed each event as it arrives.
pub trait EventFold: Default + Send + 'static {
    fn fold(&mut self, event: &serde_json::Value);

    /// A report of `events`, folded in order (how unit tests build one).
    #[cfg(test)]
    fn from_events(events: &[serde_json::Value]) -> Self {
        let mut report = Self::default();
        for event in events {
            report.fold(event);
        }
        report
    }
}

/// Hands each line that is JSON to the fold; other lines are only logged.
fn json_sink<F: EventFold>(folded: Arc<Mutex<F>>) -> LineSink {
    Box::new(move |line| {
        if let Ok(event) = serde_json::from_slice(line) {
            lock(&folded).fold(&event);
        }
    })
}

fn lock<F>(folded: &Mutex<F>) -> std::sync::MutexGuard<'_, F> {
    folded.lock().unwrap_or_else(|e| e.into_inner())
}

/// A JSON number field as `u64` (0 when absent).
pub fn count(value: &serde_json::Value, key: &str) -> u64 {
    value
        .get(key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// Runs a CLI with stdin closed (`/dev/null`) until it exits, times out or
/// is cancelled, folding its JSONL stdout into an `F` as it arrives (and
/// keeping it, capped, in `events.<id>.jsonl`); then nothing of the stage
/// is left running.
pub async fn run_folding<F: EventFold>(
    launch: &Launch,
    request: &StageRequest,
    runner: &str,
    cancel: Cancel,
) -> Result<(Ending, F), LaunchError> {
    write_invocation(request, runner, launch, "null")?;
    let folded = Arc::new(Mutex::new(F::default()));
    let events = events_path(request);
    let stdout = StdoutTo::Events(&events, json_sink(folded.clone()));
    let grace = super::DEFAULT_GRACE;
    let ending = run_to_exit(launch, request, Input::Closed, stdout, cancel, grace).await?;
    let report = std::mem::take(&mut *lock(&folded));
    Ok((ending, report))
}

/// The exit of a CLI that exited with `code` after recording `answer` (its
/// own record of the final answer, written when its run was over): a
/// non-zero code does not take back an answer that ends in its one legal
/// marker; anything else is judged by the code.
pub fn exit_after(code: i32, answer: Option<&str>, legal: &[String]) -> RunnerExit {
    match answer {
        Some(text) if code != 0 && ends_in_one_legal_marker(text, legal) => {
            RunnerExit::AnsweredThenExited { code }
        }
        _ => RunnerExit::Completed { code },
    }
}

/// The exit for an ending other than the program's own exit.
pub fn stopped(ending: Ending) -> Option<RunnerExit> {
    match ending {
        Ending::Exited(_) => None,
        Ending::TimedOut => Some(RunnerExit::TimedOut),
        Ending::Cancelled => Some(RunnerExit::Cancelled),
    }
}
