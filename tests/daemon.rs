//! The daemon end to end, through the real binary, with the `script` and
//! `command` runners playing the agents.

use std::path::Path;

use crate::support::{Run, TestWorkspace};

/// A task document with optional dependencies.
pub fn task(id: &str, depends_on: &[&str]) -> String {
    let deps = if depends_on.is_empty() {
        String::new()
    } else {
        format!(
            "\nDepends-On:\n{}\n",
            depends_on
                .iter()
                .map(|d| format!("- {d}\n"))
                .collect::<String>()
        )
    };
    format!(
        "# Task {id}\n\nTask-ID: {id}\nTitle: Task {id}\nCreated-At: 2026-01-01T00:00:00Z\nCreated-By: test\n\n\
Target-Paths:\n- {id}.txt\n\nAcceptance:\n- {id}.txt exists\n\nRequired-Checks:\n- test -f {id}.txt\n\n\
References:\n- none\n\nRisk:\n- low\n{deps}"
    )
}

/// A workspace whose mode `test` plays every stage with the script runner.
pub fn scripted(script: &str) -> TestWorkspace {
    let ws = TestWorkspace::new();
    ws.write(
        "modes/test.loop",
        "mode test extends learning_codex {\n  runner script\n  timeout 30\n}\n",
    );
    ws.write("script.toml", script);
    ws
}

pub fn enqueue(ws: &TestWorkspace, id: &str, depends_on: &[&str]) {
    ws.write(&format!("tasks/queue/{id}.md"), &task(id, depends_on));
}

/// Runs the daemon in mode `test` until idle, with a monitor log.
pub fn run_until_idle(ws: &TestWorkspace) -> Run {
    let args = until_idle_args(ws);
    ws.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .ok()
}

/// `run daemon --mode test --until-idle --monitor-log <logs/monitor.log>`.
pub fn until_idle_args(ws: &TestWorkspace) -> Vec<String> {
    let log = ws.path("logs/monitor.log").display().to_string();
    [
        "run",
        "daemon",
        "--mode",
        "test",
        "--until-idle",
        "--monitor-log",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([log])
    .collect()
}

pub fn monitor(ws: &TestWorkspace) -> String {
    ws.read("logs/monitor.log")
}

pub fn exists(ws: &TestWorkspace, relative: &str) -> bool {
    ws.path(relative).is_file()
}

/// Stage outcomes of the run that handled `id`, in order.
pub fn outcomes_of(ws: &TestWorkspace, id: &str) -> Vec<String> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(ws.path("runs"))
        .expect("runs dir")
        .flatten()
    {
        let Ok(text) = std::fs::read_to_string(entry.path().join("run_trace.json")) else {
            continue;
        };
        let trace: serde_json::Value = serde_json::from_str(&text).expect("trace is JSON");
        if trace["work_item_id"] == id {
            for node in trace["nodes"].as_array().into_iter().flatten() {
                all.push(format!(
                    "{} {}",
                    node["node"].as_str().unwrap_or(""),
                    node["outcome"].as_str().unwrap_or("")
                ));
            }
        }
    }
    all
}

fn count_stage_results(ws: &TestWorkspace) -> usize {
    let mut n = 0;
    for run in std::fs::read_dir(ws.path("runs")).expect("runs").flatten() {
        n += std::fs::read_dir(run.path().join("stage_results"))
            .map(|d| d.count())
            .unwrap_or(0);
    }
    n
}

#[test]
fn a_task_goes_builder_checker_updater_done() {
    let ws = scripted("");
    enqueue(&ws, "t1", &[]);
    let run = run_until_idle(&ws);
    assert_eq!(run.value("active_mode_id"), Some("test"));
    assert!(exists(&ws, "tasks/done/t1.md"), "{}", monitor(&ws));
    assert_eq!(
        outcomes_of(&ws, "t1"),
        [
            "builder BUILDER_COMPLETE",
            "checker CHECKER_PASS",
            "updater UPDATE_COMPLETE"
        ]
    );
    assert_eq!(
        ws.read("state/execution_status.md").trim(),
        "### UPDATE_COMPLETE"
    );
    let journal = ws.read("logs/runtime_events.jsonl");
    for event in [
        "runtime_started",
        "stage_started",
        "stage_completed",
        "router_decision",
        "runtime_closed",
    ] {
        assert!(
            journal.contains(&format!("\"event_type\":\"{event}\"")),
            "{event} missing"
        );
    }
    assert!(
        !exists(&ws, "state/runtime_daemon.lock.json"),
        "the lock is released"
    );
}

