//! The field schema of each markdown family: labels, kinds, requirement, render order.

use crate::workspace::family::Family;

/// How a field's text is read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Free single-line text.
    Text,
    /// A work item id.
    Id,
    /// `Source-ID`: an id; the path an earlier build wrote is read as the
    /// id it stands for.
    SourceId,
    /// A datetime in any form the reference reads, kept normalised.
    Time,
    /// A boolean in any form the reference reads (`true`, `0`, `off`, `y`, ...),
    /// with the default that is not rendered.
    Bool(bool),
    /// One of a fixed set, with an optional default that is not rendered.
    Choice(&'static [&'static str], Option<&'static str>),
    /// Inline JSON: an object.
    Json,
    /// A `- item` list.
    List,
    /// A list of ids where `none`, `n/a` and `-` mean nothing (`Depends-On`, `Blocks`).
    IdList,
    /// A list of ids, every item one (`Originating-Run-IDs`).
    Ids,
}

impl Kind {
    /// True for list kinds (rendered as blocks after the scalars).
    pub fn is_list(self) -> bool {
        matches!(self, Kind::List | Kind::IdList | Kind::Ids)
    }
}

/// One field of a family's schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub label: &'static str,
    pub kind: Kind,
    /// Required scalars must be present; required lists need at least one item.
    pub required: bool,
}

impl Field {
    /// The snake_case JSON key (`Depends-On` → `depends_on`).
    pub fn key(&self) -> String {
        self.label.to_ascii_lowercase().replace('-', "_")
    }
}

const fn req(label: &'static str, kind: Kind) -> Field {
    Field {
        label,
        kind,
        required: true,
    }
}

const fn opt(label: &'static str, kind: Kind) -> Field {
    Field {
        label,
        kind,
        required: false,
    }
}

/// `Root-Intake-Kind` values.
pub(crate) const ROOT_INTAKE_KINDS: &[&str] =
    &["idea", "probe", "manual", "incident", "derived_spec"];
/// `Source-Type` values.
pub(crate) const SOURCE_TYPES: &[&str] = &["idea", "incident", "manual", "derived_spec", "probe"];
/// `Consultant-Decision` values.
pub(crate) const CONSULTANT_DECISIONS: &[&str] = &["needs_planning", "blocked"];
/// `Severity` values.
pub(crate) const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];
/// `Source-Plane` values.
pub(crate) const PLANES: &[&str] = &["execution", "planning", "learning"];
/// `Requested-Action` values.
pub(crate) const REQUESTED_ACTIONS: &[&str] =
    &["create", "improve", "promote", "export", "install"];
/// `Target-Stage` values.
pub(crate) const TARGET_STAGES: &[&str] = &["analyst", "professor", "curator", "librarian"];

/// `Status-Hint` values of tasks and probes.
pub(crate) const WORK_STATUS_HINTS: &[&str] = &["queued", "active", "blocked", "done"];
/// `Status-Hint` values of incidents.
pub(crate) const INCIDENT_STATUS_HINTS: &[&str] = &["incoming", "active", "blocked", "resolved"];

// Scalars, then lists, each in the reference's order, which is the render order.

const TASK: &[Field] = &[
    req("Task-ID", Kind::Id),
    req("Title", Kind::Text),
    opt("Summary", Kind::Text),
    opt("Root-Idea-ID", Kind::Id),
    opt("Root-Spec-ID", Kind::Id),
    opt("Root-Intake-Kind", Kind::Choice(ROOT_INTAKE_KINDS, None)),
    opt("Root-Intake-ID", Kind::Id),
    opt("Spec-ID", Kind::Id),
    opt("Parent-Task-ID", Kind::Id),
    opt("Incident-ID", Kind::Id),
    opt("Status-Hint", Kind::Choice(WORK_STATUS_HINTS, None)),
    req("Created-At", Kind::Time),
    req("Created-By", Kind::Text),
    opt("Updated-At", Kind::Time),
    opt("Depends-On", Kind::IdList),
    opt("Blocks", Kind::IdList),
    opt("Tags", Kind::List),
    req("Target-Paths", Kind::List),
    req("Acceptance", Kind::List),
    req("Required-Checks", Kind::List),
    req("References", Kind::List),
    req("Risk", Kind::List),
];

