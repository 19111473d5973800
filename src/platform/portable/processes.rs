//! The process table through `sysinfo` (`proc_pidinfo` and `sysctl` on
//! macOS, `kvm` on the BSDs). There is no child subreaper: an orphan goes
//! to init, out of the daemon's sight (see docs/harness-runners.md,
//! "Containment").

use std::collections::HashMap;

use sysinfo::{Pid, Process, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System};

use crate::platform::ProcessRow;

/// There is no portable subreaper: false.
pub fn become_subreaper() -> bool {
    false
}

/// Every process the system shows (threads left out).
pub fn table() -> Vec<ProcessRow> {
    let mut system = System::new();
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, basic());
    system.processes().values().map(to_row).collect()
}

/// Process `pid`, where it exists.
pub fn row(pid: i32) -> Option<ProcessRow> {
    let pid = Pid::from_u32(u32::try_from(pid).ok()?);
    let mut system = System::new();
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, basic());
    system.process(pid).map(to_row)
}

/// The value of `var` in the environment of every process that has it, in
/// one pass over the table (an environment that cannot be read, another
/// user's on macOS, counts as none).
pub fn environ_values(var: &str) -> HashMap<i32, Vec<u8>> {
    let prefix = format!("{var}=").into_bytes();
    let mut system = System::new();
    let kind = basic().with_environ(sysinfo::UpdateKind::Always);
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    let values = system.processes().values().filter_map(|process| {
        let entries = process.environ().iter().map(|e| e.as_encoded_bytes());
        let entry = entries.into_iter().find(|e| e.starts_with(&prefix))?;
        Some((to_row(process).pid, entry[prefix.len()..].to_vec()))
    });
    values.collect()
}

/// This process's children.
pub fn own_children() -> Option<Vec<i32>> {
    let me = i32::try_from(std::process::id()).ok()?;
    let rows = table().into_iter().filter(|row| row.ppid == me);
    Some(rows.map(|row| row.pid).collect())
}

/// The most resident memory this process ever used, in kB (`getrusage`;
/// macOS counts it in bytes, the BSDs and Linux in kB).
pub fn peak_rss_kb() -> Option<u64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let max = u64::try_from(getrusage(UsageWho::RUSAGE_SELF).ok()?.max_rss()).ok()?;
    Some(if cfg!(target_vendor = "apple") {
        max / 1024
    } else {
        max
    })
}

/// Parents, states and start times; threads left out.
fn basic() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing().without_tasks()
}

fn to_row(process: &Process) -> ProcessRow {
    let as_i32 = |pid: Pid| i32::try_from(pid.as_u32()).unwrap_or(0);
    ProcessRow {
        pid: as_i32(process.pid()),
        ppid: process.parent().map_or(0, as_i32),
        zombie: matches!(
            process.status(),
            ProcessStatus::Zombie | ProcessStatus::Dead
        ),
        start: process.start_time(),
    }
}
