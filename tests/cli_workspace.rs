//! The workspace commands through the real binary: `add-*`, `queue ls|show`,
//! `status`, `doctor`, `upgrade` and `config show|validate`.

use std::path::{Path, PathBuf};

use millrace::workspace::baseline::sha256_hex;
use millrace::workspace::documents::parse_markdown;
use millrace::workspace::journal::{Journal, RuntimeEvent};
use millrace::workspace::lock::{LockRecord, hostname};
use millrace::workspace::state::{
    ActiveRun, PlanRef, RuntimeSnapshot, Slot, StateStore, WorkItemRef,
};
use millrace::workspace::{Family, Plane, Timestamp, WorkspacePaths};

use crate::support::{Run, TestWorkspace};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn task_md(id: &str, title: &str) -> String {
    format!(
        "# {title}\n\nTask-ID: {id}\nTitle: {title}\nCreated-At: 2026-01-01T00:00:00Z\nCreated-By: operator\n\n\
         Target-Paths:\n- src/lib.rs\n\nAcceptance:\n- it works\n\nRequired-Checks:\n- cargo test\n\n\
         References:\n- none\n\nRisk:\n- low\n"
    )
}

/// Writes `text` to `<root>/<name>` (outside `millrace-agents/`) and returns the path.
fn source(ws: &TestWorkspace, name: &str, text: &str) -> String {
    let path = ws.root().join(name);
    std::fs::write(&path, text).expect("write source");
    path.display().to_string()
}

/// The same document as a `.json` import.
fn as_json(family: Family, markdown: &str) -> String {
    let document = parse_markdown(family, Path::new("x.md"), markdown).expect("fixture parses");
    document.to_json().to_string()
}

fn values<'a>(run: &'a Run, key: &str) -> Vec<&'a str> {
    let prefix = format!("{key}: ");
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect()
}

fn assert_control_block(run: &Run, action: &str) {
    assert_eq!(run.value("action"), Some(action), "{}", run.stdout);
    assert_eq!(run.value("mode"), Some("direct"));
    assert_eq!(run.value("applied"), Some("true"));
    assert!(run.value("detail").is_some());
}

#[test]
fn add_task_from_markdown_and_json_renders_into_the_queue() {
    let ws = TestWorkspace::new();
    let md = source(&ws, "login.md", &task_md("t-1", "Fix login"));
    let run = ws.run(&["add-task", &md]).ok();
    let queued = ws.path("tasks/queue/t-1.md");
    assert_eq!(
        run.value("enqueued_task"),
        Some(queued.to_str().unwrap_or(""))
    );
    assert_control_block(&run, "add_task");
    assert_eq!(ws.read("tasks/queue/t-1.md"), task_md("t-1", "Fix login"));

    let json = source(
        &ws,
        "t2.json",
        &as_json(Family::Task, &task_md("t-2", "From JSON")),
    );
    let run = ws.run(&["queue", "add-task", &json]).ok();
    assert!(
        run.value("enqueued_task")
            .is_some_and(|p| p.ends_with("tasks/queue/t-2.md"))
    );
    assert!(ws.read("tasks/queue/t-2.md").starts_with("# From JSON\n"));
}

#[test]
fn add_spec_and_add_probe_accept_markdown_and_json() {
    let ws = TestWorkspace::new();
    let spec = fixture("tests/workspace/documents/spec/canon_idea.md");
    let run = ws.run(&["add-spec", spec.to_str().unwrap_or("")]).ok();
    assert!(
        run.value("enqueued_spec")
            .is_some_and(|p| p.ends_with("specs/queue/idea-build-a-queue.md"))
    );
    assert_control_block(&run, "add_spec");

    let probe_text =
        std::fs::read_to_string(fixture("tests/workspace/documents/probe/canon_probe.md"))
            .expect("probe fixture");
    let probe_json = source(&ws, "probe.json", &as_json(Family::Probe, &probe_text));
    let run = ws.run(&["queue", "add-probe", &probe_json]).ok();
    assert!(
        run.value("enqueued_probe")
            .is_some_and(|p| p.ends_with("probes/queue/probe-lock.md"))
    );
    assert_eq!(ws.read("probes/queue/probe-lock.md"), probe_text);

    let spec_text = std::fs::read_to_string(&spec).expect("spec fixture");
    let renamed = spec_text.replace("Spec-ID: idea-build-a-queue", "Spec-ID: spec-json");
    let spec_json = source(&ws, "spec.json", &as_json(Family::Spec, &renamed));
    ws.run(&["add-spec", &spec_json]).ok();
    let probe_md = source(&ws, "p2.md", &probe_text.replace("probe-lock", "probe-two"));
    ws.run(&["add-probe", &probe_md]).ok();
    let ls = ws.run(&["queue", "ls"]).ok();
    assert_eq!(ls.value("spec_queue_depth"), Some("2"));
    assert_eq!(ls.value("probe_queue_depth"), Some("2"));
    assert_eq!(ls.value("planning_queue_depth"), Some("4"));
}

