//! Evidence of every stage: a stage-result JSON per request and a
//! `run_trace.json` per run (nodes, the edges taken and why).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runners::{StageOutcome, StageRequest, TokenUsage};
use crate::workspace::Timestamp;
use crate::workspace::atomic::write_atomic_unsynced;
use crate::workspace::input::read_text;

/// `runs/<run_id>/stage_results/<request_id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageResult {
    pub schema_version: String,
    pub kind: String,
    pub run_id: String,
    pub request_id: String,
    pub plane: String,
    pub node: String,
    pub stage_kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item_id: Option<String>,
    pub outcome: String,
    pub result_class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    pub detected_markers: Vec<String>,
    pub runner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    pub exit: serde_json::Value,
    pub duration_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenUsage>,
    pub prompt_path: PathBuf,
    pub artifact_paths: Vec<PathBuf>,
    /// `capability=decision/enforcement` per grant of the stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_grants: Vec<String>,
    pub started_at: Timestamp,
    pub completed_at: Timestamp,
}

impl StageResult {
    pub fn path(run_dir: &Path, request_id: &str) -> PathBuf {
        run_dir
            .join("stage_results")
            .join(format!("{request_id}.json"))
    }

    /// Not fsynced on its own: the durable commit of a step is the snapshot
    /// saved right after (on ext4's default ordered mode that commit carries
    /// this file along; elsewhere a power loss may lose the newest result,
    /// never the state, and the stage is adopted or run again).
    pub fn write(&self, run_dir: &Path) -> std::io::Result<PathBuf> {
        let path = StageResult::path(run_dir, &self.request_id);
        std::fs::create_dir_all(path.parent().unwrap_or(run_dir))?;
        write_atomic_unsynced(&path, &json_bytes(self))?;
        Ok(path)
    }
}

/// The fields of a stage result that come from the request and the outcome.
pub struct ResultParts<'a> {
    pub request: &'a StageRequest,
    pub outcome: &'a StageOutcome,
    pub result_class: String,
    pub exit: serde_json::Value,
    pub duration_seconds: f64,
    pub tokens: Option<TokenUsage>,
    pub artifacts: Vec<PathBuf>,
    pub started_at: Timestamp,
}

pub fn stage_result(parts: ResultParts<'_>) -> StageResult {
    let r = parts.request;
    StageResult {
        schema_version: "1.0".into(),
        kind: "stage_result".into(),
        run_id: r.run_id.clone(),
        request_id: r.request_id.clone(),
        plane: r.plane.clone(),
        node: r.node.clone(),
        stage_kind: r.stage_kind.clone(),
        work_item_family: r.work_item.as_ref().map(|w| w.family.clone()),
        work_item_id: r.work_item.as_ref().map(|w| w.id.clone()),
        outcome: parts.outcome.outcome.clone(),
        result_class: parts.result_class,
        failure_class: parts.outcome.failure_class.map(|c| c.as_str().to_string()),
        failure_message: parts.outcome.failure_message.clone(),
        detected_markers: parts.outcome.detected_markers.clone(),
        runner: r.runner.clone(),
        model: r.model.clone(),
        thinking: r.thinking.clone(),
        exit: parts.exit,
        duration_seconds: parts.duration_seconds,
        tokens: parts.tokens,
        prompt_path: r.prompt_path.clone(),
        artifact_paths: parts.artifacts,
        capability_grants: r.grants.iter().map(|g| g.summary()).collect(),
        started_at: parts.started_at,
        completed_at: Timestamp::now(),
    }
}

/// One stage of a run, in the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceNode {
    pub request_id: String,
    pub node: String,
    pub stage_kind: String,
    pub outcome: String,
    pub result_class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_class: Option<String>,
    pub result_path: PathBuf,
}

/// The edge a stage's outcome took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEdge {
    pub from: String,
    pub outcome: String,
    /// The next node, or `final:<name>`.
    pub to: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spawned: Vec<String>,
}

/// `runs/<run_id>/run_trace.json`, rewritten after every stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunTrace {
    pub schema_version: String,
    pub run_id: String,
    pub plane: String,
    pub plan_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_item_id: Option<String>,
    /// `running`, or the final the run ended in.
    pub status: String,
    pub nodes: Vec<TraceNode>,
    pub edges: Vec<TraceEdge>,
}

impl RunTrace {
    pub fn path(run_dir: &Path) -> PathBuf {
        run_dir.join("run_trace.json")
    }

    /// The trace of a run so far (empty when the run is new); a trace that is
    /// not a regular file of sane size reads as none.
    pub fn load(run_dir: &Path) -> Option<RunTrace> {
        let text = read_text(&RunTrace::path(run_dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Not fsynced: the durable record of a step is its stage result and the
    /// snapshot; after a power loss that drops the newest trace, recovery
    /// adopts the finished stage from its runner result or runs it again.
    pub fn write(&self, run_dir: &Path) -> std::io::Result<()> {
        write_atomic_unsynced(&RunTrace::path(run_dir), &json_bytes(self))
    }
}

fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
