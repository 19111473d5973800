//! The reasons a run folder past the limits is kept: named by the keeper
//! and by the search for runs that open work names, so in neither.

use serde::Serialize;

/// Why a run folder is always kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// The snapshot lists it among the active runs (running, or pending after a stop).
    ActiveRun,
    /// Its work item is queued again.
    WorkQueued,
    /// Its work item is active.
    WorkActive,
    /// Its work item is blocked.
    WorkBlocked,
    /// An open incident names it.
    OpenIncident,
    /// An open learning request names it.
    OpenLearningRequest,
    /// Nothing says what it is, and it changed in the last day.
    RecentUnidentified,
}

impl KeepReason {
    /// The snake_case name (`work_blocked`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeepReason::ActiveRun => "active_run",
            KeepReason::WorkQueued => "work_queued",
            KeepReason::WorkActive => "work_active",
            KeepReason::WorkBlocked => "work_blocked",
            KeepReason::OpenIncident => "open_incident",
            KeepReason::OpenLearningRequest => "open_learning_request",
            KeepReason::RecentUnidentified => "recent_unidentified",
        }
    }
}
