//! Blueprint planning effects: the manager's manifest becomes queued drafts,
//! the contractor's packet a candidate, and the evaluator's verdict an
//! approved packet with a promoted task or a rejected one with a critique.
//! Every record is linked by ids, so the whole review of a draft can be read
//! back from `blueprints/` (the reference's blueprint contracts).

use serde_json::Value;

use super::blueprint_verdict::{approve, check_evaluation, class, reject};
use super::context::{EffectContext, enqueue};
use super::result::EffectResult;
use crate::workspace::Family;
use crate::workspace::blueprints::{
    BlueprintRecordError, ManifestIds, PacketIds, PacketState, Record, check_equal, check_id,
    copy_into_record, find_packet, read_active_draft, read_record, read_record_at,
    write_active_draft, write_record,
};
use crate::workspace::documents::{BlueprintDraft, WorkDocument, parse_json};

/// The outcome of an effect body as the handler returns it.
fn finish(result: Result<String, String>) -> EffectResult {
    match result {
        Ok(note) => EffectResult::Proceed { note },
        Err(reason) => EffectResult::fault(reason),
    }
}

/// `blueprint_manifest.json` + `blueprint_drafts.json`: keeps the manifest
/// and queues its drafts, each starting at revision 0.
pub fn manifest(ctx: &mut EffectContext<'_>) -> EffectResult {
    finish(record_manifest(ctx))
}

fn record_manifest(ctx: &mut EffectContext<'_>) -> Result<String, String> {
    let manifest: Record<ManifestIds> = read_record(ctx.run_dir, "blueprint_manifest.json")
        .map_err(class("blueprint_manifest_invalid"))?;
    check_id("manifest_id", &manifest.ids.manifest_id)
        .map_err(class("blueprint_manifest_invalid"))?;
    let drafts = read_drafts(ctx, &manifest.ids)?;
    write_record(
        &ctx.paths.blueprint_manifest(&manifest.ids.manifest_id),
        &manifest.value,
    )
    .map_err(class("blueprint_manifest_invalid"))?;
    let mut ids = Vec::new();
    for draft in drafts {
        let document = WorkDocument::BlueprintDraft(draft);
        enqueue(ctx, &document).map_err(|r| format!("blueprint_draft_invalid: {r}"))?;
        ids.push(document.id().to_string());
    }
    Ok(format!(
        "manifest {} kept, queued blueprint drafts {}",
        manifest.ids.manifest_id,
        ids.join(", ")
    ))
}

/// The drafts of `blueprint_drafts.json`, checked against their manifest.
fn read_drafts(
    ctx: &EffectContext<'_>,
    manifest: &ManifestIds,
) -> Result<Vec<BlueprintDraft>, String> {
    let path = ctx.run_dir.join("blueprint_drafts.json");
    let list = match read_record::<Value>(ctx.run_dir, "blueprint_drafts.json") {
        Ok(Record {
            value: Value::Array(list),
            ..
        }) if !list.is_empty() => list,
        Ok(_) => {
            return Err(
                "blueprint_draft_invalid: blueprint_drafts.json must be a non-empty list".into(),
            );
        }
        Err(e) => return Err(class("blueprint_draft_invalid")(e)),
    };
    if list.len() != manifest.draft_ids.len() {
        return Err(format!(
            "blueprint_manifest_draft_mismatch: the manifest names {} drafts, blueprint_drafts.json holds {}",
            manifest.draft_ids.len(),
            list.len()
        ));
    }
    let mut drafts = Vec::new();
    for value in list {
        let draft = match parse_json(Family::BlueprintDraft, &path, &value.to_string()) {
            Ok(WorkDocument::BlueprintDraft(draft)) => draft,
            Ok(_) => return Err("blueprint_draft_invalid: not a draft".into()),
            Err(e) => return Err(format!("blueprint_draft_invalid: {e}")),
        };
        drafts.push(draft_of_manifest(draft, manifest)?);
    }
    Ok(drafts)
}

/// A draft must be one the manifest names, with its lineage.
fn draft_of_manifest(
    mut draft: BlueprintDraft,
    manifest: &ManifestIds,
) -> Result<BlueprintDraft, String> {
    let mismatch = class("blueprint_manifest_draft_mismatch");
    if !manifest.draft_ids.contains(&draft.draft_id) {
        return Err(format!(
            "blueprint_manifest_draft_mismatch: draft `{}` is not in the manifest's draft_ids",
            draft.draft_id
        ));
    }
    let what = "a draft of the manifest";
    let lineage = [
        ("manifest_id", &draft.manifest_id, &manifest.manifest_id),
        ("root_spec_id", &draft.root_spec_id, &manifest.root_spec_id),
        ("root_idea_id", &draft.root_idea_id, &manifest.root_idea_id),
    ];
    for (field, found, expected) in lineage {
        check_equal(what, field, found.as_deref().unwrap_or_default(), expected)
            .map_err(&mismatch)?;
    }
    draft.start_revisions();
    Ok(draft)
}

