//! Anthropic Messages conversations, shaped like Claude Code's requests.

use mock_model::{ApiKind, MockServer, Script, Served};
use serde_json::{Value, json};

use crate::client::{post, send};

/// A Claude-Code-like request offering these tools (none: a title request).
fn request(tools: &[&str], stream: bool) -> Value {
    let tools: Vec<Value> = tools
        .iter()
        .map(
            |name| json!({ "name": name, "description": "", "input_schema": { "type": "object" } }),
        )
        .collect();
    json!({
        "model": "claude-mock",
        "max_tokens": 32000,
        "system": [{ "type": "text", "text": "You are Claude Code." }],
        "messages": [{ "role": "user", "content": "go" }],
        "tools": tools,
        "stream": stream,
    })
}

const CLAUDE_TOOLS: &[&str] = &["Task", "Bash", "Read", "Write", "Edit"];

fn names(events: &[(Option<String>, Value)]) -> Vec<&str> {
    events
        .iter()
        .map(|(name, data)| {
            assert_eq!(
                name.as_deref(),
                data["type"].as_str(),
                "event line matches type"
            );
            name.as_deref().unwrap_or_default()
        })
        .collect()
}

#[test]
fn probes_answer_ok() {
    let server = MockServer::start(Script::new()).expect("start");
    assert_eq!(
        send(server.addr(), "HEAD", "/", None).response().status,
        200
    );
    assert_eq!(send(server.addr(), "GET", "/", None).response().status, 200);
    let models = send(server.addr(), "GET", "/v1/models", None)
        .response()
        .json();
    assert_eq!(models["data"][0]["id"], "mock-model");
    let log = server.requests();
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|r| r.served == Served::NotModel && !r.consumed_turn())
    );
    assert_eq!(log[0].api, ApiKind::Probe);
    assert_eq!(log[2].api, ApiKind::Models);
    assert_eq!(server.turns_consumed(), 0);
}

#[test]
fn streamed_shell_turn_calls_bash_tool_use() {
    let server = MockServer::start(Script::new().shell("pwd")).expect("start");
    let response = post(
        server.addr(),
        "/v1/messages?beta=true",
        &request(CLAUDE_TOOLS, true),
    );
    assert!(response.complete);
    let events = response.events();
    assert_eq!(
        names(&events),
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let block = &events[2].1["content_block"];
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["name"], "Bash");
    assert!(
        block["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("toolu_"))
    );
    let json: String = events[3..5]
        .iter()
        .map(|(_, d)| {
            assert_eq!(d["delta"]["type"], "input_json_delta");
            d["delta"]["partial_json"]
                .as_str()
                .expect("partial_json")
                .to_string()
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&json).expect("json"),
        json!({ "command": "pwd" })
    );
    let delta = &events[6].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["output_tokens"], 10);
    let start_usage = &events[0].1["message"]["usage"];
    assert_eq!(start_usage["input_tokens"], 80);
    assert_eq!(start_usage["cache_read_input_tokens"], 20);
    assert_eq!(server.requests()[0].path, "/v1/messages?beta=true");
}

#[test]
fn title_request_without_tools_consumes_no_turn() {
    let server = MockServer::start(Script::new().message("the answer")).expect("start");
    let title = post(
        server.addr(),
        "/v1/messages?beta=true",
        &request(&[], false),
    )
    .json();
    assert_eq!(title["content"][0]["text"], "Mock session");
    assert_eq!(server.turns_consumed(), 0);
    let answer = post(
        server.addr(),
        "/v1/messages?beta=true",
        &request(CLAUDE_TOOLS, false),
    )
    .json();
    assert_eq!(answer["content"][0]["text"], "the answer");
    assert_eq!(answer["stop_reason"], "end_turn");
    let served: Vec<Served> = server.requests().iter().map(|r| r.served).collect();
    assert_eq!(served, [Served::Side, Served::Turn { index: 0 }]);
}

#[test]
fn write_file_uses_claude_write_tool() {
    let server = MockServer::start(Script::new().write_file("/w/a.txt", "data")).expect("start");
    let body = post(server.addr(), "/v1/messages", &request(CLAUDE_TOOLS, false)).json();
    assert_eq!(body["stop_reason"], "tool_use");
    let block = &body["content"][0];
    assert_eq!(block["name"], "Write");
    assert_eq!(
        block["input"],
        json!({ "file_path": "/w/a.txt", "content": "data" })
    );
}

#[test]
fn streamed_text_uses_text_deltas() {
    let text = "Done here.\n### BUILDER_COMPLETE";
    let server = MockServer::start(Script::new().message(text)).expect("start");
    let events = post(
        server.addr(),
        "/v1/messages?beta=true",
        &request(CLAUDE_TOOLS, true),
    )
    .events();
    assert_eq!(
        events[2].1["content_block"],
        json!({ "type": "text", "text": "" })
    );
    let joined: String = events
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "text_delta")
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(joined, text);
    let delta = events
        .iter()
        .find(|(n, _)| n.as_deref() == Some("message_delta"))
        .expect("delta");
    assert_eq!(delta.1["delta"]["stop_reason"], "end_turn");
    assert_eq!(
        events.last().expect("events").0.as_deref(),
        Some("message_stop")
    );
}
