//! Faults an adversarial run found, each as a user could meet it: documents
//! that arrive in a queue by other means than `add-task`, entries that
//! cannot be documents, and what the daemon must do about them.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::daemon::{enqueue, exists, monitor, outcomes_of, run_until_idle, scripted};
use crate::support::{TestWorkspace, await_files};

const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The journal's events of one type, as JSON values.
fn events(ws: &TestWorkspace, event_type: &str) -> Vec<serde_json::Value> {
    ws.read("logs/runtime_events.jsonl")
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["event_type"] == event_type)
        .collect()
}

fn quarantine_reasons(ws: &TestWorkspace) -> Vec<String> {
    events(ws, "work_item_quarantined")
        .iter()
        .map(|event| event["data"]["reason"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_copy_of_a_finished_task_is_quarantined_and_other_work_goes_on() {
    let ws = scripted("");
    enqueue(&ws, "task-c1", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/done/task-c1.md"));
    // An operator (or a sync tool) drops the finished file into the queue again.
    std::fs::copy(
        ws.path("tasks/done/task-c1.md"),
        ws.path("tasks/queue/task-c1.md"),
    )
    .expect("copy");
    enqueue(&ws, "task-c2", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/done/task-c2.md"), "{}", monitor(&ws));
    assert!(exists(&ws, "tasks/done/task-c1.md"));
    assert!(!exists(&ws, "tasks/queue/task-c1.md"));
    assert!(!exists(&ws, "tasks/active/task-c1.md"));
    assert!(exists(&ws, "tasks/queue/task-c1.md.invalid"));
    // It ran once: builder, checker, updater.
    assert_eq!(outcomes_of(&ws, "task-c1").len(), 3);
    let reasons = quarantine_reasons(&ws);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("task `task-c1` is already done"),
        "{reasons:?}"
    );
}

#[test]
fn a_workspace_holding_an_item_in_two_folders_recovers_at_start() {
    let ws = scripted("");
    enqueue(&ws, "task-w1", &[]);
    run_until_idle(&ws);
    // The state an earlier version left behind: the finished task also active.
    std::fs::copy(
        ws.path("tasks/done/task-w1.md"),
        ws.path("tasks/active/task-w1.md"),
    )
    .expect("copy");
    enqueue(&ws, "task-w2", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/done/task-w2.md"), "{}", monitor(&ws));
    assert!(!exists(&ws, "tasks/active/task-w1.md"));
    assert!(exists(&ws, "tasks/active/task-w1.md.invalid"));
    assert_eq!(outcomes_of(&ws, "task-w1").len(), 3);
}

#[test]
fn a_blocked_task_dropped_again_points_to_retry_blocked() {
    let ws = scripted("");
    ws.write(
        "tasks/blocked/task-b1.md",
        &crate::daemon::task("task-b1", &[]),
    );
    enqueue(&ws, "task-b1", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/blocked/task-b1.md"));
    assert!(!exists(&ws, "tasks/done/task-b1.md"));
    let reasons = quarantine_reasons(&ws);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("millrace queue retry-blocked task-b1")),
        "{reasons:?}"
    );
}

#[test]
fn a_fifo_named_like_a_task_is_quarantined_and_the_daemon_runs() {
    let ws = scripted("");
    let fifo = ws.path("tasks/queue/task-x.md");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    enqueue(&ws, "task-y", &[]);
    // Reading a FIFO blocks until a writer comes: bound the run, so that a
    // regression fails instead of hanging.
    let bounded = run_bounded(&ws);
    assert!(bounded.status.success(), "{bounded:?}");
    assert!(exists(&ws, "tasks/done/task-y.md"), "{}", monitor(&ws));
    assert!(!ws.path("tasks/queue/task-x.md").exists());
    assert!(ws.path("tasks/queue/task-x.md.invalid").exists());
    let reasons = quarantine_reasons(&ws);
    assert!(reasons.iter().any(|r| r.contains("FIFO")), "{reasons:?}");
}

#[test]
fn a_queue_file_whose_name_is_not_utf8_is_quarantined_and_reported() {
    let ws = scripted("");
    let name = OsStr::from_bytes(b"task-\xff.md");
    std::fs::write(ws.path("tasks/queue").join(name), "# not read\n").expect("write");
    enqueue(&ws, "task-z", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/done/task-z.md"), "{}", monitor(&ws));
    assert!(!ws.path("tasks/queue").join(name).exists());
    let reasons = quarantine_reasons(&ws);
    assert!(
        reasons.iter().any(|r| r.contains("not valid UTF-8")),
        "{reasons:?}"
    );
    assert!(monitor(&ws).contains("quarantined"), "{}", monitor(&ws));
}

#[test]
fn a_lock_left_by_a_killed_pid_1_daemon_is_recovered() {
    let ws = scripted("");
    enqueue(&ws, "task-l1", &[]);
    run_until_idle(&ws);
    // A daemon that was the first process of its container, killed with
    // SIGKILL, left this record; pid 1 runs again after the restart.
    let record = serde_json::json!({
        "workspace_root": ws.root(),
        "owner_pid": 1,
        "owner_hostname": millrace::workspace::lock::hostname(),
        "owner_session_id": "container-session",
        "boot_id": millrace::workspace::lock::current_boot_id(),
        "acquired_at": "2026-01-01T00:00:00Z",
    });
    ws.write("state/runtime_daemon.lock.json", &record.to_string());
    let status = ws.run(&["status"]).ok();
    assert_eq!(status.value("runtime_ownership_lock"), Some("stale"));
    assert_eq!(status.value("process_running"), Some("false"));
    enqueue(&ws, "task-l2", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/done/task-l2.md"), "{}", monitor(&ws));
    let recovered = events(&ws, "runtime_daemon_lock_recovered");
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(recovered[0]["data"]["previous_pid"], 1);
}

#[test]
fn retry_active_sent_during_a_stage_is_applied_at_its_end() {
    let ws = scripted("[[step]]\nnode = \"builder\"\ndelay_ms = 1500\n");
    enqueue(&ws, "task-r1", &[]);
    let mut daemon = crate::live::start_daemon(&ws, "test");
    await_files(ws.root(), "the builder to start", LIMIT, || {
        ws.path("tasks/active/task-r1.md").is_file()
    });
    let retry = ws.run(&["retry-active", "--reason", "builder hung"]).ok();
    assert_eq!(retry.value("mode"), Some("mailbox"));
    await_files(ws.root(), "the task to finish", LIMIT, || {
        exists(&ws, "tasks/done/task-r1.md")
    });
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
    let applied = events(&ws, "mailbox_command_applied");
    assert!(
        applied
            .iter()
            .any(|e| e["data"]["command"] == "retry_active"),
        "{}",
        monitor(&ws)
    );
    assert!(events(&ws, "mailbox_command_failed").is_empty());
    // The first run ended after its builder; the retried run went through.
    let outcomes = outcomes_of(&ws, "task-r1");
    let builders = outcomes.iter().filter(|o| o.starts_with("builder")).count();
    assert_eq!(builders, 2, "{outcomes:?}");
    assert!(ws.path("tasks/queue/task-r1.requeue.jsonl").is_file());
}

#[test]
fn an_id_too_long_for_its_derived_file_names_is_refused() {
    let ws = TestWorkspace::new();
    let id = format!("t{}", "x".repeat(239));
    let file = ws.root().join("long.md");
    std::fs::write(&file, crate::daemon::task(&id, &[])).expect("write");
    let refused = ws.run(&["add-task", file.to_str().expect("utf8")]).fails(1);
    assert!(
        refused.stderr.contains("at most 200 characters"),
        "{}",
        refused.stderr
    );
    // Dropped straight into the queue, it is quarantined, not run.
    let ws = scripted("");
    ws.write(
        &format!("tasks/queue/{id}.md"),
        &crate::daemon::task(&id, &[]),
    );
    enqueue(&ws, "task-short", &[]);
    run_until_idle(&ws);
    assert!(exists(&ws, "tasks/done/task-short.md"), "{}", monitor(&ws));
    assert!(!exists(&ws, &format!("tasks/queue/{id}.md")));
    let reasons = quarantine_reasons(&ws);
    assert!(
        reasons.iter().any(|r| r.contains("is not a valid id")),
        "{reasons:?}"
    );
}

#[test]
fn a_retry_whose_record_cannot_be_written_leaves_the_item_in_place() {
    let ws = TestWorkspace::new();
    ws.write(
        "tasks/active/task-a.md",
        &crate::daemon::task("task-a", &[]),
    );
    // The requeue log cannot be appended to: a directory holds its name.
    std::fs::create_dir_all(ws.path("tasks/queue/task-a.requeue.jsonl")).expect("dir");
    let retry = ws.run(&["retry-active", "--plane", "execution"]).fails(1);
    assert!(
        retry.stderr.contains("task-a.requeue.jsonl"),
        "{}",
        retry.stderr
    );
    assert!(exists(&ws, "tasks/active/task-a.md"));
    assert!(!exists(&ws, "tasks/queue/task-a.md"));
}

#[test]
fn a_failed_reload_is_awaited_printed_and_shown_by_status() {
    let ws = scripted("");
    let mut daemon = crate::live::start_daemon(&ws, "test");
    ws.write(
        "loops/broken.loop",
        "loop execution.broken {\n  entry task ->\n",
    );
    let reload = ws.run(&["reload-config", "--wait"]).fails(1);
    assert_eq!(reload.value("mode"), Some("mailbox"));
    assert_eq!(reload.value("applied"), Some("false"));
    assert!(
        reload
            .stderr
            .starts_with("error: the daemon did not apply `reload_config`"),
        "{}",
        reload.stderr
    );
    let status = ws.run(&["status"]).ok();
    let failed = status.value("last_failed_command").unwrap_or("");
    assert!(
        failed.starts_with("reload_config reload_config-"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .value("last_error")
            .is_some_and(|e| e.contains("reload"))
    );
    let pause = ws.run(&["pause", "--wait"]).ok();
    assert_eq!(pause.value("applied"), Some("true"));
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
}

/// Runs the daemon until idle, bounded: a regression that hangs it fails.
fn run_bounded(ws: &TestWorkspace) -> std::process::Output {
    std::process::Command::new("timeout")
        .args([
            "60",
            env!("CARGO_BIN_EXE_millrace"),
            "run",
            "daemon",
            "--mode",
            "test",
        ])
        .args(["--until-idle", "--workspace"])
        .arg(ws.root())
        .output()
        .expect("timeout runs")
}

#[test]
fn a_copy_of_the_running_task_dropped_in_the_queue_does_not_lose_its_end() {
    let ws = scripted("[[step]]\nnode = \"builder\"\ndelay_ms = 1500\n");
    enqueue(&ws, "task-a1", &[]);
    let mut daemon = crate::live::start_daemon(&ws, "test");
    await_files(ws.root(), "the builder to start", LIMIT, || {
        ws.path("tasks/active/task-a1.md").is_file()
    });
    std::fs::copy(
        ws.path("tasks/active/task-a1.md"),
        ws.path("tasks/queue/task-a1.md"),
    )
    .expect("copy");
    await_files(ws.root(), "the task to finish", LIMIT, || {
        exists(&ws, "tasks/done/task-a1.md")
    });
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
    assert!(!exists(&ws, "tasks/active/task-a1.md"));
    assert!(!exists(&ws, "tasks/queue/task-a1.md"));
    assert_eq!(outcomes_of(&ws, "task-a1").len(), 3);
    let reasons = quarantine_reasons(&ws);
    assert!(
        reasons.iter().any(|r| r.contains("already active")),
        "{reasons:?}"
    );
}

#[test]
fn names_too_long_for_a_quarantine_suffix_are_set_aside_and_work_goes_on() {
    let ws = scripted("");
    let long = "q".repeat(250);
    ws.write(&format!("tasks/queue/{long}.md"), "# not read\n");
    let latin1 = [b"task-".as_slice(), &[0xe9; 90], b".md"].concat();
    std::fs::write(ws.path("tasks/queue").join(OsStr::from_bytes(&latin1)), "x").expect("write");
    enqueue(&ws, "task-n1", &[]);
    let out = run_bounded(&ws);
    assert!(out.status.success(), "{out:?}");
    assert!(exists(&ws, "tasks/done/task-n1.md"));
    let left: Vec<String> = std::fs::read_dir(ws.path("tasks/queue"))
        .expect("queue")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(quarantine_reasons(&ws).len(), 2);
}

#[test]
fn fifos_and_links_in_the_mailbox_inbox_and_audit_log_never_block_or_leak() {
    let ws = scripted("");
    let mkfifo = |relative: &str| {
        let made = std::process::Command::new("mkfifo")
            .arg(ws.path(relative))
            .status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo {relative}");
    };
    std::fs::create_dir_all(ws.path("state/mailbox/incoming")).expect("mailbox");
    mkfifo("state/mailbox/incoming/0001-fifo.json");
    mkfifo("tasks/queue/invalid-artifacts.jsonl");
    let inbox = ws.root().join("ideas/inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let made = std::process::Command::new("mkfifo")
        .arg(inbox.join("idea1.md"))
        .status();
    assert!(made.is_ok_and(|s| s.success()));
    std::os::unix::fs::symlink(
        "/etc/hostname",
        ws.path("state/mailbox/incoming/0002-link.json"),
    )
    .expect("link");
    ws.write("tasks/queue/bad.md", "# no fields\n");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    let file = std::fs::File::options()
        .write(true)
        .open(ws.path("tasks/queue/bad.md"));
    file.expect("open").set_modified(old).expect("age");
    enqueue(&ws, "task-f1", &[]);
    let out = run_bounded(&ws);
    assert!(out.status.success(), "{out:?}");
    assert!(exists(&ws, "tasks/done/task-f1.md"));
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    for archive in std::fs::read_dir(ws.path("state/mailbox/failed"))
        .expect("failed")
        .flatten()
    {
        let text = std::fs::read_to_string(archive.path()).unwrap_or_default();
        assert!(
            hostname.trim().is_empty() || !text.contains(hostname.trim()),
            "{text}"
        );
    }
}

#[test]
fn a_document_larger_than_16_mib_is_quarantined_not_read() {
    let ws = scripted("");
    let file = std::fs::File::create(ws.path("tasks/queue/big.md")).expect("create");
    file.set_len(2 * 1024 * 1024 * 1024).expect("sparse 2 GiB");
    enqueue(&ws, "task-b2", &[]);
    let out = run_bounded(&ws);
    assert!(out.status.success(), "{out:?}");
    assert!(exists(&ws, "tasks/done/task-b2.md"));
    assert!(exists(&ws, "tasks/queue/big.md.invalid"));
    let reasons = quarantine_reasons(&ws);
    assert!(
        reasons.iter().any(|r| r.contains("larger than 16 MiB")),
        "{reasons:?}"
    );
}

#[test]
fn a_document_still_being_written_is_not_quarantined_half_written() {
    let ws = scripted("");
    let full = crate::daemon::task("task-s1", &[]);
    let (head, tail) = full.split_at(full.len() / 2);
    ws.write("tasks/queue/task-s1.md", head);
    let out = run_bounded(&ws);
    assert!(out.status.success(), "{out:?}");
    assert!(
        exists(&ws, "tasks/queue/task-s1.md"),
        "set aside while young"
    );
    assert!(quarantine_reasons_or_none(&ws).is_empty());
    ws.write("tasks/queue/task-s1.md", &format!("{head}{tail}"));
    let out = run_bounded(&ws);
    assert!(out.status.success(), "{out:?}");
    assert!(exists(&ws, "tasks/done/task-s1.md"));
}

/// Like [`quarantine_reasons`], for a workspace with no journal yet.
fn quarantine_reasons_or_none(ws: &TestWorkspace) -> Vec<String> {
    if ws.path("logs/runtime_events.jsonl").is_file() {
        quarantine_reasons(ws)
    } else {
        Vec::new()
    }
}

#[test]
fn a_live_daemon_is_seen_through_another_path_and_without_its_guard_file() {
    let ws = scripted("[[step]]\nnode = \"builder\"\ndelay_ms = 1500\n");
    enqueue(&ws, "task-g1", &[]);
    let mut daemon = crate::live::start_daemon(&ws, "test");
    // The same workspace through a link (a bind mount, a volume): commands
    // still go to the live daemon, never straight to its files.
    let other = tempfile::tempdir().expect("temp dir");
    let link = other.path().join("same-workspace");
    std::os::unix::fs::symlink(ws.root(), &link).expect("link");
    let link = link.to_str().expect("utf8");
    let pause = crate::support::millrace(&["pause", "--workspace", link], ws.root()).ok();
    assert_eq!(pause.value("mode"), Some("mailbox"), "{}", pause.stdout);
    // A second daemon may not take over because the guard file went away.
    std::fs::remove_file(ws.path("state/runtime_daemon.lock.guard")).expect("remove guard");
    let second = ws
        .run(&["run", "daemon", "--mode", "test", "--until-idle"])
        .fails(1);
    assert!(second.stderr.contains("already held"), "{}", second.stderr);
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
}
