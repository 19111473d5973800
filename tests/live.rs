//! Operators steering a live daemon through the mailbox, bad mailbox files,
//! and transient runner failures retried with backoff.

use std::process::Child;
use std::time::Duration;

use crate::daemon::{all_results, commanded, enqueue, run_cmd_mode, scripted, task};
use crate::support::{TestWorkspace, await_files};

const LIMIT: Duration = Duration::from_secs(60);

pub fn start_daemon(ws: &TestWorkspace, mode: &str) -> Child {
    let log = ws.path("logs/monitor.log");
    // A daemon killed before left its own line: wait for this one's.
    let starts =
        || std::fs::read_to_string(&log).map_or(0, |l| l.matches("runtime started").count());
    let before = starts();
    let log_arg = log.to_str().expect("utf8 path");
    let child = ws.spawn(&["run", "daemon", "--mode", mode, "--monitor-log", log_arg]);
    await_files(ws.root(), "the daemon to start", LIMIT, || {
        starts() > before
    });
    child
}

/// Finished archives only: an archive in the middle of its atomic write is a
/// `.tmp-*` file that must not be counted (nor read) yet.
fn mailbox_count(ws: &TestWorkspace, dir: &str) -> usize {
    mailbox_files(ws, dir).count()
}

fn mailbox_files(ws: &TestWorkspace, dir: &str) -> impl Iterator<Item = std::path::PathBuf> {
    std::fs::read_dir(ws.path(&format!("state/mailbox/{dir}")))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
        })
}

