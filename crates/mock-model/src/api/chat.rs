//! OpenAI Chat Completions (`POST /v1/chat/completions`), as pi's
//! `openai-completions` provider reads it.
//!
//! A stream is `chat.completion.chunk` frames: a role chunk, `delta.content`
//! pieces or `delta.tool_calls` (name first, then argument pieces), a chunk
//! with `finish_reason` (`stop` or `tool_calls`), a usage chunk with empty
//! `choices`, and `data: [DONE]`.

use serde_json::{Value, json};

use super::{WireFormat, now_secs};
use crate::reply::{Content, Reply};
use crate::sse;
use crate::tools::ToolCall;

/// The Chat Completions wire format.
pub struct ChatCompletions;

impl WireFormat for ChatCompletions {
    fn stream(&self, reply: &Reply, complete: bool) -> Vec<String> {
        let mut frames = vec![chunk(
            reply,
            json!({ "role": "assistant", "content": "" }),
            None,
        )];
        match &reply.content {
            Content::Text(text) => frames.extend(
                sse::text_deltas(text)
                    .into_iter()
                    .map(|piece| chunk(reply, json!({ "content": piece }), None)),
            ),
            Content::ToolCall(call) => frames.extend(call_chunks(reply, call)),
        }
        if complete {
            frames.push(chunk(reply, json!({}), Some(finish_reason(reply))));
            frames.push(usage_chunk(reply));
            frames.push(sse::done_marker());
        }
        frames
    }

    fn json(&self, reply: &Reply) -> Value {
        let message = match &reply.content {
            Content::Text(text) => json!({ "role": "assistant", "content": text }),
            Content::ToolCall(call) => json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": reply.id("call"),
                    "type": "function",
                    "function": { "name": call.name, "arguments": call.arguments.to_string() },
                }],
            }),
        };
        json!({
            "id": reply.id("chatcmpl"),
            "object": "chat.completion",
            "created": now_secs(),
            "model": reply.model,
            "choices": [{ "index": 0, "message": message, "finish_reason": finish_reason(reply) }],
            "usage": usage(reply),
        })
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

fn call_chunks(reply: &Reply, call: &ToolCall) -> Vec<String> {
    let arguments = call.arguments.to_string();
    let head = json!({ "tool_calls": [{
        "index": 0,
        "id": reply.id("call"),
        "type": "function",
        "function": { "name": call.name, "arguments": "" },
    }] });
    let mut frames = vec![chunk(reply, head, None)];
    frames.extend(sse::argument_deltas(&arguments).into_iter().map(|piece| {
        let delta = json!({ "tool_calls": [{ "index": 0, "function": { "arguments": piece } }] });
        chunk(reply, delta, None)
    }));
    frames
}

fn chunk(reply: &Reply, delta: Value, finish_reason: Option<&str>) -> String {
    sse::data_event(&json!({
        "id": reply.id("chatcmpl"),
        "object": "chat.completion.chunk",
        "created": now_secs(),
        "model": reply.model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }],
    }))
}

fn usage_chunk(reply: &Reply) -> String {
    sse::data_event(&json!({
        "id": reply.id("chatcmpl"),
        "object": "chat.completion.chunk",
        "created": now_secs(),
        "model": reply.model,
        "choices": [],
        "usage": usage(reply),
    }))
}

fn finish_reason(reply: &Reply) -> &'static str {
    match reply.content {
        Content::Text(_) => "stop",
        Content::ToolCall(_) => "tool_calls",
    }
}

fn usage(reply: &Reply) -> Value {
    let u = reply.usage;
    json!({
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.input_tokens + u.output_tokens,
        "prompt_tokens_details": { "cached_tokens": u.cached_input_tokens },
        "completion_tokens_details": { "reasoning_tokens": 0 },
    })
}
