//! Crash torture with four execution lanes, in the manner of
//! `torture.rs`: the daemon is killed with SIGKILL at chosen moments while
//! lanes are busy (after a random delay, as a stage starts or ends, as a
//! task lands in `done/`, as a mailbox command is applied, or while a merge
//! gate rebases a lane or moves `main`) and restarted with the same command
//! each time. At the end every task is done exactly once and landed on
//! `main` as exactly one commit, `main` is linear, and no worktree, lane
//! folder, `millrace/*` branch or interrupted rebase is left. Sizes:
//! `MILLRACE_LANES_TORTURE_TASKS` (default 12), `MILLRACE_LANES_TORTURE_KILLS`
//! (default 6); `MILLRACE_LANES_TORTURE_SEED` repeats a run.

use std::path::Path;

use crate::lanes::{all_landed, lanes_workspace, queue_task, run_lanes, subjects};
use crate::torture::{Killer, Lcg, Moment, env_number};

fn pick(rng: &mut Lcg) -> Moment {
    match rng.next(4) {
        0 => Moment::MergeGate,
        1 => Moment::Delay(300 + rng.next(2500)),
        _ => Moment::pick(rng),
    }
}

/// Folders named `rebase-merge` or `rebase-apply` under `dir`.
fn interrupted_rebases(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let name = entry.file_name();
        if name == "rebase-merge" || name == "rebase-apply" {
            found.push(path.display().to_string());
        } else if name != "objects" {
            found.extend(interrupted_rebases(&path));
        }
    }
    found
}

#[test]
fn kill_9_while_lanes_are_busy_lands_every_task_once() {
    let tasks = env_number("MILLRACE_LANES_TORTURE_TASKS", 12);
    let kills = env_number("MILLRACE_LANES_TORTURE_KILLS", 6);
    let seed = env_number("MILLRACE_LANES_TORTURE_SEED", 0x1a9e5);
    eprintln!("lanes torture: tasks={tasks} kills={kills} seed={seed}");
    let mut rng = Lcg(seed);
    let ws = lanes_workspace(4, &[("LANES_AGENT_DELAY", "0.2")]);
    let ids: Vec<String> = (0..tasks).map(|i| format!("t{i:02}")).collect();
    for id in &ids {
        queue_task(&ws, id, &[&format!("out/{id}.txt")]);
    }
    let killer = Killer::watching(ws.root());
    let mut moments = Vec::new();
    for _ in 0..kills {
        let moment = pick(&mut rng);
        moments.push(moment);
        killer.kill_at(&ws, &["run", "daemon", "--until-idle"], moment);
    }
    eprintln!("lanes torture: moments {moments:?}");
    let done = std::fs::read_dir(ws.path("tasks/done")).map_or(0, |d| d.count());
    eprintln!("lanes torture: {done} of {tasks} done when the kills end");
    run_lanes(&ws);
    all_landed(&ws, &ids);
    let commits = subjects(ws.root());
    for id in &ids {
        let subject = format!("{id}: Task {id}");
        let times = commits.iter().filter(|s| **s == subject).count();
        assert_eq!(times, 1, "{id}'s commit on main: {commits:?}");
    }
    assert_eq!(commits.len(), ids.len() + 1, "{commits:?}");
    for state in ["queue", "active", "blocked"] {
        let dir = ws.path(&format!("tasks/{state}"));
        let left = std::fs::read_dir(dir).expect("dir").flatten();
        let left = left.filter(|e| e.path().extension().is_some_and(|x| x == "md"));
        assert_eq!(left.count(), 0, "tasks left in tasks/{state}");
    }
    let rebases = interrupted_rebases(&ws.root().join(".git"));
    assert_eq!(rebases, Vec::<String>::new(), "interrupted rebases");
    for line in ws.read("logs/runtime_events.jsonl").lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every journal line is JSON");
    }
}
