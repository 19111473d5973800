//! `claude_code` against Claude Code 2.1.197 and the mock model server.

use mock_model::{MockServer, Script};

use super::*;

const SLEEP: u32 = 9873;

/// A workspace running Claude Code offline against `server`, configured
/// through its environment only; one retry.
pub(super) fn claude_workspace(server: &MockServer, timeout_s: u64) -> Option<TestWorkspace> {
    let claude = cli("claude")?;
    let ws = workspace("claude_code", "mock-model", timeout_s);
    let home = home(&ws, "claude");
    let home = home.display().to_string();
    let env = [
        ("HOME", home.clone()),
        ("CLAUDE_CONFIG_DIR", home),
        ("ANTHROPIC_BASE_URL", server.url()),
        ("ANTHROPIC_API_KEY", "dummy".into()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
        ("DISABLE_AUTOUPDATER", "1".into()),
        ("DISABLE_TELEMETRY", "1".into()),
        ("DISABLE_ERROR_REPORTING", "1".into()),
        ("CLAUDE_CODE_MAX_RETRIES", "1".into()),
    ];
    let millrace = runner_config("claude", &claude, &[], &env);
    ws.write("millrace.toml", &millrace);
    Some(ws)
}

#[test]
fn claude_takes_a_task_through_three_stages() {
    let server = mock(three_stages());
    let Some(ws) = claude_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_three_stages(&ws, "claude_code", "mock-model", "ANTHROPIC_API_KEY");
    let text = invocations(&ws)[0].to_string();
    assert!(
        !text.contains("dummy"),
        "a secret value was recorded: {text}"
    );
}

#[test]
fn claude_with_a_failing_model_ends_blocked_as_provider_unavailable() {
    let server = mock(Script::new().http_error(503).repeat());
    let Some(ws) = claude_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_transient_failure(&ws, "provider_unavailable");
}

#[test]
fn claude_recovers_from_a_single_failure() {
    let server = mock(after_one_error(503));
    let Some(ws) = claude_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_done(&ws);
}

#[test]
fn claude_hanging_is_killed_at_its_timeout_with_its_tools() {
    let server = mock(hanging(SLEEP));
    let Some(ws) = claude_workspace(&server, TIMEOUT_TEST_SECS) else {
        return;
    };
    run_daemon(&ws);
    assert_killed_at_timeout(&ws, SLEEP);
}

#[test]
fn claude_stopped_with_the_daemon_leaves_nothing_behind() {
    let server = mock(hanging(SLEEP + 10));
    let Some(ws) = claude_workspace(&server, 60) else {
        return;
    };
    stop_daemon_mid_stage(&ws, &server, 3);
    assert_nothing_left(&ws, SLEEP + 10);
}
