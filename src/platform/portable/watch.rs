//! Folder watching through `notify`: FSEvents on macOS, kqueue on the BSDs
//! (inotify when the portable platform is built on Linux).
//!
//! `notify` reports from a thread of its own, a moment after the file
//! operation, so a drain right after a stage exited may not hold all the
//! stage did yet ([`FolderWatcher::IS_BARRIER`] is false: the daemon lists
//! the folders after each stage instead). Where the system tells no
//! "closed after writing" (FSEvents, kqueue), a file written in place in a
//! folder watched for complete files only is seen on the next listing
//! (another event's, or the heartbeat's); a file renamed in is seen at once.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::platform::{Change, Interest, WatchEvent, WatchId};

/// What `notify`'s thread hands over, and the wake-up of the daemon.
#[derive(Default)]
struct Inbox {
    events: Mutex<Vec<notify::Result<Event>>>,
    ready: tokio::sync::Notify,
}

impl Inbox {
    fn events(&self) -> MutexGuard<'_, Vec<notify::Result<Event>>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A watched folder.
struct Folder {
    id: WatchId,
    /// As the caller named it: the paths reported are under it.
    dir: PathBuf,
    interest: Interest,
}

/// One `notify` watcher over the watched folders.
pub struct FolderWatcher {
    watcher: RecommendedWatcher,
    inbox: Arc<Inbox>,
    /// By the folder's path as named and as resolved (FSEvents reports
    /// resolved paths: `/private/var/...` for `/var/...`).
    folders: HashMap<PathBuf, Arc<Folder>>,
    next: usize,
}

impl FolderWatcher {
    /// Events arrive from another thread, after the file operation: a
    /// drain right after a stage exited may miss what it did.
    pub const IS_BARRIER: bool = false;

    /// A watcher of no folder yet.
    pub fn new() -> io::Result<FolderWatcher> {
        let inbox = Arc::new(Inbox::default());
        let sender = Arc::clone(&inbox);
        let watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            // Opens and reads (the daemon's own among them) wake nobody.
            if event.as_ref().is_ok_and(|e| !worth_waking(e.kind)) {
                return;
            }
            sender.events().push(event);
            sender.ready.notify_one();
        })
        .map_err(io::Error::other)?;
        Ok(FolderWatcher {
            watcher,
            inbox,
            folders: HashMap::new(),
            next: 0,
        })
    }

    /// Watches `dir` (it must exist) for the changes `interest` names.
    pub fn add(&mut self, dir: &Path, interest: Interest) -> io::Result<WatchId> {
        // A folder watched before and replaced since: its old watch is over.
        let _ = self.watcher.unwatch(dir);
        self.watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(io::Error::other)?;
        let id = WatchId(self.next);
        self.next += 1;
        let folder = Arc::new(Folder {
            id,
            dir: dir.to_path_buf(),
            interest,
        });
        if let Ok(resolved) = dir.canonicalize() {
            self.folders.insert(resolved, Arc::clone(&folder));
        }
        self.folders.insert(dir.to_path_buf(), folder);
        Ok(id)
    }

    /// Ends the watch `id` (an id already ended is ignored).
    pub fn remove(&mut self, id: WatchId) {
        let folder = self.folders.values().find(|f| f.id == id).cloned();
        if let Some(folder) = folder {
            self.forget(&folder);
        }
    }

    /// Ends every watch.
    pub fn stop(&mut self) {
        for (dir, _) in self.folders.drain() {
            let _ = self.watcher.unwatch(&dir);
        }
    }

    /// The events delivered so far, in order, without waiting.
    pub fn drain(&mut self) -> Vec<WatchEvent> {
        let delivered = std::mem::take(&mut *self.inbox.events());
        let mut seen = Vec::new();
        for event in delivered {
            match event {
                Ok(event) if !event.need_rescan() => self.translate(&event, &mut seen),
                _ => seen.push(WatchEvent::Overflow),
            }
        }
        seen
    }

    /// Resolves once events were delivered (read them with [`FolderWatcher::drain`]).
    pub async fn readable(&self) {
        while self.inbox.events().is_empty() {
            self.inbox.ready.notified().await;
        }
    }

    fn translate(&mut self, event: &Event, seen: &mut Vec<WatchEvent>) {
        for (index, path) in event.paths.iter().enumerate() {
            if let Some(folder) = self.folders.get(path).cloned() {
                if folder_ended(event.kind) {
                    self.forget(&folder);
                    seen.push(WatchEvent::FolderGone(folder.id));
                }
                continue;
            }
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                continue;
            };
            let Some(folder) = self.folders.get(parent) else {
                continue;
            };
            let path = folder.dir.join(name);
            if let Some(change) = change(event.kind, index, path, folder.interest) {
                seen.push(WatchEvent::File(folder.id, change));
            }
        }
    }

    fn forget(&mut self, folder: &Folder) {
        self.folders.retain(|_, f| f.id != folder.id);
        let _ = self.watcher.unwatch(&folder.dir);
    }
}

