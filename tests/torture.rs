//! Crash torture: a daemon draining tasks through the `command` runner is
//! killed with SIGKILL at random moments and restarted with the same plain
//! command each time. At the end every task is done exactly once, no stage
//! completed twice, no file sits in two lifecycle directories, and the
//! journal is readable. Sizes: `MILLRACE_TORTURE_TASKS` (default 40) and
//! `MILLRACE_TORTURE_KILLS` (default 8); `MILLRACE_TORTURE_SEED` repeats a run.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::{all_results, commanded, enqueue};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator, so a failing seed can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

const AGENT: &str = "#!/bin/bash\nread -r -d '' prompt\nfirst=$(echo \"$MILLRACE_LEGAL_OUTCOMES\" | cut -d' ' -f1)\necho \"### $first\"\n";

#[test]
fn kill_9_at_random_moments_loses_and_repeats_nothing() {
    let tasks = env_number("MILLRACE_TORTURE_TASKS", 40);
    let kills = env_number("MILLRACE_TORTURE_KILLS", 8);
    let seed = env_number("MILLRACE_TORTURE_SEED", 0x5eed);
    eprintln!("torture: tasks={tasks} kills={kills} seed={seed}");
    let ws = commanded(AGENT, "30");
    let ids: Vec<String> = (0..tasks).map(|i| format!("t{i:04}")).collect();
    for id in &ids {
        enqueue(&ws, id, &[]);
    }
    let mut rng = Lcg(seed);
    for _ in 0..kills {
        let mut daemon = Command::new(env!("CARGO_BIN_EXE_millrace"))
            .args([
                "run",
                "daemon",
                "--mode",
                "cmd",
                "--until-idle",
                "--workspace",
            ])
            .arg(ws.root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn daemon");
        // The moment of the crash is the point of the test: a random delay.
        std::thread::sleep(Duration::from_millis(50 + rng.next(400)));
        let _ = daemon.kill();
        let _ = daemon.wait();
    }
    ws.run(&["run", "daemon", "--mode", "cmd", "--until-idle"])
        .ok();
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
