//! The folders other processes write into, watched through the platform's
//! [`FolderWatcher`]: the queue folder of every family, the ideas inbox and
//! the mailbox's `incoming/`.
//!
//! Where the watcher is a barrier (Linux: the kernel queues an event during
//! the file operation), a drain right after a stage process exited returns
//! every change that stage made: the daemon drains before it routes a
//! finished stage and at the top of every tick, and never lists a queue
//! folder again after start unless events were lost. Where it is not
//! (`notify`'s thread), the daemon lists the folders after each stage
//! ([`FolderWatch::after_stage`]). Queues are watched for arrivals,
//! departures and finished writes only, so the daemon's own reads of
//! these folders raise nothing.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;

use crate::platform::{Change, FolderWatcher, Interest, WatchEvent, WatchId};
use crate::workspace::queue::FileEvent;
use crate::workspace::{Family, LifecycleState, MailboxDir, WorkspacePaths};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folder {
    Queue,
    Ideas,
    Mailbox,
}

/// Which folders must be read again since the last [`FolderWatch::take_due`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Due {
    pub ideas: bool,
    pub mailbox: bool,
    /// Events may have been lost: list every queue folder again.
    pub rescan: bool,
}

impl Due {
    /// Everything: at start, without a watch, and on the heartbeat.
    pub const ALL: Due = Due {
        ideas: true,
        mailbox: true,
        rescan: true,
    };

    fn merge(&mut self, other: Due) {
        self.ideas |= other.ideas;
        self.mailbox |= other.mailbox;
        self.rescan |= other.rescan;
    }
}

/// The watched folders of one workspace.
pub struct FolderWatch {
    watcher: FolderWatcher,
    folders: HashMap<WatchId, (Folder, PathBuf)>,
    due: Due,
}

impl FolderWatch {
    /// Watches the folders of `paths` (they must exist). Must run inside the
    /// tokio runtime.
    pub fn new(paths: &WorkspacePaths) -> io::Result<FolderWatch> {
        let mut watch = FolderWatch {
            watcher: FolderWatcher::new()?,
            folders: HashMap::new(),
            // The first tick reads everything once.
            due: Due::ALL,
        };
        for (folder, dir) in watched_folders(paths) {
            std::fs::create_dir_all(&dir)?;
            watch.add(folder, dir)?;
        }
        Ok(watch)
    }

    fn add(&mut self, folder: Folder, dir: PathBuf) -> io::Result<()> {
        let id = self.watcher.add(&dir, interest(folder))?;
        self.folders.insert(id, (folder, dir));
        Ok(())
    }

    /// Ends every watch (see [`FolderWatcher::stop`]).
    pub fn stop(&mut self) {
        self.watcher.stop();
        self.folders.clear();
    }

    /// The queue changes seen so far, in order, without waiting; the other
    /// folders are remembered for [`FolderWatch::take_due`].
    pub fn drain(&mut self) -> Vec<FileEvent> {
        let mut queue = Vec::new();
        for event in self.watcher.drain() {
            match event {
                WatchEvent::Overflow => self.due.merge(Due::ALL),
                WatchEvent::FolderGone(id) => self.watch_again(id),
                WatchEvent::File(id, change) => match self.folders.get(&id) {
                    Some((Folder::Queue, _)) => queue.push(file_event(change)),
                    Some((Folder::Ideas, _)) => self.due.ideas = true,
                    Some((Folder::Mailbox, _)) => self.due.mailbox = true,
                    None => {}
                },
            }
        }
        queue
    }

    /// A stage just ended: where the watcher is no barrier, what the stage
    /// changed may not have been reported yet, so the intake folders are
    /// read again and true says the queue folders must be listed before
    /// routing.
    pub fn after_stage(&mut self) -> bool {
        if FolderWatcher::IS_BARRIER {
            return false;
        }
        self.due.ideas = true;
        self.due.mailbox = true;
        true
    }

    /// A folder was removed or replaced (its watch ended): watch the folder
    /// now at that path, created if missing. Until that succeeds, the
    /// heartbeat's full listing covers it.
    fn watch_again(&mut self, id: WatchId) {
        let Some((folder, dir)) = self.folders.remove(&id) else {
            return;
        };
        let _ = std::fs::create_dir_all(&dir).and_then(|()| self.add(folder, dir));
        // Whatever arrived while the folder was unwatched is found by listing.
        self.due.merge(Due::ALL);
    }

    /// The folders to read again, forgetting them.
    pub fn take_due(&mut self) -> Due {
        std::mem::take(&mut self.due)
    }

    /// Resolves once there are events (read them with [`FolderWatch::drain`]).
    pub async fn readable(&self) {
        self.watcher.readable().await;
    }
}

fn file_event(change: Change) -> FileEvent {
    match change {
        Change::Arrived(path) => FileEvent::Created(path),
        Change::Appeared(path) => FileEvent::Appeared(path),
        Change::Removed(path) => FileEvent::Removed(path),
    }
}

/// Queues see creations too (a hard link arrives as a bare creation); the
/// ideas inbox and the mailbox only complete files, so a half-written idea
/// or command is never read.
fn interest(folder: Folder) -> Interest {
    match folder {
        Folder::Queue => Interest::Changes,
        Folder::Ideas | Folder::Mailbox => Interest::Complete,
    }
}

fn watched_folders(paths: &WorkspacePaths) -> Vec<(Folder, PathBuf)> {
    let mut folders = vec![
        (Folder::Ideas, paths.ideas_inbox()),
        (Folder::Mailbox, paths.mailbox_dir(MailboxDir::Incoming)),
    ];
    folders.extend(Family::ALL.iter().map(|f| {
        (
            Folder::Queue,
            paths.lifecycle_dir(*f, LifecycleState::Queued),
        )
    }));
    folders
}
