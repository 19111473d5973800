//! A stage's whole process tree: found in the platform's process table
//! ([`crate::platform::processes`]), stopped with SIGKILL, and reaped, so
//! that no process a stage started outlives it.
//!
//! A stage's processes are the descendants of its leader and every process
//! whose environment carries the stage's tag (`MILLRACE_REQUEST_ID=<id>`),
//! which catches tools that an agent CLI started in a session of their own
//! (Codex runs each tool under `setsid`) and that were re-parented when the
//! CLI exited. When the daemon is a child subreaper ([`become_subreaper`]),
//! such orphans become its children (Linux only: elsewhere an orphan goes
//! to init): the sweep reaps the ones it killed, and
//! [`reap_orphans`] reaps zombie children that no runner is waiting for
//! (every stage leader is registered, see [`Leaders`]). The daemon's own
//! helpers (the `git` of execution lanes) stay in the daemon's process
//! group, where no stage process is (each stage leads a group of its
//! own): they are never a stage's orphan, and whoever started them
//! reaps them ([`daemon_helper`]).
//!
//! A process that left the session *and* dropped its environment
//! (`setsid env -i sleep 1000 &`) has neither tag nor living ancestor. In a
//! subreaper it is still the daemon's child, and every such orphan came
//! from a stage; which one is told by start times: only a stage that
//! started before it can own it. So when a stage
//! ends, an untagged orphan is killed when no stage still running started
//! before it ([`ownerless`]): the stage that ended was its last possible
//! owner. Otherwise it is left for the end of the last possible owner, and
//! a process of a stage still running is never killed. Without a subreaper
//! such a process cannot be found once its parent exited (see
//! docs/harness-runners.md, "Containment"). With a stage container (a
//! cgroup on Linux) this is the backstop, not the rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpgid, getpgrp};

use crate::platform::ProcessRow as Proc;
use crate::platform::processes;

/// The environment variable that tags a stage's processes.
pub const TAG_VAR: &str = "MILLRACE_REQUEST_ID";

/// Rounds of find-and-kill before the sweep gives up on a process that
/// keeps appearing (a fork bomb would otherwise keep it busy forever).
const SWEEP_ROUNDS: usize = 50;

/// Whether this process was made a child subreaper.
static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// The leaders of running stages, with the time each started (in the
/// platform's unit): their exit belongs to their runner, and the start
/// times say which stage may own an untagged orphan.
static LEADERS: Mutex<BTreeMap<i32, u64>> = Mutex::new(BTreeMap::new());

/// Which processes of a stage to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A stage still running: its tagged processes and their descendants.
    Running,
    /// A stage that ended: also the untagged orphans it may own.
    Ended,
}

/// Makes this process the reaper of its orphaned descendants, where the
/// platform can (Linux); true when it is one.
pub fn become_subreaper() -> bool {
    let ok = processes::become_subreaper();
    SUBREAPER.store(ok, Ordering::SeqCst);
    ok
}