#[test]
fn duplicates_are_refused_with_the_existing_place() {
    let ws = TestWorkspace::new();
    let md = source(&ws, "a.md", &task_md("t-1", "A"));
    ws.run(&["add-task", &md]).ok();
    let run = ws.run(&["add-task", &md]).fails(1);
    assert_eq!(
        run.stderr.trim(),
        "error: task t-1 already exists (tasks/queue/t-1.md)"
    );
    std::fs::rename(ws.path("tasks/queue/t-1.md"), ws.path("tasks/done/t-1.md")).expect("move");
    let run = ws.run(&["queue", "add-task", &md]).fails(1);
    assert!(run.stderr.contains("(tasks/done/t-1.md)"), "{}", run.stderr);
}

#[test]
fn bad_documents_name_the_file_line_and_field() {
    let ws = TestWorkspace::new();
    let text = task_md("t-1", "Bad").replace("2026-01-01T00:00:00Z", "yesterday");
    // Line 5: `Created-At` (after the heading, a blank line, `Task-ID` and `Title`).
    let md = source(&ws, "bad.md", &text);
    let run = ws.run(&["add-task", &md]).fails(1);
    assert!(
        run.stderr
            .contains(&format!("error: {md}:5: `Created-At` value `yesterday`")),
        "{}",
        run.stderr
    );
    assert!(!ws.path("tasks/queue/t-1.md").exists());

    let json = source(&ws, "bad.json", r#"{"task_id": "t-2", "titel": "x"}"#);
    let run = ws.run(&["add-task", &json]).fails(1);
    assert!(
        run.stderr
            .contains("unknown key `titel`; did you mean `title`?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("error: {json}:")),
        "{}",
        run.stderr
    );

    let txt = source(&ws, "task.txt", &task_md("t-3", "Text"));
    let run = ws.run(&["add-task", &txt]).fails(1);
    assert!(
        run.stderr.contains("must end with .md or .json"),
        "{}",
        run.stderr
    );
    ws.run(&["add-task"]).fails(2);
}

#[test]
fn add_idea_copies_into_the_inbox_once() {
    let ws = TestWorkspace::new();
    let idea = source(&ws, "cache-layer.md", "# Cache layer\n\nAdd a cache.\n");
    let run = ws.run(&["add-idea", &idea]).ok();
    let inbox = ws.root().join("ideas/inbox/cache-layer.md");
    assert_eq!(
        run.value("enqueued_idea"),
        Some(inbox.to_str().unwrap_or(""))
    );
    assert_control_block(&run, "add_idea");
    assert_eq!(
        std::fs::read_to_string(&inbox).ok().as_deref(),
        Some("# Cache layer\n\nAdd a cache.\n")
    );
    let again = ws.run(&["queue", "add-idea", &idea]).fails(1);
    assert!(
        again
            .stderr
            .contains("idea cache-layer already exists (ideas/inbox/cache-layer.md)"),
        "{}",
        again.stderr
    );
    let bad = source(&ws, "my idea.md", "# x\n");
    assert!(
        ws.run(&["add-idea", &bad])
            .fails(1)
            .stderr
            .contains("safe id")
    );
}

#[test]
fn queue_ls_counts_per_plane_and_family_in_text_and_json() {
    let ws = TestWorkspace::new();
    for id in ["t-1", "t-2", "t-3"] {
        ws.write(&format!("tasks/queue/{id}.md"), &task_md(id, id));
    }
    ws.write("tasks/active/t-4.md", &task_md("t-4", "active"));
    ws.write("tasks/blocked/t-5.md", &task_md("t-5", "blocked"));
    let run = ws.run(&["queue", "ls"]).ok();
    for (key, value) in [
        ("execution_queue_depth", "3"),
        ("task_queue_depth", "3"),
        ("planning_queue_depth", "0"),
        ("execution_active", "1"),
        ("active_task_count", "1"),
        ("blocked_task_count", "1"),
        ("blueprint_draft_queue_depth", "0"),
    ] {
        assert_eq!(run.value(key), Some(value), "{key}\n{}", run.stdout);
    }
    let json = ws.run(&["queue", "ls", "--format", "json"]).ok();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(value["execution_queue_depth"], 3);
    assert_eq!(value["blocked_task_count"], 1);
}

#[test]
fn queue_show_finds_an_item_in_any_state_or_says_not_found() {
    let ws = TestWorkspace::new();
    ws.write("tasks/active/t-9.md", &task_md("t-9", "Active one"));
    let run = ws.run(&["queue", "show", "t-9"]).ok();
    assert_eq!(run.value("work_item_id"), Some("t-9"));
    assert_eq!(run.value("work_item_kind"), Some("task"));
    assert_eq!(run.value("work_item_state"), Some("active"));
    assert!(
        run.value("path")
            .is_some_and(|p| p.ends_with("tasks/active/t-9.md"))
    );
    assert_eq!(run.value("title"), Some("Active one"));
    assert_eq!(run.value("created_by"), Some("operator"));
    assert_eq!(values(&run, "target_paths"), vec!["src/lib.rs"]);
    let missing = ws.run(&["queue", "show", "nope"]).fails(1);
    assert_eq!(missing.stderr.trim(), "error: work item not found: nope");
    ws.run(&["queue", "show", "../x"]).fails(1);
}

#[test]
fn status_of_a_fresh_workspace_in_text_and_json() {
    let ws = TestWorkspace::new();
    let run = ws.run(&["status"]).ok();
    for (key, value) in [
        ("active_mode_id", "default_codex"),
        ("mode_source", "config"),
        ("compiled_plan_id", "none"),
        ("compiled_plan_currentness", "missing"),
        ("runtime_ownership_lock", "absent"),
        ("process_running", "false"),
        ("paused", "false"),
        ("pause_sources", "none"),
        ("stop_requested", "false"),
        ("active_run_count", "0"),
        ("execution_queue_depth", "0"),
        ("execution_status_marker", "IDLE"),
        ("last_error", "none"),
    ] {
        assert_eq!(run.value(key), Some(value), "{key}\n{}", run.stdout);
    }
    assert_eq!(run.value("workspace"), ws.root().to_str());
    let json = ws.run(&["status", "show", "--format", "json"]).ok();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(value["runtime_ownership_lock"]["state"], "absent");
    assert_eq!(value["compiled_plan_currentness"], "missing");
    assert_eq!(value["task_queue_depth"], 0);
    assert_eq!(value["execution_status_marker"], "IDLE");
    assert_eq!(value["blueprints"]["draft_counts"]["queue"], 0);
}

#[test]
fn status_follows_queues_plan_snapshot_and_journal() {
    let ws = TestWorkspace::new();
    for id in ["t-1", "t-2"] {
        ws.write(&format!("tasks/queue/{id}.md"), &task_md(id, id));
    }
    let compiled = ws.run(&["compile", "validate"]).ok();
    let paths = WorkspacePaths::new(ws.root());
    let mut snapshot = RuntimeSnapshot::default();
    snapshot.mode_id = Some("default_codex".into());
    snapshot.pause("operator");
    snapshot.record_error("dispatch", "a runner could not start");
    snapshot.pending_plan = Some(PlanRef {
        plan_id: "plan-next".into(),
        fingerprint: "fp-next".into(),
    });
    snapshot.set_run(
        Slot::of(Plane::Execution),
        ActiveRun {
            run_id: "run-1".into(),
            node: "builder".into(),
            stage: "builder".into(),
            work_item: Some(WorkItemRef {
                family: Family::Task,
                id: "t-0".into(),
            }),
            plan_id: None,
            started_at: Timestamp::now(),
            request_id: None,
            gate_request: None,
        },
    );
    StateStore::new(&paths)
        .save_snapshot(&mut snapshot)
        .expect("snapshot");
    let journal = Journal::new(&paths);
    for n in 0..8 {
        journal
            .append(RuntimeEvent::RuntimeTickIdle {
                reason: format!("no_work_{n}"),
            })
            .expect("event");
    }
    let run = ws.run(&["status"]).ok();
    assert_eq!(run.value("compiled_plan_id"), compiled.value("plan_id"));
    assert_eq!(run.value("compiled_plan_currentness"), Some("current"));
    assert_eq!(run.value("mode_source"), Some("snapshot"));
    assert_eq!(run.value("execution_queue_depth"), Some("2"));
    assert_eq!(run.value("paused"), Some("true"));
    assert_eq!(run.value("pause_sources"), Some("operator"));
    assert_eq!(
        run.value("active_run"),
        Some("plane=execution run=run-1 node=builder stage=builder work_item=task:t-0")
    );
    for (key, value) in [
        ("active_plane", "execution"),
        ("active_node_id", "builder"),
        ("active_stage_kind_id", "builder"),
        ("active_work_item_kind", "task"),
        ("active_work_item_id", "t-0"),
        ("pending_compiled_plan_id", "plan-next"),
        ("pending_compiled_plan_fingerprint", "fp-next"),
        ("latest_runtime_failure_origin", "dispatch"),
        ("last_error", "a runner could not start"),
        ("blocked_idle", "false"),
        ("compile_input.mode_id", "default_codex"),
    ] {
        assert_eq!(run.value(key), Some(value), "{key}: {}", run.stdout);
    }
    assert_eq!(
        run.value("compile_input.assets_fingerprint"),
        run.value("persisted_compile_input.assets_fingerprint"),
        "a current plan's inputs are the inputs now"
    );
    let events = values(&run, "event");
    assert_eq!(events.len(), 5, "{}", run.stdout);
    assert!(
        events[4].contains("runtime_tick_idle {\"reason\":\"no_work_7\"}"),
        "{}",
        events[4]
    );

    ws.write("entrypoints/execution/builder.md", "edited\n");
    let stale = ws.run(&["status"]).ok();
    assert_eq!(stale.value("compiled_plan_currentness"), Some("stale"));
}

fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

fn write_lock(ws: &TestWorkspace, pid: u32) {
    let record = LockRecord {
        workspace_root: ws.root().to_path_buf(),
        owner_pid: pid,
        owner_hostname: hostname(),
        owner_session_id: "s-1".into(),
        boot_id: None,
        pid_namespace: None,
        owner_started_ticks: None,
        acquired_at: Timestamp::now(),
    };
    let text = serde_json::to_string(&record).expect("lock json");
    ws.write("state/runtime_daemon.lock.json", &text);
}

#[test]
fn status_and_doctor_report_a_stale_lock() {
    let ws = TestWorkspace::new();
    ws.run(&["compile", "validate"]).ok();
    let pid = dead_pid();
    write_lock(&ws, pid);
    let run = ws.run(&["status"]).ok();
    assert_eq!(run.value("runtime_ownership_lock"), Some("stale"));
    assert_eq!(
        run.value("runtime_ownership_lock_pid"),
        Some(pid.to_string().as_str())
    );
    assert_eq!(run.value("process_running"), Some("false"));
    let doctor = ws.run(&["doctor"]).ok();
    assert_eq!(doctor.value("ok"), Some("true"));
    assert_eq!(doctor.value("warnings"), Some("1"));
    assert!(
        doctor
            .value("warning")
            .is_some_and(|w| w.starts_with("lock_stale ")),
        "{}",
        doctor.stdout
    );

    write_lock(&ws, std::process::id());
    let live = ws.run(&["status", "--format", "json"]).ok();
    let value: serde_json::Value = serde_json::from_str(&live.stdout).expect("json");
    assert_eq!(value["runtime_ownership_lock"]["state"], "active");
}

#[test]
fn doctor_is_clean_on_a_compiled_workspace_and_fails_on_damage() {
    let ws = TestWorkspace::new();
    let fresh = ws.run(&["doctor"]).ok();
    assert!(
        fresh
            .value("warning")
            .is_some_and(|w| w.starts_with("compiled_plan_missing "))
    );
    ws.run(&["compile", "validate"]).ok();
    let clean = ws.run(&["doctor"]).ok();
    assert_eq!(clean.value("ok"), Some("true"));
    assert_eq!(clean.value("errors"), Some("0"));
    assert_eq!(clean.value("warnings"), Some("0"));

    ws.write("tasks/queue/t-1.md", "no heading\n");
    ws.write("state/runtime_daemon.lock.json", "not json");
    let broken = ws.run(&["doctor"]).fails(1);
    assert_eq!(broken.value("ok"), Some("false"));
    assert_eq!(broken.value("errors"), Some("2"));
    let errors = values(&broken, "error");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("invalid_document ") && e.contains("tasks/queue/t-1.md")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("lock_invalid ")),
        "{errors:?}"
    );
}

