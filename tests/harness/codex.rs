//! `codex_cli` against Codex CLI 0.169.0 and the mock model server.

use mock_model::{MockServer, Script};

use super::*;

const SLEEP: u32 = 9871;

/// A workspace running Codex offline against `server`: a fresh
/// `CODEX_HOME` whose provider is the mock, retries bounded to one.
pub(super) fn codex_workspace(server: &MockServer, timeout_s: u64) -> Option<TestWorkspace> {
    let codex = cli("codex")?;
    let ws = workspace("codex_cli", "mock-model", timeout_s);
    let home = home(&ws, "codex");
    let config = format!(
        "model_provider = \"mock\"\ncheck_for_update_on_startup = false\nweb_search = \"disabled\"\n\n\
[model_providers.mock]\nname = \"mock\"\nbase_url = \"{}\"\nwire_api = \"responses\"\n\n\
[analytics]\nenabled = false\n\n[features]\nplugins = false\n",
        server.v1_url()
    );
    std::fs::write(home.join("config.toml"), config).expect("codex config");
    let retries = "extra_config = [\"model_providers.mock.request_max_retries=1\", \"model_providers.mock.stream_max_retries=1\"]";
    let home = home.display().to_string();
    let millrace = runner_config(
        "codex",
        &codex,
        &[retries.to_string()],
        &[("CODEX_HOME", home.clone()), ("HOME", home)],
    );
    ws.write("millrace.toml", &millrace);
    Some(ws)
}

#[test]
fn codex_takes_a_task_through_three_stages() {
    let server = mock(three_stages());
    let Some(ws) = codex_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_three_stages(&ws, "codex_cli", "mock-model", "CODEX_HOME");
    let argv = invocations(&ws)[0]["argv"].to_string();
    assert!(
        argv.contains("--output-last-message")
            && argv.contains("model_reasoning_effort=\\\"low\\\""),
        "{argv}"
    );
}

#[test]
fn codex_with_a_failing_model_ends_blocked_as_provider_unavailable() {
    let server = mock(Script::new().http_error(503).repeat());
    let Some(ws) = codex_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_transient_failure(&ws, "provider_unavailable");
}

#[test]
fn codex_recovers_from_a_single_failure() {
    let server = mock(after_one_error(500));
    let Some(ws) = codex_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert_done(&ws);
}

#[test]
fn codex_hanging_is_killed_at_its_timeout_with_its_tools() {
    let server = mock(hanging(SLEEP));
    let Some(ws) = codex_workspace(&server, TIMEOUT_TEST_SECS) else {
        return;
    };
    run_daemon(&ws);
    assert_killed_at_timeout(&ws, SLEEP);
}

/// A stage that ends normally takes the tool it detached with it.
#[test]
fn codex_finishing_normally_takes_its_detached_tool_with_it() {
    let server = mock(leaving_a_tool(SLEEP + 3));
    let Some(ws) = codex_workspace(&server, 60) else {
        return;
    };
    run_daemon(&ws);
    assert!(ws.path("tasks/done/t1.md").is_file());
    assert_nothing_left(&ws, SLEEP + 3);
}

#[test]
fn codex_stopped_with_the_daemon_leaves_nothing_behind() {
    let server = mock(hanging(SLEEP + 10));
    let Some(ws) = codex_workspace(&server, 60) else {
        return;
    };
    stop_daemon_mid_stage(&ws, &server, 2);
    assert_nothing_left(&ws, SLEEP + 10);
    assert!(
        ws.path("tasks/active/t1.md").is_file(),
        "the cancelled stage runs again later"
    );
}
