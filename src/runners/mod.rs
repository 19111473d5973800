//! Runners: how one stage is executed. The [`Runner`] trait, the request a
//! stage receives and the result it gives back, the normalization of an
//! answer into an outcome, failure classification, the prompt, and the
//! built-in runners with their registry: `script`, `command`, and the agent
//! CLIs `codex_cli`, `pi_rpc` and `claude_code`, whose whole process trees
//! are stopped with the stage.
//!
//! A runner knows nothing of graphs or queues: it gets a [`StageRequest`]
//! (built by the runtime from the plan's node bindings) and returns a
//! [`RunnerResult`]. [`normalize`] turns that into exactly one legal outcome.

mod cancel;
mod capped_log;
mod cgroup;
mod classify;
mod claude;
mod claude_events;
mod codex;
mod codex_events;
mod command;
mod command_env;
mod containment;
mod group;
mod harness;
mod line_reader;
mod markers;
mod normalize;
mod output;
mod pi;
mod pi_rpc;
mod proc_tree;
mod process;
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
pub use capped_log::OUTPUT_MAX_BYTES;
pub use cgroup::sweep_recorded as sweep_stage_cgroups;
pub use classify::classify;
pub use claude::{ClaudeConfig, ClaudeRunner};
pub use codex::{CodexConfig, CodexPermission, CodexRunner};
pub use command::{CommandConfig, CommandRunner, DEFAULT_GRACE};
pub use command_env::{last_message_path, request_path, stage_env, tokens_path};
pub use containment::{CONTAINMENT_VAR, choose_containment};
pub use harness::{events_path, invocation_path};
pub use line_reader::LINE_MAX_BYTES;
pub use markers::{marker, marker_line, markers};
pub use normalize::{
    MESSAGE_MAX_BYTES, METADATA_FILE, TAIL_BYTES, metadata_path, normalize, read_tail,
    remove_stage_metadata,
};
pub use pi::{PiConfig, PiRunner};
pub use proc_tree::{TAG_VAR, become_subreaper};
pub use progress::{PROGRESS_FILE, progress_path};
pub use prompt::{compose_prompt, report_path};
pub use registry::{RunnerSettings, Runners};
pub use request::*;
pub use script::ScriptRunner;
pub use script_file::ScriptError;
pub use tokens::{TokenCounts, read_token_file};
