//! The script a mock server plays: a list of turns, each answering one
//! conversation request, plus the rules for requests that are not part of the
//! conversation.
//!
//! A script is plain serde data (load it from JSON with [`Script::from_json`]
//! or [`Script::from_file`]) and doubles as a builder for tests:
//!
//! ```
//! use mock_model::Script;
//! let script = Script::new()
//!     .shell("echo hi > out.txt")
//!     .write_file("notes.md", "hello\n")
//!     .message("### BUILDER_COMPLETE");
//! assert_eq!(script.turns.len(), 3);
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// What the server does for one scripted turn, independent of the wire API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Ask the client to run a shell command with its own shell tool.
    Shell {
        /// The command line, run by the client's shell tool.
        command: String,
    },
    /// Ask the client to write a file: its write tool if it offers one,
    /// otherwise a shell command that writes the exact bytes.
    WriteFile {
        /// The file path as the client should see it.
        path: String,
        /// The full file content.
        content: String,
    },
    /// A final assistant message (no tool call): the client's turn ends.
    Message {
        /// The assistant text.
        text: String,
    },
    /// Answer with an HTTP error status (500 unless told otherwise).
    HttpError {
        /// The HTTP status code.
        #[serde(default = "default_error_status")]
        status: u16,
        /// The error message put in the API's error body.
        #[serde(default = "default_error_message")]
        message: String,
    },
    /// Answer `429 Too Many Requests` with a `retry-after` header.
    RateLimit {
        /// Seconds the client is told to wait (`retry-after`).
        #[serde(default = "default_retry_after")]
        retry_after_secs: u64,
    },
    /// Close the connection without sending any response.
    DropConnection,
    /// Start a normal text response, send part of it, then close the
    /// connection mid-stream.
    CutStream {
        /// The text sent before the cut.
        #[serde(default = "default_partial_text")]
        partial_text: String,
    },
    /// Never answer. The connection stays open until the client gives up or
    /// the server shuts down (shutdown never waits for it).
    Hang,
}

/// Token counts reported in every completed response. Fields left out of
/// JSON take the defaults: 100 input (20 of them cached), 10 output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Prompt tokens, cached ones included (OpenAI's convention; Anthropic's
    /// `input_tokens` is reported as `input_tokens - cached_input_tokens`).
    pub input_tokens: u64,
    /// Prompt tokens served from cache.
    pub cached_input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            input_tokens: 100,
            cached_input_tokens: 20,
            output_tokens: 10,
        }
    }
}

/// One scripted turn: an action and how often it is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// What to answer.
    #[serde(flatten)]
    pub action: Action,
    /// Serve this turn forever: the script never advances past it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub repeat: bool,
    /// Serve this turn this many times before advancing (default 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub times: u32,
    /// Token counts for this turn instead of the script's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl Turn {
    /// A turn served once.
    pub fn new(action: Action) -> Self {
        Turn {
            action,
            repeat: false,
            times: 1,
            usage: None,
        }
    }
}

impl From<Action> for Turn {
    fn from(action: Action) -> Self {
        Turn::new(action)
    }
}

/// A rule that marks a request as a side request: answered with
/// [`SideRequests::reply`] without consuming a scripted turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum SideRule {
    /// The request offers no tools (e.g. Claude Code's session title).
    NoTools,
    /// The request's max tokens (`max_tokens`, `max_output_tokens` or
    /// `max_completion_tokens`) is at most `limit` (e.g. a quota probe).
    MaxTokensAtMost {
        /// The inclusive limit.
        limit: u64,
    },
    /// The raw request body contains `text`.
    BodyContains {
        /// The substring to look for.
        text: String,
    },
}

/// How requests outside the conversation are recognised and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SideRequests {
    /// A request matching any rule is a side request. Empty: every model
    /// request consumes a turn.
    pub rules: Vec<SideRule>,
    /// The short text a side request gets.
    pub reply: String,
}

impl Default for SideRequests {
    fn default() -> Self {
        SideRequests {
            rules: vec![SideRule::NoTools],
            reply: "Mock session".to_string(),
        }
    }
}

/// A whole script: turns in order, what to do once they run out, and the
/// side-request rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Script {
    /// The conversation turns, served in order.
    pub turns: Vec<Turn>,
    /// Served (without advancing) once the turns are exhausted. Without it
    /// an exhausted script answers with [`EXHAUSTED_TEXT`] as a final message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_exhausted: Option<Action>,
    /// Which requests are not part of the conversation.
    pub side_requests: SideRequests,
    /// Token counts for every completed response.
    pub usage: Usage,
    /// The model ids listed by `GET /v1/models`.
    pub models: Vec<String>,
}

