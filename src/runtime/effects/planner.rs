//! `planner_disposition`: the planner says what became of its source in
//! `<run_dir>/planner_disposition.json`; the runtime checks it against the
//! work item and the queue before anything moves on.

use serde_json::Value;

use super::context::{EffectContext, read_json};
use super::result::EffectResult;
use crate::workspace::{Family, LifecycleState};

const DISPOSITIONS: &[&str] = &[
    "active_source_ready_for_manager",
    "emitted_child_specs",
    "blocked",
];

pub fn planner_disposition(ctx: &mut EffectContext<'_>) -> EffectResult {
    let doc = match read_json(ctx.run_dir, "planner_disposition.json") {
        Ok(doc) => doc,
        Err(reason) => {
            return EffectResult::fault(format!(
                "planner_disposition_missing_or_invalid: {reason}"
            ));
        }
    };
    if let Err(reason) = check_source(ctx, &doc) {
        return EffectResult::fault(reason);
    }
    let disposition = doc
        .get("disposition")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match disposition {
        "active_source_ready_for_manager" => EffectResult::Proceed {
            note: "the source is ready for the next stage".into(),
        },
        "emitted_child_specs" => child_specs(ctx, &doc),
        "blocked" => EffectResult::fault(
            "planner_disposition_terminal_mismatch: disposition `blocked` with a success outcome",
        ),
        other => EffectResult::fault(format!(
            "planner_disposition_invalid: disposition `{other}` is not one of {}",
            DISPOSITIONS.join(", ")
        )),
    }
}

fn check_source(ctx: &EffectContext<'_>, doc: &Value) -> Result<(), String> {
    let field = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let family = ctx.family().map(Family::as_str).unwrap_or_default();
    let id = ctx.item_id().unwrap_or_default();
    if field("source_work_item_family_id") != family || field("source_work_item_id") != id {
        return Err(format!(
            "planner_disposition_source_mismatch: names {} {} but the stage ran on {family} {id}",
            field("source_work_item_family_id"),
            field("source_work_item_id")
        ));
    }
    Ok(())
}

/// Child specs must already be queued; then the source is finished.
fn child_specs(ctx: &EffectContext<'_>, doc: &Value) -> EffectResult {
    let ids: Vec<&str> = doc
        .get("emitted_spec_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if ids.is_empty() {
        return EffectResult::fault(
            "planner_disposition_child_spec_missing: `emitted_spec_ids` is empty",
        );
    }
    for id in &ids {
        let queued = ctx
            .queue
            .find(Family::Spec, id)
            .is_some_and(|l| l.state == LifecycleState::Queued);
        if !queued {
            return EffectResult::fault(format!(
                "planner_disposition_child_spec_missing: spec `{id}` is not in specs/queue"
            ));
        }
    }
    EffectResult::Port {
        port: "done",
        reason: format!("split into child specs {}", ids.join(", ")),
    }
}
