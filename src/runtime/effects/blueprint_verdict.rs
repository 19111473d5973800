//! The two ends of a blueprint review: a rejection keeps the evaluation, the
//! rejected packet and an open critique, and gives the draft its next
//! revision; an approval keeps the evaluation and the approved packet,
//! promotes the generated task and writes the promotion record that links
//! them all.

use serde_json::{Value, json};

use super::context::{EffectContext, enqueue};
use crate::workspace::Timestamp;
use crate::workspace::blueprints::{
    BlueprintRecordError, CritiqueIds, EvaluationIds, PacketIds, PacketState, Record, check_equal,
    check_id, judge_packet, promotion_id, read_record, write_active_draft, write_record,
};
use crate::workspace::documents::{BlueprintDraft, Task, WorkDocument, parse_json};
use crate::workspace::input::read_text;
use crate::workspace::{Family, WorkspacePaths};

/// Turns a record error into a fault reason of failure class `class`.
pub(super) fn class(class: &'static str) -> impl Fn(BlueprintRecordError) -> String {
    move |e| format!("{class}: {e}")
}

/// An evaluation judges the draft's latest packet, with the decision its
/// marker says.
pub(super) fn check_evaluation(
    evaluation: &EvaluationIds,
    packet: &PacketIds,
    approved: bool,
) -> Result<(), BlueprintRecordError> {
    let what = "blueprint_evaluation.json";
    check_id("evaluation_id", &evaluation.evaluation_id)?;
    check_equal(
        what,
        "blueprint_id",
        &evaluation.blueprint_id,
        &packet.blueprint_id,
    )?;
    check_equal(what, "draft_id", &evaluation.draft_id, &packet.draft_id)?;
    let decision = if approved { "approved" } else { "rejected" };
    check_equal(what, "decision", &evaluation.decision, decision)
}

/// Records a rejection; the draft stays active for its next revision.
pub(super) fn reject(
    ctx: &mut EffectContext<'_>,
    mut draft: BlueprintDraft,
    packet: &PacketIds,
    evaluation: &Record<EvaluationIds>,
) -> Result<String, String> {
    let invalid = class("blueprint_critique_invalid");
    let critique: Record<CritiqueIds> =
        read_record(ctx.run_dir, "blueprint_critique.json").map_err(&invalid)?;
    check_critique(&critique.ids, &evaluation.ids, packet).map_err(&invalid)?;
    let critique_id = &critique.ids.critique_id;
    write_record(
        &ctx.paths
            .blueprint_evaluation(&evaluation.ids.evaluation_id),
        &evaluation.value,
    )
    .map_err(&invalid)?;
    judge_packet(ctx.paths, &packet.blueprint_id, PacketState::Rejected).map_err(&invalid)?;
    write_record(&ctx.paths.blueprint_critique(critique_id), &critique.value).map_err(&invalid)?;
    draft.record_rejection(packet.revision, &packet.blueprint_id, critique_id);
    write_active_draft(ctx.paths, &draft).map_err(&invalid)?;
    Ok(format!(
        "blueprint {} rejected by {}, critique {critique_id} opened for revision {}",
        packet.blueprint_id,
        evaluation.ids.evaluation_id,
        packet.revision + 1
    ))
}

/// A critique names the evaluation that opened it and the packet it judged.
fn check_critique(
    critique: &CritiqueIds,
    evaluation: &EvaluationIds,
    packet: &PacketIds,
) -> Result<(), BlueprintRecordError> {
    let what = "blueprint_critique.json";
    check_id("critique_id", &critique.critique_id)?;
    let named = evaluation.critique_id.as_deref().unwrap_or_default();
    check_equal(
        "blueprint_evaluation.json",
        "critique_id",
        named,
        &critique.critique_id,
    )?;
    check_equal(
        what,
        "evaluation_id",
        &critique.evaluation_id,
        &evaluation.evaluation_id,
    )?;
    check_equal(
        what,
        "blueprint_id",
        &critique.blueprint_id,
        &packet.blueprint_id,
    )?;
    check_equal(what, "draft_id", &critique.draft_id, &packet.draft_id)?;
    check_equal(
        what,
        "revision",
        &critique.revision.to_string(),
        &packet.revision.to_string(),
    )
}