/// The registry of stage leaders. Hold it across a spawn so that the
/// orphan reaper never sees an unregistered leader.
pub struct Leaders(MutexGuard<'static, BTreeMap<i32, u64>>);

impl Leaders {
    /// Locks the registry.
    pub fn lock() -> Leaders {
        Leaders(LEADERS.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records a leader just spawned (not yet reaped: its row is in the
    /// process table). An unreadable start counts as the earliest, so the
    /// stage may own every orphan and protects them while it runs.
    pub fn add(&mut self, pid: i32) {
        let start = processes::row(pid).map_or(0, |p| p.start);
        self.0.insert(pid, start);
    }

    fn leads(&self, pid: i32) -> bool {
        self.0.contains_key(&pid)
    }
}

/// Whether no running stage may own a process that started at `start`:
/// only a stage that started at or before it can have started it.
fn ownerless(start: u64, running_starts: &[u64]) -> bool {
    running_starts.iter().all(|stage| *stage > start)
}

/// The untagged live children of `me` (orphans of ended stages in a
/// subreaper) that no running stage may own.
fn owned_orphans(
    table: &[Proc],
    me: i32,
    running: &BTreeMap<i32, u64>,
    untagged: impl Fn(i32) -> bool,
) -> Vec<i32> {
    let starts: Vec<u64> = running.values().copied().collect();
    table
        .iter()
        .filter(|p| p.ppid == me && !p.zombie && !running.contains_key(&p.pid))
        .filter(|p| ownerless(p.start, &starts) && untagged(p.pid))
        .filter(|p| !daemon_helper(p.pid))
        .map(|p| p.pid)
        .collect()
}

/// True for a child this process started in its own process group (a
/// `git` the runtime waits for): stage processes are never there, since
/// every stage leads a group of its own, so such a child is no stage's
/// orphan and is reaped by the code that waits for it.
fn daemon_helper(pid: i32) -> bool {
    getpgid(Some(Pid::from_raw(pid))).is_ok_and(|group| group == getpgrp())
}

/// Forgets a leader once its runner has reaped it.
pub fn forget_leader(pid: i32) {
    Leaders::lock().0.remove(&pid);
}

fn process_table() -> Vec<Proc> {
    processes::table()
}

/// Live processes of the stage tagged `tag`: tagged ones, descendants of
/// `roots` or of tagged ones, and for an ended stage the untagged orphans
/// it may own with their descendants. Never this process.
/// `tags` holds the stage tag of every tagged process (an unreadable
/// environment counts as untagged: such a process is still one of ours).
fn stage_members(
    table: &[Proc],
    tags: &HashMap<i32, Vec<u8>>,
    (tag, roots): (&str, &[i32]),
    scope: Scope,
) -> BTreeSet<i32> {
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let mut members: BTreeSet<i32> = roots.iter().copied().collect();
    let tagged = |pid: &i32| tags.get(pid).is_some_and(|t| t == tag.as_bytes());
    members.extend(
        table
            .iter()
            .filter(|p| !p.zombie && p.pid != me && tagged(&p.pid))
            .map(|p| p.pid),
    );
    // Only in a subreaper is every child a stage leader or a stage's
    // orphan; elsewhere a child belongs to whoever else spawned it.
    if scope == Scope::Ended && SUBREAPER.load(Ordering::SeqCst) {
        let untagged = |pid: i32| !tags.contains_key(&pid);
        members.extend(owned_orphans(table, me, &Leaders::lock().0, untagged));
    }
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
pub fn stage_processes(tag: &str, roots: &[i32], scope: Scope) -> Vec<i32> {
    let tags = processes::environ_values(TAG_VAR);
    stage_members(&process_table(), &tags, (tag, roots), scope)
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
/// there is nothing to sweep and saves walking the process table.
/// Elsewhere (or when
/// the children list cannot be read) the answer is always yes.
pub fn may_have_strays() -> bool {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return true;
    }
    let Some(children) = own_children() else {
        return true;
    };
    let leaders = Leaders::lock();
    children
        .iter()
        .any(|c| !leaders.leads(*c) && !daemon_helper(*c))
}

fn own_children() -> Option<Vec<i32>> {
    processes::own_children()
}

/// Kills every process of the stage until none is left, reaping the ones
/// that are this process's children (orphans re-parented to a subreaper).
/// Returns how many were killed.
pub async fn kill_stage(tag: &str, roots: &[i32], scope: Scope) -> usize {
    let mut killed = BTreeSet::new();
    let mut roots = roots.to_vec();
    for _ in 0..SWEEP_ROUNDS {
        let members = stage_processes(tag, &roots, scope);
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
    if killed.is_empty() {
        // Nothing to reap: spare the walk of the process table.
        return;
    }
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let leaders = Leaders::lock();
    for p in process_table() {
        if p.ppid == me && killed.contains(&p.pid) && !leaders.leads(p.pid) {
            let _ = waitpid(Pid::from_raw(p.pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// In a subreaper, reaps zombie children that are not stage leaders (tools
/// re-parented to the daemon that exited or were killed). Elsewhere it does
/// nothing: other code of this process may be waiting for its children.
/// Only this process's children are read, not the whole process table.
pub fn reap_orphans() -> usize {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return 0;
    }
    let leaders = Leaders::lock();
    let orphans = own_children().unwrap_or_default();
    let reaped = orphans
        .iter()
        .filter(|pid| !leaders.leads(**pid) && !daemon_helper(**pid))
        .filter(|pid| {
            let status = waitpid(Pid::from_raw(**pid), Some(WaitPidFlag::WNOHANG));
            !matches!(status, Ok(WaitStatus::StillAlive) | Err(_))
        });
    reaped.count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: i32, ppid: i32) -> Proc {
        started(pid, ppid, 0)
    }

    fn started(pid: i32, ppid: i32, start: u64) -> Proc {
        Proc {
            pid,
            ppid,
            zombie: false,
            start,
        }
    }

    /// The daemon (pid 1) runs stage A (started at tick 100, now ended)
    /// beside stage B (leader 20, started at 200; leaders carry their tag).
    /// Orphans: 31 started during A alone, 32 while both ran, 33 is B's
    /// (tagged), 34 is a child of 31.
    #[test]
    fn an_untagged_orphan_dies_with_its_last_possible_owner() {
        let table = [
            started(20, 1, 200),
            started(31, 1, 150),
            started(32, 1, 250),
            started(33, 1, 260),
            started(34, 31, 270),
        ];
        let untagged = |pid: i32| ![20, 33].contains(&pid);
        let b_runs = BTreeMap::from([(20, 200)]);
        assert_eq!(owned_orphans(&table, 1, &b_runs, untagged), [31]);
        let mut members = BTreeSet::from([31]);
        add_descendants(&table, &mut members);
        assert_eq!(members, BTreeSet::from([31, 34]), "its children go with it");
        let none_run = BTreeMap::new();
        assert_eq!(owned_orphans(&table, 1, &none_run, untagged), [31, 32]);
        let c_runs_since_250 = BTreeMap::from([(40, 250)]);
        assert_eq!(owned_orphans(&table, 1, &c_runs_since_250, untagged), [31]);
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

    #[tokio::test]
    async fn a_tagged_process_in_a_group_of_its_own_is_killed() {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let tag = format!("test-{}", std::process::id());
        // The shell leaves the stage's group and says when it runs: a
        // process still inside `exec` shows no environment yet, and `spawn`
        // may return before the kernel finished setting it up.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "echo running; sleep 600"])
            .process_group(0)
            .env(TAG_VAR, &tag)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read");
        assert_eq!(line, "running\n");
        let pid = i32::try_from(child.id()).expect("pid");
        assert!(stage_processes(&tag, &[], Scope::Running).contains(&pid));
        assert!(kill_stage(&tag, &[], Scope::Running).await >= 1);
        let _ = child.try_wait();
        assert!(
            processes::row(pid).is_none_or(|p| p.zombie),
            "{pid} survived"
        );
        assert!(stage_processes(&tag, &[], Scope::Running).is_empty());
    }
}
