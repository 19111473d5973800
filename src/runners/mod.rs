//! Runners: how one stage is executed. The [`Runner`] trait, the request a
//! stage receives and the result it gives back, the normalization of an
//! answer into an outcome, failure classification, and the runner plugins.
//!
//! A runner knows nothing of graphs or queues: it gets a [`StageRequest`]
//! (built by the runtime from the plan's node bindings) and returns a
//! [`RunnerResult`]. [`normalize`] turns that into exactly one legal outcome.

mod request;

pub use request::*;
