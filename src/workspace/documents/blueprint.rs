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
