//! Runners: how one stage is executed. The [`Runner`] trait, the request a
//! stage receives and the result it gives back, the normalization of an
//! answer into an outcome, failure classification, the prompt, and the
//! built-in runners (`script`, `command`) with their registry.
//!
//! A runner knows nothing of graphs or queues: it gets a [`StageRequest`]
//! (built by the runtime from the plan's node bindings) and returns a
//! [`RunnerResult`]. [`normalize`] turns that into exactly one legal outcome.

mod cancel;
mod classify;
mod command;
mod command_env;
mod group;
mod markers;
mod normalize;
mod progress;
mod prompt;
mod registry;
mod request;
mod script;
mod script_file;
mod tokens;

#[cfg(test)]
mod fixture;

pub use cancel::{cancel_channel, cancelled, is_cancelled};
pub use classify::classify;
pub use command::{CommandConfig, CommandRunner, DEFAULT_GRACE};
pub use command_env::{last_message_path, request_path, stage_env, tokens_path};
pub use markers::{marker, marker_line, markers};
pub use normalize::{
    METADATA_FILE, TAIL_BYTES, metadata_path, normalize, read_tail, remove_stage_metadata,
};
pub use progress::{PROGRESS_FILE, progress_path};
pub use prompt::{compose_prompt, report_path};
pub use registry::{PENDING_RUNNERS, Runners, RunnersConfig};
pub use request::*;
pub use script::ScriptRunner;
pub use script_file::ScriptError;
pub use tokens::{TokenCounts, read_token_file};
