//! What a folder watch reports, the same on every platform.

use std::path::PathBuf;

/// Which changes of a folder are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Only files arriving complete (renamed in, or closed after writing),
    /// so that a half-written file is never read.
    Complete,
    /// Also files created in place (maybe still being written) and files
    /// leaving.
    Changes,
    /// [`Interest::Changes`] and every write into a file kept open (a log
    /// appended to), reported as [`Change::Appeared`].
    Writes,
    /// Only folders created or renamed in, reported as [`Change::Arrived`]
    /// (to hear of a watched folder that was removed coming back).
    Folders,
}

/// A watched folder, as [`FolderWatcher::add`](super::FolderWatcher::add) named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatchId(pub(super) usize);

/// A change of one file in a watched folder (folders inside are reported
/// only to [`Interest::Folders`], and only as they arrive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file is there complete: renamed in, or closed after writing.
    Arrived(PathBuf),
    /// The file was created or written in place and may still be being
    /// written.
    Appeared(PathBuf),
    /// The file left: removed, or renamed away.
    Removed(PathBuf),
}

/// What a watch saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// A file of the folder changed.
    File(WatchId, Change),
    /// The folder itself was removed or replaced: its watch has ended (add
    /// it again) and what arrived meanwhile is found only by listing.
    FolderGone(WatchId),
    /// Events were lost: every folder must be listed again.
    Overflow,
}