#[test]
fn a_fix_cycle_goes_through_fixer_and_doublechecker() {
    let ws = scripted("[[step]]\nnode = \"checker\"\noutcomes = [\"FIX_NEEDED\"]\n");
    enqueue(&ws, "t1", &[]);
    run_until_idle(&ws);
    let trail = outcomes_of(&ws, "t1");
    assert_eq!(
        &trail[..5],
        [
            "builder BUILDER_COMPLETE",
            "checker FIX_NEEDED",
            "fixer FIXER_COMPLETE",
            "doublechecker DOUBLECHECK_PASS",
            "updater UPDATE_COMPLETE"
        ]
    );
    assert!(exists(&ws, "tasks/done/t1.md"));
}

#[test]
fn dependencies_wait_for_their_task() {
    let ws = scripted("");
    enqueue(&ws, "later", &["first"]);
    ws.write(
        "tasks/queue/first.md",
        &task("first", &[]).replace("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
    );
    run_until_idle(&ws);
    let log = monitor(&ws);
    let first = log.find("work=task:first").expect("first ran");
    let later = log.find("work=task:later").expect("later ran");
    assert!(first < later, "{log}");
}

#[test]
fn a_checker_that_never_passes_ends_blocked_within_max_stage_runs() {
    let ws = scripted(
        "[[step]]\nnode = \"checker\"\noutcomes = [\"FIX_NEEDED\"]\n\n[[step]]\nnode = \"doublechecker\"\noutcomes = [\"FIX_NEEDED\"]\n\n[[step]]\nnode = \"consultant\"\noutcomes = [\"CONSULT_COMPLETE\"]\n",
    );
    enqueue(&ws, "stubborn", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/blocked/stubborn.md"), "{}", monitor(&ws));
    let trail = outcomes_of(&ws, "stubborn");
    let show = ws.run(&["compile", "show", "--mode", "test"]).ok();
    let bound: usize = show
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("max_stage_runs: execution "))
        .and_then(|n| n.parse().ok())
        .expect("bound");
    assert!(
        trail.len() <= bound,
        "{} stages > bound {bound}",
        trail.len()
    );
    assert!(
        trail.iter().any(|s| s.starts_with("troubleshooter")),
        "troubleshooter ran: {trail:?}"
    );
    assert_eq!(
        trail.iter().filter(|s| s.starts_with("consultant")).count(),
        3,
        "{trail:?}"
    );
    assert_eq!(
        trail.last().map(String::as_str),
        Some("consultant CONSULT_COMPLETE")
    );
}

#[test]
fn a_consultant_handoff_goes_through_planning() {
    let planner = "[[step]]\nnode = \"planner\"\noutcomes = [\"PLANNER_COMPLETE\"]\n[[step.writes]]\npath = \"{run_dir}/planner_disposition.json\"\ncontent = '{\"source_work_item_family_id\": \"incident\", \"source_work_item_id\": \"{work_item_id}\", \"disposition\": \"active_source_ready_for_manager\", \"emitted_spec_ids\": []}'\n";
    let script = format!(
        "[[step]]\nnode = \"builder\"\noutcomes = [\"BLOCKED\"]\n\n[[step]]\nnode = \"troubleshooter\"\noutcomes = [\"BLOCKED\"]\n\n[[step]]\nnode = \"consultant\"\noutcomes = [\"NEEDS_PLANNING\"]\n\n{planner}"
    );
    let ws = scripted(&script);
    enqueue(&ws, "hard", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/blocked/hard.md"));
    let resolved: Vec<String> = std::fs::read_dir(ws.path("incidents/resolved"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(resolved.len(), 1, "{}", monitor(&ws));
    assert!(resolved[0].starts_with("incident-hard-"));
    let incident = std::fs::read_to_string(ws.path("incidents/resolved").join(&resolved[0]))
        .expect("incident");
    assert!(
        incident.contains("Source-Task-ID: hard") && incident.contains("Severity: high"),
        "{incident}"
    );
    let log = monitor(&ws);
    for stage in ["planning/auditor", "planning/planner", "planning/manager"] {
        assert!(
            log.contains(&format!("stage start {stage}")),
            "{stage}:\n{log}"
        );
    }
}

#[test]
fn an_idea_becomes_a_spec_tasks_and_a_closed_closure_target() {
    let script = include_str!("../assets/demo/script.toml");
    let ws = scripted(script);
    std::fs::write(
        ws.root().join("ideas/inbox/greeting.md"),
        "# Greeting\n\nWrite a greeting.\n",
    )
    .expect("idea");
    run_until_idle(&ws);
    assert!(
        exists(&ws, "specs/done/idea-greeting.md"),
        "{}",
        monitor(&ws)
    );
    assert!(exists(&ws, "tasks/done/idea-greeting-task-1.md"));
    let target: serde_json::Value =
        serde_json::from_str(&ws.read("arbiter/targets/idea-greeting.json")).expect("target");
    assert_eq!(target["closure_open"], false);
    assert!(exists(&ws, "arbiter/verdicts/idea-greeting.json"));
    assert!(exists(&ws, "arbiter/contracts/root-specs/idea-greeting.md"));
    assert!(exists(&ws, "arbiter/contracts/ideas/idea-greeting.md"));
    let log = monitor(&ws);
    assert!(
        log.find("stage start planning/arbiter")
            .expect("arbiter ran")
            > log
                .find("work=task:idea-greeting-task-1")
                .expect("task ran")
    );
}

#[test]
fn a_learning_stage_runs_beside_execution() {
    let ws = scripted(
        "[[step]]\nnode = \"checker\"\noutcomes = [\"FIX_NEEDED\"]\n\n[[step]]\nnode = \"analyst\"\ndelay_ms = 300\n\n[[step]]\nnode = \"updater\"\ndelay_ms = 300\n",
    );
    enqueue(&ws, "t1", &[]);
    run_until_idle(&ws);
    let log = monitor(&ws);
    let analyst = log
        .find("stage start learning/analyst")
        .expect("analyst ran");
    let updater_done = log
        .find("stage done execution/updater")
        .expect("updater ran");
    assert!(
        analyst < updater_done,
        "learning ran beside execution:\n{log}"
    );
    assert_eq!(count_stage_results(&ws), 5 + 3);
}

#[test]
fn an_illegal_marker_becomes_blocked_with_its_class() {
    let ws = scripted(
        "[[step]]\nnode = \"builder\"\noutcomes = [\"SHIPPED_IT\"]\n\n[[step]]\nnode = \"troubleshooter\"\noutcomes = [\"BLOCKED\"]\n\n[[step]]\nnode = \"consultant\"\noutcomes = [\"BLOCKED\"]\n",
    );
    enqueue(&ws, "t1", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/blocked/t1.md"));
    let results = all_results(&ws.path("runs"));
    assert!(results.iter().any(|r| r["node"] == "builder"
        && r["outcome"] == "BLOCKED"
        && r["failure_class"] == "illegal_terminal_result"));
}

pub fn all_results(runs: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for run in std::fs::read_dir(runs).expect("runs").flatten() {
        for result in std::fs::read_dir(run.path().join("stage_results"))
            .into_iter()
            .flatten()
            .flatten()
        {
            // A crash can leave the temp file of an atomic write (`.tmp-*`).
            if result.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let text = std::fs::read_to_string(result.path()).expect("result");
            let parsed = serde_json::from_str(&text);
            out.push(parsed.unwrap_or_else(|e| panic!("{}: {e}", result.path().display())));
        }
    }
    out
}

/// A workspace whose mode `cmd` runs every stage through `program`.
pub fn commanded(program: &str, timeout: &str) -> TestWorkspace {
    let ws = TestWorkspace::new();
    ws.write(
        "modes/cmd.loop",
        &format!("mode cmd extends default_codex {{\n  runner command\n  timeout {timeout}\n}}\n"),
    );
    let script = ws.root().join("agent.sh");
    std::fs::write(&script, program).expect("script");
    let config = format!(
        "[runtime]\ndefault_mode = \"cmd\"\n\n[runners.command]\ncommand = \"bash\"\nargs = [\"{}\"]\n",
        script.display()
    );
    ws.write("millrace.toml", &config);
    ws
}

/// Runs the daemon in mode `cmd` until idle, with a monitor log.
pub fn run_cmd_mode(ws: &TestWorkspace) -> Run {
    let log = ws.path("logs/monitor.log");
    ws.run(&[
        "run",
        "daemon",
        "--mode",
        "cmd",
        "--until-idle",
        "--monitor-log",
        log.to_str().expect("utf8"),
    ])
    .ok()
}

#[test]
fn the_command_runner_drives_a_task_and_bad_answers_are_classified() {
    let program = r####"#!/bin/bash
read -r -d '' prompt
first=$(echo "$MILLRACE_LEGAL_OUTCOMES" | cut -d' ' -f1)
case "$MILLRACE_WORK_ITEM_ID:$MILLRACE_STAGE" in
  silent:builder) echo "I did some work but forgot the marker" ;;
  twice:builder) printf '### BUILDER_COMPLETE\n### BLOCKED\n' ;;
  *:troubleshooter|*:consultant) echo "### BLOCKED" ;;
  *) echo "working on $MILLRACE_WORK_ITEM_ID in $MILLRACE_RUN_DIR"; echo "### $first" ;;
esac
"####;
    let ws = commanded(program, "30");
    enqueue(&ws, "fine", &[]);
    enqueue(&ws, "silent", &[]);
    enqueue(&ws, "twice", &[]);
    run_cmd_mode(&ws);
    assert!(exists(&ws, "tasks/done/fine.md"), "{}", monitor(&ws));
    assert!(exists(&ws, "tasks/blocked/silent.md"));
    assert!(exists(&ws, "tasks/blocked/twice.md"));
    let results = all_results(&ws.path("runs"));
    let class_of = |id: &str| {
        results
            .iter()
            .find(|r| r["work_item_id"] == id && r["node"] == "builder")
            .map(|r| r["failure_class"].clone())
    };
    assert_eq!(
        class_of("silent"),
        Some(serde_json::json!("missing_terminal_result"))
    );
    assert_eq!(
        class_of("twice"),
        Some(serde_json::json!("conflicting_terminal_results"))
    );
}

/// An error that ends the daemon is its stop reason, with its message, on
/// the monitor and in the journal: an operator must not read `finished`.
#[test]
fn a_fatal_error_is_the_stop_reason() {
    // The builder makes its run's stage result folder a file: the daemon
    // cannot record the stage, and stops.
    let program = "#!/bin/bash\nread -r -d '' prompt\nrm -rf \"$MILLRACE_RUN_DIR/stage_results\"\n\
echo no > \"$MILLRACE_RUN_DIR/stage_results\"\necho '### BUILDER_COMPLETE'\n";
    let ws = commanded(program, "30");
    enqueue(&ws, "t1", &[]);
    let log = ws.path("logs/monitor.log");
    let log = log.to_str().expect("utf8");
    let args = ["run", "daemon", "--until-idle", "--monitor-log", log];
    let run = ws.run(&args).fails(1);
    assert!(run.stderr.contains("stage result"), "{}", run.stderr);
    let log = monitor(&ws);
    let stopped = log
        .lines()
        .find(|l| l.contains("stopped reason="))
        .unwrap_or_else(|| panic!("no stop line:\n{log}"));
    assert!(stopped.contains("stopped reason=error "), "{stopped}");
    assert!(stopped.contains("error=write stage result"), "{stopped}");
    let journal = ws.read("logs/runtime_events.jsonl");
    let closed = journal
        .lines()
        .rfind(|l| l.contains("runtime_closed"))
        .expect("a runtime_closed event");
    let closed: serde_json::Value = serde_json::from_str(closed).expect("JSON");
    assert_eq!(closed["data"]["reason"], "error", "{closed}");
    let error = closed["data"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("stage result"), "{closed}");
}

#[test]
fn a_runner_past_its_timeout_is_killed_with_its_process_group() {
    let program = "#!/bin/bash\ncase \"$MILLRACE_STAGE\" in\n  builder) sleep 600 & sleep 600 ;;\n  *) echo '### BLOCKED' ;;\nesac\n";
    let ws = commanded(program, "1");
    enqueue(&ws, "slow", &[]);
    run_cmd_mode(&ws);
    let results = all_results(&ws.path("runs"));
    assert!(
        results
            .iter()
            .any(|r| r["node"] == "builder" && r["failure_class"] == "runner_timeout"),
        "{results:?}"
    );
    assert!(exists(&ws, "tasks/blocked/slow.md"));
    let sleeping = std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("cmdline"))
                .is_ok_and(|c| c.starts_with("sleep\u{0}600"))
                && std::fs::read_to_string(e.path().join("environ"))
                    .is_ok_and(|env| env.contains(&ws.root().display().to_string()))
        });
    assert_eq!(
        sleeping.count(),
        0,
        "a child of the timed-out stage survived"
    );
}

