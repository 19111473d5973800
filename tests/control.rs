//! Control commands and operator interventions through the real binary:
//! direct mode on hand-made queue and snapshot state, every refusal, and
//! mailbox mode under a live ownership lock.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{Run, TestWorkspace};

// ---------------------------------------------------------------- helpers

fn task_text(id: &str, depends_on: &[&str]) -> String {
    let mut text = format!(
        "# Task {id}\n\nTask-ID: {id}\nCreated-At: 2026-01-01T00:00:00Z\nCreated-By: test\n"
    );
    for list in [
        "Target-Paths",
        "Acceptance",
        "Required-Checks",
        "References",
        "Risk",
    ] {
        text.push_str(&format!("\n{list}:\n- x\n"));
    }
    if !depends_on.is_empty() {
        text.push_str("\nDepends-On:\n");
        for dep in depends_on {
            text.push_str(&format!("- {dep}\n"));
        }
    }
    text
}

/// The canonical rendering of a task document.
fn canonical(text: &str) -> String {
    let family = millrace::workspace::Family::Task;
    millrace::workspace::documents::parse_markdown(family, std::path::Path::new("t.md"), text)
        .expect("task parses")
        .render()
}

fn spec_text(id: &str) -> String {
    format!(
        "# S\n\nSpec-ID: {id}\nSummary: s\nSource-Type: manual\nCreated-At: 2026-01-01T00:00:00Z\nCreated-By: t\n\nGoals:\n- g\n\nConstraints:\n- c\n\nAcceptance:\n- a\n\nReferences:\n- r\n"
    )
}

fn incident_text(id: &str) -> String {
    format!(
        "# I\n\nIncident-ID: {id}\nSummary: s\nSource-Stage: checker\nSource-Plane: execution\nFailure-Class: f\nTrigger-Reason: t\nConsultant-Decision: needs_planning\nOpened-At: 2026-01-01T00:00:00Z\nOpened-By: t\n"
    )
}

/// Writes task `id` into `tasks/<dir>/`.
fn put_task(ws: &TestWorkspace, dir: &str, id: &str, depends_on: &[&str]) {
    ws.write(&format!("tasks/{dir}/{id}.md"), &task_text(id, depends_on));
}

fn exists(ws: &TestWorkspace, relative: &str) -> bool {
    ws.path(relative).is_file()
}

