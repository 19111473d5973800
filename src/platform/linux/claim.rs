//! Claiming a file by renaming it where no file may be replaced:
//! `renameat2(RENAME_NOREPLACE)`.

use std::io;
use std::path::Path;

use crate::platform::posix::{rename_checked, rename_exclusive, rename_swap};

/// Renames `from` to `to`, failing with [`io::ErrorKind::AlreadyExists`] when
/// `to` exists and with [`io::ErrorKind::NotFound`] when `from` is gone. The
/// file is in exactly one place at every instant. Not synced.
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    match rename_exclusive(from, to) {
        Ok(()) => Ok(()),
        Err(errno) if errno == rustix::io::Errno::INVAL || errno == rustix::io::Errno::NOSYS => {
            rename_checked(from, to)
        }
        Err(errno) => Err(errno.into()),
    }
}

/// Exchanges two existing paths (files or folders) in one step: at every
/// instant each name holds one of the two, never nothing. Not synced.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    rename_swap(a, b).map_err(io::Error::from)
}
