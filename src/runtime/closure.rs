//! Closure targets: a root spec's lineage is judged by the `on drained`
//! stage once none of its work is queued, active or blocked.
//!
//! The rules (the reference's, see `docs/reference-differences.md` for
//! where ours go further):
//! - A target opens when a root spec that came from an idea is first
//!   claimed, with frozen copies of the spec and its idea. A spec with no
//!   idea behind it (made from a probe, or by hand) is ordinary work.
//! - The oldest **actionable** target holds the focus: while it does, the
//!   execution and planning planes claim only its lineage's work, and every
//!   other lineage waits (backpressure, journaled).
//! - A target whose lineage has only blocked work left is **held**: it
//!   cannot be judged, so it gives up the focus instead of stalling the
//!   daemon, and says which items hold it. Clearing them (retry or cancel)
//!   makes it actionable again.
//! - A drained target whose idea has work naming another root spec (lineage
//!   drift) is held too, until `queue repair-lineage --apply` mends it.
//! - A target whose judging stage blocked, or whose remediation rounds ran
//!   out, waits for an operator.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::workspace::atomic::write_atomic;
use crate::workspace::closure_targets::{self, ClosureTarget, Unreadable};
use crate::workspace::documents::WorkDocument;
use crate::workspace::input::read_text;
use crate::workspace::lineage;
use crate::workspace::queue::QueueStore;
use crate::workspace::{Family, LifecycleState, WorkspacePaths};

/// How many remediation rounds a target gets before it waits for an operator.
pub const MAX_REMEDIATION_ROUNDS: u32 = 3;

/// The families whose items carry a root spec's lineage (a blueprint draft
/// names its root spec too: a blocked draft holds its target).
const LINEAGE_FAMILIES: &[Family] = &[
    Family::Task,
    Family::Spec,
    Family::Probe,
    Family::Incident,
    Family::BlueprintDraft,
];

/// Opens a target when a root spec made from an idea is claimed
/// (idempotent); other documents open none.
pub fn open_for(
    paths: &WorkspacePaths,
    document: &WorkDocument,
    active_path: &Path,
) -> std::io::Result<Option<ClosureTarget>> {
    let WorkDocument::Spec(spec) = document else {
        return Ok(None);
    };
    let root = spec.root_spec_id.as_deref().unwrap_or(&spec.spec_id);
    let Some(idea) = &spec.root_idea_id else {
        return Ok(None);
    };
    if root != spec.spec_id || closure_targets::load(paths, root).is_some() {
        return Ok(None);
    }
    let spec_copy = paths
        .closure_contracts_dir(false)
        .join(format!("{root}.md"));
    let spec_text = std::fs::read(active_path).map_err(naming(active_path))?;
    write_atomic(&spec_copy, &spec_text).map_err(naming(&spec_copy))?;
    let mut target = ClosureTarget::opened(root, Some(idea.clone()), spec_copy);
    target.root_idea_contract = copy_idea(paths, idea)?;
    let file = paths.closure_target(root);
    closure_targets::save(paths, &target).map_err(naming(&file))?;
    Ok(Some(target))
}

/// Puts the path in an I/O error's message, keeping its kind (a full disk
/// pauses the daemon; anything else stops it, and the operator must know
/// which file: a folder where the target file goes, say).
fn naming(path: &Path) -> impl FnOnce(std::io::Error) -> std::io::Error + '_ {
    move |e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn copy_idea(paths: &WorkspacePaths, idea: &str) -> std::io::Result<Option<PathBuf>> {
    let source = paths.intake_ideas_dir().join(format!("{idea}.md"));
    let Ok(text) = read_text(&source) else {
        return Ok(None);
    };
    let copy = paths.closure_contracts_dir(true).join(format!("{idea}.md"));
    write_atomic(&copy, text.as_bytes()).map_err(naming(&copy))?;
    Ok(Some(copy))
}

/// What a lineage has left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lineage {
    /// Work is queued or active: it will move on its own.
    Moving,
    /// Only blocked items, and queued ones waiting for a dependency that is
    /// not done (`family/id`): an operator must clear them.
    Held(Vec<String>),
    /// Nothing, but work of the target's idea names another root spec
    /// (`family/id`): judging now would leave it out; a lineage repair
    /// gives it the target's root.
    Drifted(Vec<String>),
    /// Nothing: the closure stage may judge it.
    Drained,
}

