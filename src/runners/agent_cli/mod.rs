//! The agent-CLI runners: `codex_cli`, `claude_code` and `pi_rpc` run one
//! stage as one invocation of a real agent CLI. They share one run sequence
//! ([`sequence`]: the run directory, the recorded invocation, the stage
//! process, its end and the result); each supplies only its arguments and
//! how its output is read: JSONL events folded as they arrive ([`events`],
//! Codex and Claude Code) or pi's RPC conversation ([`pi_rpc`]).
//!
//! Per stage, in the run directory: `request.<id>.json`, `prompt.<id>.md`,
//! `invocation.<id>.json` ([`invocation`]), `events.<id>.jsonl` (kept up to
//! a cap, see [`output`](super::output)), `stderr.<id>.txt` and
//! `last_message.<id>.txt`.

mod claude;
mod claude_events;
mod codex;
mod codex_events;
mod events;
mod invocation;
mod pi;
mod pi_rpc;
mod sequence;
mod verdict;

pub use claude::{ClaudeConfig, ClaudeRunner};
pub use codex::{CodexConfig, CodexPermission, CodexRunner};
pub use invocation::{events_path, invocation_path};
pub use pi::{PiConfig, PiRunner};
