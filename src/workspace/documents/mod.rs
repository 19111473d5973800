//! Work documents: markdown field documents (and JSON imports) for every family.
//!
//! The format is the reference's: `# Title`, `Label: value` lines, `Label:` lists
//! of `- item`, free body text after the fields. [`WorkDocument::render`] writes
//! the canonical form; `render(parse(canonical)) == canonical`.

mod blueprint;
mod convert;
mod error;
mod fields;
mod id;
mod render;
mod schema;
mod types;

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use blueprint::BlueprintDraft;
pub use error::{DocumentError, Problem, ProblemKind};
pub use id::{MAX_ID_LEN, idea_spec_id, is_valid_id, legacy_source_id};
pub use types::{
    ConsultantDecision, Incident, LearningRequest, Probe, RequestedAction, RootIntakeKind,
    Severity, SourceType, Spec, TargetStage, Task,
};

use crate::fs_error::at;
use crate::workspace::family::Family;
use crate::workspace::timestamp::Timestamp;

/// A work document of any family.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkDocument {
    /// A task.
    Task(Task),
    /// A spec.
    Spec(Spec),
    /// A probe.
    Probe(Probe),
    /// An incident.
    Incident(Incident),
    /// A learning request.
    LearningRequest(LearningRequest),
    /// A blueprint draft (JSON).
    BlueprintDraft(BlueprintDraft),
}

impl WorkDocument {
    /// The family of this document.
    pub fn family(&self) -> Family {
        match self {
            WorkDocument::Task(_) => Family::Task,
            WorkDocument::Spec(_) => Family::Spec,
            WorkDocument::Probe(_) => Family::Probe,
            WorkDocument::Incident(_) => Family::Incident,
            WorkDocument::LearningRequest(_) => Family::LearningRequest,
            WorkDocument::BlueprintDraft(_) => Family::BlueprintDraft,
        }
    }

    /// The work item id (equal to the file stem).
    pub fn id(&self) -> &str {
        match self {
            WorkDocument::Task(doc) => &doc.task_id,
            WorkDocument::Spec(doc) => &doc.spec_id,
            WorkDocument::Probe(doc) => &doc.probe_id,
            WorkDocument::Incident(doc) => &doc.incident_id,
            WorkDocument::LearningRequest(doc) => &doc.learning_request_id,
            WorkDocument::BlueprintDraft(doc) => &doc.draft_id,
        }
    }

    /// The title (a draft without one uses its id).
    pub fn title(&self) -> &str {
        match self {
            WorkDocument::Task(doc) => &doc.title,
            WorkDocument::Spec(doc) => &doc.title,
            WorkDocument::Probe(doc) => &doc.title,
            WorkDocument::Incident(doc) => &doc.title,
            WorkDocument::LearningRequest(doc) => &doc.title,
            WorkDocument::BlueprintDraft(doc) => doc.title.as_deref().unwrap_or(&doc.draft_id),
        }
    }

    /// When the item was created (`Opened-At` for incidents): the claim order key.
    pub fn created_at(&self) -> Option<&Timestamp> {
        match self {
            WorkDocument::Task(doc) => Some(&doc.created_at),
            WorkDocument::Spec(doc) => Some(&doc.created_at),
            WorkDocument::Probe(doc) => Some(&doc.created_at),
            WorkDocument::Incident(doc) => Some(&doc.opened_at),
            WorkDocument::LearningRequest(doc) => Some(&doc.created_at),
            WorkDocument::BlueprintDraft(doc) => doc.created_at.as_ref(),
        }
    }

    /// The `Target-Paths` list: what the item says it changes (none for
    /// families without the field).
    pub fn target_paths(&self) -> &[String] {
        match self {
            WorkDocument::Task(doc) => &doc.target_paths,
            WorkDocument::Spec(doc) => &doc.target_paths,
            WorkDocument::Probe(doc) => &doc.target_paths,
            _ => &[],
        }
    }

    /// Ids that must be done before this item may be claimed.
    pub fn depends_on(&self) -> &[String] {
        match self {
            WorkDocument::Task(doc) => &doc.depends_on,
            WorkDocument::BlueprintDraft(doc) => &doc.depends_on_draft_ids,
            _ => &[],
        }
    }

