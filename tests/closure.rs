//! Closure targets with untidy work, through the real daemon and the script
//! runner: a spec with no idea behind it is ordinary work; a target whose
//! lineage has only blocked work left gives up the focus (and says so)
//! instead of stalling every other lineage, and is judged once an operator
//! clears that work.

use crate::daemon::{exists, monitor, run_until_idle, scripted};
use crate::support::TestWorkspace;

/// The demo's agents (planner, manager writing one task per spec, arbiter)
/// with `extra` steps first, which win for the work items they name.
fn agents(extra: &str) -> TestWorkspace {
    let demo = include_str!("../assets/demo/script.toml");
    scripted(&format!("{extra}\n{demo}"))
}

/// A spec written by hand or by recon: no idea behind it.
fn plain_spec(id: &str) -> String {
    format!(
        "# Spec {id}\n\nSpec-ID: {id}\nSummary: s\nSource-Type: manual\nCreated-At: 2020-01-01T00:00:00Z\nCreated-By: recon\n\nGoals:\n- g\n\nConstraints:\n- c\n\nAcceptance:\n- a\n\nReferences:\n- r\n"
    )
}

fn idea(ws: &TestWorkspace, name: &str) {
    let text = format!("# {name}\n\nWrite a {name}.\n");
    std::fs::write(ws.root().join(format!("ideas/inbox/{name}.md")), text).expect("idea");
}

fn target(ws: &TestWorkspace, root: &str) -> serde_json::Value {
    let text = ws.read(&format!("arbiter/targets/{root}.json"));
    serde_json::from_str(&text).expect("target json")
}

/// Every step a blocked item takes in the planning plane answers BLOCKED.
const PLANNING_BLOCKS: &str = r#"
[[step]]
node = "planner"
work_item = "probe-spec"
outcomes = ["BLOCKED"]

[[step]]
node = "mechanic"
work_item = "probe-spec"
outcomes = ["BLOCKED"]
"#;

#[test]
fn a_spec_without_an_idea_opens_no_target_and_holds_back_nothing() {
    let ws = agents(PLANNING_BLOCKS);
    ws.write("specs/queue/probe-spec.md", &plain_spec("probe-spec"));
    idea(&ws, "greeting");
    let run = run_until_idle(&ws);
    assert!(
        exists(&ws, "specs/blocked/probe-spec.md"),
        "{}",
        monitor(&ws)
    );
    assert!(!exists(&ws, "arbiter/targets/probe-spec.json"));
    assert!(
        exists(&ws, "tasks/done/idea-greeting-task-1.md"),
        "{}",
        monitor(&ws)
    );
    assert_eq!(target(&ws, "idea-greeting")["closure_open"], false);
    assert_eq!(run.value("idle_with_work_queued"), None, "{}", run.stdout);
}

/// The first idea's task blocks at every stage; later runs pass.
const TASK_BLOCKS: &str = r#"
[[step]]
node = "builder"
work_item = "idea-greeting-task-1"
outcomes = ["BLOCKED", "BUILDER_COMPLETE"]

[[step]]
node = "troubleshooter"
work_item = "idea-greeting-task-1"
outcomes = ["BLOCKED"]

[[step]]
node = "consultant"
work_item = "idea-greeting-task-1"
outcomes = ["BLOCKED"]
"#;

