//! `pi_rpc` against pi 0.73.1 and the mock model server.

use mock_model::{MockServer, Script};

use super::*;

const SLEEP: u32 = 9872;

/// A workspace running pi offline against `server`: a fresh agent dir
/// whose `models.json` has the mock provider; one automatic retry.
pub(super) fn pi_workspace(server: &MockServer, timeout_s: u64) -> Option<TestWorkspace> {
    let pi = cli("pi")?;
    let ws = workspace("pi_rpc", "mock/mock-model", timeout_s);
    let home = home(&ws, "pi");
    let models = serde_json::json!({"providers": {"mock": {
        "baseUrl": server.v1_url(), "api": "openai-completions", "apiKey": "x",
        "models": [{"id": "mock-model", "name": "Mock", "reasoning": false, "input": ["text"],
            "contextWindow": 128000, "maxTokens": 4096,
            "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}}]}}});
    std::fs::write(home.join("models.json"), models.to_string()).expect("models");
    let settings = r#"{"retry": {"enabled": true, "maxRetries": 1, "baseDelayMs": 100, "provider": {"maxRetries": 0}}}"#;
    std::fs::write(home.join("settings.json"), settings).expect("settings");
    let home = home.display().to_string();
    let env = [
        ("PI_CODING_AGENT_DIR", home.clone()),
        ("HOME", home),
        ("PI_OFFLINE", "1".into()),
    ];
    let millrace = runner_config("pi", &pi, &[], &env);
    ws.write("millrace.toml", &millrace);
    Some(ws)
}

#[test]
fn pi_takes_a_task_through_three_stages() {
    let server = mock(three_stages());
    let Some(ws) = pi_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_three_stages(&ws, "pi_rpc", "mock/mock-model", "PI_CODING_AGENT_DIR");
    let argv = invocations(&ws)[0]["argv"].to_string();
    assert!(
        argv.contains("\"--provider\",\"mock\"") && argv.contains("\"--thinking\",\"low\""),
        "{argv}"
    );
}

#[test]
fn pi_with_a_failing_model_ends_blocked_as_provider_unavailable() {
    let server = mock(Script::new().http_error(503).repeat());
    let Some(ws) = pi_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_transient_failure(&ws, "provider_unavailable");
}

#[test]
fn pi_follows_its_own_retry_after_a_single_failure() {
    let server = mock(after_one_error(503));
    let Some(ws) = pi_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_done(&ws);
}

#[test]
fn pi_hanging_is_aborted_at_its_timeout_with_its_tools() {
    let server = mock(hanging(SLEEP));
    let Some(ws) = pi_workspace(&server, TIMEOUT_TEST_SECS) else {
        return;
    };
    run_daemon(&ws);
    assert_killed_at_timeout(&ws, SLEEP);
}

#[test]
fn pi_stopped_with_the_daemon_leaves_nothing_behind() {
    let server = mock(hanging(SLEEP + 10));
    let Some(ws) = pi_workspace(&server, 60) else {
        return;
    };
    stop_daemon_mid_stage(&ws, &server, 2);
    assert_nothing_left(&ws, SLEEP + 10);
}
