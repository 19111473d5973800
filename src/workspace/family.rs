//! Where work items live on disk: each family's folder, document format and
//! id label, and the folder name of each lifecycle state. The words
//! themselves are defined once, in [`crate::vocab`].

pub use crate::vocab::{Family, LifecycleState, Plane};

impl Family {
    /// The family's directory relative to `millrace-agents/`.
    pub fn dir(self) -> &'static str {
        match self {
            Family::Task => "tasks",
            Family::Spec => "specs",
            Family::Probe => "probes",
            Family::Incident => "incidents",
            Family::LearningRequest => "learning/requests",
            Family::BlueprintDraft => "blueprints/drafts",
        }
    }

    /// The document file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Family::BlueprintDraft => "json",
            _ => "md",
        }
    }

    /// The label of the id field in a markdown document (`Task-ID`).
    pub fn id_label(self) -> &'static str {
        match self {
            Family::Task => "Task-ID",
            Family::Spec => "Spec-ID",
            Family::Probe => "Probe-ID",
            Family::Incident => "Incident-ID",
            Family::LearningRequest => "Learning-Request-ID",
            Family::BlueprintDraft => "draft_id",
        }
    }
}

impl LifecycleState {
    /// The directory name of this state for `family`.
    pub fn dir_name(self, family: Family) -> &'static str {
        match (self, family) {
            (LifecycleState::Queued, Family::Incident) => "incoming",
            (LifecycleState::Queued, _) => "queue",
            (LifecycleState::Active, _) => "active",
            (LifecycleState::Done, Family::Incident) => "resolved",
            (LifecycleState::Done, Family::BlueprintDraft) => "approved",
            (LifecycleState::Done, _) => "done",
            (LifecycleState::Blocked, _) => "blocked",
            (LifecycleState::Canceled, _) => "canceled",
            (LifecycleState::Superseded, _) => "superseded",
        }
    }
}
