//! The `command` runner, driving small bash programs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use millrace::runners::{
    CommandConfig, CommandRunner, FailureClass, Runner, RunnerExit, StageRequest, TokenUsage,
    cancel_channel, compose_prompt, normalize,
};

use super::{Stage, run};
use crate::support::live_group_members;

/// A runner executing `body` as a bash script.
fn program(stage: &Stage, body: &str) -> CommandRunner {
    let path = stage.write("program.sh", body);
    CommandRunner::new(CommandConfig {
        command: Some("bash".into()),
        args: vec![path.display().to_string()],
        env: BTreeMap::from([("EXTRA_SETTING".to_string(), "on".to_string())]),
    })
    .with_grace(Duration::from_millis(300))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The pid a program wrote to `<run_dir>/<name>`.
fn pid_file(request: &StageRequest, name: &str) -> i32 {
    let text = read(&request.run_dir.join(name));
    text.trim().parse().expect("a pid")
}

#[tokio::test]
async fn a_marker_answer_is_the_outcome() {
    let stage = Stage::checker();
    let runner = program(&stage, "echo 'All checks pass.'\necho '### CHECKER_PASS'\n");
    let result = run(&runner, &stage.request).await;
    assert_eq!(result.exit, RunnerExit::Completed { code: 0 });
    let expected = "All checks pass.\n### CHECKER_PASS\n";
    assert_eq!(result.last_message.as_deref(), Some(expected));
    assert_eq!(read(&stage.request.artifact("stdout", "txt")), expected);
    assert!(
        result
            .artifacts
            .contains(&stage.request.artifact("stderr", "txt"))
    );
    assert_eq!(normalize(&stage.request, &result).outcome, "CHECKER_PASS");
}

#[tokio::test]
async fn the_request_is_in_the_environment() {
    let stage = Stage::checker();
    let runner = program(
        &stage,
        "pwd > \"$MILLRACE_RUN_DIR/cwd.txt\"\n\
         env | grep -E '^(MILLRACE_|EXTRA_SETTING=)' | sort > \"$MILLRACE_RUN_DIR/env.txt\"\n\
         echo '### CHECKER_PASS'\n",
    );
    let request = &stage.request;
    run(&runner, request).await;
    let env = read(&request.run_dir.join("env.txt"));
    let vars: BTreeMap<&str, &str> = env.lines().filter_map(|l| l.split_once('=')).collect();
    let run_dir = request.run_dir.display().to_string();
    let id = request.request_id.clone();
    let item_path = request
        .work_item
        .as_ref()
        .map(|i| i.path.display().to_string());
    let expected = [
        ("EXTRA_SETTING", "on".to_string()),
        ("MILLRACE_RUN_DIR", run_dir.clone()),
        ("MILLRACE_RUN_ID", "run-1".into()),
        ("MILLRACE_REQUEST_ID", id.clone()),
        ("MILLRACE_PLANE", "execution".into()),
        ("MILLRACE_NODE", "checker".into()),
        ("MILLRACE_STAGE", "checker".into()),
        ("MILLRACE_WORK_ITEM_FAMILY", "task".into()),
        ("MILLRACE_WORK_ITEM_ID", "task-1".into()),
        ("MILLRACE_WORK_ITEM_PATH", item_path.unwrap_or_default()),
        ("MILLRACE_ROOT_SPEC_ID", String::new()),
        (
            "MILLRACE_LEGAL_OUTCOMES",
            "CHECKER_PASS FIX_NEEDED BLOCKED".into(),
        ),
        (
            "MILLRACE_AGENTS_DIR",
            request.agents_dir.display().to_string(),
        ),
        ("MILLRACE_WORKSPACE", stage.root().display().to_string()),
        (
            "MILLRACE_PROMPT_PATH",
            request.prompt_path.display().to_string(),
        ),
        (
            "MILLRACE_REQUEST_PATH",
            format!("{run_dir}/request.{id}.json"),
        ),
        (
            "MILLRACE_LAST_MESSAGE_PATH",
            format!("{run_dir}/last_message.{id}.txt"),
        ),
        (
            "MILLRACE_TOKENS_PATH",
            format!("{run_dir}/tokens.{id}.json"),
        ),
    ];
    for (name, value) in expected {
        assert_eq!(vars.get(name).copied(), Some(value.as_str()), "{name}");
    }
    let saved: StageRequest = serde_json::from_str(&read(&request.artifact("request", "json")))
        .expect("the request JSON");
    assert_eq!(&saved, request);
    assert_eq!(
        read(&request.run_dir.join("cwd.txt")).trim(),
        stage.root().display().to_string()
    );
}

#[tokio::test]
async fn the_prompt_arrives_on_stdin() {
    let stage = Stage::checker();
    let runner = program(
        &stage,
        "cat > \"$MILLRACE_RUN_DIR/stdin.txt\"\necho '### CHECKER_PASS'\n",
    );
    run(&runner, &stage.request).await;
    let received = read(&stage.request.run_dir.join("stdin.txt"));
    assert_eq!(received, compose_prompt(&stage.request));
    assert_eq!(read(&stage.request.prompt_path), received);

    let request = stage.next_request("request-2");
    std::fs::write(&request.prompt_path, "a prompt written by the runtime").expect("write");
    run(&runner, &request).await;
    let received = read(&request.run_dir.join("stdin.txt"));
    assert_eq!(received, "a prompt written by the runtime");
}

#[tokio::test]
async fn the_last_message_file_and_tokens_are_read() {
    let stage = Stage::checker();
    let runner = program(
        &stage,
        "echo 'noise ### on stdout'\n\
         printf 'Fixes needed.\\n### FIX_NEEDED\\n' > \"$MILLRACE_LAST_MESSAGE_PATH\"\n\
         echo '{\"input\": 10, \"cached_input\": 2, \"output\": 5, \"thinking\": 1, \"total\": 18}' \
           > \"$MILLRACE_TOKENS_PATH\"\n",
    );
    let result = run(&runner, &stage.request).await;
    assert_eq!(
        result.last_message.as_deref(),
        Some("Fixes needed.\n### FIX_NEEDED\n")
    );
    let tokens = TokenUsage {
        input: 10,
        cached_input: 2,
        output: 5,
        thinking: 1,
        total: 18,
    };
    assert_eq!(result.tokens, Some(tokens));
    assert_eq!(normalize(&stage.request, &result).outcome, "FIX_NEEDED");
}

#[tokio::test]
async fn a_failing_exit_is_classified_from_stderr() {
    let stage = Stage::checker();
    let runner = program(
        &stage,
        "echo 'error: 503 Service Unavailable' >&2\nexit 1\n",
    );
    let result = run(&runner, &stage.request).await;
    assert_eq!(result.exit, RunnerExit::Completed { code: 1 });
    let normalized = normalize(&stage.request, &result);
    assert_eq!(normalized.outcome, "BLOCKED");
    assert_eq!(
        normalized.failure_class,
        Some(FailureClass::ProviderUnavailable)
    );
}

#[tokio::test]
async fn a_missing_binary_is_classified() {
    let stage = Stage::checker();
    let runner = CommandRunner::new(CommandConfig {
        command: Some("/nonexistent/millrace-test-harness".into()),
        ..CommandConfig::default()
    });
    let result = run(&runner, &stage.request).await;
    let RunnerExit::Failed { class, message } = &result.exit else {
        panic!("expected a failure, got {:?}", result.exit);
    };
    assert_eq!(*class, FailureClass::RunnerBinaryMissing);
    assert!(
        message.contains("/nonexistent/millrace-test-harness"),
        "{message}"
    );
    assert_eq!(result.last_message, None);
    let normalized = normalize(&stage.request, &result);
    assert_eq!(
        normalized.failure_class,
        Some(FailureClass::RunnerBinaryMissing)
    );
}

#[tokio::test]
async fn a_timeout_stops_the_whole_group() {
    let stage = Stage::checker();
    let mut request = stage.request.clone();
    request.timeout_s = 1;
    // The grandchild ignores SIGTERM, so only SIGKILL stops it.
    let runner = program(
        &stage,
        "echo $$ > \"$MILLRACE_RUN_DIR/leader.pid\"\n\
         ( trap '' TERM; exec sleep 1000 ) &\n\
         echo $! > \"$MILLRACE_RUN_DIR/grandchild.pid\"\n\
         sleep 1000\n",
    );
    let started = Instant::now();
    let result = run(&runner, &request).await;
    assert_eq!(result.exit, RunnerExit::TimedOut);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let leader = pid_file(&request, "leader.pid");
    let grandchild = pid_file(&request, "grandchild.pid");
    assert_ne!(leader, grandchild);
    assert_eq!(live_group_members(leader), []);
    let normalized = normalize(&request, &result);
    assert_eq!(normalized.failure_class, Some(FailureClass::RunnerTimeout));
}

#[tokio::test]
async fn processes_left_behind_are_stopped() {
    let stage = Stage::checker();
    let runner = program(
        &stage,
        "echo $$ > \"$MILLRACE_RUN_DIR/leader.pid\"\nsleep 1000 &\necho '### CHECKER_PASS'\n",
    );
    let result = run(&runner, &stage.request).await;
    assert_eq!(result.exit, RunnerExit::Completed { code: 0 });
    assert_eq!(
        live_group_members(pid_file(&stage.request, "leader.pid")),
        []
    );
}

#[tokio::test]
async fn cancellation_stops_the_group() {
    let stage = Stage::checker();
    let fifo = stage.root().join("ready.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()));
    let runner = program(
        &stage,
        &format!(
            "echo $$ > \"$MILLRACE_RUN_DIR/leader.pid\"\nsleep 1000 &\n\
             echo ready > '{}'\nwait\n",
            fifo.display()
        ),
    );
    let (sender, cancel) = cancel_channel();
    let cancel_when_ready = async {
        let fifo = fifo.clone();
        let ready = tokio::task::spawn_blocking(move || std::fs::read_to_string(fifo)).await;
        assert_eq!(ready.ok().and_then(Result::ok).as_deref(), Some("ready\n"));
        sender.send(true).expect("the runner listens");
    };
    let (result, ()) = tokio::join!(runner.run(&stage.request, cancel), cancel_when_ready);
    assert_eq!(result.exit, RunnerExit::Cancelled);
    assert_eq!(result.last_message, None);
    assert_eq!(
        live_group_members(pid_file(&stage.request, "leader.pid")),
        []
    );
}

#[tokio::test]
async fn an_already_cancelled_stage_does_not_start() {
    let stage = Stage::checker();
    let runner = program(&stage, "touch \"$MILLRACE_RUN_DIR/started\"\n");
    let (sender, cancel) = cancel_channel();
    sender.send(true).expect("send");
    let result = runner.run(&stage.request, cancel).await;
    assert_eq!(result.exit, RunnerExit::Cancelled);
    assert!(!stage.request.run_dir.join("started").exists());
}
