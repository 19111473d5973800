//! Live updates: one task follows the journal through the platform's folder
//! watch (inotify, FSEvents or kqueue; no polling)
//! and broadcasts each appended line; `/events` streams them to browsers as
//! server-sent events. The follower keeps only its read offset and an
//! unfinished line, so its memory stays flat however long the daemon runs.

use std::convert::Infallible;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::{self, error::RecvError};

use super::Served;
use crate::platform::{FolderWatcher, Interest, WatchEvent};
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

async fn follow(journal: PathBuf, tx: broadcast::Sender<Arc<str>>) -> std::io::Result<()> {
    let dir = journal.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut watcher = FolderWatcher::new()?;
    watcher.add(&dir, Interest::Writes)?;
    let mut tail = Tail::at_end(&journal);
    loop {
        watcher.readable().await;
        for event in watcher.drain() {
            if let WatchEvent::FolderGone(_) = event {
                // The journal's folder was replaced: follow the new one.
                watcher.add(&dir, Interest::Writes)?;
            }
        }
        while let Some(lines) = tail.read_step() {
            for line in lines {
                let _ = tx.send(line.into());
            }
        }
    }
}

/// Where the follower is in the journal file.
struct Tail {
    path: PathBuf,
    inode: u64,
    offset: u64,
    pending: Vec<u8>,
    /// Inside a line too long to send, dropped up to its end.
    skipping: bool,
}

impl Tail {
    fn at_end(path: &Path) -> Tail {
        let meta = std::fs::metadata(path).ok();
        Tail {
            path: path.to_path_buf(),
            inode: meta.as_ref().map_or(0, MetadataExt::ino),
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
        let mut file = open_regular(&self.path).ok()?;
        let meta = file.metadata().ok()?;
        if meta.ino() != self.inode || meta.len() < self.offset {
            (self.inode, self.offset) = (meta.ino(), 0);
            self.pending.clear();
            self.skipping = false;
        }
        file.seek(SeekFrom::Start(self.offset)).ok()?;
        let mut bytes = Vec::new();
        file.take(READ_STEP).read_to_end(&mut bytes).ok()?;
        if bytes.is_empty() {
            return None;
        }
        self.offset += bytes.len() as u64;
        Some(self.complete_lines(&bytes))
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
/// this client fell behind and missed lines.
pub async fn events(
    State(served): State<Arc<Served>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = served.journal.subscribe();
    let stream = stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(line) => Event::default().event("journal").data(line.as_ref()),
            Err(RecvError::Lagged(_)) => Event::default().event("refresh").data("lagged"),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