fn mailbox_text(ws: &TestWorkspace, dir: &str) -> String {
    mailbox_files(ws, dir)
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

#[test]
fn a_live_daemon_applies_pause_resume_reload_and_stop_from_the_mailbox() {
    let ws = scripted("");
    let mut daemon = start_daemon(&ws, "test");
    let pause = ws.run(&["pause"]).ok();
    assert_eq!(pause.value("mode"), Some("mailbox"));
    await_files(ws.root(), "pause to be processed", LIMIT, || {
        mailbox_count(&ws, "processed") == 1
    });
    assert!(
        ws.read("state/runtime_snapshot.json")
            .contains("\"paused\": true")
    );
    enqueue(&ws, "t1", &[]);
    assert!(!ws.path("tasks/done/t1.md").exists());
    ws.run(&["resume"]).ok();
    await_files(ws.root(), "the task to finish after resume", LIMIT, || {
        ws.path("tasks/done/t1.md").is_file()
    });
    ws.run(&["reload-config"]).ok();
    await_files(ws.root(), "reload to be processed", LIMIT, || {
        mailbox_count(&ws, "processed") == 3
    });
    let processed = mailbox_text(&ws, "processed");
    // Applied at once, or pending when the finished run was still being closed.
    assert!(
        processed.contains("reload applied plan plan-test-")
            || processed.contains("reload pending plan plan-test-"),
        "{processed}"
    );
    ws.run(&["stop"]).ok();
    let status = daemon.wait().expect("the daemon exits after stop");
    assert!(status.success());
    assert!(
        ws.read("logs/monitor.log")
            .contains("paused reason=operator")
    );
}

/// A document written in place (open, write, close) into a live daemon's
/// queue is taken once it is complete, never claimed half-written and
/// quarantined. The mailbox orders the steps: the daemon reads its folder
/// events in order, so once `resume` is processed it has seen the creation.
#[test]
fn a_queue_document_written_in_place_is_taken_once_complete() {
    use std::io::Write;
    let ws = scripted("");
    let mut daemon = start_daemon(&ws, "test");
    ws.run(&["pause"]).ok();
    await_files(ws.root(), "pause", LIMIT, || {
        mailbox_count(&ws, "processed") == 1
    });
    let text = task("slow", &[]);
    let (head, tail) = text.split_at(text.len() / 3);
    let mut file = std::fs::File::create(ws.path("tasks/queue/slow.md")).expect("create");
    file.write_all(head.as_bytes())
        .expect("write the first part");
    ws.run(&["resume"]).ok();
    enqueue(&ws, "marker", &[]);
    await_files(ws.root(), "a complete task to finish", LIMIT, || {
        ws.path("tasks/done/marker.md").is_file()
    });
    assert!(
        ws.path("tasks/queue/slow.md").is_file(),
        "claimed half-written"
    );
    file.write_all(tail.as_bytes()).expect("write the rest");
    drop(file);
    await_files(ws.root(), "the in-place task to finish", LIMIT, || {
        ws.path("tasks/done/slow.md").is_file()
    });
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
    assert!(!ws.path("tasks/queue/slow.md.invalid").exists());
}

/// A queue folder removed and created again under a live daemon is watched
/// again: work written into it is taken at once, not at the next heartbeat
/// (30 s).
#[test]
fn a_replaced_queue_folder_is_watched_again() {
    let ws = scripted("");
    let mut daemon = start_daemon(&ws, "test");
    std::fs::remove_dir_all(ws.path("tasks/queue")).expect("remove the queue folder");
    std::fs::create_dir_all(ws.path("tasks/queue")).expect("create it again");
    enqueue(&ws, "t1", &[]);
    await_files(ws.root(), "the task", Duration::from_secs(10), || {
        ws.path("tasks/done/t1.md").is_file()
    });
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
}

#[test]
fn bad_mailbox_files_land_in_failed_and_the_daemon_keeps_running() {
    let ws = scripted("");
    let mut daemon = start_daemon(&ws, "test");
    let incoming = ws.path("state/mailbox/incoming");
    std::fs::write(incoming.join("0001-garbage.json"), "this is not json").expect("write");
    std::fs::write(incoming.join("0002-unknown.json"), r#"{"schema_version":"1.0","kind":"mailbox_command","command_id":"x","issued_at":"2026-01-01T00:00:00Z","issuer":"operator","command":"explode"}"#).expect("write");
    std::fs::write(incoming.join("0003-unsafe.json"), r#"{"schema_version":"1.0","kind":"mailbox_command","command_id":"y","issued_at":"2026-01-01T00:00:00Z","issuer":"operator","command":"cancel_work_item","payload":{"work_item_id":"../etc","reason":"x"}}"#).expect("write");
    await_files(ws.root(), "three failed commands", LIMIT, || {
        mailbox_count(&ws, "failed") == 3
    });
    let failed = mailbox_text(&ws, "failed");
    assert!(
        failed.contains("not JSON") && failed.contains("not a mailbox command"),
        "{failed}"
    );
    enqueue(&ws, "after", &[]);
    await_files(ws.root(), "work after bad commands", LIMIT, || {
        ws.path("tasks/done/after.md").is_file()
    });
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
}

#[test]
fn an_intervention_through_the_mailbox_waits_for_a_safe_boundary() {
    let ws = scripted("[[step]]\nnode = \"builder\"\ndelay_ms = 1500\n");
    enqueue(&ws, "busy", &[]);
    enqueue(&ws, "waiting", &["busy"]);
    let mut daemon = start_daemon(&ws, "test");
    await_files(ws.root(), "the first task to start", LIMIT, || {
        ws.path("tasks/active/busy.md").is_file()
    });
    let cancel = ws
        .run(&["queue", "cancel", "waiting", "--reason", "no longer needed"])
        .ok();
    assert_eq!(cancel.value("mode"), Some("mailbox"));
    await_files(ws.root(), "the cancel", LIMIT, || {
        mailbox_count(&ws, "processed") == 1
    });
    assert!(!ws.path("tasks/queue/waiting.md").exists());
    await_files(ws.root(), "the busy task", LIMIT, || {
        ws.path("tasks/done/busy.md").is_file()
    });
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
}

#[test]
fn a_transient_failure_is_retried_with_backoff_then_succeeds() {
    let agent = "#!/bin/bash\nread -r -d '' prompt\nfirst=$(echo \"$MILLRACE_LEGAL_OUTCOMES\" | cut -d' ' -f1)\ncount_file=\"$MILLRACE_AGENTS_DIR/attempts.$MILLRACE_STAGE\"\nn=$(cat \"$count_file\" 2>/dev/null || echo 0)\necho $((n+1)) > \"$count_file\"\nif [ \"$MILLRACE_STAGE\" = builder ] && [ \"$n\" -lt 2 ]; then echo 'error: 429 Too Many Requests (rate limit)' >&2; exit 1; fi\necho \"### $first\"\n";
    let ws = commanded(agent, "30");
    let config = ws.read("millrace.toml")
        + "\n[auto_recovery]\nbackoff_base_seconds = 0.05\nbackoff_max_seconds = 0.2\nmax_transient_retries = 2\n";
    ws.write("millrace.toml", &config);
    enqueue(&ws, "flaky", &[]);
    run_cmd_mode(&ws);
    assert!(
        ws.path("tasks/done/flaky.md").is_file(),
        "{}",
        ws.read("logs/monitor.log")
    );
    let builder: Vec<serde_json::Value> = all_results(&ws.path("runs"))
        .into_iter()
        .filter(|r| r["node"] == "builder")
        .collect();
    let classes: Vec<&str> = builder
        .iter()
        .map(|r| r["failure_class"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(
        classes
            .iter()
            .filter(|c| **c == "provider_rate_limited")
            .count(),
        2,
        "{classes:?}"
    );
    assert!(builder.iter().any(|r| r["outcome"] == "BUILDER_COMPLETE"));
    let monitor = ws.read("logs/monitor.log");
    assert_eq!(
        monitor.matches("retry execution/builder").count(),
        2,
        "{monitor}"
    );
    assert!(
        !monitor.contains("execution/troubleshooter"),
        "a transient failure did not route: {monitor}"
    );
}

#[test]
fn a_persistent_transient_failure_routes_as_blocked_after_its_retries() {
    let agent = "#!/bin/bash\nread -r -d '' prompt\necho 'upstream connect error: 503 Service Unavailable' >&2\nexit 1\n";
    let ws = commanded(agent, "30");
    let config = ws.read("millrace.toml")
        + "\n[auto_recovery]\nbackoff_base_seconds = 0.01\nbackoff_max_seconds = 0.02\nmax_transient_retries = 1\n";
    ws.write("millrace.toml", &config);
    enqueue(&ws, "down", &[]);
    ws.run(&["run", "daemon", "--mode", "cmd", "--until-idle"])
        .ok();
    assert!(ws.path("tasks/blocked/down.md").is_file());
    let diagnostics: serde_json::Value =
        serde_json::from_str(&ws.read("diagnostics/blocked/task-down.json")).expect("diagnostics");
    assert_eq!(diagnostics["transient"], true, "{diagnostics}");
    assert_eq!(diagnostics["failure_class"], "provider_unavailable");
}

#[test]
fn usage_governance_pauses_between_stages_and_resumes_when_the_rule_clears() {
    let ws = scripted(
        "[[step]]\nnode = \"builder\"\ntokens = { input = 50, output = 10 }\n\n[[step]]\nnode = \"checker\"\ntokens = { input = 50, output = 10 }\n",
    );
    let rule = "\n[usage_governance]\nenabled = true\n\n[[usage_governance.rules]]\nrule_id = \"session-cap\"\nwindow = \"daemon_session\"\nthreshold = 100\n";
    let base = "[runtime]\ndefault_mode = \"test\"\n".to_string();
    ws.write("millrace.toml", &(base.clone() + rule));
    enqueue(&ws, "t1", &[]);
    let log = ws.path("logs/monitor.log");
    ws.run(&[
        "run",
        "daemon",
        "--mode",
        "test",
        "--until-idle",
        "--monitor-log",
        log.to_str().expect("utf8"),
    ])
    .ok();
    let monitor = ws.read("logs/monitor.log");
    assert!(monitor.contains("governance pause source=runtime_token rule=session-cap window=daemon_session observed=120 threshold=100"), "{monitor}");
    assert!(
        !monitor.contains("stage start execution/updater"),
        "no stage starts while paused: {monitor}"
    );
    assert!(ws.path("tasks/active/t1.md").is_file());
    let status = ws.run(&["status"]).ok();
    assert_eq!(status.value("usage_governance_paused"), Some("true"));
    assert!(
        status
            .value("usage_governance_blocker")
            .is_some_and(|b| b.starts_with("rule=session-cap window=daemon_session observed=120"))
    );
    let resume = ws.run(&["resume"]).ok();
    assert_eq!(
        resume.value("applied"),
        Some("false"),
        "an operator cannot clear a governance pause"
    );
    ws.write(
        "millrace.toml",
        &(base + &rule.replace("threshold = 100", "threshold = 1000000")),
    );
    ws.run(&[
        "run",
        "daemon",
        "--mode",
        "test",
        "--until-idle",
        "--monitor-log",
        log.to_str().expect("utf8"),
    ])
    .ok();
    assert!(ws.read("logs/monitor.log").contains("governance resume"));
    assert!(
        ws.path("tasks/done/t1.md").is_file(),
        "{}",
        ws.read("logs/monitor.log")
    );
}
