//! The stage request, the runner's raw result, and the normalized outcome.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use crate::vocab::RunnerKind;
use crate::vocab::capability::{Capability, Decision, Enforcement};
use serde::{Deserialize, Serialize};

/// What kind of thing a stage runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A work item claimed from a queue (task, spec, probe, incident, ...).
    WorkItem,
    /// A closure target whose lineage has drained (the `on drained` stage).
    ClosureTarget,
}

/// The work item a stage acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItemRef {
    pub family: String,
    pub id: String,
    /// Absolute path of the document in its `active/` directory.
    pub path: PathBuf,
}

/// The closure target the `on drained` stage judges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureRef {
    pub root_spec_id: String,
    pub target_path: PathBuf,
    pub root_spec_contract_path: Option<PathBuf>,
    pub root_idea_contract_path: Option<PathBuf>,
    pub rubric_path: PathBuf,
    pub verdict_path: PathBuf,
    pub report_path: PathBuf,
}

/// One budget's use so far for this work item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetUse {
    pub used: u64,
    pub limit: u64,
}

/// A stage that already ran in this run, for the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousStage {
    pub node: String,
    pub outcome: String,
    pub result_path: PathBuf,
}

/// Everything one stage invocation needs. Persisted as
/// `runs/<run_id>/request.<request_id>.json` before the runner starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRequest {
    pub request_id: String,
    pub run_id: String,
    pub mode_id: String,
    pub plan_id: String,
    pub plane: String,
    pub node: String,
    pub stage_kind: String,
    pub request_kind: RequestKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item: Option<WorkItemRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_target: Option<ClosureRef>,
    /// Legal outcomes in the stage kind's order (`BLOCKED` included).
    pub legal_outcomes: Vec<String>,
    pub running_marker: String,
    /// The workspace root (the agent's working directory).
    pub workspace_root: PathBuf,
    /// The `millrace-agents/` directory.
    pub agents_dir: PathBuf,
    pub run_dir: PathBuf,
    pub entrypoint: PathBuf,
    pub skills: Vec<PathBuf>,
    pub runner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    pub timeout_s: u64,
    pub budgets: BTreeMap<String, BudgetUse>,
    pub previous_stages: Vec<PreviousStage>,
    /// The composed prompt, written before the runner starts.
    pub prompt_path: PathBuf,
    /// The stage's execution capabilities, as the plan froze them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<StageGrant>,
}

/// One capability of the stage: the plan's decision (an approved gate is
/// `granted`) and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageGrant {
    pub grant_id: String,
    pub capability: Capability,
    pub decision: Decision,
    pub enforcement: Enforcement,
}

impl StageGrant {
    /// `workspace.write=denied/runner_enforced`.
    pub fn summary(&self) -> String {
        format!("{}={}/{}", self.capability, self.decision, self.enforcement)
    }
}

impl StageRequest {
    /// `<run_dir>/<name>.<request_id>.<ext>`: per-request artifact paths.
    pub fn artifact(&self, name: &str, ext: &str) -> PathBuf {
        self.run_dir
            .join(format!("{name}.{}.{ext}", self.request_id))
    }
}

/// Token counts reported by a harness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input: u64,
    pub cached_input: u64,
    pub output: u64,
    pub thinking: u64,
    pub total: u64,
}

/// Why a runner failed before or instead of answering. The transient ones
/// are retried with backoff by the recovery layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    RunnerBinaryMissing,
    AuthMissingOrInvalid,
    ProviderRateLimited,
    NetworkUnavailable,
    ProviderUnavailable,
    RunnerTimeout,
    RunnerTransportFailure,
    /// The runner could not keep the stage's output or records (a full
    /// disk, an I/O error): the machine failed, not the agent, and the
    /// stage's answer may be in what was lost.
    RunnerIoFailure,
    MissingTerminalResult,
    ConflictingTerminalResults,
    IllegalTerminalResult,
    /// An operator denied an execution capability the stage is gated on:
    /// the stage never ran.
    CapabilityApprovalDenied,
    /// The runner's configuration would undo a denial it is meant to hold
    /// (an argument that turns Codex's sandbox off): the stage never ran.
    /// Not retried: it passes only when the operator changes the config.
    CapabilityNotHeld,
    /// The runtime could not prepare or merge an execution lane's git
    /// worktree (docs/lanes.md): git failed, not the agent. Retried, as a
    /// lock held by another git process or a full disk passes.
    LaneWorktreeFailure,
    /// The lane's worktree cannot be prepared or merged until the operator
    /// acts (a task id that cannot name a branch, a worktree left on
    /// another branch, a merge check that cannot start): not retried.
    LaneWorktreeInvalid,
}