const SPEC: &[Field] = &[
    req("Spec-ID", Kind::Id),
    req("Title", Kind::Text),
    req("Summary", Kind::Text),
    req("Source-Type", Kind::Choice(SOURCE_TYPES, None)),
    opt("Source-ID", Kind::SourceId),
    opt("Parent-Spec-ID", Kind::Id),
    opt("Root-Idea-ID", Kind::Id),
    opt("Root-Spec-ID", Kind::Id),
    opt("Root-Intake-Kind", Kind::Choice(ROOT_INTAKE_KINDS, None)),
    opt("Root-Intake-ID", Kind::Id),
    req("Created-At", Kind::Time),
    req("Created-By", Kind::Text),
    opt("Updated-At", Kind::Time),
    req("Goals", Kind::List),
    opt("Non-Goals", Kind::List),
    opt("Scope", Kind::List),
    req("Constraints", Kind::List),
    opt("Assumptions", Kind::List),
    opt("Risks", Kind::List),
    opt("Target-Paths", Kind::List),
    opt("Entrypoints", Kind::List),
    opt("Required-Skills", Kind::List),
    opt("Decomposition-Hints", Kind::List),
    req("Acceptance", Kind::List),
    req("References", Kind::List),
];

const PROBE: &[Field] = &[
    req("Probe-ID", Kind::Id),
    req("Title", Kind::Text),
    req("Summary", Kind::Text),
    req("Request", Kind::Text),
    opt("Status-Hint", Kind::Choice(WORK_STATUS_HINTS, None)),
    req("Created-At", Kind::Time),
    req("Created-By", Kind::Text),
    opt("Updated-At", Kind::Time),
    opt("Target-Paths", Kind::List),
    opt("Constraints", Kind::List),
    opt("Acceptance", Kind::List),
    opt("Risk-Notes", Kind::List),
    opt("References", Kind::List),
    opt("Tags", Kind::List),
];

const INCIDENT: &[Field] = &[
    req("Incident-ID", Kind::Id),
    req("Title", Kind::Text),
    req("Summary", Kind::Text),
    opt("Root-Idea-ID", Kind::Id),
    opt("Root-Spec-ID", Kind::Id),
    opt("Root-Intake-Kind", Kind::Choice(ROOT_INTAKE_KINDS, None)),
    opt("Root-Intake-ID", Kind::Id),
    opt("Source-Task-ID", Kind::Id),
    opt("Source-Spec-ID", Kind::Id),
    req("Source-Stage", Kind::Text),
    req("Source-Plane", Kind::Choice(PLANES, None)),
    req("Failure-Class", Kind::Text),
    opt("Status-Hint", Kind::Choice(INCIDENT_STATUS_HINTS, None)),
    opt("Severity", Kind::Choice(SEVERITIES, Some("medium"))),
    opt("Needs-Planning", Kind::Bool(true)),
    req("Trigger-Reason", Kind::Text),
    req(
        "Consultant-Decision",
        Kind::Choice(CONSULTANT_DECISIONS, None),
    ),
    req("Opened-At", Kind::Time),
    req("Opened-By", Kind::Text),
    opt("Updated-At", Kind::Time),
    opt("Observed-Symptoms", Kind::List),
    opt("Failed-Attempts", Kind::List),
    opt("Evidence-Paths", Kind::List),
    opt("Related-Run-IDs", Kind::List),
    opt("Related-Stage-Results", Kind::List),
    opt("References", Kind::List),
];

const LEARNING_REQUEST: &[Field] = &[
    req("Learning-Request-ID", Kind::Id),
    req("Title", Kind::Text),
    opt("Summary", Kind::Text),
    req("Requested-Action", Kind::Choice(REQUESTED_ACTIONS, None)),
    opt("Target-Skill-ID", Kind::Id),
    opt("Target-Stage", Kind::Choice(TARGET_STAGES, None)),
    opt("Trigger-Metadata", Kind::Json),
    req("Created-At", Kind::Time),
    req("Created-By", Kind::Text),
    opt("Updated-At", Kind::Time),
    opt("Source-Refs", Kind::List),
    opt("Preferred-Output-Paths", Kind::List),
    opt("Originating-Run-IDs", Kind::Ids),
    opt("Artifact-Paths", Kind::List),
    opt("References", Kind::List),
];

/// The schema of a markdown family (`None` for blueprint drafts, which are JSON).
pub(crate) fn schema(family: Family) -> Option<&'static [Field]> {
    match family {
        Family::Task => Some(TASK),
        Family::Spec => Some(SPEC),
        Family::Probe => Some(PROBE),
        Family::Incident => Some(INCIDENT),
        Family::LearningRequest => Some(LEARNING_REQUEST),
        Family::BlueprintDraft => None,
    }
}
