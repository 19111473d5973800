//! Folder watching through one inotify instance, read in the daemon's own
//! thread.
//!
//! Why inotify itself and not a watcher thread: the kernel queues an event
//! during the file operation, so a non-blocking read right after a stage
//! process exited returns every change that stage made
//! ([`FolderWatcher::IS_BARRIER`]).

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use tokio::io::unix::AsyncFd;

use crate::platform::{Change, Interest, WatchEvent, WatchId};

/// A watched folder: its id, its path as named, what it is watched for.
type Watched = (WatchId, PathBuf, Interest);

/// One inotify instance over the watched folders.
pub struct FolderWatcher {
    inotify: AsyncFd<Inotify>,
    folders: HashMap<WatchDescriptor, Watched>,
    next: usize,
    buffer: Vec<u8>,
}

impl FolderWatcher {
    /// Every change a process made to the watched folders is readable
    /// once it returned from the file operation: a drain right after a
    /// stage exited sees all it did.
    pub const IS_BARRIER: bool = true;

    /// A watcher of no folder yet. Must run inside the tokio runtime.
    pub fn new() -> io::Result<FolderWatcher> {
        Ok(FolderWatcher {
            inotify: register(Inotify::init()?)?,
            folders: HashMap::new(),
            next: 0,
            buffer: vec![0; 64 * 1024],
        })
    }

    /// Watches `dir` (it must exist) for the changes `interest` names.
    pub fn add(&mut self, dir: &Path, interest: Interest) -> io::Result<WatchId> {
        let descriptor = self.inotify.get_ref().watches().add(dir, mask(interest))?;
        let id = WatchId(self.next);
        self.next += 1;
        self.folders
            .insert(descriptor, (id, dir.to_path_buf(), interest));
        Ok(id)
    }

    /// Ends the watch `id` (an id already ended is ignored).
    pub fn remove(&mut self, id: WatchId) {
        let descriptor = self.folders.iter().find(|(_, w)| w.0 == id);
        let Some(descriptor) = descriptor.map(|(d, _)| d.clone()) else {
            return;
        };
        self.folders.remove(&descriptor);
        let _ = self.inotify.get_ref().watches().remove(descriptor);
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

    /// The events the kernel holds so far, in order, without waiting.
    pub fn drain(&mut self) -> Vec<WatchEvent> {
        let mut seen = Vec::new();
        loop {
            let events = match self.inotify.get_mut().read_events(&mut self.buffer) {
                Ok(events) => events,
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    seen.push(WatchEvent::Overflow);
                    break;
                }
            };
            let mut moved = Vec::new();
            for event in events {
                if event.mask.contains(EventMask::MOVE_SELF) {
                    moved.push(event.wd.clone());
                }
                let name = event.name.map(PathBuf::from);
                seen.extend(translate(&mut self.folders, &event.wd, event.mask, name));
            }
            // A folder moved away keeps its kernel watch: end it.
            for descriptor in moved {
                let _ = self.inotify.get_ref().watches().remove(descriptor);
            }
        }
        seen
    }

    /// Resolves once the kernel holds events (read them with [`FolderWatcher::drain`]).
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

/// One kernel event as what the runtime understands; `None` for folders
/// inside (files, for a watch of [`Interest::Folders`]) and for what the
/// mask let through but means nothing here.
fn translate(
    folders: &mut HashMap<WatchDescriptor, Watched>,
    descriptor: &WatchDescriptor,
    mask: EventMask,
    name: Option<PathBuf>,
) -> Option<WatchEvent> {
    if mask.contains(EventMask::Q_OVERFLOW) {
        return Some(WatchEvent::Overflow);
    }
    if mask.intersects(EventMask::IGNORED | EventMask::MOVE_SELF) {
        // The folder was removed, replaced or moved away (a watch of
        // `Interest::Writes` is told): its watch is over.
        let (id, _, _) = folders.remove(descriptor)?;
        return Some(WatchEvent::FolderGone(id));
    }
    let (id, dir, interest) = folders.get(descriptor)?;
    let is_folder = mask.contains(EventMask::ISDIR);
    let name = name.filter(|_| is_folder == (*interest == Interest::Folders))?;
    let change = change(mask, dir.join(name))?;
    Some(WatchEvent::File(*id, change))
}

/// A removal, a complete arrival (renamed in, closed after writing, or a
/// folder made), or a file created in place that may still be being
/// written.
fn change(mask: EventMask, path: PathBuf) -> Option<Change> {
    let folder_made = mask.contains(EventMask::CREATE | EventMask::ISDIR);
    if mask.intersects(EventMask::DELETE | EventMask::MOVED_FROM) {
        Some(Change::Removed(path))
    } else if folder_made || mask.intersects(EventMask::MOVED_TO | EventMask::CLOSE_WRITE) {
        Some(Change::Arrived(path))
    } else if mask.intersects(EventMask::CREATE | EventMask::MODIFY) {
        Some(Change::Appeared(path))
    } else {
        None
    }
}

/// Complete arrivals only, or every change (a hard link arrives as a bare
/// creation), or also every write.
fn mask(interest: Interest) -> WatchMask {
    let complete = WatchMask::MOVED_TO | WatchMask::CLOSE_WRITE | WatchMask::ONLYDIR;
    let changes = complete | WatchMask::CREATE | WatchMask::DELETE | WatchMask::MOVED_FROM;
    match interest {
        Interest::Complete => complete,
        Interest::Changes => changes,
        // Serve's journal folder: moved away, it no longer holds the journal.
        Interest::Writes => changes | WatchMask::MODIFY | WatchMask::MOVE_SELF,
        Interest::Folders => WatchMask::CREATE | WatchMask::MOVED_TO | WatchMask::ONLYDIR,
    }
}

/// A blocking wait for complete files arriving in some folders (a command
/// waiting for the daemon's answer).
pub struct ArrivalWait {
    inotify: Inotify,
    buffer: Vec<u8>,
}

impl ArrivalWait {
    /// Watches `folders` (they must exist).
    pub fn new(folders: &[PathBuf]) -> io::Result<ArrivalWait> {
        let inotify = Inotify::init()?;
        for folder in folders {
            inotify.watches().add(folder, mask(Interest::Complete))?;
        }
        Ok(ArrivalWait {
            inotify,
            buffer: vec![0; 4096],
        })
    }

    /// Blocks until a file arrived since the last call, or `limit` passed.
    pub fn wait(&mut self, limit: Duration) -> io::Result<()> {
        let mut fds = [rustix::event::PollFd::new(
            &self.inotify,
            rustix::event::PollFlags::IN,
        )];
        let limit = rustix::event::Timespec::try_from(limit).map_err(io::Error::other)?;
        match rustix::event::poll(&mut fds, Some(&limit)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        match self.inotify.read_events(&mut self.buffer) {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == ErrorKind::WouldBlock => Ok(()),
            Err(error) => Err(error),
        }
    }
}
