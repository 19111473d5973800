//! Execution lanes end to end (docs/lanes.md): tasks run at once in git
//! worktrees, each played by the fake agent `fixtures/lanes/agent.sh`, and
//! each enters `main` through the merge gate as one commit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::daemon::{all_results, exists, monitor, outcomes_of};
use crate::lanes_repo::{self as repo, git};
use crate::support::{Run, TestWorkspace};

/// A git repository (`main`, `millrace-agents/` ignored) with a workspace
/// running `lanes` execution lanes of the fake agent, given `env`.
pub fn lanes_workspace(lanes: u64, env: &[(&str, &str)]) -> TestWorkspace {
    let ws = TestWorkspace::empty();
    repo::init_repo(ws.root()).expect("a git repository");
    ws.run(&["init"]).ok();
    repo::configure(&ws.agents(), None, Some(lanes), env).expect("configuration");
    ws
}

/// Queues task `id` declaring `target_paths`.
pub fn queue_task(ws: &TestWorkspace, id: &str, target_paths: &[&str]) {
    repo::write_task(&ws.path("tasks/queue"), id, target_paths).expect("a task");
}

/// Queues tasks `ids`, each declaring only its own `out/<id>.txt`.
fn queue_independent(ws: &TestWorkspace, ids: &[&str]) {
    for id in ids {
        queue_task(ws, id, &[&format!("out/{id}.txt")]);
    }
}

/// `run daemon --until-idle` in the configured mode, with a monitor log.
pub fn run_lanes(ws: &TestWorkspace) -> Run {
    let log = ws.path("logs/monitor.log");
    let log = log.to_str().expect("utf8 path");
    ws.run(&["run", "daemon", "--until-idle", "--monitor-log", log])
        .ok()
}

/// One `start` or `end` line of the fake agent's log.
#[derive(Debug)]
struct Mark {
    start: bool,
    task: String,
    stage: String,
}

fn agent_log(ws: &TestWorkspace) -> String {
    std::fs::read_to_string(ws.path("lanes-agent.log")).unwrap_or_default()
}

fn marks(ws: &TestWorkspace) -> Vec<Mark> {
    let log = agent_log(ws);
    let parsed = log.lines().filter_map(|line| {
        let mut words = line.split(' ');
        let start = match words.next()? {
            "start" => true,
            "end" => false,
            _ => return None,
        };
        let task = words.next()?.to_string();
        let stage = words.next()?.to_string();
        Some(Mark { start, task, stage })
    });
    parsed.collect()
}

/// For each pair of tasks, whether a stage of one ran while a stage of the
/// other was running; and the most stages running at once.
fn overlaps(marks: &[Mark]) -> (BTreeSet<(String, String)>, usize) {
    let mut running: BTreeSet<(String, String)> = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    let mut most = 0;
    for mark in marks {
        let key = (mark.task.clone(), mark.stage.clone());
        if !mark.start {
            running.remove(&key);
            continue;
        }
        for (other, _) in running.iter().filter(|(task, _)| *task != mark.task) {
            let pair = (
                other.clone().min(mark.task.clone()),
                other.clone().max(mark.task.clone()),
            );
            pairs.insert(pair);
        }
        running.insert(key);
        most = most.max(running.len());
    }
    (pairs, most)
}

fn overlapped(pairs: &BTreeSet<(String, String)>, a: &str, b: &str) -> bool {
    let (a, b) = (a.min(b).to_string(), a.max(b).to_string());
    pairs.contains(&(a, b))
}

/// The first and last line of the agent's log that belong to `task`.
fn task_span(marks: &[Mark], task: &str) -> (usize, usize) {
    let mine: Vec<usize> = (0..marks.len())
        .filter(|&i| marks[i].task == task)
        .collect();
    let first = mine.first().copied().expect("the task ran");
    (first, mine.last().copied().unwrap_or(first))
}

/// Subjects of `main`'s commits, oldest first.
pub fn subjects(root: &Path) -> Vec<String> {
    let log = git(root, &["log", "--reverse", "--format=%s", "main"]).expect("git log");
    log.lines().map(str::to_string).collect()
}

