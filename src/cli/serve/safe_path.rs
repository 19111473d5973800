//! URL parts become paths only here: an id must be a work-item or run id
//! (`^[A-Za-z0-9][A-Za-z0-9._-]*$`, so no `/`, no `..`), and a file is read
//! only when its real path (symlinks resolved) stays inside the folder it
//! was asked from, and only when it is a regular file (opened so that a
//! FIFO put in its place fails at once instead of blocking the page).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::workspace::documents::is_valid_id;
use crate::workspace::input::open_regular;

/// `text` as an id, or `None`.
pub fn id(text: &str) -> Option<&str> {
    is_valid_id(text).then_some(text)
}

/// `dir/name` when its real path is inside `dir`'s real path.
pub fn inside(dir: &Path, name: &str) -> Option<PathBuf> {
    let base = dir.canonicalize().ok()?;
    let path = base.join(name).canonicalize().ok()?;
    path.starts_with(&base).then_some(path)
}

/// At most the last `limit` bytes of `dir/name` (lossy UTF-8), when it is
/// a file inside `dir`; the flag says whether the start was cut.
pub fn read_tail(dir: &Path, name: &str, limit: u64) -> Option<(String, bool)> {
    use std::io::{Seek, SeekFrom};
    let path = inside(dir, name)?;
    let mut file = open_regular(&path).ok()?;
    let meta = file.metadata().ok()?;
    let cut = meta.len() > limit;
    if cut {
        file.seek(SeekFrom::Start(meta.len() - limit)).ok()?;
    }
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).ok()?;
    Some((String::from_utf8_lossy(&bytes).into_owned(), cut))
}

/// At most the first `limit` bytes of `dir/name`, under the same rule.
pub fn read_head(dir: &Path, name: &str, limit: u64) -> Option<(String, bool)> {
    let path = inside(dir, name)?;
    let file = open_regular(&path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).ok()?;
    Some((String::from_utf8_lossy(&bytes).into_owned(), len > limit))
}