/// A change in a target found by [`ClosureFocus::review`]: the target, as
/// it is to be saved, and what to tell the operator.
#[derive(Debug)]
pub struct Reviewed {
    pub target: ClosureTarget,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The lineage's only work left is blocked.
    Held,
    /// It moves again (or was drained) after being held.
    Released,
    /// Root specs of other lineages now wait for the focused target.
    Backpressure,
    /// Only the recorded list of waiting root specs changed.
    Quiet,
}

/// The targets as the daemon last read them, and which one holds the
/// focus. Targets are read from disk once and again after [`forget`]
/// (the daemon wrote one, or the heartbeat, which may follow a hand edit);
/// their readiness is reviewed from the queue on every dispatch.
///
/// [`forget`]: ClosureFocus::forget
#[derive(Debug, Default)]
pub struct ClosureFocus {
    /// The open targets, oldest first; `None`: not read yet.
    open: Option<Vec<ClosureTarget>>,
    /// The focused target's index in `open`, and whether it is drained.
    focus: Option<(usize, bool)>,
    /// The root spec of active and blocked items, read once each.
    roots: HashMap<(Family, String), Option<String>>,
    /// The drifted work of drained targets, scanned once each.
    drift: HashMap<String, Vec<String>>,
    /// Target files that did not read at the last reading, not yet reported.
    unreadable: Vec<Unreadable>,
    /// Every target file reported as unreadable: each is said once.
    reported: HashSet<PathBuf>,
}

impl ClosureFocus {
    /// Reads the targets (and the roots of placed items) again next time.
    pub fn forget(&mut self) {
        self.open = None;
        self.roots.clear();
        self.drift.clear();
    }

    /// The target holding the focus, as of the last review.
    pub fn focus(&self) -> Option<&ClosureTarget> {
        let (index, _) = self.focus?;
        self.open.as_ref()?.get(index)
    }

    /// The focused target when its lineage is drained: it is to be judged.
    pub fn ready(&self) -> Option<&ClosureTarget> {
        self.focus.filter(|(_, drained)| *drained)?;
        self.focus()
    }

    /// Reviews every open target against the queue: which are held by
    /// blocked work, which one holds the focus, which root specs wait for
    /// it. Returns the targets that changed, to be saved and reported.
    pub fn review(&mut self, paths: &WorkspacePaths, queue: &QueueStore) -> Vec<Reviewed> {
        let mut open = match self.open.take() {
            Some(open) => open,
            None => self.read_targets(paths),
        };
        let mut changed = Vec::new();
        self.focus = None;
        for (index, target) in open.iter_mut().enumerate() {
            if target.waiting_for_operator {
                continue;
            }
            let lineage = match self.lineage(queue, &target.root_spec_id) {
                Lineage::Drained => self.drift(queue, target),
                moving_or_held => moving_or_held,
            };
            if let Some(change) = record_hold(target, &lineage) {
                changed.push(Reviewed {
                    target: target.clone(),
                    change,
                });
            }
            let focused = self.focus.is_none() && !target.closure_blocked_by_lineage_work;
            if focused {
                self.focus = Some((index, lineage == Lineage::Drained));
            }
            let deferred = if focused {
                deferred_root_specs(queue, &target.root_spec_id)
            } else {
                Vec::new()
            };
            if deferred != target.deferred_root_spec_ids {
                let change = if deferred.is_empty() {
                    Change::Quiet
                } else {
                    Change::Backpressure
                };
                target.deferred_root_spec_ids = deferred;
                changed.push(Reviewed {
                    target: target.clone(),
                    change,
                });
            }
        }
        self.open = Some(open);
        changed
    }

    /// The open targets on disk; the files that do not read are kept to be
    /// reported (once each: the daemon skips them, it cannot mend them).
    fn read_targets(&mut self, paths: &WorkspacePaths) -> Vec<ClosureTarget> {
        let (all, unreadable) = closure_targets::scan(paths);
        let fresh = unreadable.into_iter();
        self.unreadable = fresh
            .filter(|u| self.reported.insert(u.path.clone()))
            .collect();
        all.into_iter().filter(|t| t.closure_open).collect()
    }

    /// The target files found unreadable since the last call.
    pub fn take_unreadable(&mut self) -> Vec<Unreadable> {
        std::mem::take(&mut self.unreadable)
    }

