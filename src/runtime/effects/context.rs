//! What an effect handler is given: the queues, the run's directory and the
//! work item, with the two things every handler does with them (read an
//! artifact of the run, enqueue a document). Apart from the handler table,
//! so the handlers import it and not the table that names them.

use std::path::Path;

use crate::workspace::documents::WorkDocument;
use crate::workspace::input::read_text;
use crate::workspace::queue::QueueStore;
use crate::workspace::skills::RemoteSettings;
use crate::workspace::skills::ops::Change;
use crate::workspace::{Family, WorkspacePaths};

/// What an effect handler may see and change.
pub struct EffectContext<'a> {
    pub queue: &'a mut QueueStore,
    pub paths: &'a WorkspacePaths,
    pub run_dir: &'a Path,
    pub outcome: &'a str,
    /// The work item the stage ran against.
    pub document: Option<&'a WorkDocument>,
    pub run_id: &'a str,
    /// The `SKILL.md` paths (relative to `millrace-agents/`) that stages
    /// running now read: such a skill is not replaced under them.
    pub bound_skills: &'a [String],
    /// `[skills]`: where installs by id come from.
    pub skills: &'a RemoteSettings,
    /// Skill changes the effect made, for the engine to journal (with the
    /// run and the work item) and to recompile after.
    pub changes: Vec<Change>,
}

impl EffectContext<'_> {
    pub fn family(&self) -> Option<Family> {
        self.document.map(WorkDocument::family)
    }

    pub fn item_id(&self) -> Option<&str> {
        self.document.map(WorkDocument::id)
    }
}

/// Reads a JSON artifact of the run directory, as any file another
/// process put there (the agent may leave a FIFO or a link).
pub fn read_json(run_dir: &Path, name: &str) -> Result<serde_json::Value, String> {
    let path = run_dir.join(name);
    let text = read_text(&path)
        .map_err(|e| format!("{name}_missing: cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{name}_invalid: {e}"))
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
