//! The in-memory queue index: ids per lifecycle state, queued items in claim order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::lanes::{Candidate, TargetPaths, next_claimable};
use crate::workspace::documents::WorkDocument;
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::timestamp::Timestamp;

/// Which copy of an item found in several states is the real one: the one
/// furthest along, so a finished item never runs again.
pub(crate) const KEEP_ORDER: [LifecycleState; 6] = [
    LifecycleState::Done,
    LifecycleState::Canceled,
    LifecycleState::Superseded,
    LifecycleState::Blocked,
    LifecycleState::Active,
    LifecycleState::Queued,
];

/// The claim order of queued items: oldest `Created-At` first, then id.
/// Items whose document could not be read sort first, so a claim quarantines them promptly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClaimKey {
    /// Creation time (`None` when the document could not be read).
    pub created_at: Option<Timestamp>,
    /// The item id.
    pub id: String,
}

/// What a claim needs to know about a queued item without reading it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueuedItem {
    pub key: ClaimKey,
    pub depends_on: Vec<String>,
    pub root_spec_id: Option<String>,
    /// Its `Target-Paths`, parsed: what it may not run beside.
    pub paths: TargetPaths,
}

impl QueuedItem {
    /// The claim facts of a parsed document.
    pub fn from_document(document: &WorkDocument) -> QueuedItem {
        QueuedItem {
            key: ClaimKey {
                created_at: document.created_at().cloned(),
                id: document.id().to_string(),
            },
            depends_on: document.depends_on().to_vec(),
            root_spec_id: document.root_spec_id().map(str::to_string),
            paths: TargetPaths::of(document),
        }
    }

    /// An item whose document does not parse (yet): claimable first, to be quarantined.
    pub fn unreadable(id: &str) -> QueuedItem {
        let key = ClaimKey {
            created_at: None,
            id: id.to_string(),
        };
        QueuedItem {
            key,
            depends_on: Vec::new(),
            root_spec_id: None,
            paths: TargetPaths::nothing(),
        }
    }
}

/// Which queued items a claim may take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFilter {
    /// Only items of this lineage (effective root spec id), while a closure target is open.
    pub root_spec_id: Option<String>,
}

#[derive(Debug, Default)]
struct FamilyIndex {
    ids: BTreeMap<LifecycleState, BTreeSet<String>>,
    order: BTreeSet<ClaimKey>,
    queued: HashMap<String, QueuedItem>,
}

/// Every work item id by family and state, and the queued ones in claim order.
#[derive(Debug, Default)]
pub(crate) struct QueueIndex {
    families: HashMap<Family, FamilyIndex>,
}

impl QueueIndex {
    /// Records `id` in `state`; queued items carry their claim facts.
    pub fn insert(&mut self, family: Family, state: LifecycleState, item: QueuedItem) {
        let index = self.families.entry(family).or_default();
        index
            .ids
            .entry(state)
            .or_default()
            .insert(item.key.id.clone());
        if state == LifecycleState::Queued {
            if let Some(old) = index.queued.remove(&item.key.id) {
                index.order.remove(&old.key);
            }
            index.order.insert(item.key.clone());
            index.queued.insert(item.key.id.clone(), item);
        }
    }

    /// Forgets `id` in `state`; true when it was known there.
    pub fn remove(&mut self, family: Family, state: LifecycleState, id: &str) -> bool {
        let Some(index) = self.families.get_mut(&family) else {
            return false;
        };
        if state == LifecycleState::Queued {
            if let Some(old) = index.queued.remove(id) {
                index.order.remove(&old.key);
            }
        }
        index.ids.get_mut(&state).is_some_and(|ids| ids.remove(id))
    }

    /// True when `id` is known in `state`.
    pub fn contains(&self, family: Family, state: LifecycleState, id: &str) -> bool {
        self.ids(family, state).is_some_and(|ids| ids.contains(id))
    }