#[test]
fn doctor_reports_config_and_mode_errors() {
    let ws = TestWorkspace::new();
    let config = ws.read("millrace.toml");
    ws.write(
        "millrace.toml",
        &config.replace(
            "default_runner = \"codex_cli\"",
            "default_runner = \"codexx\"",
        ),
    );
    let run = ws.run(&["doctor"]).fails(1);
    let errors = values(&run, "error");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("configured_runner_unknown ")),
        "{errors:?}"
    );

    ws.write(
        "millrace.toml",
        &config.replace(
            "default_mode = \"default_codex\"",
            "default_mode = \"nope\"",
        ),
    );
    let run = ws.run(&["doctor"]).fails(1);
    assert!(
        values(&run, "error")
            .iter()
            .any(|e| e.starts_with("resolved_mode_invalid ")),
        "{}",
        run.stdout
    );
}

#[test]
fn status_watch_prints_blocks_separated_by_a_blank_line() {
    let ws = TestWorkspace::new();
    let run = ws
        .run(&[
            "status",
            "watch",
            "--max-updates",
            "2",
            "--interval-seconds",
            "0",
        ])
        .ok();
    assert_eq!(values(&run, "workspace").len(), 2);
    assert_eq!(run.stdout.matches("\n\nworkspace: ").count(), 1);
    let other = TestWorkspace::new();
    let other_root = other.root().display().to_string();
    let both = ws
        .run(&[
            "status",
            "watch",
            "--max-updates",
            "1",
            "--workspace",
            &other_root,
        ])
        .ok();
    let roots = values(&both, "workspace");
    assert_eq!(roots, [other_root.clone(), ws.root().display().to_string()]);
    ws.run(&["status", "watch", "--max-updates", "0"]).fails(2);
    ws.run(&["status", "watch", "--interval-seconds", "-1"])
        .fails(2);
}