/// `blueprint_packet.json` + `blueprint.md`: kept as candidate
/// `packets/candidates/<blueprint_id>`, which the draft now names.
pub fn candidate(ctx: &mut EffectContext<'_>) -> EffectResult {
    finish(record_candidate(ctx))
}

fn record_candidate(ctx: &mut EffectContext<'_>) -> Result<String, String> {
    let invalid = class("blueprint_candidate_invalid");
    let draft_id = ctx
        .item_id()
        .ok_or("blueprint_candidate_invalid: the stage ran on no draft")?;
    let mut draft = read_active_draft(ctx.paths, draft_id).map_err(&invalid)?;
    let packet: Record<PacketIds> =
        read_record(ctx.run_dir, "blueprint_packet.json").map_err(&invalid)?;
    check_packet(&draft, &packet.ids).map_err(&invalid)?;
    let markdown = ctx.run_dir.join("blueprint.md");
    if !markdown.is_file() {
        return Err("blueprint_candidate_invalid: blueprint.md is missing".into());
    }
    let id = &packet.ids.blueprint_id;
    let kept = ctx
        .paths
        .blueprint_packet(PacketState::Candidates, id, "json");
    write_record(&kept, &packet.value).map_err(&invalid)?;
    copy_into_record(
        &markdown,
        &ctx.paths
            .blueprint_packet(PacketState::Candidates, id, "md"),
    )
    .map_err(&invalid)?;
    draft.record_candidate(id);
    write_active_draft(ctx.paths, &draft).map_err(&invalid)?;
    Ok(format!(
        "candidate {id} (revision {}) kept at {}",
        packet.ids.revision,
        kept.display()
    ))
}

/// A packet belongs to its draft, is the next revision, and on a revision
/// cites the critique it answers.
fn check_packet(draft: &BlueprintDraft, packet: &PacketIds) -> Result<(), BlueprintRecordError> {
    let what = "blueprint_packet.json";
    check_id("blueprint_id", &packet.blueprint_id)?;
    check_equal(what, "draft_id", &packet.draft_id, &draft.draft_id)?;
    let lineage = [
        ("manifest_id", &draft.manifest_id, &packet.manifest_id),
        ("root_spec_id", &draft.root_spec_id, &packet.root_spec_id),
        ("root_idea_id", &draft.root_idea_id, &packet.root_idea_id),
    ];
    for (field, wanted, found) in lineage {
        if let Some(wanted) = wanted {
            check_equal(what, field, found, wanted)?;
        }
    }
    let next = (draft.current_revision() + 1).to_string();
    check_equal(what, "revision", &packet.revision.to_string(), &next)?;
    if let Some(critique) = draft.latest_critique_id()
        && !packet.references.iter().any(|r| r.contains(critique))
    {
        return Err(BlueprintRecordError::Mismatch {
            what,
            field: "references",
            found: packet.references.join(", "),
            expected: format!("a reference to critique {critique}"),
        });
    }
    Ok(())
}

/// The evaluator's verdict on the draft's latest candidate: approval
/// promotes `generated_task.json`; a rejection records the critique.
pub fn evaluation(ctx: &mut EffectContext<'_>) -> EffectResult {
    finish(record_evaluation(ctx))
}

fn record_evaluation(ctx: &mut EffectContext<'_>) -> Result<String, String> {
    let invalid = class("blueprint_evaluation_invalid");
    let draft_id = ctx
        .item_id()
        .ok_or("blueprint_evaluation_invalid: the stage ran on no draft")?;
    let draft = read_active_draft(ctx.paths, draft_id).map_err(&invalid)?;
    let blueprint_id = draft
        .latest_blueprint_id()
        .ok_or("blueprint_evaluation_invalid: the draft has no candidate blueprint")?;
    let packet_path = find_packet(ctx.paths, blueprint_id).ok_or_else(|| {
        format!("blueprint_evaluation_invalid: no packet of blueprint {blueprint_id}")
    })?;
    let packet: Record<PacketIds> =
        read_record_at(&packet_path, "the candidate packet").map_err(&invalid)?;
    let evaluation = read_record(ctx.run_dir, "blueprint_evaluation.json").map_err(&invalid)?;
    let approved = ctx.outcome.ends_with("APPROVED");
    check_evaluation(&evaluation.ids, &packet.ids, approved).map_err(&invalid)?;
    if approved {
        approve(ctx, &draft, &packet.ids, &evaluation)
    } else {
        reject(ctx, draft, &packet.ids, &evaluation)
    }
}
