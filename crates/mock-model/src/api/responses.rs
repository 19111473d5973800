//! OpenAI Responses API (`POST /v1/responses`), as Codex CLI and pi's
//! `openai-responses` provider read it.
//!
//! A stream goes `response.created`, `response.in_progress`,
//! `response.output_item.added`, then either `response.content_part.added` +
//! `response.output_text.delta`... + `response.output_text.done` +
//! `response.content_part.done` (message) or
//! `response.function_call_arguments.delta`... +
//! `response.function_call_arguments.done` (function call), then
//! `response.output_item.done` and `response.completed` with `usage`.

use serde_json::{Value, json};

use super::{WireFormat, now_secs};
use crate::reply::{Content, Reply};
use crate::sse;
use crate::tools::ToolCall;

/// The Responses wire format.
pub struct Responses;

impl WireFormat for Responses {
    fn stream(&self, reply: &Reply, complete: bool) -> Vec<String> {
        let mut events = Events::default();
        events.push(
            "response.created",
            json!({ "response": response(reply, "in_progress", vec![], false) }),
        );
        events.push(
            "response.in_progress",
            json!({ "response": response(reply, "in_progress", vec![], false) }),
        );
        match &reply.content {
            Content::Text(text) => text_events(&mut events, reply, text, complete),
            Content::ToolCall(call) => call_events(&mut events, reply, call, complete),
        }
        if complete {
            let output = vec![output_item(reply, "completed")];
            events.push(
                "response.completed",
                json!({ "response": response(reply, "completed", output, true) }),
            );
        }
        events.frames
    }

    fn json(&self, reply: &Reply) -> Value {
        response(
            reply,
            "completed",
            vec![output_item(reply, "completed")],
            true,
        )
    }

    fn error(&self, status: u16, message: &str) -> Value {
        let (kind, code) = match status {
            429 => ("requests", "rate_limit_exceeded"),
            400..=499 => ("invalid_request_error", "invalid_request"),
            _ => ("server_error", "server_error"),
        };
        json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
    }
}

/// SSE frames with `type` and a running `sequence_number` filled in.
#[derive(Default)]
struct Events {
    frames: Vec<String>,
    next: u64,
}

impl Events {
    fn push(&mut self, kind: &str, mut payload: Value) {
        payload["type"] = json!(kind);
        payload["sequence_number"] = json!(self.next);
        self.next += 1;
        self.frames.push(sse::named_event(kind, &payload));
    }
}

fn text_events(events: &mut Events, reply: &Reply, text: &str, complete: bool) {
    let item_id = reply.id("msg");
    let part = |text: &str| json!({ "type": "output_text", "text": text, "annotations": [] });
    let at = |extra: Value| {
        let mut value = json!({ "item_id": item_id, "output_index": 0, "content_index": 0 });
        merge(&mut value, extra);
        value
    };
    events.push(
        "response.output_item.added",
        json!({ "output_index": 0, "item": message_item(reply, "in_progress", None) }),
    );
    events.push(
        "response.content_part.added",
        at(json!({ "part": part("") })),
    );
    for delta in sse::text_deltas(text) {
        events.push(
            "response.output_text.delta",
            at(json!({ "delta": delta, "logprobs": [] })),
        );
    }
    if complete {
        events.push(
            "response.output_text.done",
            at(json!({ "text": text, "logprobs": [] })),
        );
        events.push(
            "response.content_part.done",
            at(json!({ "part": part(text) })),
        );
        events.push(
            "response.output_item.done",
            json!({ "output_index": 0, "item": output_item(reply, "completed") }),
        );
    }
}

fn call_events(events: &mut Events, reply: &Reply, call: &ToolCall, complete: bool) {
    let item_id = reply.id("fc");
    let arguments = call.arguments.to_string();
    let at = |extra: Value| {
        let mut value = json!({ "item_id": item_id, "output_index": 0 });
        merge(&mut value, extra);
        value
    };
    events.push(
        "response.output_item.added",
        json!({ "output_index": 0, "item": call_item(reply, call, "in_progress", "") }),
    );
    for delta in sse::argument_deltas(&arguments) {
        events.push(
            "response.function_call_arguments.delta",
            at(json!({ "delta": delta })),
        );
    }
    if complete {
        events.push(
            "response.function_call_arguments.done",
            at(json!({ "arguments": arguments })),
        );
        events.push(
            "response.output_item.done",
            json!({ "output_index": 0, "item": output_item(reply, "completed") }),
        );
    }
}

/// The finished output item of a reply.
fn output_item(reply: &Reply, status: &str) -> Value {
    match &reply.content {
        Content::Text(text) => message_item(reply, status, Some(text)),
        Content::ToolCall(call) => call_item(reply, call, status, &call.arguments.to_string()),
    }
}

fn message_item(reply: &Reply, status: &str, text: Option<&str>) -> Value {
    let content: Vec<Value> = text
        .map(|text| json!({ "type": "output_text", "text": text, "annotations": [] }))
        .into_iter()
        .collect();
    json!({ "id": reply.id("msg"), "type": "message", "status": status, "role": "assistant", "content": content })
}

fn call_item(reply: &Reply, call: &ToolCall, status: &str, arguments: &str) -> Value {
    json!({
        "id": reply.id("fc"),
        "type": "function_call",
        "status": status,
        "call_id": reply.id("call"),
        "name": call.name,
        "arguments": arguments,
    })
}

fn response(reply: &Reply, status: &str, output: Vec<Value>, with_usage: bool) -> Value {
    let usage = with_usage.then(|| usage(reply));
    json!({
        "id": reply.id("resp"),
        "object": "response",
        "created_at": now_secs(),
        "status": status,
        "model": reply.model,
        "output": output,
        "parallel_tool_calls": false,
        "usage": usage,
    })
}

fn usage(reply: &Reply) -> Value {
    let u = reply.usage;
    json!({
        "input_tokens": u.input_tokens,
        "input_tokens_details": { "cached_tokens": u.cached_input_tokens },
        "output_tokens": u.output_tokens,
        "output_tokens_details": { "reasoning_tokens": 0 },
        "total_tokens": u.input_tokens + u.output_tokens,
    })
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}
