//! The request log, in memory and as a JSONL file.

use std::path::PathBuf;

use mock_model::{ApiKind, LoggedRequest, MockServer, Script, Served, ServerConfig};
use serde_json::json;

use crate::client::post;

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mock-model-{}-{name}", std::process::id()))
}

#[test]
fn every_request_is_logged_in_memory_and_to_file() {
    let path = temp_path("log.jsonl");
    let _ = std::fs::remove_file(&path);
    let config = ServerConfig {
        log_file: Some(path.clone()),
        ..ServerConfig::new(Script::new().shell("make test").message("done"))
    };
    let server = MockServer::start_with(config).expect("start");
    let tools = json!([{ "type": "function", "function": { "name": "bash" } }]);
    let turn = json!({ "model": "m", "messages": [], "tools": tools, "stream": true });
    let title = json!({ "model": "m", "messages": [], "stream": false });
    post(server.addr(), "/v1/chat/completions", &turn);
    post(server.addr(), "/v1/chat/completions", &title);
    post(server.addr(), "/v1/chat/completions", &turn);

    let log = server.requests();
    assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let first = &log[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(first.api, ApiKind::ChatCompletions);
    assert_eq!(first.body, turn);
    assert!(first.stream);
    assert_eq!(first.served, Served::Turn { index: 0 });
    assert_eq!(first.action.as_deref(), Some("shell"));
    assert_eq!(first.tool.as_deref(), Some("bash"));
    assert_eq!(first.status, Some(200));
    assert_eq!(
        first.headers.get("authorization").map(String::as_str),
        Some("<redacted>")
    );
    assert!(first.unix_ms > 0 && log[2].unix_ms >= first.unix_ms);
    assert_eq!(log[1].served, Served::Side);
    assert_eq!(log[2].served, Served::Turn { index: 1 });
    assert_eq!(server.model_requests().len(), 3);

    let text = std::fs::read_to_string(&path).expect("log file");
    let from_file: Vec<LoggedRequest> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(from_file, log);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn pushed_turns_are_served() {
    let server = MockServer::start(Script::new()).expect("start");
    server.push_turn(mock_model::Action::Message {
        text: "late".into(),
    });
    let body =
        json!({ "model": "m", "input": [], "tools": [{ "type": "function", "name": "shell" }] });
    let reply = post(server.addr(), "/v1/responses", &body).json();
    assert_eq!(reply["output"][0]["content"][0]["text"], "late");
}
