//! Execution capabilities held by the real CLIs: a builder denied
//! `workspace.write` cannot write a file (Codex CLI's read-only sandbox;
//! Claude Code and pi without their write and shell tools), one granted it can, and
//! `runs show` says who held the grant.

use mock_model::Script;

use super::claude::claude_workspace;
use super::codex::codex_workspace;
use super::pi::pi_workspace;
use super::*;

/// The builder tries to write `attempt.txt`; the other stages just answer.
fn builder_writes() -> Script {
    Script::new()
        .write_file("attempt.txt", "written\n")
        .message("Built it.\n\n### BUILDER_COMPLETE")
        .message("Checked.\n\n### CHECKER_PASS")
        .message("Updated.\n\n### UPDATE_COMPLETE")
}

/// Adds `[execution_capabilities.stages.builder]` with `lines` to the config.
fn builder_policy(ws: &TestWorkspace, lines: &str) {
    let config = ws.read("millrace.toml");
    let section = format!("\n[execution_capabilities.stages.builder]\n{lines}\n");
    ws.write("millrace.toml", &format!("{config}{section}"));
}

/// `runs show` of the task's run.
fn runs_show(ws: &TestWorkspace) -> String {
    let runs = std::fs::read_dir(ws.path("runs")).expect("runs");
    let run = runs
        .flatten()
        .find(|e| e.path().join("run_trace.json").is_file())
        .expect("a run");
    let id = run.file_name().to_string_lossy().into_owned();
    ws.run(&["runs", "show", &id]).ok().stdout
}

fn assert_attempt(ws: &TestWorkspace, written: bool, grant: &str) {
    let monitor = ws.read("logs/monitor.log");
    assert_done(ws);
    let exists = ws.root().join("attempt.txt").exists();
    assert_eq!(exists, written, "attempt.txt exists: {exists}\n{monitor}");
    let show = runs_show(ws);
    assert!(show.contains(grant), "{grant} not in runs show:\n{show}");
}

/// A workspace whose stages run on one real CLI against `server`.
type CliWorkspace = fn(&MockServer, u64) -> Option<TestWorkspace>;

/// Runs the task with the builder under `policy` (it tries to write
/// `attempt.txt`) and asserts whether it `written`, and that `runs show`
/// names `grant`. `None` when the CLI is not installed.
fn builder_attempt(
    cli: CliWorkspace,
    policy: &str,
    written: bool,
    grant: &str,
) -> Option<TestWorkspace> {
    let server = mock(builder_writes());
    let ws = cli(&server, 60)?;
    builder_policy(&ws, policy);
    run_daemon(&ws);
    assert_attempt(&ws, written, grant);
    Some(ws)
}

#[test]
fn codex_denied_workspace_write_cannot_write() {
    let Some(ws) = builder_attempt(
        codex_workspace,
        "\"workspace.write\" = \"deny\"",
        false,
        "workspace.write=denied/runner_enforced",
    ) else {
        return;
    };
    let argv = invocations(&ws)
        .into_iter()
        .map(|i| i["argv"].to_string())
        .find(|a| a.contains("read-only"));
    assert!(argv.is_some(), "no stage ran in the read-only sandbox");
}

#[test]
fn codex_granted_workspace_write_writes() {
    builder_attempt(
        codex_workspace,
        "\"workspace.write\" = \"allow\"",
        true,
        "workspace.write=granted/runner_enforced",
    );
}

/// A CLI held by its tool list (Claude Code, pi): denied writes and the
/// shell, the builder cannot write, and both denials are held.
fn tool_list_holds_write_and_shell_denials(cli: CliWorkspace) {
    let Some(ws) = builder_attempt(
        cli,
        "workspace_write = \"deny\"\nshell_run = \"deny\"",
        false,
        "workspace.write=denied/runner_enforced",
    ) else {
        return;
    };
    assert!(runs_show(&ws).contains("shell.run=denied/runner_enforced"));
}

