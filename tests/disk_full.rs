//! A disk that fills up mid-run: the daemon pauses (`disk_full`), waits
//! with backoff, and resumes by itself once there is room again, losing
//! and repeating nothing. The workspace lives on a small tmpfs mounted in a
//! private mount namespace (`unshare --mount`, which needs root; CI runs as
//! root); the test runs itself there as a child.

use std::process::Command;
use std::time::Duration;

use crate::daemon::enqueue;
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
