//! The API-neutral answer to a model request: what the wire formats render.

use crate::request::{ApiKind, RequestView};
use crate::script::{Action, Usage};
use crate::tools::{self, ToolCall};

/// What the assistant says in a successful (or cut) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A text message that ends the client's turn.
    Text(String),
    /// A tool call the client should run and answer.
    ToolCall(ToolCall),
}

/// A successful answer, ready for a wire format to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The assistant content.
    pub content: Content,
    /// Token counts to report.
    pub usage: Usage,
    /// The request sequence number: makes every id unique and predictable.
    pub seq: u64,
    /// The model name echoed back.
    pub model: String,
}

impl Reply {
    /// An id such as `resp_mock_7` for this answer.
    pub fn id(&self, prefix: &str) -> String {
        format!("{prefix}_mock_{}", self.seq)
    }
}

/// How the server answers a model request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A complete answer.
    Reply(Reply),
    /// An HTTP error, with `retry-after` seconds for a rate limit.
    Error {
        /// The HTTP status.
        status: u16,
        /// The message in the error body.
        message: String,
        /// The `retry-after` header value, in seconds.
        retry_after: Option<u64>,
    },
    /// Close the connection without answering.
    Drop,
    /// Send the beginning of this (text) answer, then close the connection.
    Cut(Reply),
    /// Never answer.
    Hang,
}

impl Outcome {
    /// The tool call this outcome makes, if any.
    pub fn tool_name(&self) -> Option<&str> {
        match self {
            Outcome::Reply(Reply {
                content: Content::ToolCall(call),
                ..
            }) => Some(call.name.as_str()),
            _ => None,
        }
    }
}

/// Everything needed to turn a scripted action into an outcome.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The endpoint hit.
    pub api: ApiKind,
    /// The request's view (offered tools, model).
    pub view: &'a RequestView,
    /// Usage to report.
    pub usage: Usage,
    /// The request sequence number.
    pub seq: u64,
}

/// Translates an action into an outcome for this request.
pub fn plan(action: &Action, ctx: Context<'_>) -> Outcome {
    let reply = |content| Reply {
        content,
        usage: ctx.usage,
        seq: ctx.seq,
        model: ctx
            .view
            .model
            .clone()
            .unwrap_or_else(|| "mock-model".to_string()),
    };
    match action {
        Action::Shell { command } => Outcome::Reply(reply(Content::ToolCall(tools::shell_call(
            ctx.api,
            &ctx.view.tools,
            command,
        )))),
        Action::WriteFile { path, content } => Outcome::Reply(reply(Content::ToolCall(
            tools::write_call(ctx.api, &ctx.view.tools, path, content),
        ))),
        Action::Message { text } => Outcome::Reply(reply(Content::Text(text.clone()))),
        Action::HttpError { status, message } => Outcome::Error {
            status: *status,
            message: message.clone(),
            retry_after: None,
        },
        Action::RateLimit { retry_after_secs } => Outcome::Error {
            status: 429,
            message: "mock-model: scripted rate limit".to_string(),
            retry_after: Some(*retry_after_secs),
        },
        Action::DropConnection => Outcome::Drop,
        Action::CutStream { partial_text } => {
            Outcome::Cut(reply(Content::Text(partial_text.clone())))
        }
        Action::Hang => Outcome::Hang,
    }
}
