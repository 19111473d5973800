//! Work the runtime creates for another plane: handoff incidents (a final
//! with `handoff incident`) and learning requests (a mode's learn rules).
//! Both carry the source's lineage so closure stays with its root spec.

use serde_json::json;

use crate::plan::LearnRulePlan;
use crate::workspace::Timestamp;
use crate::workspace::documents::{
    ConsultantDecision, Incident, LearningRequest, Severity, WorkDocument,
};
use crate::workspace::{Family, Plane, handoff_names};

/// Where the handoff comes from.
pub struct HandoffSource<'a> {
    pub plane: Plane,
    pub node: &'a str,
    pub run_id: &'a str,
    pub final_name: &'a str,
    pub failure_class: Option<&'a str>,
    /// The work item that led here (absent for closure-target stages).
    pub document: Option<&'a WorkDocument>,
    /// The lineage when there is no document (a closure target's root spec).
    pub root_spec_id: Option<&'a str>,
    pub root_idea_id: Option<&'a str>,
    pub result_path: String,
    pub artifacts: Vec<String>,
}

/// A short suffix derived from `seed` (a request id): unique per stage, and
/// the same when a stage is applied again after a crash, so the item it
/// creates is created once.
pub fn suffix(seed: &str, len: usize) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..len]
        .to_string()
}

/// The incident a handoff final creates, named by [`handoff_names`]: for
/// the work item, for the closure target asking for remediation, or for
/// the stage.
pub fn handoff_incident(source: &HandoffSource<'_>, seed: &str) -> WorkDocument {
    let source_id = source.document.map(|d| d.id().to_string());
    let root_spec = source
        .document
        .and_then(|d| d.root_spec_id().map(str::to_string))
        .or(source.root_spec_id.map(str::to_string));
    let root_idea = source
        .document
        .and_then(|d| d.root_idea_id().map(str::to_string))
        .or(source.root_idea_id.map(str::to_string));
    let suffix = suffix(seed, 8);
    let (id, title) = match (&source_id, &root_spec) {
        (Some(id), _) => handoff_names::for_item(id, &suffix),
        (None, Some(root)) => handoff_names::for_closure_gap(root, &suffix),
        (None, None) => handoff_names::for_stage(source.node, &suffix),
    };
    let trigger = format!("{}_{}", source.node, source.final_name);
    let family = source.document.map(WorkDocument::family);
    WorkDocument::Incident(Incident {
        incident_id: id,
        title,
        summary: format!(
            "Stage `{}` ended in `{}` and handed the work to planning.",
            source.node, source.final_name
        ),
        source_stage: source.node.to_string(),
        source_plane: source.plane,
        failure_class: source
            .failure_class
            .map_or_else(|| trigger.clone(), str::to_string),
        trigger_reason: trigger,
        consultant_decision: ConsultantDecision::NeedsPlanning,
        severity: Severity::High,
        needs_planning: true,
        source_task_id: source_id.clone().filter(|_| family == Some(Family::Task)),
        source_spec_id: source_id.filter(|_| family == Some(Family::Spec)),
        root_idea_id: root_idea,
        root_spec_id: root_spec,
        root_intake_kind: source.document.and_then(WorkDocument::root_intake_kind),
        root_intake_id: source
            .document
            .and_then(WorkDocument::root_intake_id)
            .map(str::to_string),
        status_hint: None,
        opened_at: Timestamp::now(),
        opened_by: "millrace".into(),
        updated_at: None,
        observed_symptoms: Vec::new(),
        failed_attempts: Vec::new(),
        evidence_paths: source.artifacts.clone(),
        related_run_ids: vec![source.run_id.to_string()],
        related_stage_results: vec![source.result_path.clone()],
        references: Vec::new(),
        body: String::new(),
    })
}

/// The learning request a learn rule enqueues: `learn-<hex12>`.
pub fn learning_request(
    rule: &LearnRulePlan,
    outcome: &str,
    source: &HandoffSource<'_>,
    seed: &str,
) -> Option<WorkDocument> {
    let requested_action = serde_json::from_value(json!(rule.action.as_str())).ok()?;
    let target_stage = serde_json::from_value(json!(rule.target)).ok();
    let id = format!(
        "learn-{}",
        suffix(&format!("{seed}/{}/{}", rule.source, rule.target), 12)
    );
    let root_spec = source
        .document
        .and_then(WorkDocument::root_spec_id)
        .or(source.root_spec_id);
    let mut trigger = json!({
        "rule_source": rule.source, "outcome": outcome, "target": rule.target,
        "run_id": source.run_id, "work_item_id": source.document.map(WorkDocument::id),
    });
    if let Some(root) = root_spec {
        trigger["root_spec_id"] = json!(root);
    }
    Some(WorkDocument::LearningRequest(LearningRequest {
        learning_request_id: id,
        title: format!("Learn from {} {outcome}", rule.source),
        summary: None,
        requested_action,
        target_skill_id: None,
        target_stage,
        trigger_metadata: Some(trigger),
        created_at: Timestamp::now(),
        created_by: "millrace".into(),
        updated_at: None,
        source_refs: Vec::new(),
        preferred_output_paths: Vec::new(),
        originating_run_ids: vec![source.run_id.to_string()],
        artifact_paths: std::iter::once(source.result_path.clone())
            .chain(source.artifacts.iter().cloned())
            .collect(),
        references: Vec::new(),
        body: String::new(),
    }))
}
