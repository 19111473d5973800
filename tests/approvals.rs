//! Approval gates end to end: a stage gated on `git.mutate` waits with its
//! task still active (not blocked, not claimed again); `approvals approve`
//! lets it run, `approvals deny` blocks the task with the operator's
//! reason; both through a live daemon's mailbox and after a kill -9.

use std::process::Child;
use std::time::Duration;

use crate::daemon::{enqueue, run_until_idle, scripted};
use crate::live::start_daemon;
use crate::support::{TestWorkspace, await_files};

const LIMIT: Duration = Duration::from_secs(60);

/// A scripted workspace whose checker is gated on `git.mutate`.
fn gated() -> TestWorkspace {
    let ws = scripted("");
    ws.write(
        "millrace.toml",
        "[execution_capabilities.stages.checker]\n\"git.mutate\" = \"approval_required\"\n",
    );
    enqueue(&ws, "t1", &[]);
    ws
}

fn pending_ids(ws: &TestWorkspace) -> Vec<String> {
    let ls = ws.run(&["approvals", "ls"]).ok().stdout;
    let mut ids = Vec::new();
    let mut id = None;
    for line in ls.lines() {
        if let Some(value) = line.strip_prefix("approval_id: ") {
            id = Some(value.to_string());
        }
        if line == "status: pending" {
            ids.extend(id.take());
        }
    }
    ids
}

