//! Routing of incoming requests to an API kind, and the API-neutral view of a
//! model request body the server decides on (tools offered, streaming, limits).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::script::SideRule;

/// Which endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// `POST /v1/responses` (OpenAI Responses API, Codex CLI).
    Responses,
    /// `POST /v1/chat/completions` (OpenAI Chat Completions, pi).
    ChatCompletions,
    /// `POST /v1/messages` (Anthropic Messages, Claude Code).
    Messages,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `GET /v1/models`.
    Models,
    /// `HEAD /` or `GET /` (reachability probe).
    Probe,
    /// Anything else (answered 404).
    Unknown,
}

impl ApiKind {
    /// Whether requests of this kind are answered from the script.
    pub fn is_model_call(self) -> bool {
        matches!(
            self,
            ApiKind::Responses | ApiKind::ChatCompletions | ApiKind::Messages
        )
    }

    /// Routes a method and path (query string excluded). A `/v1` prefix is
    /// optional so base URLs with or without it both work.
    pub fn route(method: &str, path: &str) -> ApiKind {
        let trimmed = path.trim_end_matches('/');
        let endpoint = trimmed.strip_prefix("/v1").unwrap_or(trimmed);
        match (method, endpoint) {
            ("HEAD" | "GET", "") => ApiKind::Probe,
            ("GET", "/models") => ApiKind::Models,
            ("POST", "/responses") => ApiKind::Responses,
            ("POST", "/chat/completions") => ApiKind::ChatCompletions,
            ("POST", "/messages") => ApiKind::Messages,
            ("POST", "/messages/count_tokens") => ApiKind::CountTokens,
            _ => ApiKind::Unknown,
        }
    }
}

/// The facts about a model request body the server acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestView {
    /// Names of the tools the client offered, in its order.
    pub tools: Vec<String>,
    /// Whether the client asked for a streamed (SSE) answer.
    pub stream: bool,
    /// The request's output-token limit, under whichever name the API uses.
    pub max_tokens: Option<u64>,
    /// The model the client asked for.
    pub model: Option<String>,
}

impl RequestView {
    /// Extracts the view from a parsed JSON body (any of the three APIs).
    pub fn from_body(body: &Value) -> RequestView {
        RequestView {
            tools: tool_names(body),
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            max_tokens: ["max_tokens", "max_output_tokens", "max_completion_tokens"]
                .iter()
                .find_map(|key| body.get(*key).and_then(Value::as_u64)),
            model: body
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    /// Whether any side rule matches this request (`raw` is the body text).
    pub fn is_side_request(&self, rules: &[SideRule], raw: &str) -> bool {
        rules.iter().any(|rule| match rule {
            SideRule::NoTools => self.tools.is_empty(),
            SideRule::MaxTokensAtMost { limit } => self.max_tokens.is_some_and(|m| m <= *limit),
            SideRule::BodyContains { text } => raw.contains(text.as_str()),
        })
    }
}

/// Tool names from `tools`: Responses and Anthropic put `name` at the top,
/// Chat Completions under `function`; built-in tools without a name (such as
/// `{"type": "web_search"}`) are listed by their `type`.
fn tool_names(body: &Value) -> Vec<String> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|tool| {
            tool.get("name")
                .or_else(|| tool.get("function").and_then(|f| f.get("name")))
                .or_else(|| tool.get("type"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}