impl FailureClass {
    /// Failures worth retrying: the world may be different in a minute (a
    /// disk that was full may have room again).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureClass::ProviderRateLimited
                | FailureClass::NetworkUnavailable
                | FailureClass::ProviderUnavailable
                | FailureClass::RunnerTimeout
                | FailureClass::RunnerIoFailure
                | FailureClass::LaneWorktreeFailure
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::RunnerBinaryMissing => "runner_binary_missing",
            FailureClass::AuthMissingOrInvalid => "auth_missing_or_invalid",
            FailureClass::ProviderRateLimited => "provider_rate_limited",
            FailureClass::NetworkUnavailable => "network_unavailable",
            FailureClass::ProviderUnavailable => "provider_unavailable",
            FailureClass::RunnerTimeout => "runner_timeout",
            FailureClass::RunnerTransportFailure => "runner_transport_failure",
            FailureClass::RunnerIoFailure => "runner_io_failure",
            FailureClass::MissingTerminalResult => "missing_terminal_result",
            FailureClass::ConflictingTerminalResults => "conflicting_terminal_results",
            FailureClass::IllegalTerminalResult => "illegal_terminal_result",
            FailureClass::CapabilityApprovalDenied => "capability_approval_denied",
            FailureClass::CapabilityNotHeld => "capability_not_held",
            FailureClass::LaneWorktreeFailure => "lane_worktree_failure",
            FailureClass::LaneWorktreeInvalid => "lane_worktree_invalid",
        }
    }
}

/// How the runner's process (or in-process script) ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunnerExit {
    /// It ran to the end (an exit code for processes; 0 for in-process runners).
    /// A code other than 0 is a failure, whatever the last message says.
    Completed { code: i32 },
    /// An agent CLI recorded its final answer, ending in one legal marker,
    /// then exited with a non-zero `code`: the answer stands and the code is
    /// kept as evidence (the rule of each runner is in
    /// `docs/harness-runners.md`).
    AnsweredThenExited { code: i32 },
    /// Killed at its timeout (its whole process group).
    TimedOut,
    /// It could not run or failed in a classified way.
    Failed {
        class: FailureClass,
        message: String,
    },
    /// Stopped because the daemon is shutting down; the stage is not finished.
    Cancelled,
}

/// What a runner hands back: the raw material for normalization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerResult {
    pub exit: RunnerExit,
    /// The stage's final message (the text that must end in `### OUTCOME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenUsage>,
    pub duration_ms: u64,
    /// Files the runner wrote (stdout, stderr, events, last message).
    pub artifacts: Vec<PathBuf>,
}

/// Cancellation of a running stage (daemon stop): a runner must stop its
/// process group promptly and return [`RunnerExit::Cancelled`].
pub type Cancel = tokio::sync::watch::Receiver<bool>;

/// A boxed future, so runners can be used as trait objects.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = RunnerResult> + Send + 'a>>;

/// A way to execute one stage.
pub trait Runner: Send + Sync {
    /// Which built-in runner this is.
    fn kind(&self) -> RunnerKind;
    /// The name bound in `.loop` files (`runner codex_cli`).
    fn name(&self) -> &'static str {
        self.kind().as_str()
    }
    /// Runs the stage described by `request`; the prompt is at `request.prompt_path`.
    fn run<'a>(&'a self, request: &'a StageRequest, cancel: Cancel) -> RunFuture<'a>;
}

/// The normalized answer of a stage: exactly one legal outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageOutcome {
    pub outcome: String,
    /// Set when the outcome is a synthetic `BLOCKED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_class: Option<FailureClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// Markers found in the last message, in order.
    pub detected_markers: Vec<String>,
    /// `<run_dir>/stage_result_metadata.json` as written by the stage, if any
    /// (result keys such as `resume_stage`).
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Why `stage_result_metadata.json` was present but unreadable (it is
    /// then ignored and `metadata` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_error: Option<String>,
}