/// The files of a directory (names), sorted; empty when missing.
fn files(ws: &TestWorkspace, relative: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(ws.path(relative)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The JSON lines of a file.
fn jsonl(ws: &TestWorkspace, relative: &str) -> Vec<Value> {
    ws.read(relative)
        .lines()
        .map(|line| serde_json::from_str(line).expect("json line"))
        .collect()
}

fn events(ws: &TestWorkspace) -> Vec<String> {
    let path = ws.path("logs/runtime_events.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|v| v["event_type"].as_str().map(str::to_string))
        .collect()
}

fn snapshot(ws: &TestWorkspace) -> Value {
    serde_json::from_str(&ws.read("state/runtime_snapshot.json")).expect("snapshot json")
}

fn write_snapshot(ws: &TestWorkspace, fields: Value) {
    let mut value = json!({"schema_version": "1.0", "kind": "runtime_snapshot"});
    if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), fields) {
        target.extend(extra);
    }
    ws.write("state/runtime_snapshot.json", &value.to_string());
}

/// A snapshot whose `plane` is running `node` on `family` item `id`.
fn run_on(plane: &str, family: &str, id: &str) -> Value {
    json!({
        plane: {
            "run_id": format!("run-{id}"),
            "node": "builder",
            "stage": "builder",
            "work_item": {"family": family, "id": id},
            "started_at": "2026-01-01T00:00:00Z"
        }
    })
}

fn write_lock(ws: &TestWorkspace, pid: u32) {
    let record = json!({
        "workspace_root": ws.root(),
        "owner_pid": pid,
        "owner_hostname": millrace::workspace::lock::hostname(),
        "owner_session_id": "test-session",
        "boot_id": millrace::workspace::lock::current_boot_id(),
        "acquired_at": "2026-01-01T00:00:00Z",
    });
    ws.write("state/runtime_daemon.lock.json", &record.to_string());
}

/// A lock naming this test process: alive, so the workspace has a live daemon.
fn live_lock(ws: &TestWorkspace) {
    write_lock(ws, std::process::id());
}

/// A pid that just exited.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[track_caller]
fn applied(run: &Run, action: &str, applied: bool) {
    assert_eq!(run.value("action"), Some(action), "{}", run.stdout);
    assert_eq!(run.value("mode"), Some("direct"), "{}", run.stdout);
    assert_eq!(
        run.value("applied"),
        Some(if applied { "true" } else { "false" }),
        "{}",
        run.stdout
    );
}

fn detail(run: &Run) -> &str {
    run.value("detail").unwrap_or_default()
}

/// `<id>.<YYYYmmddTHHMMSSZ>.<hex8>.<state>.md`.
#[track_caller]
fn assert_archive_name(name: &str, id: &str, state: &str) {
    let rest = name
        .strip_prefix(&format!("{id}."))
        .and_then(|r| r.strip_suffix(&format!(".{state}.md")))
        .unwrap_or_else(|| panic!("archive name {name}"));
    let (stamp, hex) = rest.split_once('.').expect("stamp.hex");
    assert_eq!(stamp.len(), 16, "{stamp}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "{stamp}"
    );
    assert_eq!(hex.len(), 8, "{hex}");
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{hex}");
}

// ---------------------------------------------------------------- controls

#[test]
fn pause_and_resume_edit_the_operator_pause_source() {
    let ws = TestWorkspace::new();
    let run = ws.run(&["pause"]).ok();
    applied(&run, "pause", true);
    assert_eq!(detail(&run), "runtime paused");
    let snap = snapshot(&ws);
    assert_eq!(snap["paused"], true);
    assert_eq!(snap["pause_sources"], json!(["operator"]));
    let run = ws.run(&["control", "resume"]).ok();
    applied(&run, "resume", true);
    let snap = snapshot(&ws);
    assert_eq!(snap["paused"], false);
    assert_eq!(snap["pause_sources"], json!([]));
    let journal = events(&ws);
    assert_eq!(
        journal,
        ["runtime_control_applied", "runtime_control_applied"]
    );
}

#[test]
fn resume_is_refused_while_usage_governance_pauses() {
    let ws = TestWorkspace::new();
    write_snapshot(
        &ws,
        json!({"paused": true, "pause_sources": ["operator", "usage_governance"]}),
    );
    let run = ws.run(&["resume"]).ok();
    applied(&run, "resume", false);
    assert!(detail(&run).contains("blocked by usage governance"));
    let snap = snapshot(&ws);
    assert_eq!(snap["pause_sources"], json!(["usage_governance"]));
    assert_eq!(snap["paused"], true);
}

#[test]
fn stop_without_a_daemon_marks_the_runtime_stopped_and_keeps_pending_runs() {
    let ws = TestWorkspace::new();
    write_snapshot(
        &ws,
        json!({"process_running": true, "stop_requested": true,
               "active_runs": run_on("execution", "task", "t1")}),
    );
    let run = ws.run(&["stop"]).ok();
    applied(&run, "stop", true);
    let snap = snapshot(&ws);
    assert_eq!(snap["process_running"], false);
    assert_eq!(snap["stop_requested"], false);
    assert!(snap["active_runs"]["execution"].is_object());
}

#[test]
fn reload_config_recompiles_or_keeps_the_previous_plan() {
    let ws = TestWorkspace::new();
    let run = ws.run(&["reload-config"]).ok();
    applied(&run, "reload_config", true);
    let plan_id = detail(&run)
        .strip_prefix("reload applied plan ")
        .expect("plan id")
        .to_string();
    assert!(ws.read("state/compiled_plan.json").contains(&plan_id));
    assert!(events(&ws).contains(&"runtime_config_reloaded".to_string()));
    let config = ws.read("millrace.toml");
    let broken = config.replace("\"default_codex\"", "\"no_such_mode\"");
    assert_ne!(broken, config);
    ws.write("millrace.toml", &broken);
    let run = ws.run(&["control", "reload-config"]).fails(1);
    applied(&run, "reload_config", false);
    assert!(detail(&run).starts_with("reload failed:"), "{}", run.stdout);
    assert!(run.stderr.contains("error:"));
    assert!(ws.read("state/compiled_plan.json").contains(&plan_id));
}

#[test]
fn retry_active_requeues_the_active_item_and_clears_its_run() {
    let ws = TestWorkspace::new();
    put_task(&ws, "active", "t1", &[]);
    write_snapshot(
        &ws,
        json!({"active_runs": run_on("execution", "task", "t1")}),
    );
    let run = ws.run(&["retry-active", "--reason", "hung"]).ok();
    applied(&run, "retry_active", true);
    assert_eq!(detail(&run), "requeued task t1 from the execution plane");
    assert!(exists(&ws, "tasks/queue/t1.md") && !exists(&ws, "tasks/active/t1.md"));
    let log = jsonl(&ws, "tasks/queue/t1.requeue.jsonl");
    assert_eq!(log[0]["reason"], "hung");
    assert_eq!(log[0]["actor"], "operator");
    assert_eq!(snapshot(&ws)["active_runs"], json!({}));
}

#[test]
fn retry_active_with_nothing_active_is_a_benign_no_op() {
    let ws = TestWorkspace::new();
    let run = ws.run(&["control", "retry-active"]).ok();
    applied(&run, "retry_active", false);
    assert_eq!(detail(&run), "no active work item to retry");
}

#[test]
fn retry_active_needs_a_plane_when_several_are_busy() {
    let ws = TestWorkspace::new();
    put_task(&ws, "active", "t1", &[]);
    ws.write("specs/active/s1.md", &spec_text("s1"));
    let run = ws.run(&["retry-active"]).fails(1);
    assert!(
        run.stderr.contains("several planes are active"),
        "{}",
        run.stderr
    );
    assert!(exists(&ws, "tasks/active/t1.md"));
    let run = ws.run(&["retry-active", "--plane", "execution"]).ok();
    applied(&run, "retry_active", true);
    assert!(exists(&ws, "tasks/queue/t1.md") && exists(&ws, "specs/active/s1.md"));
}

#[test]
fn planning_retry_active_only_touches_the_planning_plane() {
    let ws = TestWorkspace::new();
    put_task(&ws, "active", "t1", &[]);
    ws.write("specs/active/s1.md", &spec_text("s1"));
    let run = ws.run(&["planning", "retry-active"]).ok();
    applied(&run, "retry_active", true);
    assert_eq!(detail(&run), "requeued spec s1 from the planning plane");
    assert!(exists(&ws, "specs/queue/s1.md") && exists(&ws, "tasks/active/t1.md"));
    let log = jsonl(&ws, "specs/queue/s1.requeue.jsonl");
    assert_eq!(log[0]["reason"], "operator requested planning retry");
}

#[test]
fn clear_stale_state_requeues_everything_removes_a_stale_lock_and_resets() {
    let ws = TestWorkspace::new();
    put_task(&ws, "active", "t1", &[]);
    ws.write("specs/active/s1.md", &spec_text("s1"));
    write_lock(&ws, dead_pid());
    write_snapshot(
        &ws,
        json!({"process_running": true, "paused": true, "pause_sources": ["operator"],
               "stop_requested": true, "active_runs": run_on("execution", "task", "t1")}),
    );
    let run = ws.run(&["clear-stale-state", "--reason", "crash"]).ok();
    applied(&run, "clear_stale_state", true);
    assert_eq!(
        detail(&run),
        "cleared stale runtime state; requeued=2; runtime_ownership_lock=cleared_stale"
    );
    assert!(exists(&ws, "tasks/queue/t1.md") && exists(&ws, "specs/queue/s1.md"));
    assert!(!exists(&ws, "state/runtime_daemon.lock.json"));
    let snap = snapshot(&ws);
    assert_eq!(snap["active_runs"], json!({}));
    assert_eq!(snap["paused"], false);
    assert_eq!(snap["stop_requested"], false);
    assert_eq!(snap["process_running"], false);
    assert!(events(&ws).contains(&"stale_state_cleared".to_string()));
}

#[test]
fn clear_stale_state_reports_a_missing_or_invalid_lock() {
    let ws = TestWorkspace::new();
    let run = ws.run(&["control", "clear-stale-state"]).ok();
    assert!(detail(&run).ends_with("requeued=0; runtime_ownership_lock=missing"));
    ws.write("state/runtime_daemon.lock.json", "not json");
    ws.write("state/runtime_snapshot.json", "{ torn");
    ws.run(&["pause"]).fails(1);
    let run = ws.run(&["clear-stale-state"]).ok();
    assert!(detail(&run).ends_with("runtime_ownership_lock=cleared_invalid"));
    assert!(!exists(&ws, "state/runtime_daemon.lock.json"));
    assert_eq!(
        snapshot(&ws)["paused"],
        false,
        "a corrupt snapshot is reset"
    );
}

// ---------------------------------------------------------------- queue interventions

#[test]
fn cancel_archives_a_queued_task_with_an_audit_line_and_an_event() {
    let ws = TestWorkspace::new();
    put_task(&ws, "queue", "t1", &[]);
    let run = ws
        .run(&["queue", "cancel", "t1", "--reason", "duplicate"])
        .ok();
    applied(&run, "cancel_work_item", true);
    assert!(detail(&run).starts_with("cancelled task t1 (queued) -> tasks/queue/cancelled/"));
    assert!(!exists(&ws, "tasks/queue/t1.md"));
    let archived = files(&ws, "tasks/queue/cancelled");
    assert_eq!(archived.len(), 1);
    assert_archive_name(&archived[0], "t1", "queue");
    let audit = jsonl(&ws, "tasks/interventions.jsonl");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["kind"], "operator_intervention");
    assert_eq!(audit[0]["action"], "cancel_work_item");
    assert_eq!(audit[0]["work_item_id"], "t1");
    assert_eq!(audit[0]["from_state"], "queued");
    assert_eq!(audit[0]["reason"], "duplicate");
    assert_eq!(events(&ws), ["work_item_cancelled"]);
}

