//! Crash torture: a daemon draining tasks through the `command` runner is
//! killed with SIGKILL at chosen moments (after a random delay, the instant
//! a stage starts, a stage result is written, a task lands in `done/`, or a
//! mailbox command is archived) and restarted with the same plain command
//! each time. Every stage leaves two background processes behind, one
//! that keeps the stage's environment and one that drops it and leaves the
//! session (`setsid env -i`). At the end every task is done exactly once,
//! no stage completed twice, no file sits in two lifecycle directories, no
//! left-behind process survives, and the journal is readable. Sizes:
//! `MILLRACE_TORTURE_TASKS` (default 40) and `MILLRACE_TORTURE_KILLS`
//! (default 8); `MILLRACE_TORTURE_SEED` repeats a run. CI runs it larger.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::Watcher;

use crate::daemon::{all_results, commanded, enqueue};
use crate::support::TestWorkspace;

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator, so a failing seed can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Answers every stage with its first legal outcome, leaving behind a
/// tagged and an escaped sleeper (`sleep <SLEEP_TAGGED>`, `sleep <SLEEP_ESCAPED>`).
fn agent(tagged: u64, escaped: u64) -> String {
    format!(
        "#!/bin/bash\nread -r -d '' prompt\nfirst=$(echo \"$MILLRACE_LEGAL_OUTCOMES\" | cut -d' ' -f1)\n\
setsid sleep {tagged} >/dev/null 2>&1 &\nsetsid env -i sleep {escaped} >/dev/null 2>&1 &\necho \"### $first\"\n"
    )
}

/// The moment a kill waits for.
#[derive(Debug, Clone, Copy)]
pub enum Moment {
    /// A random delay after the daemon starts.
    Delay(u64),
    /// A stage's request is written (the stage is starting).
    StageStart,
    /// A stage result is written (the stage is ending).
    StageEnd,
    /// A task arrives in `tasks/done/` (a queue move).
    QueueMove,
    /// A mailbox command is archived (applied by the daemon).
    MailboxApply,
    /// A lane's merge gate is at work: a rebase's state is written in a
    /// worktree, or the target branch `main` is being moved (lanes only,
    /// never picked here).
    MergeGate,
}

impl Moment {
    pub fn pick(rng: &mut Lcg) -> Moment {
        match rng.next(5) {
            0 => Moment::Delay(50 + rng.next(400)),
            1 => Moment::StageStart,
            2 => Moment::StageEnd,
            3 => Moment::QueueMove,
            _ => Moment::MailboxApply,
        }
    }

    /// Whether a file event at `path` is this moment.
    fn matches(self, path: &Path) -> bool {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let parent = path.parent().and_then(Path::file_name);
        let parent = parent
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match self {
            Moment::Delay(_) => false,
            Moment::StageStart => name.starts_with("request.") && name.ends_with(".json"),
            Moment::StageEnd => parent == "stage_results" && !name.starts_with(".tmp"),
            Moment::QueueMove => parent == "done" && name.ends_with(".md"),
            Moment::MailboxApply => parent == "processed" && !name.starts_with(".tmp"),
            Moment::MergeGate => {
                path.components().any(|c| c.as_os_str() == "rebase-merge")
                    || path.ends_with("refs/heads/main.lock")
            }
        }
    }
}

/// Waits for `moment` (at most a few seconds: the daemon may have run out
/// of work), watching the workspace's file events.
fn await_moment(events: &mpsc::Receiver<notify::Result<notify::Event>>, moment: Moment) {
    if let Moment::Delay(ms) = moment {
        // The moment of the crash is the point of the test: a random delay.
        std::thread::sleep(Duration::from_millis(ms));
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(Ok(event)) = events.recv_timeout(left) else {
            continue;
        };
        if event.paths.iter().any(|p| moment.matches(p)) {
            return;
        }
    }
}

/// Starts a daemon and kills it with SIGKILL at a chosen moment, found by
/// watching the workspace's file events.
pub struct Killer {
    _watcher: notify::RecommendedWatcher,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
}

impl Killer {
    pub fn watching(root: &Path) -> Killer {
        let (tx, events) = mpsc::channel();
        let mut watcher =
            notify::recommended_watcher(move |event| drop(tx.send(event))).expect("watcher");
        watcher
            .watch(root, notify::RecursiveMode::Recursive)
            .expect("watch the workspace");
        Killer {
            _watcher: watcher,
            events,
        }
    }

