//! Live updates: one task follows the journal through the platform's folder
//! watch (inotify, FSEvents or kqueue; no polling)
//! and broadcasts each appended line; `/events` streams them to browsers as
//! server-sent events. The follower keeps only its read offset and an
//! unfinished line, so its memory stays flat however long the daemon runs.

use std::convert::Infallible;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::{self, error::RecvError};

use super::Served;
use super::served::Pushed;
use crate::platform::{Change, FolderWatcher, Interest, WatchEvent, WatchId};
use crate::workspace::input::open_regular;
use crate::workspace::journal::Journal;

/// A line longer than this is dropped (a journal line is small).
const MAX_LINE: usize = 1 << 20;
/// The most read from the journal at once: a burst of megabytes is read
/// and sent in steps, so the follower's memory stays flat.
const READ_STEP: u64 = 256 * 1024;

/// Starts following the journal; without a folder watch the pages still serve,
/// they only do not update by themselves.
pub fn start(served: &Arc<Served>) {
    let journal = Journal::new(&served.paths).path().to_path_buf();
    let tx = served.journal.clone();
    tokio::spawn(async move {
        if let Err(error) = follow(journal, tx).await {
            eprintln!("warning: live updates are off: {error}");
        }
    });
}

async fn follow(journal: PathBuf, tx: broadcast::Sender<Pushed>) -> io::Result<()> {
    let mut watch = JournalWatch::new(&journal)?;
    let mut tail = Tail::at_end(&journal);
    loop {
        let seen = watch.next().await?;
        if seen.journal_removed || seen.folder_gone {
            tail.removed();
        }
        if seen.folder_gone {
            let _ = tx.send(Pushed::Refresh);
        }
        while let Some(lines) = tail.read_step() {
            for line in lines {
                let _ = tx.send(Pushed::Line(line.into()));
            }
        }
    }
}

/// What went away since the last look.
#[derive(Debug, Default)]
struct Seen {
    /// The journal's folder (its watch ended).
    folder_gone: bool,
    /// The journal file (removed, or renamed away by a rotation).
    journal_removed: bool,
}

/// The watch of the journal's folder. While that folder is missing (a
/// `logs/` removed and not made again yet), its nearest existing ancestor
/// is watched for folders arriving, and the folder is watched again as soon
/// as it is back.
struct JournalWatch {
    watcher: FolderWatcher,
    journal: PathBuf,
    dir: PathBuf,
    /// The watch of `dir`, while it exists.
    folder: Option<WatchId>,
    /// The watch of the ancestor waited on, while `dir` is missing.
    awaiting: Option<WatchId>,
}

impl JournalWatch {
    fn new(journal: &Path) -> io::Result<JournalWatch> {
        let mut watch = JournalWatch {
            watcher: FolderWatcher::new()?,
            journal: journal.to_path_buf(),
            dir: journal.parent().map(Path::to_path_buf).unwrap_or_default(),
            folder: None,
            awaiting: None,
        };
        watch.arm()?;
        Ok(watch)
    }

    /// Waits for changes and tells what went away meanwhile.
    async fn next(&mut self) -> io::Result<Seen> {
        self.watcher.readable().await;
        let mut seen = Seen::default();
        for event in self.watcher.drain() {
            match event {
                WatchEvent::FolderGone(id) => {
                    seen.folder_gone |= self.folder == Some(id);
                    self.forget(id);
                }
                WatchEvent::File(_, Change::Removed(path)) => {
                    seen.journal_removed |= path == self.journal;
                }
                WatchEvent::File(..) | WatchEvent::Overflow => {}
            }
        }
        if self.folder.is_none() {
            self.arm()?;
        }
        Ok(seen)
    }

    fn forget(&mut self, id: WatchId) {
        if self.folder == Some(id) {
            self.folder = None;
        }
        if self.awaiting == Some(id) {
            self.awaiting = None;
        }
    }

    /// Watches the journal's folder, or, while it is missing, waits for it.
    fn arm(&mut self) -> io::Result<()> {
        loop {
            match self.watcher.add(&self.dir, Interest::Writes) {
                Ok(id) => {
                    self.folder = Some(id);
                    self.replace_awaiting(None);
                    return Ok(());
                }
                // A file or a link to nothing where the folder belongs is
                // waited out like a missing folder.
                Err(error) if self.dir.is_dir() => return Err(error),
                Err(_) => self.await_ancestor()?,
            }
            // Made again before the ancestor's watch began: watch it now.
            if !self.dir.is_dir() {
                return Ok(());
            }
        }
    }