#[test]
fn cancel_archives_blocked_items_of_any_family() {
    let ws = TestWorkspace::new();
    put_task(&ws, "blocked", "t1", &[]);
    ws.write("specs/queue/s1.md", &spec_text("s1"));
    ws.run(&["queue", "cancel", "t1", "--reason", "r"]).ok();
    assert_archive_name(&files(&ws, "tasks/blocked/cancelled")[0], "t1", "blocked");
    let run = ws
        .run(&["queue", "cancel", "s1", "--family", "spec", "--reason", "r"])
        .ok();
    assert!(detail(&run).starts_with("cancelled spec s1 (queued)"));
    assert_eq!(files(&ws, "specs/queue/cancelled").len(), 1);
}

#[test]
fn cancel_refuses_bad_input() {
    let ws = TestWorkspace::new();
    put_task(&ws, "queue", "t1", &[]);
    let unsafe_id = ws
        .run(&["queue", "cancel", "../x", "--reason", "r"])
        .fails(1);
    assert!(unsafe_id.stderr.contains("unsafe work item id `../x`"));
    let empty = ws
        .run(&["queue", "cancel", "t1", "--reason", "  "])
        .fails(1);
    assert!(empty.stderr.contains("a reason is required"));
    let unknown = ws
        .run(&["queue", "cancel", "nope", "--reason", "r"])
        .fails(1);
    assert!(unknown.stderr.contains("unknown work item `nope`"));
    ws.run(&["queue", "cancel", "t1"]).fails(2);
    assert!(exists(&ws, "tasks/queue/t1.md"));
    assert!(!ws.path("tasks/interventions.jsonl").exists());
}