/// Waits for the checker's approval to be asked; returns its id.
fn await_ask(ws: &TestWorkspace) -> String {
    await_files(
        ws.root(),
        "the checker's approval to be asked",
        LIMIT,
        || !pending_ids(ws).is_empty(),
    );
    let ids = pending_ids(ws);
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

/// The task waits active while its approval is pending, and `status` says so.
fn assert_waiting(ws: &TestWorkspace, id: &str) {
    assert!(ws.path("tasks/active/t1.md").is_file());
    let status = ws.run(&["status"]).ok();
    assert_eq!(status.value("pending_approval_count"), Some("1"));
    let line = status.value("pending_approval").unwrap_or_default();
    assert!(
        line.starts_with(id) && line.contains("capability=git.mutate stage=execution/checker"),
        "{line}"
    );
    let show = ws.run(&["approvals", "show", id]).ok().stdout;
    assert!(show.contains("\"work_item_id\": \"t1\""), "{show}");
}

fn kill_9(mut daemon: Child) {
    daemon.kill().expect("SIGKILL");
    daemon.wait().expect("reaped");
}

fn checker_result(ws: &TestWorkspace) -> serde_json::Value {
    let results = crate::harness::stage_results(ws);
    let checker = results.into_iter().find(|r| r["node"] == "checker");
    checker.expect("a checker result")
}

#[test]
fn an_approval_through_a_live_daemon_lets_the_gated_stage_run() {
    let ws = gated();
    let daemon = start_daemon(&ws, "test");
    let id = await_ask(&ws);
    assert_waiting(&ws, &id);
    let answer = ws
        .run(&["approvals", "approve", &id, "--reason", "ok"])
        .ok();
    assert_eq!(answer.value("mode"), Some("mailbox"));
    await_files(ws.root(), "the task to finish", LIMIT, || {
        ws.path("tasks/done/t1.md").is_file()
    });
    let unknown = ws.run(&["approvals", "approve", "approval-nope"]).fails(1);
    assert!(
        unknown
            .stderr
            .contains("error: approval not found: approval-nope"),
        "{}",
        unknown.stderr
    );
    let again = ws.run(&["approvals", "deny", &id]).fails(1);
    let said = format!("error: approval {id} is already approved");
    assert!(again.stderr.contains(&said), "{}", again.stderr);
    kill_9(daemon);
    let grants = checker_result(&ws)["capability_grants"].to_string();
    assert!(
        grants.contains("git.mutate=granted/runtime_enforced"),
        "{grants}"
    );
    assert!(pending_ids(&ws).is_empty());
}

#[test]
fn a_denial_through_a_live_daemon_blocks_the_task_with_the_reason() {
    let ws = gated();
    let daemon = start_daemon(&ws, "test");
    let id = await_ask(&ws);
    ws.run(&["approvals", "deny", &id, "--reason", "no pushes today"])
        .ok();
    await_files(ws.root(), "the task to be blocked", LIMIT, || {
        ws.path("tasks/blocked/t1.md").is_file()
    });
    kill_9(daemon);
    let checker = checker_result(&ws);
    assert_eq!(checker["failure_class"], "capability_approval_denied");
    let message = checker["failure_message"].as_str().unwrap_or_default();
    assert!(message.contains("no pushes today"), "{checker}");
}

/// The gate survives a kill -9: the restarted daemon asks nothing twice
/// and runs the stage once an approval comes through its mailbox.
#[test]
fn a_gate_survives_kill_9_and_is_approved_through_the_next_daemon() {
    let ws = gated();
    let id = await_ask_then_kill(&ws);
    let daemon = start_daemon(&ws, "test");
    assert_waiting(&ws, &id);
    let answer = ws.run(&["approvals", "approve", &id]).ok();
    assert_eq!(answer.value("mode"), Some("mailbox"));
    await_files(ws.root(), "the task to finish", LIMIT, || {
        ws.path("tasks/done/t1.md").is_file()
    });
    kill_9(daemon);
    assert_eq!(
        std::fs::read_dir(ws.path("approvals/resolved"))
            .expect("resolved")
            .count(),
        1
    );
}

/// With no daemon the answer is recorded directly, and the next daemon
/// applies it: a denial blocks the task.
#[test]
fn a_denial_recorded_after_kill_9_blocks_the_task_at_the_next_start() {
    let ws = gated();
    let id = await_ask_then_kill(&ws);
    let answer = ws
        .run(&["approvals", "deny", &id, "--reason", "not now"])
        .ok();
    assert_eq!(answer.value("mode"), Some("direct"));
    assert!(ws.path("tasks/active/t1.md").is_file());
    run_until_idle(&ws);
    let monitor = ws.read("logs/monitor.log");
    assert!(ws.path("tasks/blocked/t1.md").is_file(), "{monitor}");
    let message = checker_result(&ws)["failure_message"].to_string();
    assert!(message.contains("not now"), "{message}");
}

fn await_ask_then_kill(ws: &TestWorkspace) -> String {
    let daemon = start_daemon(ws, "test");
    let id = await_ask(ws);
    kill_9(daemon);
    id
}

/// `--until-idle` stops when only an operator can move the work on, and
/// says which approval it waits for.
#[test]
fn until_idle_stops_at_a_gate_and_names_the_approval() {
    let ws = gated();
    let run = run_until_idle(&ws);
    let id = await_ask(&ws);
    assert_waiting(&ws, &id);
    let note = run.value("idle_with_work_queued").unwrap_or_default();
    assert!(
        note.starts_with("1 stage(s) waiting for an approval")
            && note.contains(&format!("millrace approvals approve {id}")),
        "{note}"
    );
}

/// The dashboard's Overview lists what waits for an approval.
#[test]
fn the_dashboard_shows_a_stage_waiting_for_an_approval() {
    let ws = gated();
    run_until_idle(&ws);
    let id = await_ask(&ws);
    let served = crate::serve::Served::start(ws.root(), "127.0.0.1:0", &[]);
    let overview = served.get("/").body;
    assert!(
        overview.contains("1 stage(s) wait for an operator's approval"),
        "{overview}"
    );
    let line =
        format!("<code>{id} capability=git.mutate stage=execution/checker work_item=t1</code>");
    assert!(overview.contains(&line), "{overview}");
}

/// `millrace <args>` that is killed after 60 s rather than hanging the test.
fn bounded(ws: &TestWorkspace, args: &[&str]) -> std::process::Output {
    std::process::Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_millrace"))
        .args(args)
        .arg("--workspace")
        .arg(ws.root())
        .output()
        .expect("timeout runs")
}

/// A FIFO, a link to `/dev/zero`, a sparse 2 GiB file and garbage among
/// the pending approvals: the daemon, `approvals ls` and `status` neither
/// block nor fill their memory, and the real ask is still made and listed.
#[test]
fn hostile_files_among_the_approvals_never_block_or_exhaust() {
    let ws = gated();
    let pending = ws.path("approvals/pending");
    std::fs::create_dir_all(&pending).expect("pending");
    let made = std::process::Command::new("mkfifo")
        .arg(pending.join("approval-fifo.json"))
        .status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    std::os::unix::fs::symlink("/dev/zero", pending.join("approval-zero.json")).expect("link");
    let big = std::fs::File::create(pending.join("approval-big.json")).expect("create");
    big.set_len(2 * 1024 * 1024 * 1024).expect("sparse 2 GiB");
    std::fs::write(pending.join("approval-bad.json"), "{ not json").expect("garbage");
    let args = crate::daemon::until_idle_args(&ws);
    let daemon = bounded(&ws, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(daemon.status.success(), "{daemon:?}");
    for args in [["approvals", "ls"], ["status", "show"]] {
        let out = bounded(&ws, &args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    assert_eq!(pending_ids(&ws).len(), 1, "the checker's ask");
}

/// `retry-active` while the checker waits: the rerun asks again, and the
/// first ask, which no stage will ever read, is cancelled rather than left
/// pending for ever (an approval of it would let nothing run).
#[test]
fn an_ask_no_stage_waits_for_any_more_is_cancelled() {
    let ws = gated();
    let first = await_ask_then_kill(&ws);
    ws.run(&["retry-active", "--reason", "again"]).ok();
    run_until_idle(&ws);
    let pending = pending_ids(&ws);
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_ne!(pending[0], first);
    let show = ws.run(&["approvals", "show", &first]).ok().stdout;
    assert!(show.contains("\"status\": \"cancelled\""), "{show}");
    let late = ws.run(&["approvals", "approve", &first]).fails(1);
    assert!(
        late.stderr.contains("is already cancelled"),
        "{}",
        late.stderr
    );
}
