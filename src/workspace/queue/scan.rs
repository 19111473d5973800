//! Building the index from the directories: names for every state, claim facts for queued items.

use std::io::ErrorKind;
use std::path::Path;

use super::error::QueueError;
use super::index::{QueueIndex, QueuedItem};
use crate::workspace::documents;
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::paths::WorkspacePaths;

/// Scans every lifecycle directory of every family.
pub(crate) fn scan(paths: &WorkspacePaths) -> Result<QueueIndex, QueueError> {
    let mut index = QueueIndex::default();
    for family in Family::ALL {
        for &state in family.states() {
            let dir = paths.lifecycle_dir(family, state);
            for id in list_ids(&dir, family.extension())? {
                let item = if state == LifecycleState::Queued {
                    queued_item(family, &dir, &id)
                } else {
                    QueuedItem::unreadable(&id)
                };
                index.insert(family, state, item);
            }
        }
    }
    Ok(index)
}

/// The claim facts of a queued document; an unreadable one is indexed to be quarantined.
pub(crate) fn queued_item(family: Family, dir: &Path, id: &str) -> QueuedItem {
    readable_queued_item(family, dir, id).unwrap_or_else(|| QueuedItem::unreadable(id))
}

/// The claim facts of a queued document, `None` when it does not read (yet).
pub(crate) fn readable_queued_item(family: Family, dir: &Path, id: &str) -> Option<QueuedItem> {
    let path = dir.join(format!("{id}.{}", family.extension()));
    let document = documents::read_document(family, &path).ok()?;
    Some(QueuedItem::from_document(&document))
}

/// The stems of the `*.<ext>` files in `dir` (hidden and temp files skipped; a missing dir is empty).
pub(crate) fn list_ids(dir: &Path, ext: &str) -> Result<Vec<String>, QueueError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(QueueError::io("list", dir)(error)),
    };
    let mut ids = Vec::new();
    for entry in entries {
        let entry = entry.map_err(QueueError::io("list", dir))?;
        if let Some(id) = document_stem(&entry.file_name().to_string_lossy(), ext) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// `x.md` → `x` for ext `md`; hidden files and other names → `None`.
pub(crate) fn document_stem<'a>(name: &'a str, ext: &str) -> Option<&'a str> {
    if name.starts_with('.') {
        return None;
    }
    let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
    (!stem.is_empty()).then_some(stem)
}

/// Counts the `*.<ext>` files of `dir` without reading them.
pub(crate) fn count_documents(dir: &Path, ext: &str) -> Result<usize, QueueError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(QueueError::io("list", dir)(error)),
    };
    let mut count = 0;
    for entry in entries {
        let entry = entry.map_err(QueueError::io("list", dir))?;
        count += usize::from(document_stem(&entry.file_name().to_string_lossy(), ext).is_some());
    }
    Ok(count)
}
