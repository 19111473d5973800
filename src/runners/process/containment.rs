//! Which containment stage processes get, chosen once when the daemon
//! starts: a container per stage where the platform has one and the
//! machine allows it (a cgroup v2 on Linux, see
//! [`StageContainer`]), else the process tree alone (the process group,
//! the stage tag, descendants, and on Linux the subreaper and start times;
//! see [`tree`](super::tree)). `MILLRACE_CONTAINMENT=process_tree` in the
//! daemon's environment chooses the process tree where containers exist.

use std::sync::OnceLock;

use crate::platform::{ContainerParent, StageContainer};
use crate::runners::StageRequest;

/// The environment variable that can turn containers off (`process_tree`).
pub const CONTAINMENT_VAR: &str = "MILLRACE_CONTAINMENT";

/// Where stage containers are made when they are used; unset outside a
/// daemon (a runner used as a library gets the process tree).
static PARENT: OnceLock<Option<ContainerParent>> = OnceLock::new();

/// Chooses the containment (the first call decides) and says which, for
/// the monitor, with the platform.
pub fn choose_containment() -> String {
    let mut why_not = String::new();
    let parent = PARENT.get_or_init(|| match probe() {
        Ok(parent) => Some(parent),
        Err(reason) => {
            why_not = reason;
            None
        }
    });
    let platform = crate::platform::NAME;
    match parent {
        Some(parent) => format!("containment {} platform={platform}", parent.describe()),
        None if why_not.is_empty() => format!("containment process_tree platform={platform}"),
        None => format!("containment process_tree platform={platform} reason={why_not}"),
    }
}

fn probe() -> Result<ContainerParent, String> {
    match std::env::var(CONTAINMENT_VAR) {
        Ok(choice) if choice == "process_tree" => Err(format!("{CONTAINMENT_VAR}={choice}")),
        _ => ContainerParent::probe().map_err(|e| e.to_string()),
    }
}

/// A new container for `request`, when containers are in use and one can
/// be made; otherwise the stage is contained by its process tree alone.
pub fn stage_container(request: &StageRequest) -> Option<StageContainer> {
    let parent = PARENT.get()?.as_ref()?;
    parent.stage(&request.agents_dir, &request.request_id).ok()
}
