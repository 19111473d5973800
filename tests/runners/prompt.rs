//! The stage prompt, one snapshot per plane.

use std::collections::BTreeMap;
use std::path::PathBuf;

use millrace::runners::{
    BudgetUse, ClosureRef, PreviousStage, RequestKind, StageRequest, WorkItemRef, compose_prompt,
};

fn base(plane: &str, node: &str, outcomes: &[&str]) -> StageRequest {
    let agents = PathBuf::from("/ws/millrace-agents");
    let run_dir = agents.join("runs/run-7");
    StageRequest {
        request_id: "request-42".into(),
        run_id: "run-7".into(),
        mode_id: "default_codex".into(),
        plan_id: "plan-default_codex-0123abcd".into(),
        plane: plane.into(),
        node: node.into(),
        stage_kind: node.into(),
        request_kind: RequestKind::WorkItem,
        work_item: None,
        closure_target: None,
        legal_outcomes: outcomes.iter().map(|o| o.to_string()).collect(),
        running_marker: format!("{}_RUNNING", node.to_uppercase()),
        workspace_root: PathBuf::from("/ws"),
        agents_dir: agents.clone(),
        prompt_path: run_dir.join("prompt.request-42.md"),
        grants: Vec::new(),
        entrypoint: agents.join(format!("entrypoints/{plane}/{node}.md")),
        run_dir,
        skills: Vec::new(),
        runner: "codex_cli".into(),
        model: Some("gpt-5".into()),
        thinking: None,
        timeout_s: 3600,
        budgets: BTreeMap::new(),
        previous_stages: Vec::new(),
    }
}

#[test]
fn execution_builder_on_a_task() {
    let mut request = base("execution", "builder", &["BUILDER_COMPLETE", "BLOCKED"]);
    request.work_item = Some(WorkItemRef {
        family: "task".into(),
        id: "task-hello".into(),
        path: "/ws/millrace-agents/tasks/active/task-hello.md".into(),
    });
    request.skills = vec!["/ws/millrace-agents/skills/builder-core/SKILL.md".into()];
    request.budgets = BTreeMap::from([
        ("fix_cycles".to_string(), BudgetUse { used: 1, limit: 3 }),
        ("troubleshoot".to_string(), BudgetUse { used: 0, limit: 2 }),
    ]);
    request.previous_stages = vec![PreviousStage {
        node: "checker".into(),
        outcome: "FIX_NEEDED".into(),
        result_path: "/ws/millrace-agents/runs/run-7/stage_results/request-41.json".into(),
    }];
    insta::assert_snapshot!(compose_prompt(&request));
}

#[test]
fn planning_arbiter_on_a_closure_target() {
    let mut request = base(
        "planning",
        "arbiter",
        &["ARBITER_COMPLETE", "REMEDIATION_NEEDED", "BLOCKED"],
    );
    request.request_kind = RequestKind::ClosureTarget;
    let closure = PathBuf::from("/ws/millrace-agents/arbiter");
    request.closure_target = Some(ClosureRef {
        root_spec_id: "spec-hello".into(),
        target_path: closure.join("targets/spec-hello.json"),
        root_spec_contract_path: Some(closure.join("contracts/root-specs/spec-hello.md")),
        root_idea_contract_path: None,
        rubric_path: closure.join("rubrics/spec-hello.md"),
        verdict_path: closure.join("verdicts/spec-hello.json"),
        report_path: closure.join("reports/spec-hello.md"),
    });
    insta::assert_snapshot!(compose_prompt(&request));
}

#[test]
fn learning_analyst_on_a_learning_request() {
    let mut request = base("learning", "analyst", &["ANALYST_COMPLETE", "BLOCKED"]);
    request.work_item = Some(WorkItemRef {
        family: "learning_request".into(),
        id: "learn-0123456789ab".into(),
        path: "/ws/millrace-agents/learning/requests/active/learn-0123456789ab.md".into(),
    });
    request.skills = vec![
        "/ws/millrace-agents/skills/analyst-core/SKILL.md".into(),
        "/ws/millrace-agents/skills/evidence/SKILL.md".into(),
    ];
    request.thinking = Some("high".into());
    insta::assert_snapshot!(compose_prompt(&request));
}

#[test]
fn same_request_same_prompt() {
    let request = base("execution", "checker", &["CHECKER_PASS", "BLOCKED"]);
    assert_eq!(compose_prompt(&request), compose_prompt(&request.clone()));
}
