//! Why an intervention or a control was not applied.

use std::path::PathBuf;

use thiserror::Error;

use crate::fs_error::FileError;
use crate::workspace::documents::DocumentError;
use crate::workspace::family::{Family, Plane};
use crate::workspace::queue::QueueError;

/// An intervention or control that was refused or failed.
///
/// [`InterventionError::is_refusal`] separates the benign refusals (nothing
/// to do, or not now) from errors in the request or the workspace.
#[derive(Debug, Error)]
pub enum InterventionError {
    /// An id or file name that could escape its directory.
    #[error(
        "unsafe {what} `{value}`: use letters, digits, `.`, `_` and `-`, starting with a letter or digit"
    )]
    UnsafeId {
        /// What the value names (`task id`).
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// No reason, or only blanks.
    #[error("a reason is required: pass --reason \"why\"")]
    EmptyReason,
    /// No such item.
    #[error("unknown {what} `{id}`")]
    Unknown {
        /// What was looked for (`work item`, `task`, `incident`).
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The item exists but not in a state the intervention applies to.
    #[error("{family} `{id}` is {state}; {hint}")]
    WrongState {
        /// The family.
        family: Family,
        /// The id.
        id: String,
        /// Its state (`active`, `done`, ...).
        state: String,
        /// What the operator can do.
        hint: String,
    },
    /// The id exists in several families.
    #[error("`{id}` exists as {families}; pass --family to choose")]
    Ambiguous {
        /// The id.
        id: String,
        /// The families, comma-separated.
        families: String,
    },
    /// A request that cannot be applied as given.
    #[error("{0}")]
    Invalid(String),
    /// A `--family` that is not a family.
    #[error(
        "unknown family `{0}`: use task, spec, probe, incident, learning_request or blueprint_draft"
    )]
    UnknownFamily(String),
    /// A `--plane` that is not a plane.
    #[error("unknown plane `{0}`: use execution, planning or learning")]
    UnknownPlane(String),
    /// A `--cascade` that is not one.
    #[error("unknown cascade `{0}`: use none, retarget or cancel")]
    BadCascade(String),
    /// `retry-blocked` without `--force` on a task whose failure is not retryable.
    #[error(
        "blocked task `{id}` is not retried automatically: {why}; pass --force to requeue it anyway"
    )]
    NotRetryable {
        /// The task.
        id: String,
        /// Why.
        why: String,
    },
    /// `retry-active` with nothing active (a refusal).
    #[error("no active work item to retry")]
    NothingToRetry,
    /// `retry-active --work-item ID` for an item that is not active.
    #[error("`{0}` is not an active work item")]
    NotActive(String),
    /// `retry-active` with several active planes and none named.
    #[error("several planes are active ({planes}); name one with --plane")]
    PlaneRequired {
        /// The active planes, comma-separated.
        planes: String,
    },
    /// `resume` while usage governance pauses the runtime (a refusal).
    #[error("runtime resume blocked by usage governance (the operator pause, if any, was removed)")]
    ResumeBlocked,
    /// A stage of the item is running or pending (a refusal: try again later).
    #[error(
        "active runtime stage prevents operator intervention: {plane}/{node} (run {run_id}) holds {family} `{id}`"
    )]
    Busy {
        /// The plane of the run.
        plane: Plane,
        /// The node it is at.
        node: String,
        /// The run id.
        run_id: String,
        /// The item's family.
        family: Family,
        /// The item's id.
        id: String,
    },
    /// The file disappeared while being moved (another process moved it).
    #[error("`{}` disappeared while being moved", path.display())]
    Vanished {
        /// The file.
        path: PathBuf,
    },
    /// A queue operation failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A document could not be read or parsed.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The ownership lock could not be read or cleared.
    #[error(transparent)]
    Lock(#[from] crate::workspace::lock::LockError),
}

impl InterventionError {
    /// True for benign refusals: nothing was wrong with the request, there is
    /// just nothing to do, or not now (`applied: false`, exit 0).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            InterventionError::NothingToRetry
                | InterventionError::NotActive(_)
                | InterventionError::ResumeBlocked
                | InterventionError::Busy { .. }
        )
    }
}
