//! Queue depths without listing big directories: counts cached beside the
//! queue directories' mtimes in `state/queue_depth_cache.json`.
//!
//! A directory's mtime changes whenever an entry is added or removed. File
//! system clocks are coarse (a few ms), so a count is cached only when the
//! directory had been quiet for [`QUIET`] before it was listed: any later
//! change then gets a newer mtime and invalidates the entry.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::error::QueueError;
use super::scan;
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::paths::WorkspacePaths;
use crate::workspace::state::{SCHEMA_VERSION, read_state, write_state};

const QUIET: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct DepthCache {
    schema_version: String,
    entries: BTreeMap<Family, CachedCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct CachedCount {
    mtime_ns: u128,
    count: usize,
}

/// Queued documents per family, from the cache where the directory is
/// unchanged; `refresh` saves the counts it had to take (a read-only
/// reader such as `serve` passes false and writes nothing).
pub(crate) fn cached_counts(
    paths: &WorkspacePaths,
    refresh: bool,
) -> Result<BTreeMap<Family, usize>, QueueError> {
    let file = paths.state_dir().join("queue_depth_cache.json");
    let mut cache: DepthCache = read_state(&file).ok().flatten().unwrap_or_default();
    let mut counts = BTreeMap::new();
    let mut changed = false;
    for family in Family::ALL {
        let dir = paths.lifecycle_dir(family, LifecycleState::Queued);
        let mtime = mtime_ns(&dir);
        let hit = cache
            .entries
            .get(&family)
            .filter(|cached| Some(cached.mtime_ns) == mtime);
        let count = match hit {
            Some(cached) => cached.count,
            None => {
                let count = scan::count_documents(&dir, family.extension())?;
                changed |= remember(&mut cache, family, mtime, count);
                count
            }
        };
        counts.insert(family, count);
    }
    if refresh && changed && paths.state_dir().is_dir() {
        cache.schema_version = SCHEMA_VERSION.to_string();
        let _ = write_state(&file, &cache);
    }
    Ok(counts)
}

/// Caches a count taken while the directory was quiet; true when cached.
fn remember(cache: &mut DepthCache, family: Family, mtime: Option<u128>, count: usize) -> bool {
    let quiet_before = SystemTime::now().checked_sub(QUIET).and_then(nanos);
    match (mtime, quiet_before) {
        (Some(mtime), Some(limit)) if mtime < limit => {
            cache.entries.insert(
                family,
                CachedCount {
                    mtime_ns: mtime,
                    count,
                },
            );
            true
        }
        _ => cache.entries.remove(&family).is_some(),
    }
}

fn mtime_ns(dir: &Path) -> Option<u128> {
    std::fs::metadata(dir)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(nanos)
}

fn nanos(time: SystemTime) -> Option<u128> {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_nanos())
}