    /// Runs `millrace <args> --workspace <root>` until `moment`, then kills it.
    pub fn kill_at(&self, ws: &TestWorkspace, args: &[&str], moment: Moment) {
        while self.events.try_recv().is_ok() {}
        let mut daemon = ws.spawn(args);
        if let Moment::MailboxApply = moment {
            // Applied by the daemon once it owns the workspace, directly before.
            ws.run(&["reload-config"]);
        }
        await_moment(&self.events, moment);
        let _ = daemon.kill();
        let _ = daemon.wait();
    }
}

/// Live processes whose command line is `sleep <seconds>`.
fn sleepers(seconds: u64) -> Vec<i32> {
    let wanted = format!("sleep\0{seconds}\0");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == wanted.as_bytes())
        })
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].trim_start().chars().next());
            !matches!(state, Some('Z' | 'X') | None)
        })
        .collect()
}

#[test]
fn kill_9_at_random_moments_loses_and_repeats_nothing() {
    let tasks = env_number("MILLRACE_TORTURE_TASKS", 40);
    let kills = env_number("MILLRACE_TORTURE_KILLS", 8);
    let seed = env_number("MILLRACE_TORTURE_SEED", 0x5eed);
    eprintln!("torture: tasks={tasks} kills={kills} seed={seed}");
    let mut rng = Lcg(seed);
    // Unique per run, so that other tests' processes are never counted.
    let tagged = 1_000_000 + u64::from(std::process::id()) * 2;
    let escaped = tagged + 1;
    let ws = commanded(&agent(tagged, escaped), "30");
    let ids: Vec<String> = (0..tasks).map(|i| format!("t{i:04}")).collect();
    for id in &ids {
        enqueue(&ws, id, &[]);
    }
    let killer = Killer::watching(ws.root());
    let mut moments = Vec::new();
    for _ in 0..kills {
        let moment = Moment::pick(&mut rng);
        moments.push(moment);
        killer.kill_at(
            &ws,
            &["run", "daemon", "--mode", "cmd", "--until-idle"],
            moment,
        );
    }
    eprintln!("torture: moments {moments:?}");
    let log = ws.path("logs/final-monitor.log");
    let log_arg = log.to_str().expect("utf8 path");
    ws.run(&[
        "run",
        "daemon",
        "--mode",
        "cmd",
        "--until-idle",
        "--monitor-log",
        log_arg,
    ])
    .ok();
    assert_eq!(
        sleepers(tagged),
        Vec::<i32>::new(),
        "tagged leftovers survived"
    );
    if ws
        .read("logs/final-monitor.log")
        .contains("containment cgroup")
    {
        assert_eq!(
            sleepers(escaped),
            Vec::<i32>::new(),
            "escaped leftovers survived"
        );
    } else {
        // Without cgroups, a process that left its session and environment
        // and whose parents exited cannot be traced after a kill -9 (on the
        // portable platform not even without one): the documented limit
        // (docs/platforms.md). The test kills them so none outlives it.
        let escapees = sleepers(escaped);
        for pid in &escapees {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        eprintln!(
            "torture: no cgroup containment here; {} escaped leftover(s) not checked, killed by the test",
            escapees.len()
        );
    }
    for id in &ids {
        assert!(
            ws.path(&format!("tasks/done/{id}.md")).is_file(),
            "{id} is not done"
        );
    }
    for state in ["queue", "active", "blocked"] {
        let left = std::fs::read_dir(ws.path(&format!("tasks/{state}")))
            .expect("dir")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
            .count();
        assert_eq!(left, 0, "tasks left in tasks/{state}");
    }
    let mut stages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let results = all_results(&ws.path("runs"));
    for result in &results {
        let id = result["work_item_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        stages
            .entry(id)
            .or_default()
            .push(result["node"].as_str().unwrap_or_default().to_string());
    }
    let evidence = |id: &str| -> String {
        let lines = results.iter().filter(|r| r["work_item_id"] == id).map(|r| {
            format!(
                "{} {} {} {}",
                r["run_id"], r["request_id"], r["node"], r["completed_at"]
            )
        });
        let log = std::fs::read_to_string(ws.path("logs/runtime_events.jsonl")).unwrap_or_default();
        let events: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(id) || l.contains("runtime_started") || l.contains("reconcil"))
            .collect();
        format!(
            "{}\n{}",
            lines.collect::<Vec<_>>().join("\n"),
            events.join("\n")
        )
    };
    for id in &ids {
        let mut nodes = stages.get(id).cloned().unwrap_or_default();
        nodes.sort();
        assert_eq!(
            nodes,
            ["builder", "checker", "updater"],
            "{id}: stages completed {nodes:?}\n{}",
            evidence(id)
        );
    }
    for line in ws.read("logs/runtime_events.jsonl").lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every journal line is JSON");
    }
}