#[test]
fn a_target_held_by_blocked_work_lets_others_close_and_is_judged_once_cleared() {
    let ws = agents(TASK_BLOCKS);
    idea(&ws, "greeting");
    idea(&ws, "farewell");
    run_until_idle(&ws);
    // The second idea went its whole way while the first was held.
    assert!(
        exists(&ws, "tasks/blocked/idea-greeting-task-1.md"),
        "{}",
        monitor(&ws)
    );
    assert_eq!(
        target(&ws, "idea-farewell")["closure_open"],
        false,
        "{}",
        monitor(&ws)
    );
    let held = target(&ws, "idea-greeting");
    assert_eq!(held["closure_open"], true);
    assert_eq!(held["closure_blocked_by_lineage_work"], true);
    assert_eq!(held["blocking_work_ids"][0], "task/idea-greeting-task-1");
    assert!(!exists(&ws, "arbiter/verdicts/idea-greeting.json"));
    let journal = ws.read("logs/runtime_events.jsonl");
    assert!(journal.contains("\"closure_target_held\""), "{journal}");
    // Status and doctor name the target, what holds it and how to clear it.
    let status = ws.run(&["status"]).ok();
    assert!(
        status.stdout.contains(
            "closure_target: idea-greeting state=held blocking=task/idea-greeting-task-1"
        ),
        "{}",
        status.stdout
    );
    let doctor = ws.run(&["doctor"]).ok();
    assert!(
        doctor.stdout.contains("closure_target_held")
            && doctor.stdout.contains("retry-blocked idea-greeting-task-1"),
        "{}",
        doctor.stdout
    );
    // The operator retries the task: it passes, and the arbiter closes the idea.
    ws.run(&[
        "queue",
        "retry-blocked",
        "idea-greeting-task-1",
        "--force",
        "--reason",
        "fixed",
    ])
    .ok();
    run_until_idle(&ws);
    assert!(
        exists(&ws, "tasks/done/idea-greeting-task-1.md"),
        "{}",
        monitor(&ws)
    );
    let closed = target(&ws, "idea-greeting");
    assert_eq!(closed["closure_open"], false, "{}", monitor(&ws));
    assert_eq!(closed["closure_blocked_by_lineage_work"], false);
    let journal = ws.read("logs/runtime_events.jsonl");
    assert!(journal.contains("\"closure_target_released\""), "{journal}");
}

#[test]
fn until_idle_says_why_work_is_still_queued() {
    let ws = agents(TASK_BLOCKS);
    // A task of the first idea's lineage that waits for the blocked one.
    ws.write(
        "tasks/queue/follow-up.md",
        &crate::daemon::task("follow-up", &["idea-greeting-task-1"]).replace(
            "Created-By: test",
            "Created-By: test\nRoot-Spec-ID: idea-greeting\nSpec-ID: idea-greeting",
        ),
    );
    idea(&ws, "greeting");
    let run = run_until_idle(&ws);
    let note = run.value("idle_with_work_queued").unwrap_or_default();
    assert!(note.starts_with("task 1 queued"), "{}", run.stdout);
    // Both lineage items hold the target: it is not the daemon's to judge.
    let held = target(&ws, "idea-greeting");
    let blocking = held["blocking_work_ids"].to_string();
    assert!(blocking.contains("task/follow-up"), "{blocking}");
}

/// A task of the idea's that names another root spec (a hand edit, a
/// planner that minted a new id), parked blocked.
fn stray_task() -> String {
    crate::daemon::task("stray", &[]).replace(
        "Created-By: test",
        "Created-By: test\nRoot-Idea-ID: idea-greeting\nRoot-Spec-ID: old-root\nSpec-ID: old-root",
    )
}

