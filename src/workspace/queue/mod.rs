//! The queue store: enqueue, claim by atomic rename, lifecycle moves, lookup, depths
//! (quarantine is in `quarantine.rs`).
//!
//! A work item is one file in exactly one lifecycle directory. The store keeps an
//! in-memory index (rebuilt by a scan at open, kept current by its own moves and
//! by [`QueueStore::apply_event`]) so a claim needs no directory scan.

mod audit;
mod depth_cache;
mod error;
mod index;
pub mod lanes;
mod quarantine;
mod scan;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use audit::{MoveReason, MoveRecord, QuarantineRecord, read_requeue_log};
pub use error::QueueError;
pub use index::{ClaimFilter, ClaimKey};
pub use lanes::TargetPaths;

use self::index::KEEP_ORDER;

use self::index::{QueueIndex, QueuedItem};
use crate::fs_error::at;
use crate::workspace::atomic::{rename_no_replace, write_atomic_new};
use crate::workspace::documents::{self, DocumentError, WorkDocument};
use crate::workspace::family::{Family, LifecycleState, Plane};
use crate::workspace::paths::WorkspacePaths;
use crate::workspace::timestamp::Timestamp;

/// Where a work item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Its family.
    pub family: Family,
    /// Its lifecycle state.
    pub state: LifecycleState,
    /// Its document.
    pub path: PathBuf,
}

/// A claimed item: now in the active directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The family.
    pub family: Family,
    /// The document path in `active/`.
    pub path: PathBuf,
    /// The parsed document.
    pub document: WorkDocument,
}

/// Queued items per family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueDepths {
    /// Queued count by family (families with none may be absent).
    pub by_family: BTreeMap<Family, usize>,
}

impl QueueDepths {
    /// Queued items of `family`.
    pub fn family(&self, family: Family) -> usize {
        self.by_family.get(&family).copied().unwrap_or(0)
    }

    /// Queued items of the families a plane takes.
    pub fn plane(&self, plane: Plane) -> usize {
        let families = Family::ALL.into_iter().filter(|f| f.plane() == plane);
        families.map(|family| self.family(family)).sum()
    }
}

/// A change a file watcher saw in a lifecycle directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEvent {
    /// A complete file arrived (renamed into the directory, or closed after writing).
    Created(PathBuf),
    /// A file was created in place and may still be being written: a queued
    /// one is indexed only once its document reads (its close follows).
    Appeared(PathBuf),
    /// A file disappeared (removed, or renamed away).
    Removed(PathBuf),
}

/// Counts queued documents per family without reading any document: what
/// `status` and `queue ls` need when no daemon index is at hand. Counts of
/// queue directories unchanged since the last call come from a small cache
/// (`state/queue_depth_cache.json`), so large quiet queues cost a few `stat`s.
pub fn count_queued(paths: &WorkspacePaths) -> Result<QueueDepths, QueueError> {
    Ok(QueueDepths {
        by_family: depth_cache::cached_counts(paths, true)?,
    })
}

/// [`count_queued`] for a reader that must write nothing: the cache is
/// used where valid, never updated.
pub fn count_queued_read_only(paths: &WorkspacePaths) -> Result<QueueDepths, QueueError> {
    Ok(QueueDepths {
        by_family: depth_cache::cached_counts(paths, false)?,
    })
}

/// Counts the documents of one lifecycle directory without reading them (a
/// directory listing; meant for the small `active/` and `blocked/` folders).
pub fn count_in_state(
    paths: &WorkspacePaths,
    family: Family,
    state: LifecycleState,
) -> Result<usize, QueueError> {
    scan::count_documents(&paths.lifecycle_dir(family, state), family.extension())
}

/// Finds `id` on disk in every family and state (a few `stat` calls, no index).
pub fn locate_on_disk(paths: &WorkspacePaths, id: &str) -> Vec<Located> {
    let mut found = Vec::new();
    for family in Family::ALL {
        for &state in family.states() {
            let path = paths.item_path(family, state, id);
            if path.is_file() {
                found.push(Located {
                    family,
                    state,
                    path,
                });
            }
        }
    }
    found
}

