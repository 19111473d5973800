//! Runtime effects: handlers, registered by effect id (never by stage name),
//! that read a stage's artifacts after its answer is normalized. An effect
//! may create or move work items, or leave through one of its ports
//! (`fault` when the artifacts are missing or invalid, `done` when the item
//! is finished another way); the node's effect declaration says where each
//! port leads.

mod blueprint;
mod blueprint_verdict;
mod context;
mod planner;
mod recon;
mod result;
mod skill_install;
mod skill_update;

pub use context::EffectContext;
pub use result::EffectResult;

type Handler = fn(&mut EffectContext<'_>) -> EffectResult;

/// Every handler the runtime knows, by effect id.
const HANDLERS: &[(&str, Handler)] = &[
    ("planner_disposition", planner::planner_disposition),
    ("recon_handoff", recon::recon_handoff),
    ("blueprint_manifest", blueprint::manifest),
    ("blueprint_candidate", blueprint::candidate),
    ("blueprint_evaluation", blueprint::evaluation),
    ("skill_update", skill_update::skill_update),
    ("skill_rejection", skill_update::skill_rejection),
    ("skill_install", skill_install::skill_install),
];

/// Runs the effect `id`; an unknown id is a fault (the compiler refuses
/// unknown ids, so only a hand-edited plan can get here).
pub fn run_effect(id: &str, ctx: &mut EffectContext<'_>) -> EffectResult {
    match HANDLERS.iter().find(|(name, _)| *name == id) {
        Some((_, handler)) => handler(ctx),
        None => EffectResult::fault(format!("no effect handler `{id}`")),
    }
}
