//! Which containment stage processes get, chosen once when the daemon
//! starts: a cgroup v2 per stage where the machine allows it (see
//! [`cgroup`](super::cgroup)), else the process tree alone (the subreaper,
//! the stage tag and start times; see [`tree`](super::tree)).
//! `MILLRACE_CONTAINMENT=process_tree` in the daemon's environment chooses
//! the process tree on a machine with cgroups.

use std::sync::OnceLock;

pub use super::cgroup::CONTAINMENT_VAR;
use super::cgroup::{CgroupParent, CgroupUnavailable, StageCgroup};
use crate::runners::StageRequest;

/// The daemon's cgroup when stage cgroups are used; unset outside a daemon
/// (a runner used as a library gets the process tree).
static PARENT: OnceLock<Option<CgroupParent>> = OnceLock::new();

/// Chooses the containment (the first call decides) and says which, for
/// the monitor.
pub fn choose_containment() -> String {
    let mut why_not = String::new();
    let parent = PARENT.get_or_init(|| match probe() {
        Ok(parent) => Some(parent),
        Err(reason) => {
            why_not = reason.to_string();
            None
        }
    });
    match parent {
        Some(parent) => format!("containment cgroup parent={}", parent.dir().display()),
        None if why_not.is_empty() => "containment process_tree".to_string(),
        None => format!("containment process_tree reason={why_not}"),
    }
}

fn probe() -> Result<CgroupParent, CgroupUnavailable> {
    match std::env::var(CONTAINMENT_VAR) {
        Ok(choice) if choice == "process_tree" => Err(CgroupUnavailable::TurnedOff(choice)),
        _ => CgroupParent::probe(),
    }
}

/// A new cgroup for `request`, when cgroups are in use and one can be
/// made; otherwise the stage is contained by its process tree alone.
pub fn stage_cgroup(request: &StageRequest) -> Option<StageCgroup> {
    PARENT.get()?.as_ref()?.stage(request).ok()
}