/// The queues of one workspace.
#[derive(Debug)]
pub struct QueueStore {
    paths: WorkspacePaths,
    index: QueueIndex,
    dirs: HashMap<PathBuf, (Family, LifecycleState)>,
    /// Quarantines not yet reported (see [`QueueStore::take_quarantined`]).
    quarantined: Vec<QuarantineRecord>,
}

enum Attempt {
    Claimed(Box<Claimed>),
    Skip,
    Retry,
}

impl QueueStore {
    /// Opens the queues, scanning every lifecycle directory once.
    pub fn open(paths: &WorkspacePaths) -> Result<QueueStore, QueueError> {
        let mut store = QueueStore::open_unscanned(paths);
        store.refresh()?;
        Ok(store)
    }

    /// Opens the queues for reading only: every directory is scanned, but
    /// nothing is quarantined or moved (for reports such as a dry run).
    pub fn open_read_only(paths: &WorkspacePaths) -> Result<QueueStore, QueueError> {
        let mut store = QueueStore::open_unscanned(paths);
        store.index = scan::scan(paths)?.index;
        Ok(store)
    }

    /// Opens the queues without scanning: for one-shot writers such as
    /// `add-task`. The index starts empty, so lookups (and the duplicate check
    /// of [`QueueStore::enqueue`]) go to the disk; claims see nothing until
    /// [`QueueStore::refresh`].
    pub fn open_unscanned(paths: &WorkspacePaths) -> QueueStore {
        let mut dirs = HashMap::new();
        for family in Family::ALL {
            for &state in family.states() {
                dirs.insert(paths.lifecycle_dir(family, state), (family, state));
            }
        }
        QueueStore {
            paths: paths.clone(),
            index: QueueIndex::default(),
            dirs,
            quarantined: Vec::new(),
        }
    }

    /// Rebuilds the index from the directories. Queue entries that cannot
    /// be documents (not regular files, names that are not UTF-8) are
    /// quarantined, and so is every copy of an item that another lifecycle
    /// state of its family already holds (see [`QueueStore::settle_duplicates`]).
    pub fn refresh(&mut self) -> Result<(), QueueError> {
        let scanned = scan::scan(&self.paths)?;
        self.index = scanned.index;
        for misfit in scanned.misfits {
            self.quarantine_misfit(&misfit)?;
        }
        self.settle_duplicates()
    }

    /// The workspace paths.
    pub fn paths(&self) -> &WorkspacePaths {
        &self.paths
    }