fn shipped(relative: &str) -> String {
    let (top, rest) = relative.split_once('/').expect("nested path");
    let dir = match top {
        "entrypoints" | "skills" => format!("assets/{top}"),
        other => other.to_string(),
    };
    std::fs::read_to_string(fixture(&format!("{dir}/{rest}"))).expect("shipped file")
}

fn set_baseline_hash(ws: &TestWorkspace, path: &str, sha256: Option<&str>) {
    let text = ws.read("state/baseline_manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest");
    let entries = manifest["entries"].as_array_mut().expect("entries");
    match sha256 {
        Some(hash) => {
            let entry = entries
                .iter_mut()
                .find(|e| e["path"] == path)
                .expect("entry");
            entry["sha256"] = hash.into();
        }
        None => entries.retain(|e| e["path"] != path),
    }
    ws.write("state/baseline_manifest.json", &manifest.to_string());
}

fn entry<'a>(run: &'a Run, path: &str) -> Option<&'a str> {
    values(run, "entry")
        .into_iter()
        .find_map(|e| e.strip_prefix(&format!("{path} ")))
}

#[test]
fn upgrade_previews_and_applies_package_changes_keeping_local_edits() {
    let ws = TestWorkspace::new();
    let fresh = ws.run(&["upgrade"]).ok();
    assert_eq!(fresh.value("applied"), Some("false"));
    assert_eq!(fresh.value("safe_update"), Some("0"));
    assert_eq!(
        fresh.value("baseline_manifest_id"),
        fresh.value("candidate_manifest_id")
    );

    let (local, updated, deleted, added) = (
        "entrypoints/execution/builder.md",
        "entrypoints/execution/checker.md",
        "entrypoints/execution/fixer.md",
        "entrypoints/execution/updater.md",
    );
    ws.write(local, "my own builder prompt\n");
    // An older package shipped this text; the workspace still has it, untouched.
    ws.write(updated, "old checker prompt\n");
    set_baseline_hash(&ws, updated, Some(&sha256_hex(b"old checker prompt\n")));
    std::fs::remove_file(ws.path(deleted)).expect("delete");
    std::fs::remove_file(ws.path(added)).expect("delete");
    set_baseline_hash(&ws, added, None);

    let preview = ws.run(&["upgrade"]).ok();
    assert_eq!(entry(&preview, local), Some("local_modification"));
    assert_eq!(entry(&preview, updated), Some("safe_update"));
    assert_eq!(entry(&preview, deleted), Some("missing"));
    assert_eq!(entry(&preview, added), Some("new"));
    assert_eq!(preview.value("safe_update"), Some("1"));
    assert_eq!(
        ws.read(updated),
        "old checker prompt\n",
        "preview writes nothing"
    );

    let applied = ws.run(&["upgrade", "--apply"]).ok();
    assert_eq!(applied.value("applied"), Some("true"));
    assert!(applied.value("result_manifest_id").is_some());
    assert_eq!(ws.read(updated), shipped(updated));
    assert_eq!(ws.read(deleted), shipped(deleted));
    assert_eq!(ws.read(added), shipped(added));
    assert_eq!(ws.read(local), "my own builder prompt\n");

    let after = ws.run(&["upgrade"]).ok();
    assert_eq!(entry(&after, local), Some("local_modification"));
    assert_eq!(entry(&after, updated), Some("unchanged"));
    assert_eq!(after.value("local_modification"), Some("1"));
    assert_eq!(
        after.value("unchanged"),
        Some((values(&after, "entry").len() - 1).to_string().as_str())
    );
}

