//! Blueprint drafts: JSON work items of the blueprint planning modes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{Problem, ProblemKind};
use super::id::is_valid_id;
use crate::workspace::timestamp::Timestamp;

/// A blueprint draft (`blueprints/drafts/<state>/<draft_id>.json`).
///
/// Fields the runtime does not read are kept in `extra` and written back as they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueprintDraft {
    /// The draft id (the file stem).
    pub draft_id: String,
    /// A title, when the draft has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The manifest this draft belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_id: Option<String>,
    /// Lineage: the root idea.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_idea_id: Option<String>,
    /// Lineage: the root spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_spec_id: Option<String>,
    /// Drafts that must be approved first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on_draft_ids: Vec<String>,
    /// Creation time; drafts are claimed oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Who created the draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BlueprintDraft {
    /// The canonical JSON text (pretty, keys of `extra` sorted, trailing newline).
    pub fn render(&self) -> String {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        format!("{text}\n")
    }

    /// Revisions judged so far (`current_revision`; 0 before the first).
    pub fn current_revision(&self) -> u64 {
        self.extra
            .get("current_revision")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    /// The last candidate's blueprint id (`latest_blueprint_id`).
    pub fn latest_blueprint_id(&self) -> Option<&str> {
        self.extra
            .get("latest_blueprint_id")
            .and_then(Value::as_str)
    }

    /// The critique the next revision must answer (`latest_critique_id`).
    pub fn latest_critique_id(&self) -> Option<&str> {
        self.extra.get("latest_critique_id").and_then(Value::as_str)
    }

    /// Records a candidate: the draft now names it as its latest blueprint.
    pub fn record_candidate(&mut self, blueprint_id: &str) {
        self.extra
            .insert("latest_blueprint_id".into(), blueprint_id.into());
    }

    /// Records a rejection: the judged revision, and the critique the next
    /// candidate must answer.
    pub fn record_rejection(&mut self, revision: u64, blueprint_id: &str, critique_id: &str) {
        self.extra
            .insert("current_revision".into(), revision.into());
        self.record_candidate(blueprint_id);
        self.extra
            .insert("latest_critique_id".into(), critique_id.into());
    }

    /// Fills the revision fields a new draft starts with, keeping any given.
    pub fn start_revisions(&mut self) {
        self.extra
            .entry("current_revision")
            .or_insert_with(|| 0.into());
        for key in ["latest_blueprint_id", "latest_critique_id"] {
            self.extra.entry(key).or_insert(Value::Null);
        }
    }
}

/// Parses and checks a draft.
pub(crate) fn parse(text: &str) -> Result<BlueprintDraft, Vec<Problem>> {
    let value: Value = serde_json::from_str(text).map_err(|error| vec![json_problem(&error)])?;
    let Value::Object(object) = value else {
        let kind = ProblemKind::Json {
            message: "a blueprint draft is a JSON object".to_string(),
        };
        return Err(vec![Problem::new(None, None, kind)]);
    };
    check_ids(&object)?;
    serde_json::from_value(Value::Object(object)).map_err(|error| vec![json_problem(&error)])
}

fn check_ids(object: &Map<String, Value>) -> Result<(), Vec<Problem>> {
    let problem = match object.get("draft_id") {
        None | Some(Value::Null) => ProblemKind::Missing {
            field: "draft_id".to_string(),
        },
        Some(Value::String(id)) if is_valid_id(id) => return Ok(()),
        Some(Value::String(id)) => ProblemKind::InvalidId {
            field: "draft_id".to_string(),
            value: id.clone(),
        },
        Some(_) => ProblemKind::WrongType {
            field: "draft_id".to_string(),
            expected: "a string",
        },
    };
    Err(vec![Problem::new(None, Some("draft_id"), problem)])
}

pub(crate) fn json_problem(error: &serde_json::Error) -> Problem {
    let line = (error.line() > 0).then_some(error.line());
    Problem::new(
        line,
        None,
        ProblemKind::Json {
            message: error.to_string(),
        },
    )
}
