//! A stage's program as processes: what is started ([`Launch`]), the one
//! process a runner waits for and stops ([`StageProcess`]), and what makes
//! sure nothing it starts outlives the stage: its process group
//! ([`group`]), its process tree found through `/proc` ([`tree`]), and a
//! cgroup v2 per stage where the machine allows it ([`cgroup`], chosen once
//! by [`containment`]). `docs/harness-runners.md` ("Containment") tells
//! what each catches.

mod cgroup;
mod containment;
mod group;
mod launch;
mod stage_process;
mod tree;

pub use cgroup::sweep_recorded;
pub use containment::{CONTAINMENT_VAR, choose_containment};
pub use group::DEFAULT_GRACE;
pub use launch::{Launch, LaunchError};
pub use stage_process::{Ending, StageProcess, StdoutTo};
pub use tree::{TAG_VAR, become_subreaper};