#[test]
fn upgrade_apply_refuses_conflicts_and_writes_nothing() {
    let ws = TestWorkspace::new();
    let (edited, updated) = ("modes/demo.loop", "entrypoints/execution/checker.md");
    ws.write(edited, "# my demo\n");
    set_baseline_hash(&ws, edited, Some(&sha256_hex(b"an older demo\n")));
    ws.write(updated, "old checker prompt\n");
    set_baseline_hash(&ws, updated, Some(&sha256_hex(b"old checker prompt\n")));
    let manifest = ws.read("state/baseline_manifest.json");
    let run = ws.run(&["upgrade", "--apply"]).fails(1);
    assert_eq!(entry(&run, edited), Some("conflict"));
    assert!(
        run.stderr
            .contains("upgrade conflict(s) detected: modes/demo.loop"),
        "{}",
        run.stderr
    );
    assert_eq!(ws.read(updated), "old checker prompt\n");
    assert_eq!(ws.read(edited), "# my demo\n");
    assert_eq!(ws.read("state/baseline_manifest.json"), manifest);

    ws.write(edited, &shipped(edited));
    let run = ws.run(&["upgrade"]).ok();
    assert_eq!(entry(&run, edited), Some("already_converged"));
}

#[test]
fn init_writes_the_baseline_and_keeps_it_on_rerun() {
    let ws = TestWorkspace::new();
    let manifest: serde_json::Value =
        serde_json::from_str(&ws.read("state/baseline_manifest.json")).expect("manifest");
    assert_eq!(manifest["schema_version"], "1.0");
    let entries = manifest["entries"].as_array().expect("entries");
    let builder = entries
        .iter()
        .find(|e| e["path"] == "entrypoints/execution/builder.md")
        .expect("builder entry");
    let shipped_hash = sha256_hex(shipped("entrypoints/execution/builder.md").as_bytes());
    assert_eq!(builder["sha256"], shipped_hash.as_str());
    ws.write("entrypoints/execution/builder.md", "mine\n");
    let before = ws.read("state/baseline_manifest.json");
    assert_eq!(ws.run(&["init"]).ok().value("files_created"), Some("0"));
    assert_eq!(ws.read("state/baseline_manifest.json"), before);
    assert!(ws.read("millrace.toml").contains("[recovery]"));
}

