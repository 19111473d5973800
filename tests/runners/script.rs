//! The `script` runner: outcomes, durable progress, writes and metadata.

use std::path::PathBuf;

use millrace::runners::{
    ClosureRef, FailureClass, RequestKind, Runner, RunnerExit, ScriptRunner, StageRequest,
    cancel_channel, metadata_path, normalize, progress_path,
};

use super::{Stage, run};

/// The outcome a stage normalizes to.
async fn outcome(runner: &ScriptRunner, request: &StageRequest) -> String {
    normalize(request, &run(runner, request).await).outcome
}

fn script(stage: &Stage, text: &str) -> ScriptRunner {
    ScriptRunner::new(Some(stage.write("script.toml", text)))
}

fn for_item(stage: &Stage, request_id: &str, item: &str) -> StageRequest {
    let mut request = stage.next_request(request_id);
    if let Some(work_item) = &mut request.work_item {
        work_item.id = item.into();
    }
    request
}

#[tokio::test]
async fn without_a_script_every_stage_succeeds() {
    let stage = Stage::checker();
    let result = run(&ScriptRunner::new(None), &stage.request).await;
    assert_eq!(result.exit, RunnerExit::Completed { code: 0 });
    assert_eq!(result.last_message.as_deref(), Some("### CHECKER_PASS\n"));
    let written = std::fs::read_to_string(stage.request.artifact("last_message", "txt"));
    assert_eq!(written.ok().as_deref(), Some("### CHECKER_PASS\n"));

    let missing = ScriptRunner::new(Some(stage.root().join("no-such-script.toml")));
    assert_eq!(outcome(&missing, &stage.request).await, "CHECKER_PASS");
}

#[tokio::test]
async fn outcomes_are_consumed_per_node_and_item() {
    let stage = Stage::checker();
    let runner = script(
        &stage,
        r#"
[[step]]
node = "checker"
outcomes = ["FIX_NEEDED", "CHECKER_PASS"]

[[step]]
node = "checker"
work_item = "task-9"
outcomes = ["BLOCKED"]
"#,
    );
    let mut seen = Vec::new();
    for (n, item) in ["task-1", "task-1", "task-2", "task-1", "task-9"]
        .iter()
        .enumerate()
    {
        let request = for_item(&stage, &format!("request-{n}"), item);
        seen.push(outcome(&runner, &request).await);
    }
    assert_eq!(
        seen,
        [
            "FIX_NEEDED",
            "CHECKER_PASS",
            "FIX_NEEDED",
            "CHECKER_PASS",
            "BLOCKED"
        ]
    );
    let mut builder = stage.next_request("request-b");
    builder.node = "builder".into();
    builder.legal_outcomes = vec!["BUILDER_COMPLETE".into(), "BLOCKED".into()];
    assert_eq!(outcome(&runner, &builder).await, "BUILDER_COMPLETE");
}

#[tokio::test]
async fn progress_survives_a_new_runner() {
    let stage = Stage::checker();
    let text = "[[step]]\nnode = \"checker\"\noutcomes = [\"FIX_NEEDED\", \"CHECKER_PASS\"]\n";
    let first = script(&stage, text);
    assert_eq!(
        outcome(&first, &stage.next_request("r1")).await,
        "FIX_NEEDED"
    );
    drop(first);
    assert!(progress_path(&stage.request.agents_dir).is_file());

    let second = script(&stage, text);
    assert_eq!(
        outcome(&second, &stage.next_request("r2")).await,
        "CHECKER_PASS"
    );
    assert_eq!(
        outcome(&second, &stage.next_request("r3")).await,
        "CHECKER_PASS"
    );
}

#[tokio::test]
async fn writes_expand_placeholders() {
    let stage = Stage::checker();
    let runner = script(
        &stage,
        r#"
[[step]]
node = "checker"
message = "Checked {work_item_id}."

[[step.writes]]
path = "{agents_dir}/tasks/queue/{work_item_id}-followup.md"
content = "run={run_id} request={request_id} root=[{root_spec_id}] item={work_item_path}\n"

[[step.writes]]
path = "notes/{run_id}.txt"
content = "{workspace}|{run_dir}"
"#,
    );
    let result = run(&runner, &stage.request).await;
    assert_eq!(
        result.last_message.as_deref(),
        Some("Checked task-1.\n\n### CHECKER_PASS\n")
    );
    let agents = &stage.request.agents_dir;
    let queued = std::fs::read_to_string(agents.join("tasks/queue/task-1-followup.md"));
    let item = agents.join("tasks/active/task-1.md");
    let expected = format!(
        "run=run-1 request={} root=[] item={}\n",
        stage.request.request_id,
        item.display()
    );
    assert_eq!(queued.ok(), Some(expected));
    let notes = std::fs::read_to_string(stage.root().join("notes/run-1.txt"));
    let expected = format!(
        "{}|{}",
        stage.root().display(),
        stage.request.run_dir.display()
    );
    assert_eq!(notes.ok(), Some(expected));
}