    /// Writes `document` canonically into its family's queue. Refuses an id that
    /// exists in any lifecycle state of the family; the write is atomic and
    /// never replaces a file.
    pub fn enqueue(&mut self, document: &WorkDocument) -> Result<PathBuf, QueueError> {
        let (family, id) = (document.family(), document.id());
        if let Some(found) = self.find(family, id) {
            return Err(duplicate(family, id, found.state));
        }
        let path = self.paths.item_path(family, LifecycleState::Queued, id);
        match write_atomic_new(&path, document.render().as_bytes()) {
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                return Err(duplicate(family, id, LifecycleState::Queued));
            }
            result => result.map_err(at("write", &path))?,
        }
        self.index.insert(
            family,
            LifecycleState::Queued,
            QueuedItem::from_document(document),
        );
        Ok(path)
    }

    /// Claims the next item of the first of `families` (in claim order, the
    /// plan's entry order) that has one: oldest first, dependencies done,
    /// lineage as `filter` says.
    pub fn claim(
        &mut self,
        families: &[Family],
        filter: &ClaimFilter,
    ) -> Result<Option<Claimed>, QueueError> {
        self.claim_beside(families, filter, &[])
    }

    /// [`QueueStore::claim`] for a free lane while tasks touching `running`
    /// run in the others: a task overlapping one of them, or an earlier
    /// task held back by one, waits (docs/lanes.md). With nothing running
    /// this is [`QueueStore::claim`].
    pub fn claim_beside(
        &mut self,
        families: &[Family],
        filter: &ClaimFilter,
        running: &[TargetPaths],
    ) -> Result<Option<Claimed>, QueueError> {
        for &family in families {
            if let Some(claimed) = self.claim_family_beside(family, filter, running)? {
                return Ok(Some(claimed));
            }
        }
        Ok(None)
    }

    /// Claims the next item of one family by `rename(queue/x, active/x)`.
    /// An item another process took first is skipped; an unparsable one is quarantined.
    pub fn claim_family(
        &mut self,
        family: Family,
        filter: &ClaimFilter,
    ) -> Result<Option<Claimed>, QueueError> {
        self.claim_family_beside(family, filter, &[])
    }

    /// [`QueueStore::claim_family`] beside tasks touching `running`.
    pub fn claim_family_beside(
        &mut self,
        family: Family,
        filter: &ClaimFilter,
        running: &[TargetPaths],
    ) -> Result<Option<Claimed>, QueueError> {
        let mut skip = HashSet::new();
        loop {
            let next = self.index.next_candidate(family, filter, running, &skip);
            let Some(item) = next else {
                return Ok(None);
            };
            let id = item.key.id.clone();
            match self.try_claim(family, &id, filter, running)? {
                Attempt::Claimed(claimed) => return Ok(Some(*claimed)),
                Attempt::Skip => drop(skip.insert(id)),
                Attempt::Retry => {}
            }
        }
    }

    fn try_claim(
        &mut self,
        family: Family,
        id: &str,
        filter: &ClaimFilter,
        running: &[TargetPaths],
    ) -> Result<Attempt, QueueError> {
        let queued = self.paths.item_path(family, LifecycleState::Queued, id);
        if self.quarantine_if_duplicate(family, id, LifecycleState::Queued)? {
            return Ok(Attempt::Retry);
        }
        let active = self.paths.item_path(family, LifecycleState::Active, id);
        match rename_no_replace(&queued, &active) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => {
                self.index.remove(family, LifecycleState::Queued, id);
                return Ok(Attempt::Retry);
            }
            Err(error) if error.kind() == ErrorKind::AlreadyExists => return Ok(Attempt::Skip),
            Err(error) => return Err(at("claim", &queued)(error).into()),
        }
        self.index.remove(family, LifecycleState::Queued, id);
        self.index
            .insert(family, LifecycleState::Active, QueuedItem::unreadable(id));
        self.inspect_claimed(family, id, active, (filter, running))
    }

    /// Reads a just-claimed document: quarantine if bad, put back if no
    /// longer eligible (lineage, dependencies, or paths overlapping `running`).
    fn inspect_claimed(
        &mut self,
        family: Family,
        id: &str,
        active: PathBuf,
        (filter, running): (&ClaimFilter, &[TargetPaths]),
    ) -> Result<Attempt, QueueError> {
        let document = match documents::read_document(family, &active) {
            Ok(document) => document,
            Err(DocumentError::File(error)) if error.kind() == ErrorKind::NotFound => {
                self.index.remove(family, LifecycleState::Active, id);
                return Ok(Attempt::Retry);
            }
            Err(error) => {
                let origin = self.paths.lifecycle_dir(family, LifecycleState::Queued);
                self.quarantine(family, &active, &origin, &error.to_string())?;
                return Ok(Attempt::Retry);
            }
        };
        let item = QueuedItem::from_document(&document);
        if self.index.eligible(family, filter, running, &item) {
            return Ok(Attempt::Claimed(Box::new(Claimed {
                family,
                path: active,
                document,
            })));
        }
        let queued = self.paths.item_path(family, LifecycleState::Queued, id);
        rename_no_replace(&active, &queued).map_err(at("return", &active))?;
        self.index.remove(family, LifecycleState::Active, id);
        self.index.insert(family, LifecycleState::Queued, item);
        Ok(Attempt::Retry)
    }

    /// Moves item `id` from one lifecycle state to another, with one audit line:
    /// requeues go to `<queue_dir>/<id>.requeue.jsonl`, other moves to
    /// `<family_dir>/transitions.jsonl`. Returns the new path.
    pub fn move_item(
        &mut self,
        family: Family,
        id: &str,
        from: LifecycleState,
        to: LifecycleState,
        reason: &MoveReason,
    ) -> Result<PathBuf, QueueError> {
        for state in [from, to] {
            if !family.states().contains(&state) {
                return Err(QueueError::NoSuchState { family, state });
            }
        }
        let source = self.paths.item_path(family, from, id);
        let target = self.paths.item_path(family, to, id);
        match rename_no_replace(&source, &target) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => {
                self.index.remove(family, from, id);
                return Err(QueueError::NotFound {
                    family,
                    id: id.to_string(),
                    state: from,
                });
            }
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                return Err(QueueError::DestinationExists {
                    family,
                    id: id.to_string(),
                    state: to,
                });
            }
            Err(error) => return Err(at("move", &source)(error).into()),
        }
        if let Err(error) = self.audit_move(family, id, from, to, reason) {
            // A move nobody can account for is not made: the item goes back.
            rename_no_replace(&target, &source).map_err(at("undo the move of", &target))?;
            return Err(error);
        }
        self.index.remove(family, from, id);
        let dir = self.paths.lifecycle_dir(family, to);
        let item = if to == LifecycleState::Queued {
            scan::queued_item(family, &dir, id).unwrap_or_else(|| QueuedItem::unreadable(id))
        } else {
            QueuedItem::unreadable(id)
        };
        self.index.insert(family, to, item);
        Ok(target)
    }

    fn audit_move(
        &self,
        family: Family,
        id: &str,
        from: LifecycleState,
        to: LifecycleState,
        reason: &MoveReason,
    ) -> Result<(), QueueError> {
        let requeue = to == LifecycleState::Queued;
        let log = if requeue {
            audit::requeue_log(&self.paths.lifecycle_dir(family, to), id)
        } else {
            self.paths.family_dir(family).join("transitions.jsonl")
        };
        let attempt_number = if requeue {
            Some(read_requeue_log(&log)?.len() + 1)
        } else {
            None
        };
        let record = MoveRecord {
            schema_version: "1.0".to_string(),
            kind: if requeue {
                "work_item_requeue"
            } else {
                "work_item_transition"
            }
            .to_string(),
            work_item_family_id: family,
            work_item_id: id.to_string(),
            from,
            to,
            reason: reason.clone(),
            attempt_number,
            occurred_at: Timestamp::now(),
        };
        audit::append_record(&log, &record)
    }

    /// Active → done (resolved, approved).
    pub fn complete(
        &mut self,
        family: Family,
        id: &str,
        reason: &MoveReason,
    ) -> Result<PathBuf, QueueError> {
        self.move_item(
            family,
            id,
            LifecycleState::Active,
            LifecycleState::Done,
            reason,
        )
    }

    /// Active → blocked.
    pub fn block(
        &mut self,
        family: Family,
        id: &str,
        reason: &MoveReason,
    ) -> Result<PathBuf, QueueError> {
        self.move_item(
            family,
            id,
            LifecycleState::Active,
            LifecycleState::Blocked,
            reason,
        )
    }

    /// Active → queue (retry-active, clear-stale-state, crash recovery).
    pub fn requeue(
        &mut self,
        family: Family,
        id: &str,
        reason: &MoveReason,
    ) -> Result<PathBuf, QueueError> {
        self.move_item(
            family,
            id,
            LifecycleState::Active,
            LifecycleState::Queued,
            reason,
        )
    }

    /// Blocked → queue (retry-blocked, auto-recovery).
    pub fn retry_blocked(
        &mut self,
        family: Family,
        id: &str,
        reason: &MoveReason,
    ) -> Result<PathBuf, QueueError> {
        self.move_item(
            family,
            id,
            LifecycleState::Blocked,
            LifecycleState::Queued,
            reason,
        )
    }

    /// How many requeues of `id` were recorded (only automatic ones if `auto_only`).
    pub fn requeue_count(
        &self,
        family: Family,
        id: &str,
        auto_only: bool,
    ) -> Result<usize, QueueError> {
        let log = audit::requeue_log(
            &self.paths.lifecycle_dir(family, LifecycleState::Queued),
            id,
        );
        let records = read_requeue_log(&log)?;
        Ok(records
            .iter()
            .filter(|record| !auto_only || record.reason.auto)
            .count())
    }

    /// Where `id` of `family` is, by the index and then by the disk for
    /// items the index has not seen. When a copy sits in a second state (a
    /// file dropped into the queue again, not yet set aside) the real one is
    /// the one furthest along ([`KEEP_ORDER`]): a queued copy never hides
    /// the item that is running or done.
    pub fn find(&self, family: Family, id: &str) -> Option<Located> {
        let states = || {
            KEEP_ORDER
                .into_iter()
                .filter(|state| family.states().contains(state))
        };
        let indexed = states().find(|state| self.index.contains(family, *state, id));
        let on_disk = || states().find(|state| self.paths.item_path(family, *state, id).is_file());
        let state = indexed.or_else(on_disk)?;
        Some(Located {
            family,
            state,
            path: self.paths.item_path(family, state, id),
        })
    }

    /// Every place `id` is known, across families (more than one per family is an integrity problem).
    pub fn locate(&self, id: &str) -> Vec<Located> {
        let mut found = Vec::new();
        for family in Family::ALL {
            for state in self.index.states_of(family, id) {
                found.push(Located {
                    family,
                    state,
                    path: self.paths.item_path(family, state, id),
                });
            }
        }
        found
    }

    /// Reads the document at a located place.
    pub fn read(&self, located: &Located) -> Result<WorkDocument, QueueError> {
        Ok(documents::read_document(located.family, &located.path)?)
    }

    /// The `Target-Paths` of active task `id`, read from `tasks/active/`:
    /// the runtime puts one per task running in a lane into
    /// [`ClaimFilter::running`].
    pub fn active_target_paths(&self, id: &str) -> Result<TargetPaths, QueueError> {
        let path = self
            .paths
            .item_path(Family::Task, LifecycleState::Active, id);
        let document = documents::read_document(Family::Task, &path)?;
        Ok(TargetPaths::of(&document))
    }

    /// Queued items per family, from the index.
    pub fn depths(&self) -> QueueDepths {
        let by_family = Family::ALL
            .iter()
            .map(|family| (*family, self.count(*family, LifecycleState::Queued)));
        QueueDepths {
            by_family: by_family.collect(),
        }
    }

    /// True when every dependency of the queued `item` is done: it may be
    /// claimed as far as its dependencies go.
    pub(crate) fn dependencies_done(&self, family: Family, item: &QueuedItem) -> bool {
        self.index
            .eligible(family, &ClaimFilter::default(), &[], item)
    }

    /// The claim facts (id, dependencies, root spec) of every queued item of
    /// `family`, from the index: no document is read.
    pub(crate) fn queued_items(&self, family: Family) -> impl Iterator<Item = &QueuedItem> {
        self.index.queued_items(family)
    }

    /// How many items of `family` are in `state`.
    pub fn count(&self, family: Family, state: LifecycleState) -> usize {
        self.index.count(family, state)
    }

    /// The ids of `family` in `state`: claim order for the queue, sorted otherwise.
    pub fn ids(&self, family: Family, state: LifecycleState) -> Vec<String> {
        let mut ids: Vec<String> = self
            .index
            .ids(family, state)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        if state == LifecycleState::Queued {
            ids.sort_by_key(|id| self.index.queued(family, id).map(|item| item.key.clone()));
        }
        ids
    }

    /// Applies a watcher's event to the index. Paths outside the lifecycle
    /// directories, temp files and side files are ignored; a queue entry
    /// that cannot be a document is quarantined (when that fails, the next
    /// listing of the folder tries again).
    pub fn apply_event(&mut self, event: &FileEvent) {
        let (path, created) = match event {
            FileEvent::Created(path) | FileEvent::Appeared(path) => (path, true),
            FileEvent::Removed(path) => (path, false),
        };
        let Some((family, state)) = self.lifecycle_of(path) else {
            return;
        };
        let file_type = created.then(|| path.symlink_metadata().ok()).flatten();
        let name = path.file_name().unwrap_or_default();
        let id = match scan::classify_name(name, file_type.map(|m| m.file_type()), family) {
            scan::Entry::Document(id) => id,
            scan::Entry::Misfit(reason) if created && state == LifecycleState::Queued => {
                let misfit = scan::Misfit {
                    family,
                    path: path.clone(),
                    reason,
                };
                let _ = self.quarantine_misfit(&misfit);
                return;
            }
            _ => return,
        };
        if !created {
            self.index.remove(family, state, &id);
            return;
        }
        // A copy of an item another state holds is set aside on arrival
        // (and at the latest when it would be claimed).
        let copy = state == LifecycleState::Queued && matches!(event, FileEvent::Created(_));
        if copy
            && self
                .quarantine_if_duplicate(family, &id, state)
                .unwrap_or(false)
        {
            return;
        }
        let dir = self.paths.lifecycle_dir(family, state);
        let item = match (state, event) {
            (LifecycleState::Queued, FileEvent::Appeared(_)) => {
                // Still being written: its close will bring it in.
                let Some(item) = scan::readable_queued_item(family, &dir, &id) else {
                    return;
                };
                item
            }
            (LifecycleState::Queued, _) => {
                // Not readable yet: a later listing brings it in.
                let Some(item) = scan::queued_item(family, &dir, &id) else {
                    return;
                };
                item
            }
            _ => QueuedItem::unreadable(&id),
        };
        self.index.insert(family, state, item);
    }

    /// Brings the index of every queue folder up to date with the disk (one
    /// listing per family; documents read only when new): files written by
    /// stages and operators arrive, files taken away leave, misfits are
    /// quarantined.
    pub fn sync_queued(&mut self) -> Result<(), QueueError> {
        for family in Family::ALL {
            let dir = self.paths.lifecycle_dir(family, LifecycleState::Queued);
            let listing = scan::list(&dir, family)?;
            for misfit in &listing.misfits {
                self.quarantine_misfit(misfit)?;
            }
            let on_disk: HashSet<&String> = listing.ids.iter().collect();
            let indexed = self.ids(family, LifecycleState::Queued);
            for id in indexed.iter().filter(|id| !on_disk.contains(id)) {
                self.index.remove(family, LifecycleState::Queued, id);
            }
            for id in &listing.ids {
                if self.index.contains(family, LifecycleState::Queued, id) {
                    continue;
                }
                if let Some(item) = scan::queued_item(family, &dir, id) {
                    self.index.insert(family, LifecycleState::Queued, item);
                }
            }
        }
        Ok(())
    }

    /// The family and state of a lifecycle directory's entry.
    fn lifecycle_of(&self, path: &Path) -> Option<(Family, LifecycleState)> {
        self.dirs.get(path.parent()?).copied()
    }

    fn classify(&self, path: &Path) -> Option<(Family, LifecycleState, String)> {
        let (family, state) = self.lifecycle_of(path)?;
        let name = path.file_name()?.to_str()?;
        let id = scan::document_stem(name, family.extension())?;
        Some((family, state, id.to_string()))
    }
}

fn duplicate(family: Family, id: &str, state: LifecycleState) -> QueueError {
    QueueError::Duplicate {
        family,
        id: id.to_string(),
        state,
    }
}
