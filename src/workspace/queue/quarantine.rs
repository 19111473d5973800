//! Quarantine: what cannot be run is moved aside, never deleted. A queue
//! entry that cannot be a document (a FIFO, a directory, a name that is not
//! UTF-8 or not a valid id) and every copy of an item another lifecycle
//! state already holds becomes `<origin>/<name>.invalid`, with a line in
//! `<origin>/invalid-artifacts.jsonl` and a record the daemon journals.

use std::ffi::OsStr;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::index::KEEP_ORDER;
use super::{QuarantineRecord, QueueError, QueueStore, audit, scan};
use crate::fs_error::at;
use crate::workspace::atomic::rename_no_replace;
use crate::workspace::family::{Family, LifecycleState};
use crate::workspace::timestamp::Timestamp;

impl QueueStore {
    /// Quarantines, for every item found in more than one lifecycle state of
    /// its family, every copy but the one furthest along (done, then
    /// cancelled, superseded, blocked, active, queued): a finished item is
    /// never run again because a copy of it reappeared.
    pub fn settle_duplicates(&mut self) -> Result<(), QueueError> {
        for family in Family::ALL {
            for (id, states) in self.index.duplicates(family) {
                for &state in states.iter().skip(1) {
                    self.quarantine_if_duplicate(family, &id, state)?;
                }
            }
        }
        Ok(())
    }

    /// The quarantines made since the last call, oldest first: the daemon
    /// journals each one.
    pub fn take_quarantined(&mut self) -> Vec<QuarantineRecord> {
        std::mem::take(&mut self.quarantined)
    }

    /// Sets the copy of `id` in `copy` aside when a state further along
    /// holds the item too; true when the copy is no longer there. Checked on
    /// the disk, the copy first: items only move forward but for requeues,
    /// so an item seen in both places one after the other either is there
    /// twice or has moved on, and then its copy is gone and stays untouched.
    pub(super) fn quarantine_if_duplicate(
        &mut self,
        family: Family,
        id: &str,
        copy: LifecycleState,
    ) -> Result<bool, QueueError> {
        let path = self.paths.item_path(family, copy, id);
        if !path.is_file() {
            self.index.remove(family, copy, id);
            return Ok(true);
        }
        let further = KEEP_ORDER.iter().take_while(|state| **state != copy);
        let Some(&held) = further
            .filter(|state| family.states().contains(state))
            .find(|state| self.paths.item_path(family, **state, id).is_file())
        else {
            return Ok(false);
        };
        if same_file(&path, &self.paths.item_path(family, held, id)) {
            // A move by link-then-unlink (the portable claim) stopped
            // between the two: finish it rather than set a copy aside.
            return match std::fs::remove_file(&path) {
                Err(error) if error.kind() != ErrorKind::NotFound => {
                    Err(at("finish the move of", &path)(error).into())
                }
                _ => {
                    self.index.remove(family, copy, id);
                    Ok(true)
                }
            };
        }
        let origin = self.paths.lifecycle_dir(family, copy);
        let reason = duplicate_reason(family, id, held);
        match self.quarantine(family, &path, &origin, &reason) {
            Err(QueueError::File(error)) if error.kind() == ErrorKind::NotFound => {
                self.index.remove(family, copy, id);
                Ok(true)
            }
            result => result.map(|_| true),
        }
    }

    /// Quarantines a queue entry that cannot be a document.
    pub(super) fn quarantine_misfit(&mut self, misfit: &scan::Misfit) -> Result<(), QueueError> {
        let origin = misfit.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        match self.quarantine(misfit.family, &misfit.path, &origin, &misfit.reason) {
            // Taken away before it could be moved aside: nothing to do.
            Err(QueueError::File(error)) if error.kind() == ErrorKind::NotFound => Ok(()),
            result => result.map(drop),
        }
    }

    /// Moves `path` aside as `<origin>/<file>.invalid` and records why in
    /// `<origin>/invalid-artifacts.jsonl` (and for [`QueueStore::take_quarantined`]).
    /// Returns the quarantined path.
    pub fn quarantine(
        &mut self,
        family: Family,
        path: &Path,
        origin: &Path,
        reason: &str,
    ) -> Result<PathBuf, QueueError> {
        let name = path.file_name().unwrap_or_default();
        let target = free_quarantine_name(origin, name);
        rename_no_replace(path, &target).map_err(at("quarantine", path))?;
        if let Some((family, state, id)) = self.classify(path) {
            self.index.remove(family, state, &id);
        }
        let mut record = QuarantineRecord {
            schema_version: "1.0".to_string(),
            kind: "invalid_artifact".to_string(),
            work_item_family_id: family,
            original_path: origin.join(name).display().to_string(),
            quarantined_path: target.display().to_string(),
            reason: reason.to_string(),
            quarantined_at: Timestamp::now(),
        };
        // The file is aside already; an audit log that cannot take the line
        // (replaced by something hostile) must not undo that or stop the
        // daemon: the journal event carries the record and says so.
        if let Err(error) = audit::append_record(&origin.join("invalid-artifacts.jsonl"), &record) {
            record.reason = format!("{reason}; not in the audit log: {error}");
        }
        self.quarantined.push(record);
        Ok(target)
    }
}

/// The longest file name most file systems take.
const NAME_MAX: usize = 255;
/// Room kept for `.<n>.invalid`.
const SUFFIX_ROOM: usize = 24;

/// `<origin>/<name>.invalid`, or `<name>.<n>.invalid` when taken. The name's
/// bytes are kept as they are (a name that is not UTF-8 stays so); a name
/// too long for the suffix keeps its beginning and a digest of the whole.
fn free_quarantine_name(origin: &Path, name: &OsStr) -> PathBuf {
    let base = fitting_base(name.as_bytes());
    let candidate = |suffix: String| {
        let mut bytes = base.clone();
        bytes.extend_from_slice(suffix.as_bytes());
        origin.join(OsStr::from_bytes(&bytes))
    };
    let mut path = candidate(".invalid".to_string());
    let mut n = 1;
    while path.symlink_metadata().is_ok() {
        path = candidate(format!(".{n}.invalid"));
        n += 1;
    }
    path
}

/// `name`, or its first bytes (whole characters when it is UTF-8) and a
/// digest of it, short enough for a quarantine suffix.
fn fitting_base(name: &[u8]) -> Vec<u8> {
    let room = NAME_MAX - SUFFIX_ROOM;
    if name.len() <= room {
        return name.to_vec();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name);
    let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let mut cut = room - tag.len() - 1;
    while std::str::from_utf8(name).is_ok() && std::str::from_utf8(&name[..cut]).is_err() {
        cut -= 1;
    }
    let mut base = name[..cut].to_vec();
    base.push(b'-');
    base.extend_from_slice(tag.as_bytes());
    base
}

/// Why a second copy of an item is set aside.
/// Whether two paths are names of one file (its device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

fn duplicate_reason(family: Family, id: &str, held: LifecycleState) -> String {
    let hint = match held {
        LifecycleState::Blocked => {
            format!("; to run it again use `millrace queue retry-blocked {id}`")
        }
        _ => String::new(),
    };
    format!("{family} `{id}` is already {held}: this copy is never run{hint}")
}
