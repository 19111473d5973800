//! The on-disk workspace: paths, work documents, queues, state, lock and journal.
//!
//! This module uses nothing else internal to the crate. Every state write goes
//! through [`atomic::write_atomic`]; every work item lives in exactly one
//! lifecycle directory at every instant.

pub mod approvals;
pub mod atomic;
pub mod baseline;
pub mod blueprints;
pub mod closure_targets;
pub mod config;
pub mod control;
pub mod doctor;
pub mod documents;
pub mod family;
pub mod handoff_names;
pub mod input;
pub mod intake;
pub mod interventions;
pub mod journal;
pub mod lane_count;
pub mod lineage;
pub mod lock;
pub mod mailbox;
pub mod paths;
pub mod queue;
pub mod runs;
pub mod skills;
pub mod state;
pub mod timestamp;
pub mod worktrees;

pub use family::{Family, LifecycleState, Plane};
pub use paths::{MailboxDir, WorkspacePaths};
pub use timestamp::Timestamp;

/// Makes the layout and writes the default `millrace.toml` when missing (what
/// `millrace init` needs from this module). Idempotent; never overwrites.
pub fn init(paths: &WorkspacePaths) -> std::io::Result<()> {
    paths.create_layout()?;
    match atomic::write_atomic_new(&paths.config_file(), config::default_toml().as_bytes()) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        result => result,
    }
}
