//! Building the index from the directories: names for every state, claim facts for queued items.

use std::ffi::OsStr;
use std::fs::{DirEntry, FileType};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::error::QueueError;
use super::index::{QueueIndex, QueuedItem};
use crate::fs_error::at;
use crate::workspace::documents;
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::input::MAX_INPUT_BYTES;
use crate::workspace::paths::WorkspacePaths;

/// A queue entry named like a document that cannot be one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misfit {
    pub family: Family,
    pub path: PathBuf,
    /// Why it is not a document, for the quarantine record.
    pub reason: String,
}

/// The index of every lifecycle directory, and the queue entries to set aside.
pub(crate) struct Scanned {
    pub index: QueueIndex,
    pub misfits: Vec<Misfit>,
}

/// Scans every lifecycle directory of every family.
pub(crate) fn scan(paths: &WorkspacePaths) -> Result<Scanned, QueueError> {
    let mut scanned = Scanned {
        index: QueueIndex::default(),
        misfits: Vec::new(),
    };
    for family in Family::ALL {
        for &state in family.states() {
            let dir = paths.lifecycle_dir(family, state);
            let listing = list(&dir, family)?;
            for id in listing.ids {
                let item = if state == LifecycleState::Queued {
                    queued_item(family, &dir, &id)
                } else {
                    Some(QueuedItem::unreadable(&id))
                };
                if let Some(item) = item {
                    scanned.index.insert(family, state, item);
                }
            }
            // The daemon acts on queued and active items: what cannot be
            // one there is set aside; elsewhere it is only not counted.
            if matches!(state, LifecycleState::Queued | LifecycleState::Active) {
                scanned.misfits.extend(listing.misfits);
            }
        }
    }
    Ok(scanned)
}

/// How long a document that does not parse is given to be finished (a
/// writer appending it line by line) before it is set aside.
pub(crate) const SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// The claim facts of a queued document. One that does not parse is
/// indexed, to be quarantined, once it has not changed for [`SETTLE`];
/// until then it is left out (`None`), and a later listing brings it in.
pub(crate) fn queued_item(family: Family, dir: &Path, id: &str) -> Option<QueuedItem> {
    if let Some(item) = readable_queued_item(family, dir, id) {
        return Some(item);
    }
    let path = dir.join(format!("{id}.{}", family.extension()));
    let meta = path.symlink_metadata().ok();
    // Too large to ever be a document: no need to wait for its writer.
    let oversize = meta.as_ref().is_some_and(|m| m.len() > MAX_INPUT_BYTES);
    let age = meta
        .and_then(|m| m.modified().ok())
        .and_then(|at| at.elapsed().ok());
    let settled = oversize || age.is_none_or(|age| age >= SETTLE);
    settled.then(|| QueuedItem::unreadable(id))
}

/// The claim facts of a queued document, `None` when it does not read (yet).
pub(crate) fn readable_queued_item(family: Family, dir: &Path, id: &str) -> Option<QueuedItem> {
    let path = dir.join(format!("{id}.{}", family.extension()));
    let document = documents::read_document(family, &path).ok()?;
    Some(QueuedItem::from_document(&document))
}

/// What a directory of one family holds.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// The stems of its `*.<ext>` regular files (hidden and temp files skipped).
    pub ids: Vec<String>,
    /// Entries named `*.<ext>` that cannot be documents.
    pub misfits: Vec<Misfit>,
}

/// Lists `dir` (a missing dir is empty).
pub(crate) fn list(dir: &Path, family: Family) -> Result<Listing, QueueError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Listing::default()),
        Err(error) => return Err(at("list", dir)(error).into()),
    };
    let mut listing = Listing::default();
    for entry in entries {
        let entry = entry.map_err(at("list", dir))?;
        match classify_entry(&entry, family) {
            Entry::Document(id) => listing.ids.push(id),
            Entry::Misfit(reason) => listing.misfits.push(Misfit {
                family,
                path: entry.path(),
                reason,
            }),
            Entry::Other => {}
        }
    }
    Ok(listing)
}

/// What one directory entry is to the queue.
pub(crate) enum Entry {
    /// A document file with this id.
    Document(String),
    /// Named like a document, but cannot be one (why).
    Misfit(String),
    /// Not named like a document: not the queue's business.
    Other,
}

fn classify_entry(entry: &DirEntry, family: Family) -> Entry {
    let file_type = entry.file_type().ok();
    classify_name(&entry.file_name(), file_type, family)
}

/// Classifies a name in a lifecycle directory of `family`, given its file
/// type when known (`None`: not looked at).
pub(crate) fn classify_name(name: &OsStr, file_type: Option<FileType>, family: Family) -> Entry {
    let ext = family.extension();
    let Some(name) = name.to_str() else {
        let looks_like_document = name.as_bytes().ends_with(format!(".{ext}").as_bytes())
            && !name.as_bytes().starts_with(b".");
        return if looks_like_document {
            Entry::Misfit("its file name is not valid UTF-8: rename it".to_string())
        } else {
            Entry::Other
        };
    };
    let Some(id) = document_stem(name, ext) else {
        return Entry::Other;
    };
    if !crate::workspace::documents::is_valid_id(id) {
        return Entry::Misfit(format!(
            "`{id}` is not a valid id (letters, digits, `.`, `_`, `-`; at most {} characters)",
            crate::workspace::documents::MAX_ID_LEN
        ));
    }
    match file_type.and_then(not_a_file) {
        Some(what) => Entry::Misfit(format!("it is {what}, not a regular file")),
        None => Entry::Document(id.to_string()),
    }
}

/// What a file type is when it is not a regular file.
fn not_a_file(file_type: FileType) -> Option<&'static str> {
    let what = if file_type.is_file() {
        return None;
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_fifo() {
        "a named pipe (FIFO)"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "a device"
    };
    Some(what)
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
        Err(error) => return Err(at("list", dir)(error).into()),
    };
    let mut count = 0;
    for entry in entries {
        let entry = entry.map_err(at("list", dir))?;
        count += usize::from(document_stem(&entry.file_name().to_string_lossy(), ext).is_some());
    }
    Ok(count)
}
