//! What every supported system (POSIX) offers alike.

use std::io;
use std::path::Path;

/// True when a process with this pid exists (`kill(pid, 0)`; `EPERM`
/// counts as alive).
pub fn pid_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(errno) => errno == rustix::io::Errno::PERM,
    }
}

/// This machine's host name.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// For file systems that cannot refuse to replace in the rename itself:
/// check, then rename (a racing writer can slip in between).
pub fn rename_checked(from: &Path, to: &Path) -> io::Result<()> {
    if to.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "destination exists",
        ));
    }
    std::fs::rename(from, to)
}

/// Two paths exchanged in one rename: `renameat2` with `RENAME_EXCHANGE`
/// on Linux, `renamex_np` with `RENAME_SWAP` on macOS.
#[cfg(any(
    all(target_os = "linux", not(feature = "portable-platform")),
    target_vendor = "apple"
))]
pub fn rename_swap(a: &Path, b: &Path) -> rustix::io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
}

/// `rename` refusing to replace, in the call itself: `renameat2` with
/// `RENAME_NOREPLACE` on Linux, `renamex_np` with `RENAME_EXCL` on macOS.
#[cfg(any(
    all(target_os = "linux", not(feature = "portable-platform")),
    target_vendor = "apple"
))]
pub fn rename_exclusive(from: &Path, to: &Path) -> rustix::io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
}