#[test]
fn cancel_refuses_an_active_item() {
    let ws = TestWorkspace::new();
    put_task(&ws, "active", "t1", &[]);
    let run = ws.run(&["queue", "cancel", "t1", "--reason", "r"]).fails(1);
    assert!(run.stderr.contains("task `t1` is active"), "{}", run.stderr);
    write_snapshot(
        &ws,
        json!({"active_runs": run_on("execution", "task", "t1")}),
    );
    let run = ws.run(&["queue", "cancel", "t1", "--reason", "r"]).ok();
    applied(&run, "cancel_work_item", false);
    assert!(
        detail(&run).starts_with("active runtime stage prevents operator intervention"),
        "{}",
        run.stdout
    );
    assert!(detail(&run).contains("execution/builder"));
    assert!(exists(&ws, "tasks/active/t1.md"));
}

#[test]
fn a_run_on_another_item_does_not_block_an_intervention() {
    let ws = TestWorkspace::new();
    put_task(&ws, "queue", "t1", &[]);
    put_task(&ws, "active", "t2", &[]);
    write_snapshot(
        &ws,
        json!({"active_runs": run_on("execution", "task", "t2")}),
    );
    let run = ws.run(&["queue", "cancel", "t1", "--reason", "r"]).ok();
    applied(&run, "cancel_work_item", true);
}

#[test]
fn archive_blocked_moves_a_blocked_task_and_refuses_others() {
    let ws = TestWorkspace::new();
    put_task(&ws, "blocked", "t1", &[]);
    put_task(&ws, "queue", "t2", &[]);
    let run = ws
        .run(&["queue", "archive-blocked", "t1", "--reason", "obsolete"])
        .ok();
    applied(&run, "archive_blocked_task", true);
    assert_archive_name(&files(&ws, "tasks/blocked/cancelled")[0], "t1", "blocked");
    assert_eq!(events(&ws), ["blocked_task_archived"]);
    let run = ws
        .run(&["queue", "archive-blocked", "t2", "--reason", "r"])
        .fails(1);
    assert!(run.stderr.contains("task `t2` is queued"), "{}", run.stderr);
    ws.run(&["queue", "archive-blocked", "a/b", "--reason", "r"])
        .fails(1);
}

