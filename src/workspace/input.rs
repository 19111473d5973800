//! Reading files that other processes put where the daemon looks (queue
//! folders, the mailbox, the ideas inbox) and appending to the audit logs
//! beside them. Such a path may name anything: a FIFO that would block the
//! daemon forever, a symbolic link to `/dev/zero`, a sparse file of many
//! gigabytes. Files are opened without following a link and without
//! blocking, accepted only when they are regular files, and read up to a
//! limit, so that no file can hang the daemon or fill its memory.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The largest document, mailbox command or idea the daemon reads: far more
/// than any real one, small enough that a hostile one costs little.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// `open(2)` flags: never block on a FIFO, never follow a link.
fn guarded_flags() -> i32 {
    let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW;
    flags.bits() as i32
}

/// Fails unless `file` is a regular file.
fn regular(file: File) -> io::Result<File> {
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    }
}

/// Opens a regular file for reading: a FIFO, a device or a final link fails
/// at once instead of blocking or leading elsewhere.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(guarded_flags())
        .open(path)?;
    regular(file)
}

/// Reads a regular file of at most [`MAX_INPUT_BYTES`] as text.
pub fn read_text(path: &Path) -> io::Result<String> {
    let file = open_regular(path)?;
    let mut text = String::new();
    file.take(MAX_INPUT_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_INPUT_BYTES / (1024 * 1024)),
        ));
    }
    Ok(text)
}

/// Opens a regular file for appending, creating it when missing.
pub fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(guarded_flags())
        .open(path)?;
    regular(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_a_link_and_a_huge_file_are_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("fifo.md");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()));
        assert!(read_text(&fifo).is_err());
        assert!(open_append(&fifo).is_err());
        let link = dir.path().join("zero.md");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("link");
        assert!(read_text(&link).is_err());
        let huge = dir.path().join("huge.md");
        let file = File::create(&huge).expect("create");
        file.set_len(MAX_INPUT_BYTES + 1).expect("sparse");
        let error = read_text(&huge).expect_err("too large");
        assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
        std::fs::write(dir.path().join("ok.md"), "# fine\n").expect("write");
        assert_eq!(
            read_text(&dir.path().join("ok.md")).expect("read"),
            "# fine\n"
        );
    }
}