#[test]
fn max_ticks_stops_after_the_stage_in_flight_and_the_next_run_resumes() {
    let ws = scripted("");
    enqueue(&ws, "t1", &[]);
    let run = ws
        .run(&["run", "daemon", "--mode", "test", "--max-ticks", "1"])
        .ok();
    assert_eq!(run.value("ticks"), Some("1"));
    assert!(
        exists(&ws, "tasks/active/t1.md"),
        "the task waits in active for its next stage"
    );
    assert_eq!(outcomes_of(&ws, "t1"), ["builder BUILDER_COMPLETE"]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/done/t1.md"));
    assert!(monitor(&ws).contains("resumed active execution/checker"));
    assert_eq!(outcomes_of(&ws, "t1").len(), 3);
}

/// Writes `relative` with a modification time an hour ago.
fn write_aged(ws: &TestWorkspace, relative: &str) {
    ws.write(relative, "half of a write");
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let file = std::fs::File::options()
        .write(true)
        .open(ws.path(relative))
        .expect("open");
    file.set_modified(hour_ago).expect("set mtime");
}

#[test]
fn temp_files_left_by_killed_writes_are_swept_at_start() {
    let ws = scripted("");
    enqueue(&ws, "t1", &[]);
    ws.run(&["run", "daemon", "--mode", "test", "--max-ticks", "1"])
        .ok();
    let snapshot: serde_json::Value =
        serde_json::from_str(&ws.read("state/runtime_snapshot.json")).expect("snapshot");
    let run_id = snapshot["active_runs"]["execution"]["run_id"]
        .as_str()
        .expect("a run in flight");
    let left = [
        "state/.tmp-a1".to_string(),
        "tasks/queue/.tmp-b2".to_string(),
        format!("runs/{run_id}/.tmp-c3"),
    ];
    for relative in &left {
        write_aged(&ws, relative);
    }
    // Young: perhaps another process's write in progress.
    ws.write("state/.tmp-young", "being written");
    run_until_idle(&ws);
    for relative in &left {
        assert!(!ws.path(relative).exists(), "{relative} was left");
    }
    assert!(ws.path("state/.tmp-young").exists());
    assert!(monitor(&ws).contains("removed 3 temp file(s)"));
    assert!(exists(&ws, "tasks/done/t1.md"));
}

#[test]
fn a_second_daemon_is_refused_while_the_first_holds_the_lock() {
    let ws = scripted("[[step]]\nnode = \"builder\"\ndelay_ms = 3000\n");
    enqueue(&ws, "t1", &[]);
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_millrace"))
        .args([
            "run",
            "daemon",
            "--mode",
            "test",
            "--until-idle",
            "--workspace",
        ])
        .arg(ws.root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let lock = ws.path("state/runtime_daemon.lock.json");
    for _ in 0..200 {
        if lock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = ws
        .run(&["run", "daemon", "--mode", "test", "--until-idle"])
        .fails(1);
    assert!(second.stderr.contains("pid="), "{}", second.stderr);
    assert!(first.wait().expect("wait").success());
}

#[test]
fn runs_commands_show_what_each_run_did() {
    let ws = scripted(
        "[[step]]\nnode = \"checker\"\noutcomes = [\"FIX_NEEDED\"]\nmessage = \"Needs a newline.\"\ntokens = { input = 7, output = 3 }\n",
    );
    enqueue(&ws, "t1", &[]);
    run_until_idle(&ws);
    let ls = ws.run(&["runs", "ls"]).ok();
    assert_eq!(ls.value("runs"), Some("2"), "{}", ls.stdout);
    assert!(ls.stdout.contains("work_item: task:t1\n"));
    let run_id = ls
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("run_id: "))
        .find(|id| {
            std::fs::read_to_string(ws.path(&format!("runs/{id}/run_trace.json")))
                .is_ok_and(|t| t.contains("\"t1\""))
        });
    let run_id = run_id.expect("the task's run");
    let short = &run_id["run-".len().."run-".len() + 8];
    let show = ws.run(&["runs", "show", short]).ok();
    assert!(show.stdout.contains("stage: checker\n"), "{}", show.stdout);
    assert!(
        show.stdout
            .contains("  tokens: input=7 cached=0 output=3 thinking=0 total=10\n"),
        "{}",
        show.stdout
    );
    let trace = ws.run(&["runs", "trace", short]).ok();
    assert!(
        trace
            .stdout
            .contains("checker FIX_NEEDED -> fixer (outcome FIX_NEEDED; fix_cycles 1/2)"),
        "{}",
        trace.stdout
    );
    let out = ws.root().join("trace.json");
    ws.run(&[
        "runs",
        "trace",
        run_id,
        "--format",
        "json",
        "--output",
        out.to_str().expect("utf8"),
    ])
    .ok();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!(json["status"], "update_complete");
    assert_eq!(json["edges"].as_array().map(Vec::len), Some(5));
    let tail = ws.run(&["runs", "tail", short]).ok();
    assert!(
        tail.stdout.contains("### UPDATE_COMPLETE"),
        "{}",
        tail.stdout
    );
    ws.run(&["runs", "show", "run-nope"]).fails(1);
}