#[test]
fn supersede_with_retarget_rewrites_queued_dependents() {
    let ws = TestWorkspace::new();
    put_task(&ws, "queue", "old", &[]);
    put_task(&ws, "done", "new", &[]);
    put_task(&ws, "queue", "child", &["old", "other"]);
    put_task(&ws, "queue", "other", &[]);
    let run = ws
        .run(&[
            "queue",
            "supersede",
            "old",
            "--replacement",
            "new",
            "--cascade",
            "retarget",
            "--reason",
            "split",
        ])
        .ok();
    applied(&run, "supersede_task", true);
    assert!(
        detail(&run).contains("cascade=retarget; retargeted: child"),
        "{}",
        run.stdout
    );
    assert_archive_name(&files(&ws, "tasks/queue/superseded")[0], "old", "queue");
    assert_eq!(
        ws.read("tasks/queue/child.md"),
        canonical(&task_text("child", &["new", "other"]))
    );
    let audit = jsonl(&ws, "tasks/interventions.jsonl");
    let actions: Vec<&str> = audit.iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(actions, ["retarget_task_dependency", "supersede_task"]);
    assert_eq!(audit[1]["details"]["replacement_task_id"], "new");
    assert!(events(&ws).contains(&"task_superseded".to_string()));
    let show = ws.run(&["queue", "show", "old"]).ok();
    assert_eq!(show.value("work_item_state"), Some("queue_superseded"));
    assert_eq!(show.value("title"), Some("Task old"), "{}", show.stdout);
    let ls = ws.run(&["queue", "ls"]).ok();
    assert_eq!(ls.value("superseded_task_count"), Some("1"));
    assert_eq!(ls.value("cancelled_task_count"), Some("0"));
    let status = ws.run(&["status"]).ok();
    let intervention = status.value("latest_operator_intervention").unwrap_or("");
    assert!(
        intervention.starts_with("event=task_superseded ")
            && intervention.contains("work_item_id=old"),
        "{intervention}"
    );
}

#[test]
fn supersede_with_cancel_or_none_handles_dependents() {
    let ws = TestWorkspace::new();
    put_task(&ws, "blocked", "old", &[]);
    put_task(&ws, "queue", "new", &[]);
    put_task(&ws, "queue", "child", &["old"]);
    let run = ws
        .run(&[
            "queue",
            "supersede",
            "old",
            "--replacement",
            "new",
            "--cascade",
            "cancel",
            "--reason",
            "r",
        ])
        .ok();
    assert!(detail(&run).contains("cancelled: child"));
    assert_eq!(files(&ws, "tasks/blocked/superseded").len(), 1);
    assert_eq!(files(&ws, "tasks/queue/cancelled").len(), 1);
    put_task(&ws, "queue", "old2", &[]);
    put_task(&ws, "queue", "child2", &["old2"]);
    let run = ws
        .run(&[
            "queue",
            "supersede",
            "old2",
            "--replacement",
            "new",
            "--reason",
            "r",
        ])
        .ok();
    assert!(detail(&run).contains("dependents left waiting: child2"));
    assert_eq!(
        ws.read("tasks/queue/child2.md"),
        task_text("child2", &["old2"])
    );
}

#[test]
fn supersede_refuses_a_missing_replacement_or_a_bad_cascade() {
    let ws = TestWorkspace::new();
    put_task(&ws, "queue", "old", &[]);
    put_task(&ws, "blocked", "blocked", &[]);
    let run = ws
        .run(&[
            "queue",
            "supersede",
            "old",
            "--replacement",
            "ghost",
            "--reason",
            "r",
        ])
        .fails(1);
    assert!(run.stderr.contains("unknown task `ghost`"));
    let run = ws
        .run(&[
            "queue",
            "supersede",
            "old",
            "--replacement",
            "blocked",
            "--reason",
            "r",
        ])
        .fails(1);
    assert!(
        run.stderr
            .contains("replacement must be queued, active or done")
    );
    ws.run(&[
        "queue",
        "supersede",
        "old",
        "--replacement",
        "x",
        "--reason",
        "r",
        "--cascade",
        "all",
    ])
    .fails(2);
    assert!(exists(&ws, "tasks/queue/old.md"));
}