    /// The effective root spec id: `Root-Spec-ID`, else the closest spec in the chain.
    pub fn root_spec_id(&self) -> Option<&str> {
        match self {
            WorkDocument::Task(doc) => doc.root_spec_id.as_deref().or(doc.spec_id.as_deref()),
            WorkDocument::Spec(doc) => Some(doc.root_spec_id.as_deref().unwrap_or(&doc.spec_id)),
            WorkDocument::Incident(doc) => doc
                .root_spec_id
                .as_deref()
                .or(doc.source_spec_id.as_deref()),
            WorkDocument::BlueprintDraft(doc) => doc.root_spec_id.as_deref(),
            // Kept in the trigger metadata, where a reference parser reads it too.
            WorkDocument::LearningRequest(doc) => doc
                .trigger_metadata
                .as_ref()
                .and_then(|m| m.get("root_spec_id"))
                .and_then(serde_json::Value::as_str),
            WorkDocument::Probe(_) => None,
        }
    }

    /// The root idea id, when the lineage records one.
    pub fn root_idea_id(&self) -> Option<&str> {
        match self {
            WorkDocument::Task(doc) => doc.root_idea_id.as_deref(),
            WorkDocument::Spec(doc) => doc.root_idea_id.as_deref(),
            WorkDocument::Incident(doc) => doc.root_idea_id.as_deref(),
            WorkDocument::BlueprintDraft(doc) => doc.root_idea_id.as_deref(),
            WorkDocument::Probe(_) | WorkDocument::LearningRequest(_) => None,
        }
    }

    /// How the lineage entered the system (`Root-Intake-Kind`), when recorded.
    pub fn root_intake_kind(&self) -> Option<RootIntakeKind> {
        match self {
            WorkDocument::Task(doc) => doc.root_intake_kind,
            WorkDocument::Spec(doc) => doc.root_intake_kind,
            WorkDocument::Incident(doc) => doc.root_intake_kind,
            _ => None,
        }
    }

    /// The work item the lineage entered with (`Root-Intake-ID`), when recorded.
    pub fn root_intake_id(&self) -> Option<&str> {
        match self {
            WorkDocument::Task(doc) => doc.root_intake_id.as_deref(),
            WorkDocument::Spec(doc) => doc.root_intake_id.as_deref(),
            WorkDocument::Incident(doc) => doc.root_intake_id.as_deref(),
            _ => None,
        }
    }

    /// The file name in a lifecycle directory (`<id>.md`, `<id>.json` for drafts).
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.id(), self.family().extension())
    }

    /// The canonical text: a field document, or pretty JSON for blueprint drafts.
    pub fn render(&self) -> String {
        match self {
            WorkDocument::Task(doc) => render_with(Family::Task, doc),
            WorkDocument::Spec(doc) => render_with(Family::Spec, doc),
            WorkDocument::Probe(doc) => render_with(Family::Probe, doc),
            WorkDocument::Incident(doc) => render_with(Family::Incident, doc),
            WorkDocument::LearningRequest(doc) => render_with(Family::LearningRequest, doc),
            WorkDocument::BlueprintDraft(doc) => doc.render(),
        }
    }

    /// The document as a JSON object with snake_case keys (the `.json` import form).
    pub fn to_json(&self) -> Value {
        let value = match self {
            WorkDocument::Task(doc) => serde_json::to_value(doc),
            WorkDocument::Spec(doc) => serde_json::to_value(doc),
            WorkDocument::Probe(doc) => serde_json::to_value(doc),
            WorkDocument::Incident(doc) => serde_json::to_value(doc),
            WorkDocument::LearningRequest(doc) => serde_json::to_value(doc),
            WorkDocument::BlueprintDraft(doc) => serde_json::to_value(doc),
        };
        value.unwrap_or(Value::Null)
    }
}

fn render_with<T: Serialize>(family: Family, doc: &T) -> String {
    let fields = serde_json::to_value(doc).unwrap_or(Value::Null);
    schema::schema(family)
        .map(|schema| render::render_markdown(schema, &fields))
        .unwrap_or_default()
}

