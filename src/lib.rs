//! Millrace: a durable runtime for long-running coding-agent work.
//!
//! The pipeline reads top to bottom: `.loop` text is parsed by [`syntax`],
//! proven by [`check`], lowered to stage graphs by [`lower`] and frozen into a
//! [`plan`]. The [`runtime`] interprets a plan over a [`workspace`] through
//! [`runners`]; [`cli`] is the operator's surface. What differs between
//! operating systems lives behind [`platform`].

pub mod assets;
pub mod check;
pub mod cli;
pub mod fs_error;
pub mod lower;
pub mod plan;
pub mod platform;
pub mod runners;
pub mod runtime;
pub mod syntax;
pub mod vocab;
pub mod workspace;
