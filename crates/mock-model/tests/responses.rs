//! OpenAI Responses API conversations, shaped like Codex CLI's requests.

use mock_model::{MockServer, Script, Served};
use serde_json::{Value, json};

use crate::client::post;

/// A Codex-like request offering these tools.
fn request(tools: &[&str], stream: bool) -> Value {
    let tools: Vec<Value> = tools
        .iter()
        .map(|name| json!({ "type": "function", "name": name, "parameters": {} }))
        .collect();
    json!({
        "model": "gpt-mock",
        "instructions": "You are Codex.",
        "input": [{ "type": "message", "role": "user", "content": [{ "type": "input_text", "text": "go" }] }],
        "tools": tools,
        "stream": stream,
    })
}

fn types(events: &[(Option<String>, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(name, data)| {
            assert_eq!(
                name.as_deref(),
                data["type"].as_str(),
                "event line matches type"
            );
            name.clone().unwrap_or_default()
        })
        .collect()
}

#[test]
fn streamed_shell_turn_calls_exec_command() {
    let server = MockServer::start(Script::new().shell("echo hi > a.txt")).expect("start");
    let response = post(
        server.addr(),
        "/v1/responses",
        &request(&["exec_command", "apply_patch"], true),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert!(response.complete);
    let events = response.events();
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let sequence: Vec<u64> = events
        .iter()
        .filter_map(|(_, d)| d["sequence_number"].as_u64())
        .collect();
    assert_eq!(sequence, (0..8).collect::<Vec<u64>>());
    let item = &events[6].1["item"];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["name"], "exec_command");
    assert!(item["call_id"].as_str().is_some_and(|id| !id.is_empty()));
    let arguments: Value =
        serde_json::from_str(item["arguments"].as_str().expect("string")).expect("json");
    assert_eq!(arguments, json!({ "cmd": "echo hi > a.txt" }));
    let deltas: String = events[3..5]
        .iter()
        .filter_map(|(_, d)| d["delta"].as_str())
        .collect();
    assert_eq!(deltas, item["arguments"].as_str().expect("string"));
    let usage = &events[7].1["response"]["usage"];
    assert_eq!(usage["input_tokens"], 100);
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 20);
    assert_eq!(usage["output_tokens"], 10);
    assert_eq!(server.requests()[0].tool.as_deref(), Some("exec_command"));
}

#[test]
fn shell_tool_gets_an_argv() {
    let server = MockServer::start(Script::new().shell("ls")).expect("start");
    let response = post(server.addr(), "/v1/responses", &request(&["shell"], false));
    let body = response.json();
    let item = &body["output"][0];
    assert_eq!(item["name"], "shell");
    let arguments: Value =
        serde_json::from_str(item["arguments"].as_str().expect("string")).expect("json");
    assert_eq!(arguments, json!({ "command": ["bash", "-lc", "ls"] }));
    assert_eq!(server.requests()[0].tool.as_deref(), Some("shell"));
}

#[test]
fn streamed_message_has_text_deltas() {
    let text = "All done.\n### BUILDER_COMPLETE";
    let server = MockServer::start(Script::new().message(text)).expect("start");
    let response = post(
        server.addr(),
        "/responses",
        &request(&["exec_command"], true),
    );
    let events = response.events();
    let names = types(&events);
    assert_eq!(
        names[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        names[names.len() - 5..],
        [
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let deltas: String = events
        .iter()
        .filter(|(name, _)| name.as_deref() == Some("response.output_text.delta"))
        .filter_map(|(_, d)| d["delta"].as_str())
        .collect();
    assert_eq!(deltas, text);
    let done = events
        .iter()
        .find(|(n, _)| n.as_deref() == Some("response.output_item.done"))
        .expect("done");
    assert_eq!(done.1["item"]["type"], "message");
    assert_eq!(done.1["item"]["content"][0]["text"], text);
    let completed = &events.last().expect("events").1["response"];
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["output"][0]["content"][0]["text"], text);
}

#[test]
fn non_streamed_reply_is_a_response_object() {
    let server = MockServer::start(Script::new().message("plain")).expect("start");
    let response = post(
        server.addr(),
        "/v1/responses",
        &request(&["exec_command"], false),
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["output"][0]["content"][0]["text"], "plain");
    assert_eq!(body["usage"]["total_tokens"], 110);
}

#[test]
fn write_file_without_write_tool_falls_back_to_shell() {
    let server = MockServer::start(Script::new().write_file("out/a.txt", "x\n")).expect("start");
    let body = post(
        server.addr(),
        "/v1/responses",
        &request(&["exec_command"], false),
    )
    .json();
    let item = &body["output"][0];
    assert_eq!(item["name"], "exec_command");
    let arguments: Value =
        serde_json::from_str(item["arguments"].as_str().expect("string")).expect("json");
    assert_eq!(
        arguments["cmd"],
        mock_model::write_command("out/a.txt", "x\n")
    );
    assert_eq!(server.requests()[0].served, Served::Turn { index: 0 });
}