#[test]
fn claude_denied_workspace_write_and_shell_cannot_write() {
    tool_list_holds_write_and_shell_denials(claude_workspace);
}

/// With its shell left, Claude Code writes through it: the denial is
/// labelled `unsupported`, never `runner_enforced`.
#[test]
fn claude_denied_only_workspace_write_is_labelled_unsupported() {
    builder_attempt(
        claude_workspace,
        "\"workspace.write\" = \"deny\"",
        true,
        "workspace.write=denied/unsupported",
    );
}

#[test]
fn claude_granted_workspace_write_writes() {
    builder_attempt(
        claude_workspace,
        "\"workspace.write\" = \"allow\"",
        true,
        "workspace.write=granted/advisory_only",
    );
}

#[test]
fn pi_denied_workspace_write_and_shell_cannot_write() {
    tool_list_holds_write_and_shell_denials(pi_workspace);
}

#[test]
fn pi_granted_workspace_write_writes() {
    builder_attempt(
        pi_workspace,
        "\"workspace.write\" = \"allow\"",
        true,
        "workspace.write=granted/advisory_only",
    );
}

/// Codex lets `--yolo` in the operator's args win over the read-only
/// sandbox (it wrote the file before this was refused): a stage whose
/// denial the sandbox holds does not start, and says why.
#[test]
fn codex_args_that_turn_the_sandbox_off_keep_a_denied_stage_from_starting() {
    let server = mock(builder_writes());
    let Some(ws) = codex_workspace(&server, 60) else {
        return;
    };
    let config = ws.read("millrace.toml");
    let config = config.replacen(
        "[runners.codex]\n",
        "[runners.codex]\nargs = [\"exec\", \"--yolo\"]\n",
        1,
    );
    ws.write("millrace.toml", &config);
    builder_policy(&ws, "\"workspace.write\" = \"deny\"");
    let doctor = ws.run(&["doctor"]);
    assert!(
        doctor.stdout.contains("capability_denial_undone") && doctor.stdout.contains("--yolo"),
        "{}",
        doctor.stdout
    );
    run_daemon(&ws);
    assert!(!ws.root().join("attempt.txt").exists(), "the builder wrote");
    let builder = stage_results(&ws)
        .into_iter()
        .find(|r| r["node"] == "builder")
        .expect("a builder result");
    assert_eq!(builder["failure_class"], "capability_not_held", "{builder}");
    let message = builder["failure_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("--yolo") && message.contains("workspace.write"),
        "{message}"
    );
}

/// Whether a model request offered the model Codex's `web_search` tool.
fn offers_web_search(request: &mock_model::LoggedRequest) -> bool {
    let tools = request.body["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    tools.iter().any(|t| t["type"] == "web_search")
}

/// A builder denied `network.access` still searched the live web when the
/// operator's `extra_config` turned Codex's `web_search` on (Claude Code
/// loses WebSearch for the same denial): the denial turns it off.
#[test]
fn codex_denied_network_gets_no_web_search_whatever_extra_config_says() {
    let server = mock(three_stages());
    let Some(ws) = codex_workspace(&server, 60) else {
        return;
    };
    let config = ws.read("millrace.toml");
    let config = config.replacen(
        "extra_config = [",
        "extra_config = [\"web_search=\\\"live\\\"\", ",
        1,
    );
    ws.write("millrace.toml", &config);
    builder_policy(&ws, "\"network.access\" = \"deny\"");
    run_daemon(&ws);
    assert_done(&ws);
    let requests = server.model_requests();
    let builder = requests.first().expect("a model request");
    assert!(
        !offers_web_search(builder),
        "the builder was offered web_search"
    );
    assert!(
        requests.iter().any(offers_web_search),
        "the checker and updater, granted the network, may search"
    );
    assert!(runs_show(&ws).contains("network.access=denied/runner_enforced"));
}