#[test]
fn config_show_prints_every_key_with_defaults() {
    let ws = TestWorkspace::new();
    let run = ws.run(&["config", "show"]).ok();
    for (key, value) in [
        ("runtime.default_mode", "default_codex"),
        ("runtime.idle_sleep_seconds", "1.0"),
        ("runners.default_runner", "codex_cli"),
        ("runners.codex.command", "codex"),
        ("runners.codex.args", "[\"exec\"]"),
        ("recovery.max_fix_cycles", "2"),
        ("watchers.debounce_ms", "250"),
        ("usage_governance.rules[0].rule_id", "rolling-5h-default"),
        ("usage_governance.rules[1].threshold", "5000000"),
    ] {
        assert_eq!(run.value(key), Some(value), "{key}\n{}", run.stdout);
    }
    let other = source(
        &ws,
        "other.toml",
        "[runtime]\ndefault_mode = \"demo\"\n[stages.builder]\nmodel = \"m1\"\n",
    );
    let run = ws.run(&["config", "show", "--config", &other]).ok();
    assert_eq!(run.value("runtime.default_mode"), Some("demo"));
    assert_eq!(run.value("stages.builder.model"), Some("m1"));
    assert_eq!(run.value("config_path"), Some(other.as_str()));
}

#[test]
fn config_errors_name_the_key_line_and_suggestion() {
    let ws = TestWorkspace::new();
    let config = ws
        .read("millrace.toml")
        .replace("permission_default", "permision_default");
    ws.write("millrace.toml", &config);
    let line = config
        .lines()
        .position(|l| l.starts_with("permision_default"))
        .map(|i| i + 1)
        .expect("line");
    let file = ws.path("millrace.toml");
    let expected = format!(
        "error: {}:{line}: unknown key `runners.codex.permision_default`; did you mean `permission_default`?",
        file.display()
    );
    for args in [
        &["config", "show"][..],
        &["config", "validate"],
        &["compile", "validate"],
    ] {
        let run = ws.run(args).fails(1);
        assert_eq!(run.stderr.trim(), expected, "{args:?}");
    }
}