/// Parses a markdown field document of `family`. `path` is used in messages only.
pub fn parse_markdown(
    family: Family,
    path: &Path,
    text: &str,
) -> Result<WorkDocument, DocumentError> {
    let schema = markdown_schema(family, path)?;
    let is_known = |label: &str| schema.iter().any(|field| field.label == label);
    let raw = fields::read(text, is_known).map_err(|line| {
        invalid(
            path,
            vec![Problem::new(Some(line), None, ProblemKind::MissingHeading)],
        )
    })?;
    let (fields, problems) = convert::from_markdown(schema, &raw);
    typed(family, path, fields, problems)
}

/// Parses a JSON import (the same fields as a JSON object with snake_case keys).
pub fn parse_json(family: Family, path: &Path, text: &str) -> Result<WorkDocument, DocumentError> {
    if family == Family::BlueprintDraft {
        let draft = blueprint::parse(text).map_err(|problems| invalid(path, problems))?;
        return Ok(WorkDocument::BlueprintDraft(draft));
    }
    let schema = markdown_schema(family, path)?;
    let value: Value = serde_json::from_str(text)
        .map_err(|error| invalid(path, vec![blueprint::json_problem(&error)]))?;
    let Value::Object(object) = value else {
        let kind = ProblemKind::Json {
            message: "a work document is a JSON object".to_string(),
        };
        return Err(invalid(path, vec![Problem::new(None, None, kind)]));
    };
    let (fields, problems) = convert::from_json(schema, object);
    typed(family, path, fields, problems)
}

/// Parses by extension: `.json` as a JSON import, anything else as markdown.
pub fn parse(family: Family, path: &Path, text: &str) -> Result<WorkDocument, DocumentError> {
    let is_json = path.extension().is_some_and(|ext| ext == "json");
    if is_json || family == Family::BlueprintDraft {
        parse_json(family, path, text)
    } else {
        parse_markdown(family, path, text)
    }
}

/// Reads and parses a file to import (`add-task` and friends): any file name.
pub fn read_import(family: Family, path: &Path) -> Result<WorkDocument, DocumentError> {
    let text = crate::workspace::input::read_text(path).map_err(at("read", path))?;
    parse(family, path, &text)
}

/// Reads a document from a lifecycle directory: it must parse and its id must equal the stem.
pub fn read_document(family: Family, path: &Path) -> Result<WorkDocument, DocumentError> {
    let document = read_import(family, path)?;
    check_stem(&document, path)?;
    Ok(document)
}

/// Fails when the file stem differs from the document id.
pub fn check_stem(document: &WorkDocument, path: &Path) -> Result<(), DocumentError> {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    if stem == document.id() {
        return Ok(());
    }
    let kind = ProblemKind::StemMismatch {
        field: document.family().id_label().to_string(),
        stem: stem.to_string(),
        id: document.id().to_string(),
    };
    Err(invalid(
        path,
        vec![Problem::new(None, Some(document.family().id_label()), kind)],
    ))
}

fn markdown_schema(family: Family, path: &Path) -> Result<&'static [schema::Field], DocumentError> {
    schema::schema(family).ok_or_else(|| {
        let kind = ProblemKind::WrongFormat {
            family: family.as_str(),
            expected: "JSON",
        };
        invalid(path, vec![Problem::new(None, None, kind)])
    })
}

fn typed(
    family: Family,
    path: &Path,
    fields: convert::Fields,
    mut problems: Vec<Problem>,
) -> Result<WorkDocument, DocumentError> {
    if !problems.is_empty() {
        problems.sort_by_key(|problem| problem.line.unwrap_or(usize::MAX));
        return Err(invalid(path, problems));
    }
    let value = Value::Object(fields);
    let document = match family {
        Family::Task => from_value(value).map(WorkDocument::Task),
        Family::Spec => from_value(value).map(WorkDocument::Spec),
        Family::Probe => from_value(value).map(WorkDocument::Probe),
        Family::Incident => from_value(value).map(WorkDocument::Incident),
        Family::LearningRequest => from_value(value).map(WorkDocument::LearningRequest),
        Family::BlueprintDraft => from_value(value).map(WorkDocument::BlueprintDraft),
    };
    document.map_err(|error| invalid(path, vec![blueprint::json_problem(&error)]))
}

fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(value)
}

fn invalid(path: &Path, problems: Vec<Problem>) -> DocumentError {
    DocumentError::Invalid {
        path: path.to_path_buf(),
        problems,
    }
}