#[test]
fn retarget_dependency_rewrites_one_entry_canonically() {
    let ws = TestWorkspace::new();
    put_task(&ws, "queue", "child", &["a", "b"]);
    put_task(&ws, "done", "c", &[]);
    let run = ws
        .run(&[
            "queue",
            "retarget-dependency",
            "child",
            "--old-dependency",
            "a",
            "--new-dependency",
            "c",
            "--reason",
            "moved",
        ])
        .ok();
    applied(&run, "retarget_task_dependency", true);
    assert_eq!(detail(&run), "task child now depends on c instead of a");
    assert_eq!(
        ws.read("tasks/queue/child.md"),
        canonical(&task_text("child", &["c", "b"]))
    );
    assert_eq!(events(&ws), ["task_dependency_retargeted"]);
    let run = ws
        .run(&[
            "queue",
            "retarget-dependency",
            "child",
            "--from",
            "zzz",
            "--to",
            "c",
            "--reason",
            "r",
        ])
        .fails(1);
    assert!(
        run.stderr.contains("does not depend on `zzz`"),
        "{}",
        run.stderr
    );
    let run = ws
        .run(&[
            "queue",
            "retarget-dependency",
            "child",
            "--from",
            "b",
            "--to",
            "ghost",
            "--reason",
            "r",
        ])
        .fails(1);
    assert!(run.stderr.contains("unknown dependency task `ghost`"));
    ws.run(&[
        "queue",
        "retarget-dependency",
        "child",
        "--from",
        "b",
        "--to",
        "../c",
        "--reason",
        "r",
    ])
    .fails(1);
}

fn diagnostics(ws: &TestWorkspace, id: &str, transient: bool, auto_requeues: u32) {
    let value = json!({
        "failure_class": if transient { "runner_timeout" } else { "blocked" },
        "transient": transient,
        "blocked_at": "2026-01-01T00:00:00Z",
        "auto_requeues": auto_requeues,
    });
    ws.write(
        &format!("diagnostics/blocked/task-{id}.json"),
        &value.to_string(),
    );
}

#[test]
fn retry_blocked_requeues_a_transient_failure_within_budget() {
    let ws = TestWorkspace::new();
    put_task(&ws, "blocked", "t1", &[]);
    diagnostics(&ws, "t1", true, 1);
    let run = ws
        .run(&["queue", "retry-blocked", "t1", "--reason", "network back"])
        .ok();
    applied(&run, "retry_blocked", true);
    assert_eq!(detail(&run), "requeued blocked task t1");
    assert!(exists(&ws, "tasks/queue/t1.md"));
    let log = jsonl(&ws, "tasks/queue/t1.requeue.jsonl");
    assert_eq!(log[0]["from"], "blocked");
    assert_eq!(log[0]["auto"], false);
    assert_eq!(events(&ws), ["blocked_task_requeued"]);
}