/// `init`, then one `<id>: Task <id>` commit per task, in any order.
fn one_commit_per_task(root: &Path, ids: &[&str]) {
    let mut found = subjects(root);
    assert_eq!(found.first().map(String::as_str), Some("init"), "{found:?}");
    found.remove(0);
    found.sort();
    let mut wanted: Vec<String> = ids.iter().map(|id| format!("{id}: Task {id}")).collect();
    wanted.sort();
    assert_eq!(found, wanted, "main's commits");
}

/// Every task done, `main` linear with each task's file added once, and no
/// worktree, folder or branch of a lane left.
pub fn all_landed(ws: &TestWorkspace, ids: &[String]) {
    for id in ids {
        assert!(
            exists(ws, &format!("tasks/done/{id}.md")),
            "{id} is not done\n{}\nfailed stages:\n{}",
            monitor(ws),
            failed_stages(ws)
        );
    }
    let faults = repo::history_faults(ws.root(), ids).expect("git history");
    assert_eq!(faults, Vec::<String>::new(), "main's history");
    let left = repo::leftovers(ws.root()).expect("git state");
    assert_eq!(left, Vec::<String>::new(), "left behind by lanes");
}

/// The stage results that carry a failure class, for a failure's evidence.
fn failed_stages(ws: &TestWorkspace) -> String {
    let results = all_results(&ws.path("runs"));
    let failed = results.iter().filter(|r| !r["failure_class"].is_null());
    let shown: Vec<String> = failed.map(|r| r.to_string()).collect();
    shown.join("\n")
}

