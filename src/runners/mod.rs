//! Runners: how one stage is executed. The [`Runner`] trait, the request a
//! stage receives and the result it gives back, the normalization of an
//! answer into an outcome, failure classification, the prompt, and the
//! built-in runners with their registry: `script`, `command`, and the agent
//! CLIs `codex_cli`, `pi_rpc` and `claude_code`, whose whole process trees
//! are stopped with the stage.
//!
//! A runner knows nothing of graphs or queues: it gets a [`StageRequest`]
//! (built by the runtime from the plan's node bindings) and returns a
//! [`RunnerResult`]. [`normalize`](fn@normalize) turns that into exactly
//! one legal outcome.
//!
//! Where things are: `agent_cli/` holds the three agent CLIs and the run
//! sequence they share; `process/` the stage program as processes (started,
//! stopped, contained so that nothing outlives the stage); `output/` its
//! output, read line by line and kept up to a cap; `run_dir.rs` the run
//! directory a stage starts with; `command.rs` and `script*.rs` the other
//! two runners.

mod agent_cli;
mod cancel;
mod classify;
mod command;
mod command_env;
mod grants;
mod markers;
mod normalize;
mod output;
mod process;
mod progress;
mod prompt;
mod registry;
mod request;
mod run_dir;
mod script;
mod script_file;
mod tokens;

#[cfg(test)]
mod fixture;

pub use agent_cli::{
    ClaudeConfig, ClaudeRunner, CodexConfig, CodexPermission, CodexRunner, PiConfig, PiRunner,
    events_path, invocation_path,
};
pub use cancel::{cancel_channel, cancelled, is_cancelled};
pub use classify::classify;
pub use command::{CommandConfig, CommandRunner};
pub use command_env::{last_message_path, request_path, stage_env, tokens_path};
pub use grants::grant_env;
pub use markers::{marker, marker_line, markers};
pub use normalize::{
    MESSAGE_MAX_BYTES, METADATA_FILE, TAIL_BYTES, metadata_path, normalize, read_tail,
    remove_stage_metadata,
};
pub use output::{LINE_MAX_BYTES, OUTPUT_MAX_BYTES};
pub use process::{
    CONTAINMENT_VAR, DEFAULT_GRACE, TAG_VAR, become_subreaper, choose_containment,
    sweep_recorded as sweep_stage_containers,
};
pub use progress::{PROGRESS_FILE, progress_path};
pub use prompt::{compose_prompt, report_path};
pub use registry::{RunnerSettings, Runners};
pub use request::*;
pub use script::ScriptRunner;
pub use script_file::ScriptError;
pub use tokens::{TokenCounts, read_token_file};
