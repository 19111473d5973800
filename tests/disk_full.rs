//! A disk that fills up mid-run: the daemon pauses (`disk_full`), waits
//! with backoff, and resumes by itself once there is room again, losing
//! and repeating nothing. The workspace lives on a small tmpfs mounted in a
//! private mount namespace (`unshare --mount`, which needs root; CI runs as
//! root); the test runs itself there as a child.
//!
//! A stage whose output the runner could not write is the runner's I/O
//! failure, retried, never the agent's `BLOCKED`, also when a restarted
//! daemon adopts its recorded result. These tests need no root: the agent
//! points the tail segment of its own stdout log at `/dev/full`, which
//! fails every write with ENOSPC as a full disk does, while the rest of the
//! disk has room.

use std::process::Command;
use std::time::Duration;

use crate::daemon::{all_results, commanded, enqueue, exists, monitor, run_cmd_mode};
use crate::support::{TestWorkspace, await_files};

const CHILD_VAR: &str = "MILLRACE_DISK_FULL_CHILD";

/// Fills the disk once, in the first builder, then answers like any stage.
const AGENT: &str = "#!/bin/bash\nread -r -d '' prompt\nfirst=$(echo \"$MILLRACE_LEGAL_OUTCOMES\" | cut -d' ' -f1)\nflag=\"$DISK_FULL_FLAG\"\nif [ \"$MILLRACE_STAGE\" = builder ] && [ ! -e \"$flag\" ]; then touch \"$flag\"; dd if=/dev/zero of=\"$MILLRACE_AGENTS_DIR/../filler\" bs=64k 2>/dev/null; fi\necho \"### $first\"\n";

#[test]
fn a_full_disk_pauses_the_daemon_until_there_is_room() {
    let exe = std::env::current_exe().expect("test binary");
    let status = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(&exe)
        .args(["--exact", "disk_full::child", "--nocapture"])
        .env(CHILD_VAR, "1")
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) if status.code() == Some(77) && std::env::var("CI").is_err() => {
            eprintln!(
                "disk_full: skipped: needs root for `unshare --mount` and tmpfs (CI runs it)"
            );
        }
        other => panic!("the disk-full child failed: {other:?}"),
    }
}

/// The child role of the test above; does nothing unless started by it.
#[test]
fn child() {
    if std::env::var(CHILD_VAR).is_err() {
        return;
    }
    let ws = TestWorkspace::empty();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=24m", "tmpfs"])
        .arg(ws.root())
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        std::process::exit(77);
    }
    let outside = tempfile::tempdir().expect("temp dir");
    ws.run(&["init"]).ok();
    ws.write(
        "modes/cmd.loop",
        "mode cmd extends default_codex {\n  runner command\n  timeout 30\n}\n",
    );
    let script = outside.path().join("agent.sh");
    std::fs::write(&script, AGENT).expect("agent");
    let config = format!(
        "[runtime]\ndefault_mode = \"cmd\"\n\n[runners.command]\ncommand = \"bash\"\nargs = [\"{}\"]\n\n[runners.command.env]\nDISK_FULL_FLAG = \"{}\"\n",
        script.display(),
        outside.path().join("filled").display()
    );
    ws.write("millrace.toml", &config);
    for id in ["d1", "d2", "d3"] {
        enqueue(&ws, id, &[]);
    }
    let log = outside.path().join("monitor.log");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_millrace"))
        .args(["run", "daemon", "--until-idle", "--monitor-log"])
        .arg(&log)
        .arg("--workspace")
        .arg(ws.root())
        .spawn()
        .expect("daemon");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    await_files(
        outside.path(),
        "the disk_full pause",
        Duration::from_secs(60),
        || read_log().contains("paused reason=disk_full"),
    );
    std::fs::remove_file(ws.root().join("filler")).expect("free the disk");
    assert!(daemon.wait().expect("exit").success(), "{}", read_log());
    let log = read_log();
    assert!(log.contains("resumed reason=disk_writable"), "{log}");
    for id in ["d1", "d2", "d3"] {
        let done = ws.path(&format!("tasks/done/{id}.md"));
        assert!(done.is_file(), "{id} not done:\n{log}");
        for state in ["queue", "active", "blocked"] {
            assert!(
                !ws.path(&format!("tasks/{state}/{id}.md")).exists(),
                "{id} in {state}"
            );
        }
    }
}

