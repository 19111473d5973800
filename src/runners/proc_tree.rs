//! A stage's whole process tree: found by walking `/proc`, stopped with
//! SIGKILL, and reaped, so that no process a stage started outlives it.
//!
//! A stage's processes are the descendants of its leader and every process
//! whose environment carries the stage's tag (`MILLRACE_REQUEST_ID=<id>`),
//! which catches tools that an agent CLI started in a session of their own
//! (Codex runs each tool under `setsid`) and that were re-parented when the
//! CLI exited. When the daemon is a child subreaper ([`become_subreaper`]),
//! such orphans become its children: the sweep reaps the ones it killed, and
//! [`reap_orphans`] reaps zombie children that no runner is waiting for
//! (every process the daemon starts is a registered stage leader, see
//! [`Leaders`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// The environment variable that tags a stage's processes.
pub const TAG_VAR: &str = "MILLRACE_REQUEST_ID";

/// Rounds of find-and-kill before the sweep gives up on a process that
/// keeps appearing (a fork bomb would otherwise keep it busy forever).
const SWEEP_ROUNDS: usize = 50;

/// Whether this process was made a child subreaper.
static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// The leaders of running stages: their exit belongs to their runner.
static LEADERS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// One row of the process table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proc {
    pid: i32,
    ppid: i32,
    zombie: bool,
}

/// Makes this process the reaper of its orphaned descendants (Linux
/// `PR_SET_CHILD_SUBREAPER`); true when it is one.
pub fn become_subreaper() -> bool {
    let ok = nix::sys::prctl::set_child_subreaper(true).is_ok();
    SUBREAPER.store(ok, Ordering::SeqCst);
    ok
}

/// The registry of stage leaders. Hold it across a spawn so that the
/// orphan reaper never sees an unregistered leader.
pub struct Leaders(MutexGuard<'static, BTreeSet<i32>>);

impl Leaders {
    /// Locks the registry.
    pub fn lock() -> Leaders {
        Leaders(LEADERS.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records a leader.
    pub fn add(&mut self, pid: i32) {
        self.0.insert(pid);
    }
}

/// Forgets a leader once its runner has reaped it.
pub fn forget_leader(pid: i32) {
    Leaders::lock().0.remove(&pid);
}

/// The `(pid, ppid, zombie)` rows of `/proc`.
fn process_table() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_stat)
        .collect()
}

/// `/proc/<pid>/stat`: `pid (comm) state ppid ...`; comm may hold spaces.
fn read_stat(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        zombie: matches!(state, 'Z' | 'X'),
    })
}

/// Whether the process's environment holds `needle` (`VAR=value`).
fn has_env(pid: i32, needle: &[u8]) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    environ.split(|b| *b == 0).any(|entry| entry == needle)
}

/// Live processes of the stage tagged `tag`: tagged ones and descendants
/// of `roots` or of tagged ones. Never this process.
fn stage_members(table: &[Proc], tag: &str, roots: &[i32]) -> BTreeSet<i32> {
    let needle = format!("{TAG_VAR}={tag}").into_bytes();
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let mut members: BTreeSet<i32> = roots.iter().copied().collect();
    members.extend(
        table
            .iter()
            .filter(|p| !p.zombie && p.pid != me && has_env(p.pid, &needle))
            .map(|p| p.pid),
    );
    add_descendants(table, &mut members);
    members.remove(&me);
    let live: BTreeSet<i32> = table.iter().filter(|p| !p.zombie).map(|p| p.pid).collect();
    members.retain(|pid| live.contains(pid));
    members
}

