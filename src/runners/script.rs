//! The `script` runner: answers stages in process, from a TOML script.
//!
//! No agent and no child process: each stage's answer comes from a script
//! file, which makes whole runs reproducible (the demo and the tests use it).
//! Without a script, or when the file does not exist, every stage answers its
//! first legal outcome (the success outcome).
//!
//! ```toml
//! [[step]]
//! node = "checker"                       # required
//! work_item = "task-1"                   # optional: only this item; absent = any
//! outcomes = ["FIX_NEEDED", "CHECKER_PASS"]
//! message = "Checked {work_item_id}."    # optional answer body
//! delay_ms = 50                          # optional
//! tokens = { input = 1200, output = 300 }
//! metadata = { resume_stage = "builder" } # -> {run_dir}/stage_result_metadata.json
//!
//! [[step.writes]]
//! path = "{run_dir}/checker_report.md"
//! content = "Checked {work_item_id} in {run_id}.\n"
//! ```
//!
//! - A step applies to its `node`; a step naming the stage's work item wins
//!   over one without `work_item`, and among equals the first in the file.
//!   For `on drained` stages the work item id is the closure target's root
//!   spec id. A stage with no step answers its first legal outcome.
//! - `outcomes` are consumed in order per (node, work item id), for the life
//!   of the workspace: the counters are kept in
//!   `<agents_dir>/state/script_runner_progress.json`, so a restarted daemon
//!   continues. The last outcome repeats. An empty or absent list answers the
//!   first legal outcome. Outcomes are not checked here: an illegal one is
//!   normalized to `BLOCKED` like any agent's.
//! - `writes` paths and contents, and `message`, take the placeholders
//!   `{run_dir}`, `{agents_dir}`, `{workspace}`, `{work_item_id}`,
//!   `{work_item_path}`, `{request_id}`, `{run_id}` and `{root_spec_id}`
//!   (empty when there is none). A relative path is under the workspace root.
//! - `delay_ms` waits before anything is consumed or written; cancellation
//!   during the wait leaves no trace.
//!
//! The answer (`message`, a blank line, `### OUTCOME`) is written to
//! `last_message.<request_id>.txt` in the run directory. A
//! `stage_result_metadata.json` left by an earlier stage of the run is
//! removed first. A script that does not parse fails the stage with
//! `runner_transport_failure` and a message naming the file and line.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::progress::take_turn;
use super::script_file::{Script, ScriptError, Step, expand, subject_id, write_target};
use super::{Cancel, FailureClass, RunFuture, Runner, RunnerExit, RunnerResult, StageRequest};
use super::{TokenUsage, cancelled, is_cancelled};
use super::{marker_line, metadata_path, remove_stage_metadata};
use crate::fs_error::{at, json_at};
use crate::vocab::RunnerKind;

/// The in-process runner driven by a script file.
#[derive(Debug)]
pub struct ScriptRunner {
    script: Option<PathBuf>,
    /// Serializes the read-modify-write of the progress counters.
    progress: Mutex<()>,
}

/// The answer a step produced, before it is written down.
struct Answer {
    text: String,
    artifacts: Vec<PathBuf>,
    tokens: Option<TokenUsage>,
}

impl ScriptRunner {
    /// A runner reading `script` (re-read at each stage, so edits apply).
    pub fn new(script: Option<PathBuf>) -> ScriptRunner {
        ScriptRunner {
            script,
            progress: Mutex::new(()),
        }
    }

    /// Checks that the script file, if any, parses.
    pub fn validate(&self) -> Result<(), ScriptError> {
        self.load().map(|_| ())
    }

    fn load(&self) -> Result<Script, ScriptError> {
        match &self.script {
            Some(path) => Script::load(path),
            None => Ok(Script::default()),
        }
    }

    async fn run_stage(&self, request: &StageRequest, mut cancel: Cancel) -> RunnerResult {
        let started = Instant::now();
        let cleared = remove_stage_metadata(request)
            .map_err(|e| at("remove", metadata_path(request))(e).into());
        let exit_or_answer = match cleared.and_then(|()| self.load()) {
            Err(error) => Err(failed(error)),
            Ok(script) => {
                let step = script.step_for(&request.node, subject_id(request));
                self.answer(request, step, &mut cancel).await
            }
        };
        let duration_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
        match exit_or_answer {
            Ok(answer) => RunnerResult {
                exit: RunnerExit::Completed { code: 0 },
                last_message: Some(answer.text),
                tokens: answer.tokens,
                duration_ms,
                artifacts: answer.artifacts,
            },
            Err(exit) => RunnerResult {
                exit,
                last_message: None,
                tokens: None,
                duration_ms,
                artifacts: Vec::new(),
            },
        }
    }

