//! The on-disk workspace: paths, work documents, queues, state, lock and journal.
//!
//! This module uses nothing else internal to the crate. Every state write goes
//! through [`atomic::write_atomic`]; every work item lives in exactly one
//! lifecycle directory at every instant.

pub mod atomic;
pub mod config;
pub mod documents;
pub mod family;
pub mod intake;
pub mod journal;
pub mod lock;
pub mod paths;
pub mod queue;
pub mod state;
pub mod timestamp;

pub use family::{Family, LifecycleState, Plane};
pub use paths::{MailboxDir, WorkspacePaths};
pub use timestamp::Timestamp;