#[tokio::test]
async fn metadata_reaches_the_outcome_and_is_cleared_later() {
    let stage = Stage::checker();
    let runner = script(
        &stage,
        r#"
[[step]]
node = "checker"
outcomes = ["FIX_NEEDED"]
metadata = { resume_stage = "builder", attempt = 2 }

[[step]]
node = "builder"
"#,
    );
    let result = run(&runner, &stage.request).await;
    let normalized = normalize(&stage.request, &result);
    assert_eq!(normalized.outcome, "FIX_NEEDED");
    assert_eq!(normalized.metadata["resume_stage"], "builder");
    assert_eq!(normalized.metadata["attempt"], 2);

    let mut builder = stage.next_request("request-2");
    builder.node = "builder".into();
    builder.legal_outcomes = vec!["BUILDER_COMPLETE".into()];
    let normalized = normalize(&builder, &run(&runner, &builder).await);
    assert_eq!(normalized.outcome, "BUILDER_COMPLETE");
    assert!(normalized.metadata.is_empty());
    assert!(!metadata_path(&builder).exists());
}

#[tokio::test]
async fn tokens_are_reported() {
    let stage = Stage::checker();
    let text = "[[step]]\nnode = \"checker\"\ntokens = { input = 100, output = 20 }\n";
    let result = run(&script(&stage, text), &stage.request).await;
    let tokens = result.tokens.expect("tokens");
    assert_eq!((tokens.input, tokens.output, tokens.total), (100, 20, 120));
}

#[tokio::test]
async fn closure_stages_match_the_root_spec() {
    let stage = Stage::checker();
    let runner = script(
        &stage,
        "[[step]]\nnode = \"arbiter\"\nwork_item = \"spec-1\"\noutcomes = [\"REMEDIATION_NEEDED\"]\n",
    );
    let mut request = stage.next_request("request-c");
    request.node = "arbiter".into();
    request.request_kind = RequestKind::ClosureTarget;
    request.work_item = None;
    request.legal_outcomes = vec!["ARBITER_COMPLETE".into(), "REMEDIATION_NEEDED".into()];
    let dir = PathBuf::from("/nowhere");
    request.closure_target = Some(ClosureRef {
        root_spec_id: "spec-1".into(),
        target_path: dir.join("t"),
        root_spec_contract_path: None,
        root_idea_contract_path: None,
        rubric_path: dir.join("r"),
        verdict_path: dir.join("v"),
        report_path: dir.join("p"),
    });
    assert_eq!(outcome(&runner, &request).await, "REMEDIATION_NEEDED");
}

#[tokio::test]
async fn a_malformed_script_fails_the_stage() {
    let stage = Stage::checker();
    let runner = script(&stage, "[[step]]\nnode = \"checker\"\noutcome = \"X\"\n");
    let result = run(&runner, &stage.request).await;
    let RunnerExit::Failed { class, message } = &result.exit else {
        panic!("expected a failure, got {:?}", result.exit);
    };
    assert_eq!(*class, FailureClass::RunnerTransportFailure);
    assert!(message.contains("script.toml"), "{message}");
    assert!(message.contains("line 3"), "{message}");
    assert!(runner.validate().is_err());
    let normalized = normalize(&stage.request, &result);
    assert_eq!(
        normalized.failure_class,
        Some(FailureClass::RunnerTransportFailure)
    );
}

#[tokio::test]
async fn cancellation_during_a_delay_consumes_nothing() {
    let stage = Stage::checker();
    let text = "[[step]]\nnode = \"checker\"\ndelay_ms = 600000\noutcomes = [\"FIX_NEEDED\"]\n";
    let runner = script(&stage, text);
    let (sender, cancel) = cancel_channel();
    let (result, sent) = tokio::join!(runner.run(&stage.request, cancel), async {
        sender.send(true)
    });
    assert!(sent.is_ok());
    assert_eq!(result.exit, RunnerExit::Cancelled);
    assert!(!progress_path(&stage.request.agents_dir).exists());
}

#[test]
fn the_documented_example_is_a_valid_script() {
    let doc = include_str!("../../docs/script-runner.md");
    let start = doc.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let length = doc[start..].find("```").expect("the example's end");
    let stage = Stage::checker();
    let runner = script(&stage, &doc[start..start + length]);
    assert!(runner.validate().is_ok(), "{:?}", runner.validate());
}