    /// Waits, picks the outcome, performs the step's writes and records the
    /// answer.
    async fn answer(
        &self,
        request: &StageRequest,
        step: Option<&Step>,
        cancel: &mut Cancel,
    ) -> Result<Answer, RunnerExit> {
        let delay = step.and_then(|s| s.delay_ms).unwrap_or(0);
        if !wait(Duration::from_millis(delay), cancel).await {
            return Err(RunnerExit::Cancelled);
        }
        let (outcome, turn) = self.outcome(request, step).map_err(failed)?;
        let artifacts = apply(request, step, turn).map_err(failed)?;
        let text = answer_text(request, step, &outcome);
        let mut answer = Answer {
            text,
            artifacts,
            tokens: step.and_then(|s| s.tokens).map(|t| t.usage()),
        };
        let path = request.artifact("last_message", "txt");
        write_file(&path, &answer.text).map_err(failed)?;
        answer.artifacts.push(path);
        Ok(answer)
    }

    /// The step's next outcome (or the stage's first legal one) and the
    /// step's turn, counted from 1.
    fn outcome(
        &self,
        request: &StageRequest,
        step: Option<&Step>,
    ) -> Result<(String, u64), ScriptError> {
        let fallback = || request.legal_outcomes.first().cloned().unwrap_or_default();
        let Some(step) = step.filter(|s| !s.outcomes.is_empty()) else {
            return Ok((fallback(), 1));
        };
        let turn = {
            let _guard = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            take_turn(&request.agents_dir, &request.node, subject_id(request))?
        };
        let index = usize::try_from(turn).unwrap_or(usize::MAX);
        let last = step.outcomes.len() - 1;
        Ok((
            step.outcomes[index.min(last)].clone(),
            turn.saturating_add(1),
        ))
    }
}

impl Runner for ScriptRunner {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Script
    }

    fn run<'a>(&'a self, request: &'a StageRequest, cancel: Cancel) -> RunFuture<'a> {
        Box::pin(self.run_stage(request, cancel))
    }
}

/// Waits `delay` unless cancelled first; true when the wait completed.
async fn wait(delay: Duration, cancel: &mut Cancel) -> bool {
    if is_cancelled(cancel) {
        return false;
    }
    if delay.is_zero() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => true,
        _ = cancelled(cancel) => false,
    }
}

/// Writes the step's files due on `turn`, and its metadata.
fn apply(
    request: &StageRequest,
    step: Option<&Step>,
    turn: u64,
) -> Result<Vec<PathBuf>, ScriptError> {
    let Some(step) = step else {
        return Ok(Vec::new());
    };
    let mut written = Vec::new();
    for write in step.writes.iter().filter(|w| w.is_due(turn)) {
        let path = write_target(&expand(&write.path, request), request);
        write_file(&path, &expand(&write.content, request))?;
        written.push(path);
    }
    if let Some(metadata) = &step.metadata {
        let path = metadata_path(request);
        let json = serde_json::to_string_pretty(metadata).map_err(json_at("encode", &path))?;
        write_file(&path, &json)?;
        written.push(path);
    }
    Ok(written)
}

/// `message`, a blank line, then the marker line.
fn answer_text(request: &StageRequest, step: Option<&Step>, outcome: &str) -> String {
    let body = step.and_then(|s| s.message.as_deref()).unwrap_or("");
    let body = expand(body, request);
    let body = body.trim_end();
    let marker = marker_line(outcome);
    if body.is_empty() {
        format!("{marker}\n")
    } else {
        format!("{body}\n\n{marker}\n")
    }
}

/// Writes a file, creating its directory.
fn write_file(path: &std::path::Path, text: &str) -> Result<(), ScriptError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    }
    Ok(std::fs::write(path, text).map_err(at("write", path))?)
}

fn failed(error: ScriptError) -> RunnerExit {
    RunnerExit::Failed {
        class: FailureClass::RunnerTransportFailure,
        message: error.to_string(),
    }
}
