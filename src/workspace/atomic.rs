//! Durable file primitives: the one atomic write, no-clobber creation and moves, line appends.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use tempfile::NamedTempFile;

/// Writes `bytes` to `path` atomically: a temp file in the same directory,
/// fsync, rename over `path`, fsync of the directory. Readers see the old or
/// the new content, never a torn file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = filled_temp(path, bytes)?;
    temp.persist(path).map_err(|error| error.error)?;
    sync_parent(path)
}

/// [`write_atomic`], creating the parent directory first when missing.
pub fn write_atomic_creating_parent(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(path, bytes)
}

/// Like [`write_atomic`] without the two fsyncs: readers still see the old or
/// the new content, never a torn file, and a killed process loses nothing
/// (the page cache survives it), but a power loss may keep the old content.
/// For files rebuilt from durable ones or only read as evidence: prompts,
/// requests, run traces, status mirrors of the snapshot.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temp = temp_in_parent(path)?;
    temp.write_all(bytes)?;
    temp.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Like [`write_atomic`], but fails with [`io::ErrorKind::AlreadyExists`]
/// instead of replacing an existing file. Two writers racing for one name:
/// exactly one wins.
pub fn write_atomic_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = filled_temp(path, bytes)?;
    temp.persist_noclobber(path).map_err(|error| error.error)?;
    sync_parent(path)
}

/// Renames `from` to `to`, failing with [`io::ErrorKind::AlreadyExists`] when
/// `to` exists, and with [`io::ErrorKind::NotFound`] when `from` is gone (for
/// example claimed by another process); synced. How the platform refuses to
/// replace: see [`crate::platform::rename_no_replace`].
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    crate::platform::rename_no_replace(from, to)?;
    sync_parent(to)
}

/// Appends one line (a `\n` is added) with a single `write` on a file opened
/// for appending, so concurrent appenders never interleave within a line.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut file = super::input::open_append(path)?;
    write_line(&mut file, line)
}

/// Writes `line` and its `\n` with a single `write` (see [`append_line`]).
pub fn write_line(file: &mut File, line: &str) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(line.len() + 1);
    buffer.extend_from_slice(line.as_bytes());
    buffer.push(b'\n');
    file.write_all(&buffer)
}

/// The prefix of every temp file an atomic write creates.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Removes the temp files (`.tmp-*`) in `dir` last modified more than `age`
/// ago: left by writers killed between creating and renaming them. A live
/// atomic write takes milliseconds, so an old temp file has no owner; a
/// young one may belong to another process writing right now and stays.
/// Returns how many were removed; a missing `dir` holds none.
pub fn sweep_stale_temps(dir: &Path, age: std::time::Duration) -> io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let is_temp = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
        if is_temp && older_than(&entry, age) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

fn older_than(entry: &std::fs::DirEntry, age: std::time::Duration) -> bool {
    let modified = entry.metadata().and_then(|m| m.modified());
    modified.is_ok_and(|at| at.elapsed().is_ok_and(|elapsed| elapsed > age))
}

/// Fsyncs the directory holding `path`, making a rename or creation durable.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn temp_in_parent(path: &Path) -> io::Result<NamedTempFile> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .permissions(umask_mode())
        .tempfile_in(dir)
}

/// Read and write for all, less the process umask (0644 under 022), as
/// `File::create` makes files; a temp file would otherwise stay 0600.
fn umask_mode() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o666)
}

fn filled_temp(path: &Path, bytes: &[u8]) -> io::Result<NamedTempFile> {
    let mut temp = temp_in_parent(path)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}
