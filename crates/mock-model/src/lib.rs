//! An offline mock model server for testing agent CLIs (Codex CLI, pi,
//! Claude Code) against scripted conversations.
//!
//! It speaks the OpenAI Responses API (`POST /v1/responses`), OpenAI Chat
//! Completions (`POST /v1/chat/completions`) and Anthropic Messages
//! (`POST /v1/messages`), streamed (SSE) or not, answers `HEAD /`, `GET /`
//! and `GET /v1/models`, and binds only `127.0.0.1`.
//!
//! Each conversation request is answered by the next turn of a [`Script`]:
//! a shell command or file write (translated into a call of whichever tool
//! the client offered), a final message, or a failure (HTTP 500, 429 with
//! `retry-after`, dropped connection, stream cut mid-way, hang). Requests
//! that match a side rule (by default: requests offering no tools, like
//! Claude Code's session title) get a short text without consuming a turn.
//!
//! ```no_run
//! use mock_model::{MockServer, Script};
//! let server = MockServer::start(Script::new().shell("ls").message("done"))?;
//! println!("point the client at {}", server.v1_url());
//! // ... run the client ...
//! assert_eq!(server.turns_consumed(), 2);
//! # Ok::<(), mock_model::MockError>(())
//! ```

mod api;
mod body;
mod error;
mod handler;
mod log;
mod player;
mod reply;
mod request;
mod script;
mod server;
mod sse;
mod state;
mod tools;

pub use error::MockError;
pub use log::LoggedRequest;
pub use player::Served;
pub use request::ApiKind;
pub use script::{Action, EXHAUSTED_TEXT, Script, SideRequests, SideRule, Turn, Usage};
pub use server::{MockServer, ServerConfig};
pub use tools::write_command;
