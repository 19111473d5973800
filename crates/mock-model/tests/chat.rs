//! OpenAI Chat Completions conversations, shaped like pi's requests.

use mock_model::{MockServer, Script};
use serde_json::{Value, json};

use crate::client::post;

/// A pi-like request (read, bash, edit, write tools).
fn request(stream: bool) -> Value {
    let tools: Vec<Value> = ["read", "bash", "edit", "write"]
        .iter()
        .map(|name| json!({ "type": "function", "function": { "name": name, "parameters": {} } }))
        .collect();
    json!({
        "model": "mock-model",
        "messages": [{ "role": "system", "content": "pi" }, { "role": "user", "content": "go" }],
        "tools": tools,
        "stream": stream,
        "stream_options": { "include_usage": true },
    })
}

/// The `data:` payloads of a streamed answer.
fn chunks(stream: &crate::client::HttpResponse) -> Vec<Value> {
    stream
        .events()
        .into_iter()
        .map(|(name, data)| {
            assert!(name.is_none(), "chat chunks carry no event name");
            data
        })
        .collect()
}

#[test]
fn streamed_shell_turn_calls_bash() {
    let server = MockServer::start(Script::new().shell("ls -la")).expect("start");
    let response = post(server.addr(), "/v1/chat/completions", &request(true));
    assert!(response.complete);
    let chunks = chunks(&response);
    assert_eq!(chunks.last(), Some(&json!("[DONE]")));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let call = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "bash");
    assert_eq!(call["type"], "function");
    assert!(call["id"].as_str().is_some_and(|id| !id.is_empty()));
    let arguments: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).expect("json"),
        json!({ "command": "ls -la" })
    );
    let finish: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finish, ["tool_calls"]);
    let usage = &chunks[chunks.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 100);
    assert_eq!(usage["usage"]["completion_tokens"], 10);
    assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 20);
    assert_eq!(server.requests()[0].tool.as_deref(), Some("bash"));
}

#[test]
fn write_file_uses_pi_write_tool() {
    let server = MockServer::start(Script::new().write_file("notes.md", "hello")).expect("start");
    let body = post(server.addr(), "/v1/chat/completions", &request(false)).json();
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "write");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().expect("string"))
            .expect("json");
    assert_eq!(arguments, json!({ "path": "notes.md", "content": "hello" }));
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn streamed_message_ends_with_stop() {
    let text = "Finished the work.\n### BUILDER_COMPLETE";
    let server = MockServer::start(Script::new().message(text)).expect("start");
    let chunks = chunks(&post(server.addr(), "/v1/chat/completions", &request(true)));
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, text);
    let finish: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finish, ["stop"]);
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
}

#[test]
fn non_streamed_message() {
    let server = MockServer::start(Script::new().message("hi")).expect("start");
    let body = post(server.addr(), "/chat/completions", &request(false)).json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "hi");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["total_tokens"], 110);
}