    /// What the lineage of `root` has left. Queued items that wait for a
    /// dependency which is not done do not move it on their own.
    fn lineage(&mut self, queue: &QueueStore, root: &str) -> Lineage {
        let (ready, waiting) = queued_in_lineage(queue, root);
        if ready
            || !self
                .placed_in_lineage(queue, LifecycleState::Active, root)
                .is_empty()
        {
            return Lineage::Moving;
        }
        let mut holding = self.placed_in_lineage(queue, LifecycleState::Blocked, root);
        holding.extend(waiting);
        if holding.is_empty() {
            Lineage::Drained
        } else {
            Lineage::Held(holding)
        }
    }

    /// A drained target's lineage as the closure stage would judge it:
    /// drifted when work of its idea names another root spec.
    fn drift(&mut self, queue: &QueueStore, target: &ClosureTarget) -> Lineage {
        let drifted = self
            .drift
            .entry(target.root_spec_id.clone())
            .or_insert_with(|| {
                let findings = lineage::scan(queue, target);
                findings
                    .iter()
                    .map(|f| format!("{}/{}", f.family, f.id))
                    .collect()
            });
        if drifted.is_empty() {
            Lineage::Drained
        } else {
            Lineage::Drifted(drifted.clone())
        }
    }

    /// The `family/id` of every item in `state` whose lineage is `root`.
    fn placed_in_lineage(
        &mut self,
        queue: &QueueStore,
        state: LifecycleState,
        root: &str,
    ) -> Vec<String> {
        let mut found = Vec::new();
        for &family in LINEAGE_FAMILIES {
            for id in queue.ids(family, state) {
                let lineage = self
                    .roots
                    .entry((family, id.clone()))
                    .or_insert_with(|| root_of(queue, family, &id));
                if lineage.as_deref() == Some(root) {
                    found.push(format!("{family}/{id}"));
                }
            }
        }
        found
    }
}

/// Marks `target` held or released by what its lineage has left; `None`
/// when nothing changed.
fn record_hold(target: &mut ClosureTarget, lineage: &Lineage) -> Option<Change> {
    let (blocking, drift) = match lineage {
        Lineage::Held(ids) => (ids.clone(), false),
        Lineage::Drifted(ids) => (ids.clone(), true),
        _ => (Vec::new(), false),
    };
    let held = !blocking.is_empty();
    let same = held == target.closure_blocked_by_lineage_work
        && blocking == target.blocking_work_ids
        && drift == target.lineage_drift;
    if same {
        return None;
    }
    let change = match (held, target.closure_blocked_by_lineage_work) {
        (true, _) => Change::Held,
        (false, true) => Change::Released,
        (false, false) => Change::Quiet,
    };
    target.closure_blocked_by_lineage_work = held;
    target.blocking_work_ids = blocking;
    target.lineage_drift = drift;
    Some(change)
}

/// The root spec a placed item belongs to: its `Root-Spec-ID`, or its own
/// id for a spec without one.
fn root_of(queue: &QueueStore, family: Family, id: &str) -> Option<String> {
    let document = queue.find(family, id).and_then(|l| queue.read(&l).ok())?;
    document
        .root_spec_id()
        .map(str::to_string)
        .or_else(|| matches!(document, WorkDocument::Spec(_)).then(|| id.to_string()))
}

/// Whether a queued item of `root`'s lineage may be claimed now, and the
/// `family/id` of those that wait for a dependency.
fn queued_in_lineage(queue: &QueueStore, root: &str) -> (bool, Vec<String>) {
    let mut waiting = Vec::new();
    for &family in LINEAGE_FAMILIES {
        for item in queue.queued_items(family) {
            let own_root = (family == Family::Spec).then_some(item.key.id.as_str());
            if item.root_spec_id.as_deref().or(own_root) != Some(root) {
                continue;
            }
            if queue.dependencies_done(family, item) {
                return (true, Vec::new());
            }
            waiting.push(format!("{family}/{}", item.key.id));
        }
    }
    (false, waiting)
}

/// Queued root specs of lineages other than `root`: the bodies of work
/// that wait for it.
fn deferred_root_specs(queue: &QueueStore, root: &str) -> Vec<String> {
    queue
        .queued_items(Family::Spec)
        .filter(|item| {
            item.root_spec_id
                .as_deref()
                .is_none_or(|r| r == item.key.id)
        })
        .map(|item| item.key.id.clone())
        .filter(|id| id != root)
        .collect()
}
