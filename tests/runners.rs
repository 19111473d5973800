//! Runners: the stage prompt, the `script` and `command` runners, and
//! normalization of what they return.

mod command;
mod prompt;
mod script;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use millrace::runners::{
    Cancel, RequestKind, Runner, RunnerResult, StageRequest, WorkItemRef, cancel_channel,
};

/// A temporary workspace with one stage request in it.
pub struct Stage {
    pub dir: tempfile::TempDir,
    pub request: StageRequest,
}

impl Stage {
    /// An execution `checker` stage on `task-1`, run `run-1`.
    pub fn checker() -> Stage {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        // Unique per test: a finished stage kills every process tagged with
        // its request id, and tests run side by side in one process.
        let unique = root
            .file_name()
            .map(|n| n.to_string_lossy().trim_start_matches('.').to_string())
            .unwrap_or_default();
        let request = request_at(&root, &format!("request-1-{unique}"));
        std::fs::create_dir_all(&request.run_dir).expect("run dir");
        Stage { dir, request }
    }

    /// Another request of the same run, with a new request id.
    pub fn next_request(&self, request_id: &str) -> StageRequest {
        request_at(self.dir.path(), request_id)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the workspace root and returns its path.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.root().join(relative);
        std::fs::write(&path, text).expect("write file");
        path
    }
}

/// The checker request, rooted at `root`.
fn request_at(root: &Path, request_id: &str) -> StageRequest {
    let agents = root.join("millrace-agents");
    let run_dir = agents.join("runs/run-1");
    StageRequest {
        request_id: request_id.into(),
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
            path: agents.join("tasks/active/task-1.md"),
        }),
        closure_target: None,
        legal_outcomes: vec!["CHECKER_PASS".into(), "FIX_NEEDED".into(), "BLOCKED".into()],
        running_marker: "CHECKER_RUNNING".into(),
        workspace_root: root.to_path_buf(),
        agents_dir: agents.clone(),
        prompt_path: run_dir.join(format!("prompt.{request_id}.md")),
        grants: Vec::new(),
        run_dir,
        entrypoint: agents.join("entrypoints/execution/checker.md"),
        skills: Vec::new(),
        runner: "command".into(),
        model: None,
        thinking: None,
        timeout_s: 30,
        budgets: BTreeMap::new(),
        previous_stages: Vec::new(),
    }
}

/// A cancellation receiver that is never cancelled (its sender is gone).
pub fn never() -> Cancel {
    cancel_channel().1
}

/// Runs one stage to its end.
pub async fn run(runner: &dyn Runner, request: &StageRequest) -> RunnerResult {
    runner.run(request, never()).await
}