/// Whether an event can change what a folder holds: not an open, a read
/// or a change of permissions or times.
fn worth_waking(kind: EventKind) -> bool {
    match kind {
        EventKind::Access(access) => access == AccessKind::Close(AccessMode::Write),
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// The watched folder itself was removed or renamed away.
fn folder_ended(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
    )
}

/// What `kind` says of the file at `path` (the `index`th path of its
/// event); `None` for folders and for what `interest` does not want.
fn change(kind: EventKind, index: usize, path: PathBuf, interest: Interest) -> Option<Change> {
    if interest == Interest::Folders {
        return folder_arrived(kind, path);
    }
    let arrived_or_left = |path: PathBuf| match path.symlink_metadata() {
        Ok(meta) if meta.is_dir() => None,
        Ok(_) => Some(Change::Arrived(path)),
        Err(_) => Some(Change::Removed(path)),
    };
    let change = match kind {
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
            Change::Removed(path)
        }
        EventKind::Modify(ModifyKind::Name(RenameMode::To))
        | EventKind::Access(AccessKind::Close(AccessMode::Write)) => Change::Arrived(path),
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if index == 0 => {
            Change::Removed(path)
        }
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => Change::Arrived(path),
        // FSEvents and kqueue cannot tell a rename's direction: the disk can.
        EventKind::Modify(ModifyKind::Name(_)) => arrived_or_left(path)?,
        EventKind::Create(CreateKind::Folder) | EventKind::Modify(ModifyKind::Metadata(_)) => {
            return None;
        }
        EventKind::Create(_) | EventKind::Modify(_) if path.is_dir() => return None,
        EventKind::Create(_) | EventKind::Modify(_) => Change::Appeared(path),
        _ => return None,
    };
    let wanted = match &change {
        Change::Arrived(_) => true,
        Change::Appeared(_) | Change::Removed(_) => interest != Interest::Complete,
    };
    wanted.then_some(change)
}

/// A folder made or renamed in at `path` (the disk tells a folder from a
/// file, and a rename in from one away).
fn folder_arrived(kind: EventKind, path: PathBuf) -> Option<Change> {
    let arriving = matches!(
        kind,
        EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_))
    );
    (arriving && path.is_dir()).then_some(Change::Arrived(path))
}

/// A blocking wait for complete files arriving in some folders (a command
/// waiting for the daemon's answer).
pub struct ArrivalWait {
    _watcher: RecommendedWatcher,
    events: mpsc::Receiver<notify::Result<Event>>,
}

impl ArrivalWait {
    /// Watches `folders` (they must exist).
    pub fn new(folders: &[PathBuf]) -> io::Result<ArrivalWait> {
        let (sender, events) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            if event.as_ref().is_ok_and(|e| !worth_waking(e.kind)) {
                return;
            }
            drop(sender.send(event));
        })
        .map_err(io::Error::other)?;
        for folder in folders {
            watcher
                .watch(folder, RecursiveMode::NonRecursive)
                .map_err(io::Error::other)?;
        }
        Ok(ArrivalWait {
            _watcher: watcher,
            events,
        })
    }

    /// Blocks until something changed in the folders since the last call,
    /// or `limit` passed (the caller looks at the folders either way).
    pub fn wait(&mut self, limit: Duration) -> io::Result<()> {
        if self.events.recv_timeout(limit).is_ok() {
            while self.events.try_recv().is_ok() {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rename_is_told_by_its_direction_or_by_the_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let here = dir.path().join("here.md");
        std::fs::write(&here, "x").expect("write");
        let gone = dir.path().join("gone.md");
        let name = |mode| EventKind::Modify(ModifyKind::Name(mode));
        let seen =
            |kind, index, path: &Path| change(kind, index, path.to_path_buf(), Interest::Changes);
        assert_eq!(
            seen(name(RenameMode::Both), 0, &gone),
            Some(Change::Removed(gone.clone()))
        );
        assert_eq!(
            seen(name(RenameMode::Both), 1, &here),
            Some(Change::Arrived(here.clone()))
        );
        assert_eq!(
            seen(name(RenameMode::Any), 0, &here),
            Some(Change::Arrived(here.clone()))
        );
        assert_eq!(
            seen(name(RenameMode::Any), 0, &gone),
            Some(Change::Removed(gone.clone()))
        );
        assert_eq!(seen(name(RenameMode::Any), 0, dir.path()), None, "a folder");
    }

    #[test]
    fn a_folder_for_complete_files_hears_of_arrivals_only() {
        let path = PathBuf::from("/nowhere/x.md");
        let created = EventKind::Create(CreateKind::File);
        let closed = EventKind::Access(AccessKind::Close(AccessMode::Write));
        let complete = |kind| change(kind, 0, path.clone(), Interest::Complete);
        assert_eq!(complete(created), None);
        assert_eq!(complete(closed), Some(Change::Arrived(path.clone())));
        let changes = change(created, 0, path.clone(), Interest::Changes);
        assert_eq!(changes, Some(Change::Appeared(path)));
    }
}