    /// Watches the nearest existing ancestor of the journal's folder for
    /// folders arriving in it (the folder itself, or one on its way).
    fn await_ancestor(&mut self) -> io::Result<()> {
        loop {
            let ancestor = self.dir.ancestors().skip(1).find(|a| a.is_dir());
            let ancestor = ancestor.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
            match self.watcher.add(ancestor, Interest::Folders) {
                Ok(id) => {
                    self.replace_awaiting(Some(id));
                    return Ok(());
                }
                // Removed in the meantime: wait on the one above.
                Err(_) if !ancestor.is_dir() => continue,
                Err(error) => return Err(error),
            }
        }
    }

    fn replace_awaiting(&mut self, id: Option<WatchId>) {
        let old = std::mem::replace(&mut self.awaiting, id);
        if let Some(old) = old.filter(|old| Some(*old) != id) {
            self.watcher.remove(old);
        }
    }
}

/// Where the follower is in the journal file.
struct Tail {
    path: PathBuf,
    /// The file followed, kept open so that its inode cannot be given to a
    /// new journal (a `logs/` removed and made again) while it is compared
    /// with it; let go once it is removed (an open file keeps its folder
    /// from being reported gone).
    followed: Option<File>,
    /// The followed file's inode; `None`: read the next file from its start.
    inode: Option<u64>,
    offset: u64,
    pending: Vec<u8>,
    /// Inside a line too long to send, dropped up to its end.
    skipping: bool,
}

impl Tail {
    fn at_end(path: &Path) -> Tail {
        let followed = open_regular(path).ok();
        let meta = followed.as_ref().and_then(|f| f.metadata().ok());
        Tail {
            path: path.to_path_buf(),
            followed,
            inode: meta.as_ref().map(MetadataExt::ino),
            offset: meta.as_ref().map_or(0, |m| m.len()),
            pending: Vec::new(),
            skipping: false,
        }
    }

    /// The complete lines in the next [`READ_STEP`] bytes appended since the
    /// last read, or `None` when nothing new can be read (a journal that is
    /// not a regular file is never read). A rotated (new) or shorter file is
    /// read from its start.
    fn read_step(&mut self) -> Option<Vec<String>> {
        let file = open_regular(&self.path).ok()?;
        let meta = file.metadata().ok()?;
        if Some(meta.ino()) != self.inode || meta.len() < self.offset {
            (self.inode, self.offset) = (Some(meta.ino()), 0);
            self.pending.clear();
            self.skipping = false;
        }
        let mut file: &File = self.followed.insert(file);
        file.seek(SeekFrom::Start(self.offset)).ok()?;
        let mut bytes = Vec::new();
        file.take(READ_STEP).read_to_end(&mut bytes).ok()?;
        if bytes.is_empty() {
            return None;
        }
        self.offset += bytes.len() as u64;
        Some(self.complete_lines(&bytes))
    }

    /// The journal was reported removed (or its folder gone): unless its path
    /// still names the file followed (a late report), lets that file go and
    /// reads the next journal from its start.
    fn removed(&mut self) {
        let now = std::fs::metadata(&self.path).ok().map(|m| m.ino());
        if now.is_none() || now != self.inode {
            self.followed = None;
            self.inode = None;
        }
    }

    /// Adds `bytes` to the unfinished line and returns the lines they end;
    /// a line longer than [`MAX_LINE`] is dropped whole.
    fn complete_lines(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            if !self.skipping {
                self.pending.extend_from_slice(piece);
            }
            if self.pending.len() > MAX_LINE {
                self.pending.clear();
                self.skipping = true;
            }
            if !piece.ends_with(b"\n") {
                continue;
            }
            let line = String::from_utf8_lossy(&self.pending);
            if !self.skipping && !line.trim().is_empty() {
                lines.push(line.trim().to_string());
            }
            self.pending.clear();
            self.skipping = false;
        }
        lines
    }
}

/// `GET /events`: `journal` events (one journal line each), `refresh` when
/// this client fell behind and missed lines or the journal's folder went
/// away.
pub async fn events(
    State(served): State<Arc<Served>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = served.journal.subscribe();
    let stream = stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(Pushed::Line(line)) => Event::default().event("journal").data(line.as_ref()),
            Ok(Pushed::Refresh) => Event::default()
                .event("refresh")
                .data("journal folder gone"),
            Err(RecvError::Lagged(_)) => Event::default().event("refresh").data("lagged"),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
