//! `recon_handoff`: recon classified a probe and wrote a packet plus either a
//! generated task (to execution) or a generated spec (to planning); the
//! runtime validates and promotes it into its queue.

use std::path::PathBuf;

use super::context::{EffectContext, enqueue};
use super::result::EffectResult;
use crate::workspace::Family;
use crate::workspace::atomic::write_atomic;
use crate::workspace::documents::parse;
use crate::workspace::input::read_text;

pub fn recon_handoff(ctx: &mut EffectContext<'_>) -> EffectResult {
    let packet = ctx.run_dir.join("recon_packet.md");
    let Ok(text) = read_text(&packet) else {
        return EffectResult::fault(format!(
            "recon_handoff_invalid: {} is missing",
            packet.display()
        ));
    };
    let probe = ctx.item_id().unwrap_or("probe").to_string();
    let kept = ctx.paths.recon_packets_dir().join(format!("{probe}.md"));
    if let Err(e) = write_atomic(&kept, text.as_bytes()) {
        return EffectResult::fault(format!(
            "recon_handoff_invalid: cannot keep the packet: {e}"
        ));
    }
    let family = if ctx.outcome.ends_with("EXECUTION") {
        Family::Task
    } else {
        Family::Spec
    };
    promote(ctx, family)
}

/// Finds `generated_<task|spec>.json` or `.md`, parses it and enqueues it.
fn promote(ctx: &mut EffectContext<'_>, family: Family) -> EffectResult {
    let stem = format!("generated_{}", family.as_str());
    let candidates: Vec<PathBuf> = ["json", "md"]
        .iter()
        .map(|ext| ctx.run_dir.join(format!("{stem}.{ext}")))
        .collect();
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        return EffectResult::fault(format!(
            "recon_handoff_invalid: neither {stem}.json nor {stem}.md was written"
        ));
    };
    let text = match read_text(path) {
        Ok(text) => text,
        Err(e) => return EffectResult::fault(format!("recon_handoff_invalid: {e}")),
    };
    let document = match parse(family, path, &text) {
        Ok(document) => document,
        Err(e) => return EffectResult::fault(format!("recon_handoff_invalid: {e}")),
    };
    match enqueue(ctx, &document) {
        Ok(at) => EffectResult::Proceed {
            note: format!("promoted {} {} to {at}", family.as_str(), document.id()),
        },
        Err(reason) => EffectResult::fault(format!("recon_handoff_invalid: {reason}")),
    }
}
