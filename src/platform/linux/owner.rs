//! The facts a lock records about its owner, from `/proc`: the boot id,
//! the pid namespace and the process start time (clock ticks since boot),
//! and the kernel's lock table to tell whether a `flock` is held without
//! touching the file.

use std::path::Path;

/// Pids are told apart by their pid namespace (see [`pid_namespace`]).
pub const HAS_PID_NAMESPACES: bool = true;

/// The kernel boot id, where `/proc/sys/kernel/random/boot_id` exists.
pub fn boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// This process's pid namespace (`pid:[4026531836]`), where the system shows it.
pub fn pid_namespace() -> Option<String> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(link.to_string_lossy().into_owned())
}

/// When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat`
/// field 22), where the system shows it: a reused pid has another.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether some process holds a `flock` on `guard`, from the kernel's lock
/// table; `None` when that cannot be told (no guard file, no `/proc/locks`).
pub fn flock_held(guard: &Path) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(guard).ok()?;
    let table = std::fs::read_to_string("/proc/locks").ok()?;
    let dev = meta.dev();
    let wanted = (rustix::fs::major(dev), rustix::fs::minor(dev), meta.ino());
    Some(
        table
            .lines()
            .any(|line| lock_table_file(line) == Some(wanted)),
    )
}

/// The `(major, minor, inode)` a granted `flock` of `/proc/locks` is on
/// (`1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF`); waiters (`->`) and
/// other kinds of lock are `None`.
fn lock_table_file(line: &str) -> Option<(u32, u32, u64)> {
    let mut fields = line.split_whitespace().skip(1);
    if fields.next()? != "FLOCK" {
        return None;
    }
    let file = fields.nth(3)?;
    let mut parts = file.split(':');
    let major = u32::from_str_radix(parts.next()?, 16).ok()?;
    let minor = u32::from_str_radix(parts.next()?, 16).ok()?;
    let inode = parts.next()?.parse().ok()?;
    Some((major, minor, inode))
}