/// Records an approval and promotes the generated task.
pub(super) fn approve(
    ctx: &mut EffectContext<'_>,
    draft: &BlueprintDraft,
    packet: &PacketIds,
    evaluation: &Record<EvaluationIds>,
) -> Result<String, String> {
    let mut task = generated_task(ctx, draft)?;
    let invalid = class("blueprint_task_promotion_invalid");
    let evaluation_path = ctx
        .paths
        .blueprint_evaluation(&evaluation.ids.evaluation_id);
    write_record(&evaluation_path, &evaluation.value).map_err(&invalid)?;
    let approved =
        judge_packet(ctx.paths, &packet.blueprint_id, PacketState::Approved).map_err(&invalid)?;
    let approved_ref = relative(ctx.paths, &approved);
    let evaluation_ref = relative(ctx.paths, &evaluation_path);
    for reference in [&approved_ref, &evaluation_ref] {
        if !task.references.contains(reference) {
            task.references.push(reference.clone());
        }
    }
    let task_id = task.task_id.clone();
    let at = enqueue(ctx, &WorkDocument::Task(task))
        .map_err(|r| format!("blueprint_task_promotion_invalid: {r}"))?;
    let links = Links {
        task_id: &task_id,
        task_path: relative(ctx.paths, std::path::Path::new(&at)),
        approved: approved_ref,
        evaluation: evaluation_ref,
    };
    let record = promotion(draft, packet, &evaluation.ids, &links);
    write_record(
        &ctx.paths.blueprint_promotion(&evaluation.ids.evaluation_id),
        &record,
    )
    .map_err(&invalid)?;
    Ok(format!(
        "blueprint {} approved by {}, task {task_id} promoted",
        packet.blueprint_id, evaluation.ids.evaluation_id
    ))
}

/// `generated_task.json`, of the draft's lineage.
fn generated_task(ctx: &EffectContext<'_>, draft: &BlueprintDraft) -> Result<Task, String> {
    let path = ctx.run_dir.join("generated_task.json");
    let text = read_text(&path).map_err(|e| {
        format!(
            "generated_task_missing: cannot read {}: {e}",
            path.display()
        )
    })?;
    let task = match parse_json(Family::Task, &path, &text) {
        Ok(WorkDocument::Task(task)) => task,
        Ok(_) => return Err("generated_task_invalid: not a task".into()),
        Err(e) => return Err(format!("generated_task_invalid: {e}")),
    };
    let lineage = [
        ("root_spec_id", &task.root_spec_id, &draft.root_spec_id),
        ("root_idea_id", &task.root_idea_id, &draft.root_idea_id),
    ];
    for (field, found, wanted) in lineage {
        if let Some(wanted) = wanted {
            let found = found.as_deref().unwrap_or_default();
            check_equal("generated_task.json", field, found, wanted)
                .map_err(class("generated_task_invalid"))?;
        }
    }
    Ok(task)
}

/// Where the promoted records are, relative to the workspace root.
struct Links<'a> {
    task_id: &'a str,
    task_path: String,
    approved: String,
    evaluation: String,
}

/// The promotion record, in the reference's `blueprint_promotion` shape.
fn promotion(
    draft: &BlueprintDraft,
    packet: &PacketIds,
    evaluation: &EvaluationIds,
    links: &Links<'_>,
) -> Value {
    let promoted_at = evaluation
        .created_at
        .clone()
        .unwrap_or_else(|| Timestamp::now().to_string());
    json!({
        "schema_version": "1.0",
        "kind": "blueprint_promotion",
        "promotion_id": promotion_id(&evaluation.evaluation_id),
        "blueprint_id": packet.blueprint_id,
        "evaluation_id": evaluation.evaluation_id,
        "draft_id": draft.draft_id,
        "manifest_id": packet.manifest_id,
        "root_spec_id": packet.root_spec_id,
        "root_idea_id": packet.root_idea_id,
        "generated_task_id": links.task_id,
        "generated_task_path": links.task_path,
        "approved_blueprint_path": links.approved,
        "evaluation_path": links.evaluation,
        "promoted_at": promoted_at,
        "promoted_by": "runtime",
    })
}

/// A path as records cite it: relative to the workspace root.
fn relative(paths: &WorkspacePaths, path: &std::path::Path) -> String {
    path.strip_prefix(paths.root())
        .unwrap_or(path)
        .display()
        .to_string()
}
