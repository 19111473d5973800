//! Anthropic Messages (`POST /v1/messages`), as Claude Code and pi's
//! `anthropic-messages` provider read it.
//!
//! A stream is `message_start`, `ping`, `content_block_start` (`text` or
//! `tool_use`), `content_block_delta` (`text_delta` or `input_json_delta`)
//! pieces, `content_block_stop`, `message_delta` with `stop_reason`
//! (`end_turn` or `tool_use`) and `usage`, and `message_stop`.
//! `input_tokens` excludes cache reads, which go in `cache_read_input_tokens`.

use serde_json::{Value, json};

use super::WireFormat;
use crate::reply::{Content, Reply};
use crate::sse;

/// The Anthropic Messages wire format.
pub struct Messages;

impl WireFormat for Messages {
    fn stream(&self, reply: &Reply, complete: bool) -> Vec<String> {
        let mut start = message(reply, vec![], None);
        start["usage"]["output_tokens"] = json!(1);
        let mut frames = vec![
            event("message_start", json!({ "message": start })),
            event("ping", json!({})),
        ];
        frames.extend(block_events(reply));
        if complete {
            frames.push(event("content_block_stop", json!({ "index": 0 })));
            frames.push(event(
                "message_delta",
                json!({
                    "delta": { "stop_reason": stop_reason(reply), "stop_sequence": null },
                    "usage": usage(reply),
                }),
            ));
            frames.push(event("message_stop", json!({})));
        }
        frames
    }

    fn json(&self, reply: &Reply) -> Value {
        message(reply, vec![full_block(reply)], Some(stop_reason(reply)))
    }

    fn error(&self, status: u16, message: &str) -> Value {
        let kind = match status {
            429 => "rate_limit_error",
            529 => "overloaded_error",
            401 => "authentication_error",
            404 => "not_found_error",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        };
        json!({ "type": "error", "error": { "type": kind, "message": message } })
    }
}

/// `content_block_start` and the deltas of the single content block.
fn block_events(reply: &Reply) -> Vec<String> {
    let (start, deltas): (Value, Vec<Value>) = match &reply.content {
        Content::Text(text) => (
            json!({ "type": "text", "text": "" }),
            sse::text_deltas(text)
                .into_iter()
                .map(|piece| json!({ "type": "text_delta", "text": piece }))
                .collect(),
        ),
        Content::ToolCall(call) => (
            json!({ "type": "tool_use", "id": reply.id("toolu"), "name": call.name, "input": {} }),
            sse::argument_deltas(&call.arguments.to_string())
                .into_iter()
                .map(|piece| json!({ "type": "input_json_delta", "partial_json": piece }))
                .collect(),
        ),
    };
    let mut frames = vec![event(
        "content_block_start",
        json!({ "index": 0, "content_block": start }),
    )];
    frames.extend(
        deltas
            .into_iter()
            .map(|delta| event("content_block_delta", json!({ "index": 0, "delta": delta }))),
    );
    frames
}

fn full_block(reply: &Reply) -> Value {
    match &reply.content {
        Content::Text(text) => json!({ "type": "text", "text": text }),
        Content::ToolCall(call) => json!({
            "type": "tool_use",
            "id": reply.id("toolu"),
            "name": call.name,
            "input": call.arguments,
        }),
    }
}

fn message(reply: &Reply, content: Vec<Value>, stop_reason: Option<&str>) -> Value {
    json!({
        "id": reply.id("msg"),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": usage(reply),
    })
}

fn stop_reason(reply: &Reply) -> &'static str {
    match reply.content {
        Content::Text(_) => "end_turn",
        Content::ToolCall(_) => "tool_use",
    }
}

fn usage(reply: &Reply) -> Value {
    let u = reply.usage;
    json!({
        "input_tokens": u.input_tokens.saturating_sub(u.cached_input_tokens),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": u.cached_input_tokens,
        "output_tokens": u.output_tokens,
    })
}

fn event(kind: &str, mut payload: Value) -> String {
    payload["type"] = json!(kind);
    sse::named_event(kind, &payload)
}
