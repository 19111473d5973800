//! Claiming a file without replacing another: `renamex_np(RENAME_EXCL)` on
//! macOS; elsewhere a hard link to the new name (which fails when the name
//! is taken) and the removal of the old one.
//!
//! Between the link and the unlink the file has both names: a process
//! killed there leaves one file in two folders, which the queue settles on
//! its next opening (it keeps the copy furthest along).

use std::io::{self, ErrorKind};
use std::path::Path;

use crate::platform::posix::rename_checked;

/// Renames `from` to `to`, failing with [`io::ErrorKind::AlreadyExists`] when
/// `to` exists and with [`io::ErrorKind::NotFound`] when `from` is gone. Not
/// synced.
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    match crate::platform::posix::rename_exclusive(from, to) {
        // File systems without `RENAME_EXCL` answer ENOTSUP.
        Err(errno) if errno == rustix::io::Errno::NOTSUP || errno == rustix::io::Errno::INVAL => {}
        done => return done.map_err(io::Error::from),
    }
    link_then_unlink(from, to)
}

/// Exchanges two existing paths (files or folders): in one step with
/// `renamex_np(RENAME_SWAP)` on macOS; elsewhere, or where the file system
/// cannot swap, in three renames through a name beside `b`, so a process
/// killed between them leaves `b`'s old content at `<b>.exchanging`. Not
/// synced.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    match crate::platform::posix::rename_swap(a, b) {
        Err(errno) if errno == rustix::io::Errno::NOTSUP || errno == rustix::io::Errno::INVAL => {}
        done => return done.map_err(io::Error::from),
    }
    let mut aside = b.as_os_str().to_owned();
    aside.push(".exchanging");
    let aside = std::path::PathBuf::from(aside);
    rename_checked(b, &aside)?;
    if let Err(error) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&aside, b);
        return Err(error);
    }
    std::fs::rename(&aside, a)
}

/// The link refuses a taken name; what cannot be linked (a folder, a file
/// system without hard links) is renamed after a check.
fn link_then_unlink(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => {}
        Err(error) if matches!(error.kind(), ErrorKind::AlreadyExists | ErrorKind::NotFound) => {
            return Err(error);
        }
        Err(_) => return rename_checked(from, to),
    }
    match std::fs::remove_file(from) {
        Err(error) if error.kind() != ErrorKind::NotFound => {
            // The move did not happen: take the new name back.
            let _ = std::fs::remove_file(to);
            Err(error)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_never_replaces_and_moves_exactly_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (from, to) = (dir.path().join("a.md"), dir.path().join("b.md"));
        std::fs::write(&from, "a").expect("write a");
        std::fs::write(&to, "b").expect("write b");
        let taken = rename_no_replace(&from, &to).expect_err("b is taken");
        assert_eq!(taken.kind(), ErrorKind::AlreadyExists);
        std::fs::remove_file(&to).expect("free b");
        rename_no_replace(&from, &to).expect("moved");
        assert!(!from.exists());
        assert_eq!(std::fs::read_to_string(&to).expect("read b"), "a");
        let gone = rename_no_replace(&from, &to).expect_err("a is gone");
        assert_eq!(gone.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn an_exchange_swaps_two_folders() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).expect("mkdir a");
        std::fs::create_dir(&b).expect("mkdir b");
        std::fs::write(a.join("new"), "").expect("write a/new");
        std::fs::write(b.join("old"), "").expect("write b/old");
        exchange(&a, &b).expect("exchanged");
        assert!(b.join("new").exists() && a.join("old").exists());
        assert!(!dir.path().join("b.exchanging").exists());
    }

    #[test]
    fn a_folder_is_moved_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (from, to) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&from).expect("mkdir a");
        rename_no_replace(&from, &to).expect("moved");
        assert!(to.is_dir() && !from.exists());
    }
}
