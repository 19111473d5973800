//! Runtime effects: handlers, registered by effect id (never by stage name),
//! that read a stage's artifacts after its answer is normalized. An effect
//! may create or move work items, or leave through one of its ports
//! (`fault` when the artifacts are missing or invalid, `done` when the item
//! is finished another way); the node's effect declaration says where each
//! port leads.

mod blueprint;
mod planner;
mod recon;

use std::path::Path;

use crate::workspace::documents::WorkDocument;
use crate::workspace::queue::QueueStore;
use crate::workspace::{Family, WorkspacePaths};

/// What an effect handler may see and change.
pub struct EffectContext<'a> {
    pub queue: &'a mut QueueStore,
    pub paths: &'a WorkspacePaths,
    pub run_dir: &'a Path,
    pub outcome: &'a str,
    /// The work item the stage ran against.
    pub document: Option<&'a WorkDocument>,
}

impl EffectContext<'_> {
    pub fn family(&self) -> Option<Family> {
        self.document.map(WorkDocument::family)
    }

    pub fn item_id(&self) -> Option<&str> {
        self.document.map(WorkDocument::id)
    }
}

/// How an effect ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffectResult {
    /// The node's own route applies; `note` says what the effect did.
    Proceed { note: String },
    /// Leave through a port instead (`fault`, `done`).
    Port { port: &'static str, reason: String },
}

impl EffectResult {
    pub fn fault(reason: impl Into<String>) -> EffectResult {
        EffectResult::Port {
            port: "fault",
            reason: reason.into(),
        }
    }
}

type Handler = fn(&mut EffectContext<'_>) -> EffectResult;

/// Every handler the runtime knows, by effect id.
const HANDLERS: &[(&str, Handler)] = &[
    ("planner_disposition", planner::planner_disposition),
    ("recon_handoff", recon::recon_handoff),
    ("blueprint_manifest", blueprint::manifest),
    ("blueprint_candidate", blueprint::candidate),
    ("blueprint_evaluation", blueprint::evaluation),
];

/// Runs the effect `id`; an unknown id is a fault (the compiler refuses
/// unknown ids, so only a hand-edited plan can get here).
pub fn run_effect(id: &str, ctx: &mut EffectContext<'_>) -> EffectResult {
    match HANDLERS.iter().find(|(name, _)| *name == id) {
        Some((_, handler)) => handler(ctx),
        None => EffectResult::fault(format!("no effect handler `{id}`")),
    }
}

/// Reads a JSON artifact of the run directory.
pub fn read_json(run_dir: &Path, name: &str) -> Result<serde_json::Value, String> {
    let path = run_dir.join(name);
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("{name}_missing: cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{name}_invalid: {e}"))
}

/// Enqueues a document an effect produced; one already there (the stage is
/// being applied again after a crash) counts as enqueued.
pub fn enqueue(ctx: &mut EffectContext<'_>, document: &WorkDocument) -> Result<String, String> {
    if let Some(found) = ctx.queue.find(document.family(), document.id()) {
        return Ok(found.path.display().to_string());
    }
    ctx.queue
        .enqueue(document)
        .map(|path| path.display().to_string())
        .map_err(|e| {
            format!(
                "cannot enqueue {} {}: {e}",
                document.family().as_str(),
                document.id()
            )
        })
}