/// The final message an exhausted script without `when_exhausted` sends.
pub const EXHAUSTED_TEXT: &str = "[mock-model] script exhausted";

impl Default for Script {
    fn default() -> Self {
        Script {
            turns: Vec::new(),
            when_exhausted: None,
            side_requests: SideRequests::default(),
            usage: Usage::default(),
            models: vec!["mock-model".to_string()],
        }
    }
}

impl Script {
    /// An empty script with default side-request rules and usage.
    pub fn new() -> Self {
        Script::default()
    }

    /// Parses a script from JSON text.
    pub fn from_json(text: &str) -> Result<Self, MockError> {
        serde_json::from_str(text).map_err(|source| MockError::ParseScript { path: None, source })
    }

    /// Reads and parses a JSON script file.
    pub fn from_file(path: &Path) -> Result<Self, MockError> {
        let text = std::fs::read_to_string(path).map_err(|source| MockError::ReadScript {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| MockError::ParseScript {
            path: Some(path.to_path_buf()),
            source,
        })
    }

    /// Appends a turn.
    pub fn turn(mut self, turn: impl Into<Turn>) -> Self {
        self.turns.push(turn.into());
        self
    }

    /// Appends a shell-command turn.
    pub fn shell(self, command: impl Into<String>) -> Self {
        self.turn(Action::Shell {
            command: command.into(),
        })
    }

    /// Appends a write-file turn.
    pub fn write_file(self, path: impl Into<String>, content: impl Into<String>) -> Self {
        self.turn(Action::WriteFile {
            path: path.into(),
            content: content.into(),
        })
    }

    /// Appends a final-message turn.
    pub fn message(self, text: impl Into<String>) -> Self {
        self.turn(Action::Message { text: text.into() })
    }

    /// Appends an HTTP error turn with this status.
    pub fn http_error(self, status: u16) -> Self {
        self.turn(Action::HttpError {
            status,
            message: default_error_message(),
        })
    }

    /// Appends a 429 turn with `retry-after: secs`.
    pub fn rate_limit(self, retry_after_secs: u64) -> Self {
        self.turn(Action::RateLimit { retry_after_secs })
    }

    /// Appends a turn that closes the connection without a response.
    pub fn drop_connection(self) -> Self {
        self.turn(Action::DropConnection)
    }

    /// Appends a turn that sends `partial_text` and then cuts the stream.
    pub fn cut_stream(self, partial_text: impl Into<String>) -> Self {
        self.turn(Action::CutStream {
            partial_text: partial_text.into(),
        })
    }

    /// Appends a turn that never answers.
    pub fn hang(self) -> Self {
        self.turn(Action::Hang)
    }

    /// Marks the last turn as repeating forever.
    pub fn repeat(mut self) -> Self {
        if let Some(last) = self.turns.last_mut() {
            last.repeat = true;
        }
        self
    }

    /// Serves the last turn `times` times before advancing.
    pub fn times(mut self, times: u32) -> Self {
        if let Some(last) = self.turns.last_mut() {
            last.times = times.max(1);
        }
        self
    }

    /// Sets the action served once the turns are exhausted.
    pub fn when_exhausted(mut self, action: Action) -> Self {
        self.when_exhausted = Some(action);
        self
    }

    /// Replaces the side-request rules and reply.
    pub fn side_requests(mut self, side: SideRequests) -> Self {
        self.side_requests = side;
        self
    }

    /// Sets the token counts of every completed response.
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }
}

fn default_error_status() -> u16 {
    500
}

fn default_error_message() -> String {
    "mock-model: scripted server error".to_string()
}

fn default_retry_after() -> u64 {
    1
}

fn default_partial_text() -> String {
    "Partial answer".to_string()
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Action {
    /// The action's `type` tag, as in the JSON script (`shell`, `hang`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Shell { .. } => "shell",
            Action::WriteFile { .. } => "write_file",
            Action::Message { .. } => "message",
            Action::HttpError { .. } => "http_error",
            Action::RateLimit { .. } => "rate_limit",
            Action::DropConnection => "drop_connection",
            Action::CutStream { .. } => "cut_stream",
            Action::Hang => "hang",
        }
    }
}