#[test]
fn retry_blocked_refuses_without_force_unless_transient_and_within_budget() {
    let ws = TestWorkspace::new();
    put_task(&ws, "blocked", "t1", &[]);
    let run = ws
        .run(&["queue", "retry-blocked", "t1", "--reason", "r"])
        .fails(1);
    assert!(
        run.stderr.contains("no blocked diagnostics"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"));
    diagnostics(&ws, "t1", false, 0);
    let run = ws
        .run(&["queue", "retry-blocked", "t1", "--reason", "r"])
        .fails(1);
    assert!(
        run.stderr
            .contains("failure class `blocked` is not transient")
    );
    diagnostics(&ws, "t1", true, 3);
    let run = ws
        .run(&["queue", "retry-blocked", "t1", "--reason", "r"])
        .fails(1);
    assert!(
        run.stderr.contains("auto-retry budget spent (3 of 3"),
        "{}",
        run.stderr
    );
    assert!(exists(&ws, "tasks/blocked/t1.md"));
    let run = ws
        .run(&["queue", "retry-blocked", "t1", "--force", "--reason", "r"])
        .ok();
    assert_eq!(detail(&run), "requeued blocked task t1 (forced)");
    let run = ws
        .run(&["queue", "retry-blocked", "t1", "--force", "--reason", "r"])
        .fails(1);
    assert!(run.stderr.contains("task `t1` is queued"));
}

// ---------------------------------------------------------------- incidents

#[test]
fn incident_resolve_and_cancel_archive_open_incidents() {
    let ws = TestWorkspace::new();
    ws.write("incidents/incoming/i1.md", &incident_text("i1"));
    ws.write("incidents/blocked/i2.md", &incident_text("i2"));
    let run = ws
        .run(&["incident", "resolve", "i1", "--reason", "fixed"])
        .ok();
    applied(&run, "resolve_incident", true);
    assert!(detail(&run).starts_with("resolved incident i1 -> incidents/resolved/operator/"));
    assert_archive_name(
        &files(&ws, "incidents/resolved/operator")[0],
        "i1",
        "incoming",
    );
    let run = ws
        .run(&["incident", "cancel", "i2", "--reason", "noise"])
        .ok();
    applied(&run, "cancel_incident", true);
    assert_archive_name(
        &files(&ws, "incidents/blocked/cancelled")[0],
        "i2",
        "blocked",
    );
    let audit = jsonl(&ws, "incidents/interventions.jsonl");
    assert_eq!(audit.len(), 2);
    assert_eq!(
        events(&ws),
        ["incident_resolved_by_operator", "incident_cancelled"]
    );
    let run = ws
        .run(&["incident", "resolve", "i1", "--reason", "again"])
        .fails(1);
    assert!(
        run.stderr.contains("unknown incident `i1`"),
        "{}",
        run.stderr
    );
    ws.run(&["incident", "cancel", "..", "--reason", "r"])
        .fails(1);
    ws.run(&["incident", "cancel", "i9", "--reason", ""])
        .fails(1);
}

#[test]
fn incident_resolve_waits_for_a_run_on_it() {
    let ws = TestWorkspace::new();
    ws.write("incidents/active/i1.md", &incident_text("i1"));
    write_snapshot(
        &ws,
        json!({"active_runs": run_on("planning", "incident", "i1")}),
    );
    let run = ws.run(&["incident", "resolve", "i1", "--reason", "r"]).ok();
    applied(&run, "resolve_incident", false);
    assert!(detail(&run).contains("planning/builder"));
    assert!(exists(&ws, "incidents/active/i1.md"));
}

#[test]
fn incident_archive_invalid_moves_quarantined_files_only() {
    let ws = TestWorkspace::new();
    ws.write("incidents/incoming/bad.md.invalid", "garbage");
    let run = ws
        .run(&[
            "incident",
            "archive-invalid",
            "bad.md.invalid",
            "--reason",
            "junk",
        ])
        .ok();
    applied(&run, "archive_invalid_incident", true);
    assert!(exists(&ws, "incidents/invalid-archive/bad.md.invalid"));
    assert!(!exists(&ws, "incidents/incoming/bad.md.invalid"));
    assert_eq!(events(&ws), ["invalid_incident_archived"]);
    let run = ws
        .run(&[
            "incident",
            "archive-invalid",
            "../bad.md.invalid",
            "--reason",
            "r",
        ])
        .fails(1);
    assert!(run.stderr.contains("unsafe invalid incident file name"));
    ws.write("incidents/incoming/i1.md", &incident_text("i1"));
    let run = ws
        .run(&["incident", "archive-invalid", "i1.md", "--reason", "r"])
        .fails(1);
    assert!(run.stderr.contains("only `*.invalid` incident files"));
    ws.run(&[
        "incident",
        "archive-invalid",
        "gone.md.invalid",
        "--reason",
        "r",
    ])
    .fails(1);
}

// ---------------------------------------------------------------- mailbox mode

/// The one incoming mailbox command.
fn mailed(ws: &TestWorkspace, run: &Run, command: &str) -> Value {
    assert_eq!(run.value("mode"), Some("mailbox"), "{}", run.stdout);
    assert_eq!(run.value("applied"), Some("false"));
    assert_eq!(run.value("detail"), Some("queued for the daemon"));
    assert_eq!(run.value("action"), Some(command));
    let id = run.value("command_id").expect("command_id");
    assert!(id.starts_with(&format!("{command}-")), "{id}");
    let path = PathBuf::from(run.value("mailbox_path").expect("mailbox_path"));
    assert_eq!(
        path.parent(),
        Some(ws.path("state/mailbox/incoming").as_path())
    );
    let incoming = files(ws, "state/mailbox/incoming");
    assert_eq!(incoming.len(), 1, "{incoming:?}");
    let envelope: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("mailbox file")).expect("json");
    assert_eq!(envelope["schema_version"], "1.0");
    assert_eq!(envelope["kind"], "mailbox_command");
    assert_eq!(envelope["issuer"], "operator");
    assert_eq!(envelope["command"], command);
    assert_eq!(envelope["command_id"], id);
    std::fs::remove_file(path).expect("clear the mailbox");
    envelope
}

#[test]
fn with_a_live_daemon_interventions_go_to_the_mailbox_and_change_nothing() {
    let ws = TestWorkspace::new();
    live_lock(&ws);
    put_task(&ws, "queue", "t1", &[]);
    let run = ws
        .run(&[
            "queue", "cancel", "t1", "--family", "task", "--reason", "dup",
        ])
        .ok();
    let envelope = mailed(&ws, &run, "cancel_work_item");
    assert_eq!(
        envelope["payload"],
        json!({"work_item_id": "t1", "family": "task", "reason": "dup"})
    );
    let run = ws
        .run(&[
            "queue",
            "supersede",
            "t1",
            "--replacement",
            "t2",
            "--cascade",
            "cancel",
            "--reason",
            "r",
        ])
        .ok();
    let envelope = mailed(&ws, &run, "supersede_task");
    assert_eq!(envelope["payload"]["cascade"], "cancel");
    assert_eq!(envelope["payload"]["replacement_task_id"], "t2");
    let run = ws
        .run(&["queue", "retry-blocked", "t1", "--force", "--reason", "r"])
        .ok();
    assert_eq!(mailed(&ws, &run, "retry_blocked")["payload"]["force"], true);
    let run = ws.run(&["incident", "resolve", "i1", "--reason", "r"]).ok();
    assert_eq!(
        mailed(&ws, &run, "resolve_incident")["payload"],
        json!({"incident_id": "i1", "reason": "r"})
    );
    assert!(exists(&ws, "tasks/queue/t1.md"));
    assert!(!ws.path("tasks/interventions.jsonl").exists());
    assert!(events(&ws).is_empty());
}

#[test]
fn with_a_live_daemon_controls_go_to_the_mailbox_and_the_snapshot_stays() {
    let ws = TestWorkspace::new();
    live_lock(&ws);
    put_task(&ws, "active", "t1", &[]);
    for (args, command) in [
        (&["pause"][..], "pause"),
        (&["control", "resume"][..], "resume"),
        (&["stop"][..], "stop"),
        (&["reload-config"][..], "reload_config"),
        (&["clear-stale-state"][..], "clear_stale_state"),
    ] {
        let run = ws.run(args).ok();
        mailed(&ws, &run, command);
    }
    let run = ws.run(&["planning", "retry-active"]).ok();
    let envelope = mailed(&ws, &run, "retry_active");
    assert_eq!(
        envelope["payload"],
        json!({"reason": "operator requested planning retry", "plane": "planning"})
    );
    assert!(!ws.path("state/runtime_snapshot.json").exists());
    assert!(!ws.path("state/compiled_plan.json").exists());
    assert!(exists(&ws, "tasks/active/t1.md"));
    assert!(exists(&ws, "state/runtime_daemon.lock.json"));
}

#[test]
fn with_a_live_daemon_bad_input_is_still_refused_before_mailing() {
    let ws = TestWorkspace::new();
    live_lock(&ws);
    ws.run(&["queue", "cancel", "../x", "--reason", "r"])
        .fails(1);
    ws.run(&["incident", "cancel", "i1", "--reason", " "])
        .fails(1);
    ws.run(&["incident", "archive-invalid", "x.md", "--reason", "r"])
        .fails(1);
    assert!(files(&ws, "state/mailbox/incoming").is_empty());
}

#[test]
fn every_control_command_has_help_with_an_example() {
    let ws = TestWorkspace::new();
    for args in [
        &["pause"][..],
        &["resume"],
        &["stop"],
        &["reload-config"],
        &["retry-active"],
        &["clear-stale-state"],
        &["control", "pause"],
        &["planning", "retry-active"],
        &["queue", "cancel"],
        &["queue", "archive-blocked"],
        &["queue", "supersede"],
        &["queue", "retarget-dependency"],
        &["queue", "retry-blocked"],
        &["incident", "resolve"],
        &["incident", "cancel"],
        &["incident", "archive-invalid"],
    ] {
        let mut all = args.to_vec();
        all.push("--help");
        let run = crate::support::millrace(&all, ws.root()).ok();
        assert!(run.stdout.contains("Example"), "{args:?}: {}", run.stdout);
        assert!(run.stdout.contains("--workspace"), "{args:?}");
    }
}
