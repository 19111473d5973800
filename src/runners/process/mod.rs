//! A stage's program as processes: what is started ([`Launch`]), the one
//! process a runner waits for and stops ([`StageProcess`]), and what makes
//! sure nothing it starts outlives the stage: its process group
//! ([`group`]), its process tree found through the platform's process
//! table ([`tree`]), and a container per stage where the platform has one
//! (a cgroup v2 on Linux; chosen once by [`containment`]).
//! `docs/harness-runners.md` ("Containment") tells what each catches.

mod containment;
mod group;
mod launch;
mod stage_process;
mod tree;

pub use containment::{CONTAINMENT_VAR, choose_containment};
pub use group::DEFAULT_GRACE;
pub use launch::{Launch, LaunchError};
pub use stage_process::{Ending, StageProcess, StdoutTo};
pub use tree::{TAG_VAR, become_subreaper};

/// Kills and removes the stage containers a dead daemon of the workspace
/// at `agents_dir` recorded; returns how many.
pub fn sweep_recorded(agents_dir: &std::path::Path) -> usize {
    crate::platform::sweep_recorded(agents_dir, DEFAULT_GRACE)
}
