//! Runners: how one stage is executed. The [`Runner`] trait, the request a
//! stage receives and the result it gives back, the normalization of an
//! answer into an outcome, failure classification, the prompt, and the
//! runner plugins.
//!
//! A runner knows nothing of graphs or queues: it gets a [`StageRequest`]
//! (built by the runtime from the plan's node bindings) and returns a
//! [`RunnerResult`]. [`normalize`] turns that into exactly one legal outcome.

mod classify;
mod markers;
mod normalize;
mod prompt;
mod request;

#[cfg(test)]
mod fixture;

pub use classify::classify;
pub use markers::{marker, marker_line, markers};
pub use normalize::{
    METADATA_FILE, TAIL_BYTES, metadata_path, normalize, read_tail, remove_stage_metadata,
};
pub use prompt::{compose_prompt, report_path};
pub use request::*;
