//! Stages in flight: each running stage's request and work item, the runner
//! task that executes it, the channel its answer comes back on, and the
//! slots (a plane's lanes) that wait for a transient-failure retry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use crate::runners::{FailureClass, RunnerExit, RunnerResult, Runners, StageRequest};
use crate::workspace::Timestamp;
use crate::workspace::documents::WorkDocument;
use crate::workspace::state::Slot;

/// A stage whose runner is running.
pub struct InFlight {
    pub request: StageRequest,
    pub document: Option<WorkDocument>,
    pub started_at: Timestamp,
    pub started: Instant,
}

impl InFlight {
    /// A stage starting now.
    pub fn now(request: StageRequest, document: Option<WorkDocument>) -> InFlight {
        InFlight {
            request,
            document,
            started_at: Timestamp::now(),
            started: Instant::now(),
        }
    }
}

/// A runner's answer, sent back to the engine.
pub struct Completion {
    pub slot: Slot,
    pub result: RunnerResult,
}

/// The stages in flight, one per slot (a plane's lane) at most, and the
/// slots waiting for a retry.
pub struct Flights {
    runners: Arc<Runners>,
    flying: BTreeMap<Slot, InFlight>,
    done_tx: mpsc::UnboundedSender<Completion>,
    cancel_rx: watch::Receiver<bool>,
    retry_at: BTreeMap<Slot, Instant>,
}

impl Flights {
    /// Nothing in flight; answers go to `done_tx`, `cancel_rx` cancels.
    pub fn new(
        runners: Runners,
        done_tx: mpsc::UnboundedSender<Completion>,
        cancel_rx: watch::Receiver<bool>,
    ) -> Flights {
        Flights {
            runners: Arc::new(runners),
            flying: BTreeMap::new(),
            done_tx,
            cancel_rx,
            retry_at: BTreeMap::new(),
        }
    }

    /// Hands the stage to its runner on a task of its own.
    pub fn launch(&mut self, slot: Slot, request: StageRequest, document: Option<WorkDocument>) {
        let runners = self.runners.clone();
        let cancel = self.cancel_rx.clone();
        let stage = request.clone();
        let answer = async move {
            match runners.get(&stage.runner) {
                Some(runner) => runner.run(&stage, cancel).await,
                None => missing_runner(&stage.runner),
            }
        };
        self.launch_job(slot, request, document, answer);
    }

    /// Runs a stage the runtime answers itself (a builtin node): `answer`
    /// stands in for its runner, and its result is kept and sent back the
    /// same way.
    pub fn launch_job(
        &mut self,
        slot: Slot,
        request: StageRequest,
        document: Option<WorkDocument>,
        answer: impl Future<Output = RunnerResult> + Send + 'static,
    ) {
        let done = self.done_tx.clone();
        let stage = request.clone();
        tokio::spawn(async move {
            let result = answer.await;
            if result.exit != RunnerExit::Cancelled {
                // Kept so a daemon killed before applying it can adopt it. A
                // plain write: a torn or lost file (killed mid-write, power
                // loss) does not parse, and then the stage runs again.
                let json = serde_json::to_vec_pretty(&result).unwrap_or_default();
                let _ = std::fs::write(stage.artifact("runner_result", "json"), &json);
            }
            let _ = done.send(Completion { slot, result });
        });
        self.flying.insert(slot, InFlight::now(request, document));
    }

    /// Records a stage whose runner already answered (adopted after a crash).
    pub fn adopt(&mut self, slot: Slot, stage: InFlight) {
        self.flying.insert(slot, stage);
    }

    /// The stage of `slot`, now that its runner answered.
    pub fn land(&mut self, slot: Slot) -> Option<InFlight> {
        self.flying.remove(&slot)
    }

    pub fn is_flying(&self, slot: Slot) -> bool {
        self.flying.contains_key(&slot)
    }

    /// The stages in flight, by slot.
    pub fn flying(&self) -> impl Iterator<Item = (Slot, &InFlight)> {
        self.flying.iter().map(|(slot, stage)| (*slot, stage))
    }

    pub fn is_empty(&self) -> bool {
        self.flying.is_empty()
    }

    /// The skill files the stages in flight read (absolute paths).
    pub fn bound_skills(&self) -> Vec<std::path::PathBuf> {
        let flying = self.flying.values();
        flying
            .flat_map(|f| f.request.skills.iter().cloned())
            .collect()
    }

    /// Later stages run with these runners; stages in flight keep theirs.
    pub fn replace_runners(&mut self, runners: Runners) {
        self.runners = Arc::new(runners);
    }

    /// `slot` runs again at `at` (a transient failure's backoff).
    pub fn retry_at(&mut self, slot: Slot, at: Instant) {
        self.retry_at.insert(slot, at);
    }

    /// True while `slot` waits for its retry.
    pub fn is_waiting(&self, slot: Slot) -> bool {
        self.retry_at
            .get(&slot)
            .is_some_and(|at| *at > Instant::now())
    }

    /// True when some slot waits for a retry.
    pub fn any_waiting(&self) -> bool {
        !self.retry_at.is_empty()
    }

    /// Forgets retries whose time has come (their runs resume normally).
    pub fn forget_due_retries(&mut self) {
        let now = Instant::now();
        self.retry_at.retain(|_, at| *at > now);
    }

    /// Forgets the retry of `slot` (its run was cleared).
    pub fn forget_retry(&mut self, slot: Slot) {
        self.retry_at.remove(&slot);
    }

    /// The slots waiting for a retry.
    pub fn waiting(&self) -> impl Iterator<Item = Slot> + '_ {
        self.retry_at.keys().copied()
    }

    /// When the next retry is due.
    pub fn next_retry(&self) -> Option<Instant> {
        self.retry_at.values().copied().min()
    }
}

/// The answer for a stage bound to a runner this build does not have.
fn missing_runner(name: &str) -> RunnerResult {
    RunnerResult {
        exit: RunnerExit::Failed {
            class: FailureClass::RunnerBinaryMissing,
            message: format!("runner `{name}` is not available in this build"),
        },
        last_message: None,
        tokens: None,
        duration_ms: 0,
        artifacts: Vec::new(),
    }
}