#[test]
fn drifted_lineage_holds_the_target_until_repair_lineage_applies() {
    let ws = agents("");
    ws.write("tasks/blocked/stray.md", &stray_task());
    idea(&ws, "greeting");
    run_until_idle(&ws);
    // Judging now would leave the stray task out: the target is held.
    let held = target(&ws, "idea-greeting");
    assert_eq!(held["closure_open"], true, "{}", monitor(&ws));
    assert_eq!(held["lineage_drift"], true);
    assert_eq!(held["blocking_work_ids"][0], "task/stray");
    let doctor = ws.run(&["doctor"]).ok();
    assert!(
        doctor
            .stdout
            .contains("repair-lineage --root-spec-id idea-greeting --apply"),
        "{}",
        doctor.stdout
    );
    // The dry run says what it would change and changes nothing.
    let dry = ws.run(&["queue", "repair-lineage"]).ok();
    assert_eq!(dry.value("repair_count"), Some("1"), "{}", dry.stdout);
    assert!(
        dry.stdout
            .contains("change: task stray root_spec_id old-root -> idea-greeting"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("change: task stray spec_id old-root -> idea-greeting"),
        "{}",
        dry.stdout
    );
    assert!(
        ws.read("tasks/blocked/stray.md")
            .contains("Root-Spec-ID: old-root")
    );
    // Applied: the task joins the lineage, is audited and reported.
    let applied = ws
        .run(&[
            "queue",
            "repair-lineage",
            "--root-spec-id",
            "idea-greeting",
            "--apply",
        ])
        .ok();
    assert_eq!(applied.value("applied"), Some("true"), "{}", applied.stdout);
    let task = ws.read("tasks/blocked/stray.md");
    assert!(
        task.contains("Root-Spec-ID: idea-greeting") && task.contains("Spec-ID: idea-greeting"),
        "{task}"
    );
    assert!(
        ws.read("tasks/interventions.jsonl")
            .contains("\"repair_lineage\"")
    );
    assert!(
        ws.read("logs/runtime_events.jsonl")
            .contains("\"closure_lineage_repaired\"")
    );
    // Now the blocked task holds it as blocked work; once cancelled, it is judged.
    ws.run(&["queue", "cancel", "stray", "--reason", "not needed"])
        .ok();
    run_until_idle(&ws);
    assert_eq!(
        target(&ws, "idea-greeting")["closure_open"],
        false,
        "{}",
        monitor(&ws)
    );
}

/// Runs `millrace <args> --workspace <root>` under `timeout 60`: a command
/// that blocks (on a FIFO, say) fails with exit 124 instead of hanging the
/// test.
fn bounded(ws: &TestWorkspace, args: &[&str]) -> crate::support::Run {
    let root = ws.root().display().to_string();
    let mut all = vec!["60", env!("CARGO_BIN_EXE_millrace")];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--workspace", &root]);
    let output = std::process::Command::new("timeout")
        .args(&all)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("timeout runs");
    crate::support::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn target_files_that_do_not_read_are_named_and_never_block_status_doctor_or_the_daemon() {
    let ws = agents("");
    let dir = ws.path("arbiter/targets");
    std::fs::create_dir_all(&dir).expect("targets dir");
    // A truncated target, a FIFO, a link to /dev/zero, a folder, and a
    // target whose root names another file.
    ws.write(
        "arbiter/targets/idea-cut.json",
        "{\"schema_version\": \"1.0\", \"root_spec_id\": \"idea-c",
    );
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("idea-fifo.json"))
        .status();
    assert!(made.is_ok_and(|s| s.success()));
    std::os::unix::fs::symlink("/dev/zero", dir.join("idea-zero.json")).expect("link");
    std::fs::create_dir(dir.join("idea-folder.json")).expect("folder");
    ws.write(
        "arbiter/targets/idea-alias.json",
        &serde_json::json!({
            "schema_version": "1.0", "root_spec_id": "../../elsewhere", "closure_open": true,
            "root_spec_contract": "x.md", "opened_at": "2026-01-01T00:00:00Z"
        })
        .to_string(),
    );
    let status = bounded(&ws, &["status"]).ok();
    for name in ["cut", "fifo", "zero", "folder", "alias"] {
        let line = format!("idea-{name}.json state=unreadable reason=");
        assert!(status.stdout.contains(&line), "{name}: {}", status.stdout);
    }
    let doctor = bounded(&ws, &["doctor"]).fails(1);
    let invalid = doctor
        .stdout
        .lines()
        .filter(|l| l.starts_with("error: closure_target_invalid"))
        .count();
    assert_eq!(invalid, 5, "{}", doctor.stdout);
    // The daemon says so once and carries on with the work it has.
    crate::daemon::enqueue(&ws, "plain", &[]);
    let args = crate::daemon::until_idle_args(&ws);
    bounded(&ws, &args.iter().map(String::as_str).collect::<Vec<_>>()).ok();
    assert!(exists(&ws, "tasks/done/plain.md"), "{}", monitor(&ws));
    let said = monitor(&ws).matches("does not read").count();
    assert_eq!(said, 5, "{}", monitor(&ws));
    assert!(!ws.root().join("elsewhere.json").exists());
}