/// Once (the first builder), loses the end of its stdout, marker included,
/// to ENOSPC: the tail segment of its stdout log is `/dev/full`, and it
/// prints more than the log's head keeps (8 MiB). With `SABOTAGE_RESULTS`
/// set it also makes the stage results folder a file, so the daemon stops
/// on an error after the runner recorded its result. Every other stage
/// answers its first legal outcome.
const LOSES_OUTPUT: &str = r####"#!/bin/bash
read -r -d '' prompt
first=$(echo "$MILLRACE_LEGAL_OUTCOMES" | cut -d' ' -f1)
flag="$MILLRACE_WORKSPACE/output-lost-once"
if [ "$MILLRACE_STAGE" = builder ] && [ ! -e "$flag" ]; then
  touch "$flag"
  ln -s /dev/full "$MILLRACE_RUN_DIR/stdout.$MILLRACE_REQUEST_ID.txt.tail0"
  if [ -n "$SABOTAGE_RESULTS" ]; then
    rm -rf "$MILLRACE_RUN_DIR/stage_results"
    echo "not a folder" > "$MILLRACE_RUN_DIR/stage_results"
  fi
  head -c 9000000 /dev/zero | tr '\0' x | fold -w 999
fi
echo "### $first"
"####;

/// The stage results of the task's builder, in no particular order.
fn builder_results(ws: &TestWorkspace) -> Vec<serde_json::Value> {
    all_results(&ws.path("runs"))
        .into_iter()
        .filter(|r| r["node"] == "builder")
        .collect()
}

/// The lost stage was retried as the runner's I/O failure: the task is
/// done, no stage was judged from the lost output, and nothing of the
/// capped log is left behind.
#[track_caller]
fn assert_retried_not_blocked(ws: &TestWorkspace, log: &str) {
    assert!(exists(ws, "tasks/done/lost.md"), "{log}");
    let results = all_results(&ws.path("runs"));
    for result in &results {
        let failure = &result["failure_class"];
        assert!(
            failure.is_null() || failure == "runner_io_failure",
            "a stage was judged from a lost output: {result}"
        );
    }
    let builders = builder_results(ws);
    let lost: Vec<_> = builders
        .iter()
        .filter(|r| r["failure_class"] == "runner_io_failure")
        .collect();
    assert_eq!(lost.len(), 1, "{builders:?}");
    assert_eq!(
        lost[0]["result_class"], "recoverable_failure",
        "{}",
        lost[0]
    );
    assert!(
        builders.iter().any(|r| r["outcome"] == "BUILDER_COMPLETE"),
        "{builders:?}"
    );
    assert!(log.contains("failure=runner_io_failure"), "{log}");
    assert!(log.contains("retry execution/builder"), "{log}");
    for run in std::fs::read_dir(ws.path("runs")).expect("runs").flatten() {
        for file in std::fs::read_dir(run.path()).expect("run dir").flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            assert!(!name.contains(".tail"), "a tail segment is left: {name}");
        }
    }
}

#[test]
fn a_stage_whose_output_cannot_be_written_is_retried_not_blocked() {
    let ws = commanded(LOSES_OUTPUT, "60");
    enqueue(&ws, "lost", &[]);
    run_cmd_mode(&ws);
    assert_retried_not_blocked(&ws, &monitor(&ws));
}

#[test]
fn a_lost_output_adopted_by_a_restarted_daemon_is_retried_not_blocked() {
    let ws = commanded(LOSES_OUTPUT, "60");
    let config = ws.read("millrace.toml");
    ws.write(
        "millrace.toml",
        &format!("{config}\n[runners.command.env]\nSABOTAGE_RESULTS = \"1\"\n"),
    );
    enqueue(&ws, "lost", &[]);
    let first = ws.run(&["run", "daemon", "--until-idle"]);
    assert_eq!(
        first.code, 1,
        "the daemon stops on its error: {}",
        first.stderr
    );
    assert!(first.stderr.contains("stage result"), "{}", first.stderr);
    assert!(builder_results(&ws).is_empty(), "the stage was not applied");
    // The stage result folder is a folder again; the restarted daemon
    // adopts the runner's recorded result.
    for run in std::fs::read_dir(ws.path("runs")).expect("runs").flatten() {
        let results = run.path().join("stage_results");
        if results.is_file() {
            std::fs::remove_file(&results).expect("remove");
        }
    }
    run_cmd_mode(&ws);
    let log = monitor(&ws);
    assert!(
        log.contains("adopted finished stage execution/builder"),
        "{log}"
    );
    assert_retried_not_blocked(&ws, &log);
}
