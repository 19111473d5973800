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
use crate::workspace::journal::Journal;

/// An unfinished line longer than this is dropped (a journal line is small).
const MAX_PENDING: usize = 1 << 20;

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
        for line in tail.read_new() {
            let _ = tx.send(line.into());
        }
    }
}

/// Where the follower is in the journal file.
struct Tail {
    path: PathBuf,
    inode: u64,
    offset: u64,
    pending: Vec<u8>,
}

impl Tail {
    fn at_end(path: &Path) -> Tail {
        let meta = std::fs::metadata(path).ok();
        Tail {
            path: path.to_path_buf(),
            inode: meta.as_ref().map_or(0, MetadataExt::ino),
            offset: meta.as_ref().map_or(0, |m| m.len()),
            pending: Vec::new(),
        }
    }

    /// The complete lines appended since the last read. A rotated (new) or
    /// shorter file is read from its start.
    fn read_new(&mut self) -> Vec<String> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let Ok(meta) = file.metadata() else {
            return Vec::new();
        };
        if meta.ino() != self.inode || meta.len() < self.offset {
            (self.inode, self.offset) = (meta.ino(), 0);
            self.pending.clear();
        }
        let mut bytes = Vec::new();
        let read = file
            .seek(SeekFrom::Start(self.offset))
            .and_then(|_| file.read_to_end(&mut bytes));
        if read.is_err() {
            return Vec::new();
        }
        self.offset += bytes.len() as u64;
        self.pending.extend_from_slice(&bytes);
        self.complete_lines()
    }

    fn complete_lines(&mut self) -> Vec<String> {
        let Some(end) = self.pending.iter().rposition(|b| *b == b'\n') else {
            if self.pending.len() > MAX_PENDING {
                self.pending.clear();
            }
            return Vec::new();
        };
        let rest = self.pending.split_off(end + 1);
        let done = std::mem::replace(&mut self.pending, rest);
        let text = String::from_utf8_lossy(&done);
        let lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        lines.map(str::to_string).collect()
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
