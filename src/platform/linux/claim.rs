//! Claiming a file by renaming it where no file may be replaced:
//! `renameat2(RENAME_NOREPLACE)`.

use std::io;
use std::path::Path;

use crate::platform::posix::rename_checked;

/// Renames `from` to `to`, failing with [`io::ErrorKind::AlreadyExists`] when
/// `to` exists and with [`io::ErrorKind::NotFound`] when `from` is gone. The
/// file is in exactly one place at every instant. Not synced.
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        Ok(()) => Ok(()),
        Err(errno) if errno == rustix::io::Errno::INVAL || errno == rustix::io::Errno::NOSYS => {
            rename_checked(from, to)
        }
        Err(errno) => Err(errno.into()),
    }
}
