//! Reading an agent CLI's JSONL events as they arrive: each line of its
//! stdout is kept (capped) in `events.<id>.jsonl` and folded into the
//! runner's report, so nothing is read back whole after the stage (the
//! reader of `codex_cli` and `claude_code`; `pi_rpc` holds a conversation
//! instead, see [`pi`](super::pi)).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use super::sequence::{EventReader, Stdin};
use super::verdict::Verdict;
use crate::runners::output::LineSink;
use crate::runners::process::{Ending, LaunchError, StageProcess, StdoutTo};
use crate::runners::{Cancel, RunnerExit, StageRequest};

/// A report of a CLI's JSONL events, fed each event as it arrives, and
/// what it comes to once the CLI is gone.
pub trait EventFold: Default + Send + 'static {
    fn fold(&mut self, event: &serde_json::Value);

    /// The verdict of a run that exited on its own with `code`.
    fn exited(self, request: &StageRequest, code: i32) -> Verdict;

    /// The verdict of a run the runner stopped (timeout, cancellation).
    fn cut_short(self, request: &StageRequest, exit: RunnerExit) -> Verdict;

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

/// The reader of a CLI with stdin closed (`/dev/null`) whose stdout is
/// JSONL events, folded into an `F`.
#[derive(Default)]
pub struct FoldedEvents<F> {
    folded: Arc<Mutex<F>>,
    /// How waiting for the CLI ended; `None` until it is read.
    ending: Option<Ending>,
}

impl<F: EventFold> EventReader for FoldedEvents<F> {
    const STDIN: Stdin = Stdin::Closed;

    fn stdout<'a>(&mut self, events: &'a Path) -> Result<StdoutTo<'a>, LaunchError> {
        Ok(StdoutTo::Events(events, json_sink(self.folded.clone())))
    }

    async fn read(
        &mut self,
        process: &mut StageProcess,
        _prompt: &str,
        request: &StageRequest,
        cancel: &mut Cancel,
    ) -> Result<(), LaunchError> {
        self.ending = Some(process.wait(request.timeout_s, cancel).await);
        Ok(())
    }

    async fn verdict(self, request: &StageRequest) -> Verdict {
        let report = std::mem::take(&mut *lock(&self.folded));
        match self.ending {
            Some(Ending::Exited(code)) => report.exited(request, code),
            Some(Ending::TimedOut) => report.cut_short(request, RunnerExit::TimedOut),
            // Cancelled (a reader is always read before it is judged).
            Some(Ending::Cancelled) | None => report.cut_short(request, RunnerExit::Cancelled),
        }
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

fn lock<F>(folded: &Mutex<F>) -> MutexGuard<'_, F> {
    folded.lock().unwrap_or_else(|e| e.into_inner())
}

/// A JSON number field as `u64` (0 when absent).
pub fn count(value: &serde_json::Value, key: &str) -> u64 {
    value
        .get(key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}
