//! Execution lanes against one lane: the wall time of `run daemon
//! --until-idle` draining independent tasks in a git repository with 1, 2
//! and 4 lanes, each stage played by the fake agent
//! (`tests/fixtures/lanes/agent.sh`) waiting a fixed delay, as an agent
//! waiting on a model does. After each run it checks that every task is
//! done, that each task's file reached `main` in exactly one commit, that
//! `main` has no merge commit and that no lane's worktree or branch is left.
//!
//! Run with `cargo bench --bench lanes`. Knobs: `MILLRACE_LANES_BENCH_TASKS`
//! (default 40), `MILLRACE_LANES_BENCH_DELAY` (seconds per stage, default 2)
//! and `MILLRACE_LANES_BENCH_LANES` (default `1,2,4`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/fixtures/lanes/repo.rs"]
mod repo;
use repo::Error;

const BIN: &str = env!("CARGO_BIN_EXE_millrace");
/// The stages the fake agent plays per task (builder, checker, updater);
/// the merge gate is the runtime's own.
const AGENT_STAGES: u32 = 3;

fn millrace(root: &Path, args: &[&str]) -> Result<(), Error> {
    let status = Command::new(BIN)
        .args(args)
        .arg("--workspace")
        .arg(root)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("millrace {args:?} failed: {status}").into());
    }
    Ok(())
}

fn knob(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// A repository with `tasks` independent tasks queued for `lanes` lanes.
fn prepare(root: &Path, lanes: u64, tasks: usize, delay: &str) -> Result<Vec<String>, Error> {
    repo::init_repo(root)?;
    millrace(root, &["init"])?;
    let agents = root.join("millrace-agents");
    repo::configure(&agents, None, Some(lanes), &[("LANES_AGENT_DELAY", delay)])?;
    let ids: Vec<String> = (0..tasks).map(|n| format!("t{n:03}")).collect();
    for id in &ids {
        repo::write_task(&agents.join("tasks/queue"), id, &[&format!("out/{id}.txt")])?;
    }
    Ok(ids)
}

/// What is wrong after the run: a task not done, `main`'s history, leftovers.
fn faults(root: &Path, ids: &[String]) -> Result<Vec<String>, Error> {
    let done = root.join("millrace-agents/tasks/done");
    let mut faults: Vec<String> = ids
        .iter()
        .filter(|id| !done.join(format!("{id}.md")).is_file())
        .map(|id| format!("{id} is not done"))
        .collect();
    faults.extend(repo::history_faults(root, ids)?);
    faults.extend(repo::leftovers(root)?);
    Ok(faults)
}

/// The wall time of draining the queue with `lanes` lanes, and what is
/// wrong afterwards.
fn drain(lanes: u64, tasks: usize, delay: &str) -> Result<(Duration, Vec<String>), Error> {
    let temp = tempfile::tempdir()?;
    let root = temp.path();
    let ids = prepare(root, lanes, tasks, delay)?;
    let start = Instant::now();
    millrace(root, &["run", "daemon", "--until-idle"])?;
    let wall = start.elapsed();
    Ok((wall, faults(root, &ids)?))
}

fn main() -> Result<(), Error> {
    let tasks: usize = knob("MILLRACE_LANES_BENCH_TASKS", "40").parse()?;
    let delay = knob("MILLRACE_LANES_BENCH_DELAY", "2");
    let seconds: f64 = delay.parse()?;
    let counts = knob("MILLRACE_LANES_BENCH_LANES", "1,2,4");
    let counts: Vec<u64> = counts
        .split(',')
        .map(|n| n.trim().parse())
        .collect::<Result<_, _>>()?;
    println!(
        "{tasks} independent tasks, {delay} s per agent stage, {AGENT_STAGES} agent stages per task"
    );
    let mut first: Option<f64> = None;
    let mut faulty = Vec::new();
    for lanes in counts {
        let (wall, faults) = drain(lanes, tasks, &delay)?;
        let wall = wall.as_secs_f64();
        let rounds = (tasks as f64 / lanes as f64).ceil();
        let floor = rounds * f64::from(AGENT_STAGES) * seconds;
        let base = *first.get_or_insert(wall);
        println!(
            "{lanes} lane(s): {wall:.1} s wall (agents' floor {floor:.1} s), {:.1} tasks/min, speedup {:.2}x over the first count",
            tasks as f64 * 60.0 / wall,
            base / wall
        );
        for fault in &faults {
            println!("  FAULT: {fault}");
        }
        if !faults.is_empty() {
            faulty.push(lanes);
        }
    }
    if !faulty.is_empty() {
        return Err(
            format!("faults with {faulty:?} lane(s): the figures above do not count").into(),
        );
    }
    Ok(())
}
