//! The facts a lock records about its owner, where there is no `/proc`:
//! the boot time stands for the boot id, the process start time (seconds
//! since the epoch, through `sysinfo`) tells a reused pid, and whether a
//! `flock` is held is learnt by trying to take it shared, released at once.

use std::fs::File;
use std::path::Path;

use fs4::fs_std::FileExt;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// No pid namespaces here: a pid means the same to every process.
pub const HAS_PID_NAMESPACES: bool = false;

/// `boot-<seconds since the epoch>`: the same for the whole boot, another
/// after a reboot.
pub fn boot_id() -> Option<String> {
    let booted = System::boot_time();
    (booted > 0).then(|| format!("boot-{booted}"))
}

/// No pid namespaces here.
pub fn pid_namespace() -> Option<String> {
    None
}

/// When process `pid` started, in seconds since the epoch: a reused pid
/// has another (unless reused within the same second).
pub fn process_start(pid: u32) -> Option<u64> {
    let pid = Pid::from_u32(pid);
    let mut system = System::new();
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing(),
    );
    system.process(pid).map(sysinfo::Process::start_time)
}

/// Whether some process holds an exclusive `flock` on `guard`: a shared
/// lock cannot be had then. Taken, it is released at once; a daemon
/// starting in that instant tries again (see `workspace::lock`). `None`
/// when there is no guard file to try.
pub fn flock_held(guard: &Path) -> Option<bool> {
    let file = File::open(guard).ok()?;
    match FileExt::try_lock_shared(&file) {
        Ok(true) => {
            let _ = FileExt::unlock(&file);
            Some(false)
        }
        Ok(false) => Some(true),
        Err(_) => None,
    }
}
