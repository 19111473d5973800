//! Closure targets: a root spec's lineage is judged by the `on drained`
//! stage once none of its work is queued, active or blocked. A target opens
//! when its root spec is first claimed, with frozen copies of the spec and
//! its idea, and closes when the judging stage's outcome ends in success.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::workspace::atomic::write_atomic;
use crate::workspace::documents::WorkDocument;
use crate::workspace::queue::QueueStore;
use crate::workspace::{Family, LifecycleState, Timestamp, WorkspacePaths};

/// How many remediation rounds a target gets before it waits for an operator.
pub const MAX_REMEDIATION_ROUNDS: u32 = 3;

/// `arbiter/targets/<root_spec_id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosureTarget {
    pub schema_version: String,
    pub root_spec_id: String,
    #[serde(default)]
    pub root_idea_id: Option<String>,
    pub closure_open: bool,
    /// Set when the judging stage blocked or remediation rounds ran out: the
    /// target waits for an operator and no longer holds back other lineages.
    #[serde(default)]
    pub waiting_for_operator: bool,
    #[serde(default)]
    pub remediation_rounds: u32,
    pub root_spec_contract: PathBuf,
    #[serde(default)]
    pub root_idea_contract: Option<PathBuf>,
    pub opened_at: Timestamp,
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    #[serde(default)]
    pub last_run_id: Option<String>,
    #[serde(default)]
    pub latest_verdict: Option<String>,
}

pub fn load(paths: &WorkspacePaths, root: &str) -> Option<ClosureTarget> {
    serde_json::from_slice(&std::fs::read(paths.closure_target(root)).ok()?).ok()
}

pub fn save(paths: &WorkspacePaths, target: &ClosureTarget) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(target).unwrap_or_default();
    bytes.push(b'\n');
    write_atomic(&paths.closure_target(&target.root_spec_id), &bytes)
}

/// Every target on disk, oldest first.
pub fn all(paths: &WorkspacePaths) -> Vec<ClosureTarget> {
    let Ok(entries) = std::fs::read_dir(paths.closure_targets_dir()) else {
        return Vec::new();
    };
    let mut targets: Vec<ClosureTarget> = entries
        .filter_map(Result::ok)
        .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
        .collect();
    targets.sort_by(|a, b| {
        a.opened_at
            .cmp(&b.opened_at)
            .then(a.root_spec_id.cmp(&b.root_spec_id))
    });
    targets
}

/// The open target claims are restricted to, read from `arbiter/targets/`
/// once and kept until the daemon writes a target (or a heartbeat, which
/// may follow a hand edit).
#[derive(Debug, Default)]
pub struct ClosureFocus {
    /// `None`: not read yet; `Some(None)`: no target holds focus.
    cached: Option<Option<ClosureTarget>>,
}

impl ClosureFocus {
    /// The open target whose lineage claims are restricted to, if any.
    pub fn get(&mut self, paths: &WorkspacePaths) -> Option<ClosureTarget> {
        self.cached.get_or_insert_with(|| focus(paths)).clone()
    }

    /// Reads the targets again next time.
    pub fn forget(&mut self) {
        self.cached = None;
    }
}

/// The open target whose lineage claims are restricted to, if any.
fn focus(paths: &WorkspacePaths) -> Option<ClosureTarget> {
    all(paths)
        .into_iter()
        .find(|t| t.closure_open && !t.waiting_for_operator)
}

/// Opens a target when a root spec is claimed (idempotent).
pub fn open_for(
    paths: &WorkspacePaths,
    document: &WorkDocument,
    active_path: &Path,
) -> std::io::Result<Option<ClosureTarget>> {
    let WorkDocument::Spec(spec) = document else {
        return Ok(None);
    };
    let root = spec.root_spec_id.as_deref().unwrap_or(&spec.spec_id);
    if root != spec.spec_id || load(paths, root).is_some() {
        return Ok(None);
    }
    let spec_copy = paths
        .closure_contracts_dir(false)
        .join(format!("{root}.md"));
    write_atomic(&spec_copy, &std::fs::read(active_path)?)?;
    let idea_copy = match &spec.root_idea_id {
        Some(idea) => copy_idea(paths, idea)?,
        None => None,
    };
    let target = ClosureTarget {
        schema_version: "1.0".into(),
        root_spec_id: root.to_string(),
        root_idea_id: spec.root_idea_id.clone(),
        closure_open: true,
        waiting_for_operator: false,
        remediation_rounds: 0,
        root_spec_contract: spec_copy,
        root_idea_contract: idea_copy,
        opened_at: Timestamp::now(),
        closed_at: None,
        last_run_id: None,
        latest_verdict: None,
    };
    save(paths, &target)?;
    Ok(Some(target))
}

fn copy_idea(paths: &WorkspacePaths, idea: &str) -> std::io::Result<Option<PathBuf>> {
    let source = paths.intake_ideas_dir().join(format!("{idea}.md"));
    let Ok(text) = std::fs::read(&source) else {
        return Ok(None);
    };
    let copy = paths.closure_contracts_dir(true).join(format!("{idea}.md"));
    write_atomic(&copy, &text)?;
    Ok(Some(copy))
}

const LINEAGE_FAMILIES: &[Family] = &[Family::Task, Family::Spec, Family::Probe, Family::Incident];

/// True while any queued, active or blocked item carries this root spec.
/// Queued items answer from the queue index; active and blocked ones (few)
/// from their documents.
pub fn lineage_has_work(queue: &QueueStore, root: &str) -> bool {
    LINEAGE_FAMILIES.iter().any(|&family| {
        queued_in_lineage(queue, family, root) || placed_in_lineage(queue, family, root)
    })
}

fn queued_in_lineage(queue: &QueueStore, family: Family, root: &str) -> bool {
    queue.queued_items(family).any(|item| {
        let own_root = (family == Family::Spec).then_some(item.key.id.as_str());
        item.root_spec_id.as_deref().or(own_root) == Some(root)
    })
}

fn placed_in_lineage(queue: &QueueStore, family: Family, root: &str) -> bool {
    let placed = [LifecycleState::Active, LifecycleState::Blocked];
    placed.iter().any(|&state| {
        queue.ids(family, state).iter().any(|id| {
            let document = queue.find(family, id).and_then(|l| queue.read(&l).ok());
            let lineage = document.as_ref().and_then(|d| {
                d.root_spec_id()
                    .map(str::to_string)
                    .or_else(|| spec_root(d))
            });
            lineage.as_deref() == Some(root)
        })
    })
}

/// A spec without `Root-Spec-ID` is its own root.
fn spec_root(document: &WorkDocument) -> Option<String> {
    matches!(document, WorkDocument::Spec(_)).then(|| document.id().to_string())
}
