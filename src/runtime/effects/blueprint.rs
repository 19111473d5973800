//! Blueprint planning effects: drafts from a manifest, a contractor's
//! candidate, and an evaluator's verdict (an approved draft becomes a task).

use serde_json::Value;

use super::context::{EffectContext, enqueue, read_json};
use super::result::EffectResult;
use crate::workspace::Family;
use crate::workspace::atomic::write_atomic;
use crate::workspace::documents::parse_json;

/// `blueprint_manifest.json` + `blueprint_drafts.json` (a list of drafts).
pub fn manifest(ctx: &mut EffectContext<'_>) -> EffectResult {
    if let Err(reason) = read_json(ctx.run_dir, "blueprint_manifest.json") {
        return EffectResult::fault(format!("blueprint_manifest_invalid: {reason}"));
    }
    let drafts = match read_json(ctx.run_dir, "blueprint_drafts.json") {
        Ok(Value::Array(drafts)) if !drafts.is_empty() => drafts,
        Ok(_) => {
            return EffectResult::fault(
                "blueprint_draft_invalid: blueprint_drafts.json must be a non-empty list",
            );
        }
        Err(reason) => return EffectResult::fault(format!("blueprint_draft_invalid: {reason}")),
    };
    let path = ctx.run_dir.join("blueprint_drafts.json");
    let mut ids = Vec::new();
    for draft in drafts {
        let document = match parse_json(Family::BlueprintDraft, &path, &draft.to_string()) {
            Ok(document) => document,
            Err(e) => return EffectResult::fault(format!("blueprint_draft_invalid: {e}")),
        };
        if let Err(reason) = enqueue(ctx, &document) {
            return EffectResult::fault(format!("blueprint_draft_invalid: {reason}"));
        }
        ids.push(document.id().to_string());
    }
    EffectResult::Proceed {
        note: format!("queued blueprint drafts {}", ids.join(", ")),
    }
}

/// `blueprint_packet.json` + `blueprint.md`, kept as the draft's candidate.
pub fn candidate(ctx: &mut EffectContext<'_>) -> EffectResult {
    let packet = match read_json(ctx.run_dir, "blueprint_packet.json") {
        Ok(packet) => packet,
        Err(reason) => return EffectResult::fault(format!("blueprint_packet_invalid: {reason}")),
    };
    if !ctx.run_dir.join("blueprint.md").is_file() {
        return EffectResult::fault("blueprint_packet_invalid: blueprint.md is missing");
    }
    let draft = ctx.item_id().unwrap_or("draft");
    let kept = ctx
        .paths
        .agents_dir()
        .join("blueprints/packets/candidates")
        .join(format!("{draft}.json"));
    match write_atomic(&kept, packet.to_string().as_bytes()) {
        Ok(()) => EffectResult::Proceed {
            note: format!("candidate kept at {}", kept.display()),
        },
        Err(e) => EffectResult::fault(format!("blueprint_packet_invalid: {e}")),
    }
}

/// Approval promotes `generated_task.json`; a rejection needs a critique.
pub fn evaluation(ctx: &mut EffectContext<'_>) -> EffectResult {
    if let Err(reason) = read_json(ctx.run_dir, "blueprint_evaluation.json") {
        return EffectResult::fault(format!("blueprint_evaluation_invalid: {reason}"));
    }
    if !ctx.outcome.ends_with("APPROVED") {
        return match read_json(ctx.run_dir, "blueprint_critique.json") {
            Ok(_) => EffectResult::Proceed {
                note: "critique recorded for the next revision".into(),
            },
            Err(reason) => EffectResult::fault(format!("blueprint_critique_invalid: {reason}")),
        };
    }
    let path = ctx.run_dir.join("generated_task.json");
    let task = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|text| parse_json(Family::Task, &path, &text).map_err(|e| e.to_string()))
    {
        Ok(task) => task,
        Err(reason) => return EffectResult::fault(format!("generated_task_invalid: {reason}")),
    };
    match enqueue(ctx, &task) {
        Ok(at) => EffectResult::Proceed {
            note: format!("approved task {} at {at}", task.id()),
        },
        Err(reason) => EffectResult::fault(format!("blueprint_task_promotion_invalid: {reason}")),
    }
}
