//! The folders other processes write into, watched through one inotify
//! instance: the queue folder of every family, the ideas inbox and the
//! mailbox's `incoming/`.
//!
//! Why inotify itself and not a watcher thread: the kernel queues an event
//! during the file operation, so a non-blocking read right after a stage
//! process exited returns every change that stage made. The daemon reads the
//! instance before it routes a finished stage and at the top of every tick,
//! and never lists a queue folder again after start unless events were lost.
//! The mask holds arrivals, departures and finished writes only, so the
//! daemon's own reads of these folders raise nothing.

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::path::PathBuf;

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use tokio::io::unix::AsyncFd;

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

/// One inotify instance over the watched folders.
pub struct FolderWatch {
    inotify: AsyncFd<Inotify>,
    folders: HashMap<WatchDescriptor, (Folder, PathBuf)>,
    buffer: Vec<u8>,
    due: Due,
}

impl FolderWatch {
    /// Watches the folders of `paths` (they must exist). Must run inside the
    /// tokio runtime.
    pub fn new(paths: &WorkspacePaths) -> io::Result<FolderWatch> {
        let inotify = Inotify::init()?;
        let mut folders = HashMap::new();
        for (folder, dir) in watched_folders(paths) {
            std::fs::create_dir_all(&dir)?;
            let descriptor = inotify.watches().add(&dir, mask(folder))?;
            folders.insert(descriptor, (folder, dir));
        }
        Ok(FolderWatch {
            inotify: register(inotify)?,
            folders,
            buffer: vec![0; 64 * 1024],
            // The first tick reads everything once.
            due: Due::ALL,
        })
    }

    /// Ends every watch ahead of closing the instance. The kernel frees
    /// watches in a deferred grace period, and closing an instance waits for
    /// any pending one; ending the watches first, while the daemon writes its
    /// last state, keeps that wait (often 10-15 ms) off the way out.
    pub fn stop(&mut self) {
        let mut watches = self.inotify.get_ref().watches();
        for (descriptor, _) in self.folders.drain() {
            let _ = watches.remove(descriptor);
        }
    }

    /// The queue changes the kernel holds so far, in order, without waiting;
    /// the other folders are remembered for [`FolderWatch::take_due`].
    pub fn drain(&mut self) -> Vec<FileEvent> {
        let mut queue = Vec::new();
        let mut gone = Vec::new();
        loop {
            let events = match self.inotify.get_mut().read_events(&mut self.buffer) {
                Ok(events) => events,
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.due.rescan = true;
                    break;
                }
            };
            for event in events {
                let name = event.name.map(PathBuf::from);
                if event.mask.contains(EventMask::IGNORED) {
                    // The folder was removed or replaced: watch it again.
                    gone.push(event.wd.clone());
                    continue;
                }
                match classify(&self.folders, &event.wd, event.mask, name) {
                    Seen::Queue(change) => queue.push(change),
                    Seen::Due(due) => self.due.merge(due),
                    Seen::Nothing => {}
                }
            }
        }
        for descriptor in gone {
            self.watch_again(&descriptor);
        }
        queue
    }

    /// A folder was removed or replaced (its watch ended): watch the folder
    /// now at that path, created if missing. Until that succeeds, the
    /// heartbeat's full listing covers it.
    fn watch_again(&mut self, descriptor: &WatchDescriptor) {
        let Some((folder, dir)) = self.folders.remove(descriptor) else {
            return;
        };
        let added = std::fs::create_dir_all(&dir).and_then(|()| {
            let inotify = self.inotify.get_ref();
            inotify.watches().add(&dir, mask(folder))
        });
        if let Ok(descriptor) = added {
            self.folders.insert(descriptor, (folder, dir));
        }
        // Whatever arrived while the folder was unwatched is found by listing.
        self.due.merge(Due::ALL);
    }

    /// The folders to read again, forgetting them.
    pub fn take_due(&mut self) -> Due {
        std::mem::take(&mut self.due)
    }

    /// Resolves once the kernel holds events (read them with [`FolderWatch::drain`]).
    pub async fn readable(&self) {
        match self.inotify.readable().await {
            Ok(mut guard) => guard.clear_ready(),
            // Cannot happen with a live runtime; never resolve rather than spin.
            Err(_) => std::future::pending().await,
        }
    }
}

/// `AsyncFd::new` is deprecated because a caller could close the descriptor
/// while it is registered; the `Inotify` is moved into the `AsyncFd` and owns
/// its descriptor until both are dropped, so that cannot happen here (the
/// sound replacement, `register`, is `unsafe`, which this crate denies).
#[expect(deprecated)]
fn register(inotify: Inotify) -> io::Result<AsyncFd<Inotify>> {
    AsyncFd::new(inotify)
}

enum Seen {
    Queue(FileEvent),
    Due(Due),
    Nothing,
}

fn classify(
    folders: &HashMap<WatchDescriptor, (Folder, PathBuf)>,
    descriptor: &WatchDescriptor,
    mask: EventMask,
    name: Option<PathBuf>,
) -> Seen {
    if mask.contains(EventMask::Q_OVERFLOW) {
        return Seen::Due(Due::ALL);
    }
    let Some((folder, dir)) = folders.get(descriptor) else {
        return Seen::Nothing;
    };
    match folder {
        Folder::Ideas => Seen::Due(Due {
            ideas: true,
            ..Due::default()
        }),
        Folder::Mailbox => Seen::Due(Due {
            mailbox: true,
            ..Due::default()
        }),
        Folder::Queue => match name {
            Some(name) if !mask.contains(EventMask::ISDIR) => {
                queue_change(mask, dir.join(name)).map_or(Seen::Nothing, Seen::Queue)
            }
            _ => Seen::Nothing,
        },
    }
}

/// A removal, a complete arrival (renamed in, or closed after writing), or a
/// file created in place that may still be being written.
fn queue_change(mask: EventMask, path: PathBuf) -> Option<FileEvent> {
    if mask.intersects(EventMask::DELETE | EventMask::MOVED_FROM) {
        Some(FileEvent::Removed(path))
    } else if mask.intersects(EventMask::MOVED_TO | EventMask::CLOSE_WRITE) {
        Some(FileEvent::Created(path))
    } else if mask.contains(EventMask::CREATE) {
        Some(FileEvent::Appeared(path))
    } else {
        None
    }
}

/// Queues see creations too (a hard link arrives as a bare creation); the
/// ideas inbox and the mailbox only complete files, so a half-written idea
/// or command is never read.
fn mask(folder: Folder) -> WatchMask {
    let complete = WatchMask::MOVED_TO | WatchMask::CLOSE_WRITE | WatchMask::ONLYDIR;
    match folder {
        Folder::Queue => complete | WatchMask::CREATE | WatchMask::DELETE | WatchMask::MOVED_FROM,
        Folder::Ideas | Folder::Mailbox => complete,
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