    /// Every state `id` is known in (more than one is an integrity problem).
    pub fn states_of(&self, family: Family, id: &str) -> Vec<LifecycleState> {
        let states = family.states().iter().copied();
        states
            .filter(|state| self.contains(family, *state, id))
            .collect()
    }

    /// How many items are in `state`.
    pub fn count(&self, family: Family, state: LifecycleState) -> usize {
        self.ids(family, state).map_or(0, BTreeSet::len)
    }

    /// The ids in `state`, sorted.
    pub fn ids(&self, family: Family, state: LifecycleState) -> Option<&BTreeSet<String>> {
        self.families
            .get(&family)
            .and_then(|index| index.ids.get(&state))
    }

    /// The first queued item in claim order that `filter`'s lineage allows,
    /// whose every dependency is done, that is not in `skip`, and whose
    /// paths overlap neither a `running` task's nor an earlier held item's
    /// ([`next_claimable`]; with nothing running, simply the first).
    pub fn next_candidate(
        &self,
        family: Family,
        filter: &ClaimFilter,
        running: &[TargetPaths],
        skip: &HashSet<String>,
    ) -> Option<&QueuedItem> {
        let index = self.families.get(&family)?;
        let queue = index
            .order
            .iter()
            .filter(|key| !skip.contains(&key.id))
            .filter_map(|key| index.queued.get(&key.id))
            .filter(|item| lineage_allows(filter, item))
            .map(|item| Candidate {
                id: &item.key.id,
                depends_on: &item.depends_on,
                paths: &item.paths,
            });
        let running: Vec<&TargetPaths> = running.iter().collect();
        let id = next_claimable(queue, |id| self.is_done(family, id), &running)?;
        index.queued.get(id)
    }

    /// True when `filter` allows `item`, every dependency is done, and it
    /// overlaps no `running` task (the order among queued items is
    /// [`QueueIndex::next_candidate`]'s).
    pub fn eligible(
        &self,
        family: Family,
        filter: &ClaimFilter,
        running: &[TargetPaths],
        item: &QueuedItem,
    ) -> bool {
        let free = !running.iter().any(|r| r.overlaps(&item.paths));
        let done = item.depends_on.iter().all(|id| self.is_done(family, id));
        lineage_allows(filter, item) && done && free
    }

    fn is_done(&self, family: Family, id: &str) -> bool {
        self.contains(family, LifecycleState::Done, id)
    }

    /// The ids of `family` known in more than one state, each with its
    /// states in [`KEEP_ORDER`] (the copy to keep first).
    pub fn duplicates(&self, family: Family) -> Vec<(String, Vec<LifecycleState>)> {
        let Some(index) = self.families.get(&family) else {
            return Vec::new();
        };
        let mut seen: BTreeMap<&String, Vec<LifecycleState>> = BTreeMap::new();
        for state in KEEP_ORDER {
            for id in index.ids.get(&state).into_iter().flatten() {
                seen.entry(id).or_default().push(state);
            }
        }
        seen.into_iter()
            .filter(|(_, states)| states.len() > 1)
            .map(|(id, states)| (id.clone(), states))
            .collect()
    }

    /// Every queued item of `family`, in no particular order.
    pub fn queued_items(&self, family: Family) -> impl Iterator<Item = &QueuedItem> {
        self.families
            .get(&family)
            .into_iter()
            .flat_map(|index| index.queued.values())
    }

    /// The queued item `id`, if known.
    pub fn queued(&self, family: Family, id: &str) -> Option<&QueuedItem> {
        self.families
            .get(&family)
            .and_then(|index| index.queued.get(id))
    }
}

/// Unreadable items pass any filter: claiming them quarantines them.
fn lineage_allows(filter: &ClaimFilter, item: &QueuedItem) -> bool {
    match &filter.root_spec_id {
        None => true,
        Some(_) if item.key.created_at.is_none() => true,
        Some(root) => item.root_spec_id.as_deref() == Some(root.as_str()),
    }
}