fn owned(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

#[test]
fn independent_tasks_run_two_at_once_and_each_lands_as_one_commit() {
    let ws = lanes_workspace(2, &[("LANES_AGENT_DELAY", "0.5")]);
    let ids = ["t1", "t2", "t3", "t4"];
    queue_independent(&ws, &ids);
    run_lanes(&ws);
    let (_, most) = overlaps(&marks(&ws));
    assert_eq!(most, 2, "stages at once\n{}", agent_log(&ws));
    all_landed(&ws, &owned(&ids));
    one_commit_per_task(ws.root(), &ids);
    let merges = git(ws.root(), &["rev-list", "--merges", "main"]).expect("git");
    assert_eq!(merges, "");
}

/// Four lanes kept busy: stages end while other lanes create worktrees and
/// merge. It failed while a stage that ended swept the daemon's untagged
/// children as its orphans (runners/process/tree.rs): the lanes' own `git`
/// children were killed mid-commit (a stale `index.lock` failing every
/// later git call there) or reaped under `Command::output` (`No child
/// processes`), so merges failed and tasks ended blocked.
#[test]
fn twelve_tasks_on_four_busy_lanes_all_land() {
    let ws = lanes_workspace(4, &[("LANES_AGENT_DELAY", "0.1")]);
    let ids: Vec<String> = (1..=12).map(|n| format!("t{n:02}")).collect();
    for id in &ids {
        queue_task(&ws, id, &[&format!("out/{id}.txt")]);
    }
    run_lanes(&ws);
    all_landed(&ws, &ids);
}

#[test]
fn tasks_with_overlapping_target_paths_never_run_together() {
    let ws = lanes_workspace(2, &[("LANES_AGENT_DELAY", "0.5")]);
    queue_task(&ws, "a1", &["src/a"]);
    queue_task(&ws, "a2", &["src/a/deep.rs"]);
    queue_task(&ws, "b1", &["src/b"]);
    run_lanes(&ws);
    let marks = marks(&ws);
    let (first, second) = (task_span(&marks, "a1"), task_span(&marks, "a2"));
    assert!(
        first.1 < second.0 || second.1 < first.0,
        "the src/a tasks overlapped\n{}",
        agent_log(&ws)
    );
    let (pairs, _) = overlaps(&marks);
    assert!(
        overlapped(&pairs, "a1", "b1") || overlapped(&pairs, "a2", "b1"),
        "src/b ran beside src/a\n{}",
        agent_log(&ws)
    );
    all_landed(&ws, &owned(&["a1", "a2", "b1"]));
}

/// The tasks whose merge gate answered `outcome`, from the journal.
fn tasks_with_outcome(ws: &TestWorkspace, outcome: &str) -> Vec<String> {
    let journal = ws.read("logs/runtime_events.jsonl");
    let events: Vec<serde_json::Value> = journal
        .lines()
        .map(|line| serde_json::from_str(line).expect("a journal line is JSON"))
        .collect();
    let mut task_of_run = BTreeMap::new();
    for event in events.iter().filter(|e| e["event_type"] == "stage_started") {
        let data = &event["data"];
        let task = data["work_item"]["id"].as_str().unwrap_or_default();
        task_of_run.insert(data["run_id"].to_string(), task.to_string());
    }
    let completed = events
        .iter()
        .filter(|e| e["event_type"] == "stage_completed");
    let matching = completed.filter(|e| e["data"]["outcome"] == outcome);
    let tasks = matching.filter_map(|e| task_of_run.get(&e["data"]["run_id"].to_string()));
    tasks.cloned().collect()
}

#[test]
fn a_merge_conflict_goes_to_the_fixer_in_its_lane_and_then_lands() {
    let ws = lanes_workspace(
        2,
        &[
            ("LANES_AGENT_DELAY", "0.5"),
            ("LANES_AGENT_SHARED", "shared.txt"),
        ],
    );
    std::fs::write(ws.root().join("shared.txt"), "base\n").expect("shared file");
    repo::commit_all(ws.root(), "shared").expect("commit");
    // Each declares only its own file, yet both append to shared.txt.
    queue_independent(&ws, &["c1", "c2"]);
    run_lanes(&ws);
    let conflicted = tasks_with_outcome(&ws, "MERGE_CONFLICT");
    assert_eq!(conflicted.len(), 1, "{conflicted:?}\n{}", monitor(&ws));
    let second = &conflicted[0];
    let seen = format!("seen MERGE_CONFLICT {second} fixer");
    assert!(agent_log(&ws).contains(&seen), "{}", agent_log(&ws));
    let trail = outcomes_of(&ws, second);
    let trail: Vec<&str> = trail.iter().map(String::as_str).collect();
    let tail = ["merge MERGE_CONFLICT", "fixer FIXER_COMPLETE"];
    assert!(trail.windows(2).any(|w| w == tail), "{trail:?}");
    assert_eq!(trail.last(), Some(&"merge MERGED"), "{trail:?}");
    all_landed(&ws, &owned(&["c1", "c2"]));
    let shared = git(ws.root(), &["show", "main:shared.txt"]).expect("shared.txt");
    let mut lines: Vec<&str> = shared.lines().collect();
    lines.sort();
    assert_eq!(lines, ["base", "c1", "c2"], "{shared}");
}

#[test]
fn outside_git_a_lanes_mode_runs_one_lane_and_says_why() {
    let ws = TestWorkspace::new();
    let env = [("LANES_AGENT_DELAY", "0.3")];
    repo::configure(&ws.agents(), None, Some(2), &env).expect("configuration");
    queue_independent(&ws, &["t1", "t2"]);
    let show = ws.run(&["compile", "show"]).ok();
    let lanes = show.value("lanes").unwrap_or_default();
    assert!(
        lanes.starts_with("execution 1 (2 requested: ") && lanes.contains("not a git repository"),
        "{}",
        show.stdout
    );
    run_lanes(&ws);
    let (_, most) = overlaps(&marks(&ws));
    assert_eq!(most, 1, "{}", agent_log(&ws));
    for id in ["t1", "t2"] {
        assert!(
            exists(&ws, &format!("tasks/done/{id}.md")),
            "{}",
            monitor(&ws)
        );
    }
    assert!(!ws.path("lanes").join("t1").exists());
}

/// Every run trace of the workspace with what differs between two runs of
/// the same work (run and request ids, paths under the run) blanked, by
/// task.
fn traces(ws: &TestWorkspace) -> BTreeMap<String, serde_json::Value> {
    let mut all = BTreeMap::new();
    for run in std::fs::read_dir(ws.path("runs")).expect("runs").flatten() {
        let Ok(text) = std::fs::read_to_string(run.path().join("run_trace.json")) else {
            continue;
        };
        let mut trace: serde_json::Value = serde_json::from_str(&text).expect("a trace");
        trace["run_id"] = serde_json::Value::Null;
        for node in trace["nodes"].as_array_mut().into_iter().flatten() {
            node["request_id"] = serde_json::Value::Null;
            node["result_path"] = serde_json::Value::Null;
        }
        let task = trace["work_item_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        all.insert(task, trace);
    }
    all
}

fn plan_id(ws: &TestWorkspace) -> String {
    let show = ws.run(&["compile", "show"]).ok();
    show.value("plan_id").expect("a plan id").to_string()
}

#[test]
fn one_lane_runs_as_before_lanes() {
    let plain = "mode lanes_test extends default_codex {\n  runner command\n  timeout 120\n}\n";
    let one = plain.replace("timeout 120\n", "timeout 120\n  lanes execution 1\n");
    let run = |mode: &str, lanes: Option<u64>| {
        let ws = TestWorkspace::empty();
        repo::init_repo(ws.root()).expect("a git repository");
        ws.run(&["init"]).ok();
        repo::configure(&ws.agents(), Some(mode), lanes, &[]).expect("configuration");
        queue_independent(&ws, &["t1", "t2"]);
        run_lanes(&ws);
        ws
    };
    let before = run(plain, None);
    let after = run(&one, Some(1));
    assert_eq!(plan_id(&before), plan_id(&after));
    assert_eq!(traces(&before).len(), 2);
    assert_eq!(traces(&before), traces(&after));
    // What one lane walks, kept: the plan id aside (it follows every
    // change to the shipped assets).
    let mut walked = traces(&after);
    for trace in walked.values_mut() {
        trace["plan_id"] = serde_json::Value::Null;
    }
    insta::assert_json_snapshot!("one_lane_traces", walked);
    for ws in [&before, &after] {
        // No gate: the builder's own commits are main's, made in the checkout.
        let commits = subjects(ws.root());
        assert_eq!(commits, ["init", "t1 builder", "t2 builder"]);
        assert_eq!(
            repo::leftovers(ws.root()).expect("git"),
            Vec::<String>::new()
        );
    }
}

#[test]
fn retry_active_on_one_lane_is_applied_while_another_lane_runs_a_long_stage() {
    let millrace = env!("CARGO_BIN_EXE_millrace");
    let env = [
        ("LANES_AGENT_SLOW", "slow:6"),
        ("LANES_AGENT_RETRY", "quick"),
        ("LANES_AGENT_MILLRACE", millrace),
    ];
    let ws = lanes_workspace(2, &env);
    queue_independent(&ws, &["slow", "quick"]);
    run_lanes(&ws);
    let builds = marks(&ws)
        .iter()
        .filter(|m| m.start && m.task == "quick" && m.stage == "builder")
        .count();
    assert_eq!(
        builds,
        2,
        "quick is built again after its retry\n{}",
        monitor(&ws)
    );
    all_landed(&ws, &owned(&["slow", "quick"]));
}

/// A task id that cannot name a branch never will: the task is blocked at
/// once with the reason, without spending transient retries, and the
/// other lane's task lands.
#[test]
fn a_task_whose_id_cannot_name_a_branch_is_blocked_at_once() {
    let ws = lanes_workspace(2, &[]);
    queue_independent(&ws, &["t.lock", "t2"]);
    run_lanes(&ws);
    assert!(
        ws.path("tasks/done/t2.md").is_file(),
        "{}\n{}\n{}",
        ws.read("logs/monitor.log"),
        ws.run(&["queue", "ls"]).stdout,
        ws.run(&["status"]).stdout
    );
    assert!(
        ws.path("tasks/blocked/t.lock.md").is_file(),
        "{}",
        failed_stages(&ws)
    );
    let results = all_results(&ws.path("runs"));
    let lane: Vec<_> = results
        .iter()
        .filter(|r| {
            r["failure_class"]
                .as_str()
                .is_some_and(|c| c.starts_with("lane_"))
        })
        .collect();
    // builder, troubleshooter twice (its budget), consultant: no retries.
    assert_eq!(lane.len(), 4, "{}", failed_stages(&ws));
    for result in lane {
        assert_eq!(result["failure_class"], "lane_worktree_invalid", "{result}");
        let message = result["failure_message"].as_str().unwrap_or_default();
        assert!(message.contains("cannot name a branch"), "{message}");
    }
}

/// Runs one tick with `lanes` lanes: t1 is left active between stages.
fn leave_t1_active(lanes: u64) -> TestWorkspace {
    let ws = lanes_workspace(lanes, &[]);
    queue_independent(&ws, &["t1"]);
    let log = ws.path("logs/monitor.log");
    let log = log.to_str().expect("utf8 path");
    ws.run(&["run", "daemon", "--max-ticks", "1", "--monitor-log", log])
        .ok();
    assert!(
        ws.path("tasks/active/t1.md").is_file(),
        "{}",
        ws.read("logs/monitor.log")
    );
    ws
}

/// Runs one tick with two lanes: t1's builder commits in its lane, and t1
/// is left between stages, its branch kept.
fn leave_t1_in_its_lane() -> TestWorkspace {
    let ws = leave_t1_active(2);
    let branches = git(ws.root(), &["branch", "--list", "millrace/*"]).expect("git branch");
    assert!(
        branches.contains("millrace/t1"),
        "no lane branch: {branches}"
    );
    ws
}

/// A restart with one lane (here `[lanes] execution = 1`) while a task is
/// between stages in its lane: its lane's work is merged into the main
/// checkout first, and the task goes on there. Before, it went on without
/// its builder's work, which stayed on a branch nothing merged.
#[test]
fn a_restart_with_one_lane_brings_a_lane_task_home_with_its_work() {
    let ws = leave_t1_in_its_lane();
    repo::configure(&ws.agents(), None, Some(1), &[]).expect("configuration");
    run_lanes(&ws);
    let monitor = ws.read("logs/monitor.log");
    assert!(ws.path("tasks/done/t1.md").is_file(), "{monitor}");
    assert!(monitor.contains("t1's lane work merged"), "{monitor}");
    assert!(
        ws.root().join("out/t1.txt").is_file(),
        "the builder's work is not on main"
    );
    assert_eq!(
        subjects(ws.root())
            .iter()
            .filter(|s| s.starts_with("t1:"))
            .count(),
        1
    );
    let branches = git(ws.root(), &["branch", "--list", "millrace/*"]).expect("git branch");
    assert_eq!(branches.trim(), "", "lane branches left");
}

/// Bringing a lane home that conflicts with the main checkout keeps the
/// branch, says why, and the task goes on there without it.
#[test]
fn a_lane_that_cannot_come_home_keeps_its_branch_and_says_why() {
    let ws = leave_t1_in_its_lane();
    std::fs::create_dir_all(ws.root().join("out")).expect("out");
    std::fs::write(ws.root().join("out/t1.txt"), "theirs\n").expect("write");
    git(ws.root(), &["add", "out/t1.txt"]).expect("git add");
    let commit = [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "theirs",
    ];
    git(ws.root(), &commit).expect("git commit");
    restart_with_one_lane_keeping_t1(&ws, "conflicts");
}

/// Restarts with one lane: t1 finishes in the main checkout, its lane
/// branch is kept and the monitor says why (`why` in the reason).
fn restart_with_one_lane_keeping_t1(ws: &TestWorkspace, why: &str) {
    repo::configure(&ws.agents(), None, Some(1), &[]).expect("configuration");
    run_lanes(ws);
    let monitor = ws.read("logs/monitor.log");
    assert!(ws.path("tasks/done/t1.md").is_file(), "{monitor}");
    assert!(
        monitor.contains("lane branch millrace/t1 is kept") && monitor.contains(why),
        "{monitor}"
    );
    let branches = git(ws.root(), &["branch", "--list", "millrace/*"]).expect("git branch");
    assert!(branches.contains("millrace/t1"), "the branch was lost");
}

/// With HEAD detached in the main checkout there is no branch to bring a
/// lane home to: the task went on there without its work, and nothing said
/// so. Now its branch is kept and the monitor says why.
#[test]
fn a_lane_that_cannot_come_home_to_a_detached_head_says_why() {
    let ws = leave_t1_in_its_lane();
    git(ws.root(), &["checkout", "-q", "--detach"]).expect("detach");
    restart_with_one_lane_keeping_t1(&ws, "detached HEAD");
}

/// One lane as before lanes: a restart with a task active asks git for
/// nothing and makes no lanes folder.
#[test]
fn a_one_lane_restart_with_an_active_task_makes_no_lanes_folder() {
    let ws = leave_t1_active(1);
    run_lanes(&ws);
    assert!(
        ws.path("tasks/done/t1.md").is_file(),
        "{}",
        ws.read("logs/monitor.log")
    );
    assert!(
        !ws.agents().join("lanes").exists(),
        "a lanes folder was made"
    );
}
