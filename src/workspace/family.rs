//! Work item families, their lifecycle states and directories, and the three planes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A plane: one of the three stage graphs a mode runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plane {
    /// Tasks: builder, checker, fixer, updater, ...
    Execution,
    /// Specs, probes, incidents and blueprint drafts.
    Planning,
    /// Learning requests.
    Learning,
}

impl Plane {
    /// Every plane, in the order the runtime considers them.
    pub const ALL: [Plane; 3] = [Plane::Execution, Plane::Planning, Plane::Learning];

    /// The lower-case name (`execution`).
    pub fn as_str(self) -> &'static str {
        match self {
            Plane::Execution => "execution",
            Plane::Planning => "planning",
            Plane::Learning => "learning",
        }
    }

    /// Parses a lower-case plane name.
    pub fn parse(text: &str) -> Option<Plane> {
        Plane::ALL.into_iter().find(|plane| plane.as_str() == text)
    }

    /// The families whose items this plane claims, in claim order.
    pub fn families(self) -> &'static [Family] {
        match self {
            Plane::Execution => &[Family::Task],
            Plane::Planning => &[
                Family::Incident,
                Family::BlueprintDraft,
                Family::Probe,
                Family::Spec,
            ],
            Plane::Learning => &[Family::LearningRequest],
        }
    }
}

impl fmt::Display for Plane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A family of work items: one document schema and one set of lifecycle directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `tasks/`: execution work.
    Task,
    /// `specs/`: planning input.
    Spec,
    /// `probes/`: reconnaissance requests.
    Probe,
    /// `incidents/`: failures escalated to planning.
    Incident,
    /// `learning/requests/`: learning work.
    LearningRequest,
    /// `blueprints/drafts/`: JSON drafts of blueprint modes.
    BlueprintDraft,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 6] = [
        Family::Task,
        Family::Spec,
        Family::Probe,
        Family::Incident,
        Family::LearningRequest,
        Family::BlueprintDraft,
    ];

    /// The snake_case family id (`learning_request`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Task => "task",
            Family::Spec => "spec",
            Family::Probe => "probe",
            Family::Incident => "incident",
            Family::LearningRequest => "learning_request",
            Family::BlueprintDraft => "blueprint_draft",
        }
    }

    /// Parses a family id.
    pub fn parse(text: &str) -> Option<Family> {
        Family::ALL
            .into_iter()
            .find(|family| family.as_str() == text)
    }

    /// The plane that claims this family.
    pub fn plane(self) -> Plane {
        match self {
            Family::Task => Plane::Execution,
            Family::LearningRequest => Plane::Learning,
            _ => Plane::Planning,
        }
    }

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

    /// The lifecycle states this family has.
    pub fn states(self) -> &'static [LifecycleState] {
        use LifecycleState::*;
        match self {
            Family::BlueprintDraft => &[Queued, Active, Done, Blocked, Canceled, Superseded],
            _ => &[Queued, Active, Done, Blocked],
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

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a work item is in its life. Each state is one directory per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleState {
    /// Waiting to be claimed (`queue/`, `incoming/` for incidents).
    Queued,
    /// Claimed by a plane (`active/`).
    Active,
    /// Finished (`done/`, `resolved/` for incidents, `approved/` for drafts).
    Done,
    /// Stopped, waiting for an operator or a retry (`blocked/`).
    Blocked,
    /// Canceled blueprint draft (`canceled/`).
    Canceled,
    /// Superseded blueprint draft (`superseded/`).
    Superseded,
}

impl LifecycleState {
    /// The snake_case state name (`queued`).
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Queued => "queued",
            LifecycleState::Active => "active",
            LifecycleState::Done => "done",
            LifecycleState::Blocked => "blocked",
            LifecycleState::Canceled => "canceled",
            LifecycleState::Superseded => "superseded",
        }
    }

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

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