#[test]
fn config_validate_compiles_like_compile_validate() {
    let ws = TestWorkspace::new();
    let run = ws.run(&["config", "validate"]).ok();
    assert_eq!(run.value("ok"), Some("true"));
    assert_eq!(run.value("mode_id"), Some("default_codex"));
    assert!(ws.path("state/compiled_plan.json").is_file());
    let demo = ws.run(&["config", "validate", "--mode", "demo"]).ok();
    assert_eq!(demo.value("mode_id"), Some("demo"));
    let config = ws
        .read("millrace.toml")
        .replace("[params]\n", "[params]\nmax_fix_cycles = -1\n");
    ws.write("millrace.toml", &config);
    let bad = ws.run(&["config", "validate"]).fails(1);
    assert!(
        bad.stderr.contains("`params.max_fix_cycles` must be >= 0"),
        "{}",
        bad.stderr
    );
}

#[test]
fn every_workspace_command_has_help() {
    let ws = TestWorkspace::new();
    for args in [
        &["add-task", "--help"][..],
        &["add-idea", "--help"],
        &["queue", "ls", "--help"],
        &["queue", "show", "--help"],
        &["status", "--help"],
        &["status", "watch", "--help"],
        &["doctor", "--help"],
        &["upgrade", "--help"],
        &["config", "show", "--help"],
        &["config", "validate", "--help"],
    ] {
        let run = crate::support::millrace(args, ws.root()).ok();
        assert!(run.stdout.contains("--workspace"), "{args:?}");
    }
}