/// Adds every descendant of the members, transitively.
fn add_descendants(table: &[Proc], members: &mut BTreeSet<i32>) {
    let mut children: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for p in table {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut stack: Vec<i32> = members.iter().copied().collect();
    while let Some(pid) = stack.pop() {
        for child in children.get(&pid).into_iter().flatten() {
            if members.insert(*child) {
                stack.push(*child);
            }
        }
    }
}

/// The live processes of a stage (see [`stage_members`]).
pub fn stage_processes(tag: &str, roots: &[i32]) -> Vec<i32> {
    stage_members(&process_table(), tag, roots)
        .into_iter()
        .collect()
}

/// Sends `signal` to each process.
pub fn signal_all(pids: &[i32], signal: Signal) {
    for pid in pids {
        let _ = kill(Pid::from_raw(*pid), signal);
    }
}

/// Whether a stage process may have outlived its group. In a subreaper a
/// surviving detached process ends up as this process's child once its
/// parents are gone, so "no child but the running stage leaders" proves
/// there is nothing to sweep and saves walking `/proc`. Elsewhere (or when
/// the children list cannot be read) the answer is always yes.
pub fn may_have_strays() -> bool {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return true;
    }
    let Some(children) = own_children() else {
        return true;
    };
    let leaders = Leaders::lock();
    children.iter().any(|c| !leaders.0.contains(c))
}

/// This process's children, from `/proc/self/task/*/children`.
fn own_children() -> Option<Vec<i32>> {
    let mut children = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).ok()?;
        children.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    Some(children)
}

/// Kills every process of the stage until none is left, reaping the ones
/// that are this process's children (orphans re-parented to a subreaper).
/// Returns how many were killed.
pub async fn kill_stage(tag: &str, roots: &[i32]) -> usize {
    let mut killed = BTreeSet::new();
    let mut roots = roots.to_vec();
    for _ in 0..SWEEP_ROUNDS {
        let members = stage_processes(tag, &roots);
        if members.is_empty() {
            break;
        }
        signal_all(&members, Signal::SIGKILL);
        killed.extend(members.iter().copied());
        roots = members;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    reap_killed(&killed);
    killed.len()
}

/// Reaps killed processes that are children of this process.
fn reap_killed(killed: &BTreeSet<i32>) {
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let leaders = Leaders::lock();
    for p in process_table() {
        if p.ppid == me && killed.contains(&p.pid) && !leaders.0.contains(&p.pid) {
            let _ = waitpid(Pid::from_raw(p.pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// In a subreaper, reaps zombie children that are not stage leaders (tools
/// re-parented to the daemon that exited on their own). Elsewhere it does
/// nothing: other code of this process may be waiting for its children.
pub fn reap_orphans() -> usize {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return 0;
    }
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let leaders = Leaders::lock();
    let orphans: Vec<i32> = process_table()
        .into_iter()
        .filter(|p| p.ppid == me && p.zombie && !leaders.0.contains(&p.pid))
        .map(|p| p.pid)
        .collect();
    for pid in &orphans {
        let _ = waitpid(Pid::from_raw(*pid), Some(WaitPidFlag::WNOHANG));
    }
    orphans.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: i32, ppid: i32) -> Proc {
        Proc {
            pid,
            ppid,
            zombie: false,
        }
    }

    #[test]
    fn descendants_are_found_transitively() {
        let table = [
            row(10, 1),
            row(11, 10),
            row(12, 11),
            row(13, 1),
            row(14, 12),
        ];
        let mut members = BTreeSet::from([10]);
        add_descendants(&table, &mut members);
        assert_eq!(members, BTreeSet::from([10, 11, 12, 14]));
    }

    #[test]
    fn stat_parses_names_with_spaces() {
        let me = i32::try_from(std::process::id()).expect("pid");
        let row = read_stat(me).expect("own stat");
        assert_eq!(row.pid, me);
        assert!(!row.zombie);
    }

    #[tokio::test]
    async fn a_tagged_process_in_its_own_session_is_killed() {
        let tag = format!("test-{}", std::process::id());
        let mut child = std::process::Command::new("setsid")
            .args(["sleep", "600"])
            .env(TAG_VAR, &tag)
            .spawn()
            .expect("spawn setsid sleep");
        let pid = i32::try_from(child.id()).expect("pid");
        assert!(stage_processes(&tag, &[]).contains(&pid));
        assert!(kill_stage(&tag, &[]).await >= 1);
        let _ = child.try_wait();
        assert!(read_stat(pid).is_none_or(|p| p.zombie), "{pid} survived");
        assert!(stage_processes(&tag, &[]).is_empty());
    }
}
