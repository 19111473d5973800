//! The Linux platform: inotify, `/proc`, the child subreaper,
//! `RENAME_NOREPLACE` and a cgroup v2 per stage.

pub mod claim;
pub mod containment;
pub mod owner;
pub mod processes;
pub mod watch;

/// The platform's name, for the daemon's monitor.
pub const NAME: &str = "linux";
