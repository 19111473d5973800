//! `skill_update`: a curator decided on a skill candidate
//! (`<run_dir>/curator_decision.md`, the candidate
//! `<run_dir>/professor_skill_candidate.md`). The candidate is validated
//! and kept; an accepted one becomes the skill's next version now, or
//! waits in `update-candidates/deferred/` while a running stage reads the
//! skill (the engine applies it when that stage ends); a rejected one is
//! recorded in `update-candidates/rejected/`. A decision that cannot be
//! used (missing, malformed, a wrong target, a bad package) is a fault.

use super::context::EffectContext;
use super::result::EffectResult;
use crate::workspace::Timestamp;
use crate::workspace::skills::curation::{self, CANDIDATE_FILE, CurationRecord, DECISION_FILE, Decision};

pub fn skill_update(ctx: &mut EffectContext<'_>) -> EffectResult {
    match decide(ctx) {
        Ok(note) => EffectResult::Proceed { note },
        Err(reason) => EffectResult::fault(format!("skill_update_invalid: {reason}")),
    }
}

fn decide(ctx: &mut EffectContext<'_>) -> Result<String, String> {
    let decision = curation::read_decision(ctx.run_dir).map_err(|e| e.to_string())?;
    if !decision.accept {
        return reject(ctx, &decision);
    }
    let package = curation::candidate(ctx.paths, ctx.run_dir, &decision).map_err(|e| e.to_string())?;
    let kept = curation::keep_candidate(ctx.paths, &package).map_err(|e| e.to_string())?;
    let kept = kept.strip_prefix(ctx.paths.agents_dir()).unwrap_or(&kept);
    let mut record = record(ctx, &decision, &kept.to_string_lossy());
    let target = decision.target_skill_path.trim_start_matches("millrace-agents/");
    if ctx.bound_skills.iter().any(|b| b == target) {
        record.state = "deferred".into();
        curation::write_record(ctx.paths, &record).map_err(|e| e.to_string())?;
        return Ok(format!(
            "update of {} deferred: a running stage reads it",
            decision.skill_id
        ));
    }
    let change = curation::apply(ctx.paths, &package).map_err(|e| e.to_string())?;
    record.state = "applied".into();
    record.version = Some(change.written.entry.version);
    record.previous_version = change.written.previous_version;
    curation::write_record(ctx.paths, &record).map_err(|e| e.to_string())?;
    let note = change.detail();
    ctx.changes.push(change);
    Ok(note)
}

/// Records a rejection; the candidate is kept when it is a valid package
/// (a rejected candidate may well not be one).
fn reject(ctx: &EffectContext<'_>, decision: &Decision) -> Result<String, String> {
    let kept = curation::candidate(ctx.paths, ctx.run_dir, decision)
        .and_then(|package| curation::keep_candidate(ctx.paths, &package));
    let kept = kept.ok().map(|k| {
        let k = k.strip_prefix(ctx.paths.agents_dir()).unwrap_or(&k);
        k.to_string_lossy().into_owned()
    });
    let mut record = record(ctx, decision, kept.as_deref().unwrap_or(""));
    record.state = "rejected".into();
    curation::write_record(ctx.paths, &record).map_err(|e| e.to_string())?;
    Ok(format!("candidate for {} rejected and recorded", decision.skill_id))
}

fn record(ctx: &EffectContext<'_>, decision: &Decision, candidate: &str) -> CurationRecord {
    let run_dir = ctx.run_dir.display();
    CurationRecord {
        schema_version: "1.0".into(),
        kind: "learning_curator_promotion".into(),
        state: String::new(),
        run_id: ctx.run_id.to_string(),
        work_item_id: ctx.item_id().unwrap_or("none").to_string(),
        skill_id: decision.skill_id.clone(),
        change_kind: decision.change_kind.clone(),
        target_skill_path: decision.target_skill_path.clone(),
        candidate_path: candidate.to_string(),
        artifact_paths: vec![
            format!("{run_dir}/{DECISION_FILE}"),
            format!("{run_dir}/{CANDIDATE_FILE}"),
        ],
        recorded_at: Timestamp::now(),
        version: None,
        previous_version: None,
    }
}
