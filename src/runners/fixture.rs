//! A sample stage request for the unit tests of this module.

use std::collections::BTreeMap;
use std::path::Path;

use super::{RequestKind, StageRequest, WorkItemRef};

/// An execution checker request on `task-1`, with its run dir at `run_dir`.
pub fn request(run_dir: &Path) -> StageRequest {
    let root = run_dir.parent().unwrap_or(run_dir).to_path_buf();
    StageRequest {
        request_id: "request-1".into(),
        run_id: "run-1".into(),
        mode_id: "default_codex".into(),
        plan_id: "plan-1".into(),
        plane: "execution".into(),
        node: "checker".into(),
        stage_kind: "checker".into(),
        request_kind: RequestKind::WorkItem,
        work_item: Some(WorkItemRef {
            family: "task".into(),
            id: "task-1".into(),
            path: root.join("tasks/active/task-1.md"),
        }),
        closure_target: None,
        legal_outcomes: vec!["CHECKER_PASS".into(), "FIX_NEEDED".into(), "BLOCKED".into()],
        running_marker: "CHECKER_RUNNING".into(),
        workspace_root: root.clone(),
        agents_dir: root.clone(),
        run_dir: run_dir.to_path_buf(),
        entrypoint: root.join("entrypoints/execution/checker.md"),
        skills: Vec::new(),
        runner: "script".into(),
        model: None,
        thinking: None,
        timeout_s: 60,
        budgets: BTreeMap::new(),
        previous_stages: Vec::new(),
        prompt_path: run_dir.join("prompt.request-1.md"),
        grants: Vec::new(),
    }
}
