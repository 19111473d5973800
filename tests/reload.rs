//! `reload-config` on a live daemon: the runners, the run retention and
//! the other settings of `millrace.toml` apply from the next stage without
//! a restart, and a config that does not load is refused while the daemon
//! keeps working with the one it has.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon::{commanded, enqueue, exists};
use crate::harness::{runner_config, workspace};
use crate::live::start_daemon;
use crate::support::{TestWorkspace, await_files};

const LIMIT: Duration = Duration::from_secs(60);

/// A fake Codex CLI that answers every stage with its first legal outcome
/// (in its `--output-last-message` file) and appends `<name> <item>
/// <stage>` to `agents.log`.
fn fake_codex(ws: &TestWorkspace, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let body = format!(
        r#"#!/bin/bash
first=${{MILLRACE_LEGAL_OUTCOMES%% *}}
last=""
while [ $# -gt 0 ]; do
  [ "$1" = --output-last-message ] && last=$2
  shift
done
echo "{name} $MILLRACE_WORK_ITEM_ID $MILLRACE_STAGE" >> "$MILLRACE_WORKSPACE/agents.log"
printf 'Done.\n\n%s %s\n' '###' "$first" > "$last"
echo '{{"type":"turn.completed","usage":{{"input_tokens":1,"output_tokens":1}}}}'
"#
    );
    let path = ws.root().join(name);
    std::fs::write(&path, body).expect("fake codex");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// `millrace.toml` running Codex as `command`, keeping `keep_last` runs.
fn codex_config(command: &Path, keep_last: u32) -> String {
    let config = runner_config("codex", command, &[], &[]);
    format!("{config}\n[runs]\nkeep_last = {keep_last}\n")
}

/// A command-runner agent that answers like [`fake_codex`] on stdout.
fn agent(name: &str) -> String {
    format!(
        r#"#!/bin/bash
read -r -d '' prompt
echo "{name} $MILLRACE_WORK_ITEM_ID $MILLRACE_STAGE" >> "$MILLRACE_WORKSPACE/agents.log"
printf '%s %s\n' '###' "${{MILLRACE_LEGAL_OUTCOMES%% *}}"
"#
    )
}

fn await_done(ws: &TestWorkspace, id: &str) {
    let done = format!("tasks/done/{id}.md");
    await_files(ws.root(), &format!("{id} to be done"), LIMIT, || {
        exists(ws, &done)
    });
}

/// The agents that ran `id`'s stages, in order.
fn agents_of(ws: &TestWorkspace, id: &str) -> Vec<String> {
    let log = std::fs::read_to_string(ws.root().join("agents.log")).unwrap_or_default();
    log.lines()
        .filter(|line| line.split(' ').nth(1) == Some(id))
        .map(|line| line.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

fn run_folders(ws: &TestWorkspace) -> usize {
    std::fs::read_dir(ws.path("runs")).map_or(0, |dir| dir.flatten().count())
}

#[test]
fn a_reloaded_config_applies_its_runner_and_retention_to_the_next_stages() {
    let ws = workspace("codex_cli", "fake-model", 30);
    let (first, second) = (fake_codex(&ws, "first"), fake_codex(&ws, "second"));
    ws.write("millrace.toml", &codex_config(&first, 1000));
    let mut daemon = start_daemon(&ws, "h");
    await_done(&ws, "t1");
    for id in ["t2", "t3"] {
        enqueue(&ws, id, &[]);
        await_done(&ws, id);
    }
    assert_eq!(run_folders(&ws), 3);
    ws.write("millrace.toml", &codex_config(&second, 1));
    let reload = ws.run(&["reload-config", "--wait"]).ok();
    assert_eq!(reload.value("applied"), Some("true"), "{}", reload.stdout);
    enqueue(&ws, "t4", &[]);
    await_done(&ws, "t4");
    assert!(agents_of(&ws, "t1").iter().all(|a| a == "first"));
    let after = agents_of(&ws, "t4");
    assert!(
        !after.is_empty() && after.iter().all(|a| a == "second"),
        "{after:?}"
    );
    // The tighter retention was met at once: only the newest run is left.
    await_files(ws.root(), "the runs to be pruned", LIMIT, || {
        run_folders(&ws) == 1
    });
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
}

#[test]
fn a_config_that_does_not_load_is_refused_and_the_daemon_goes_on() {
    let ws = commanded(&agent("first"), "30");
    let mut daemon = start_daemon(&ws, "cmd");
    ws.write(
        "millrace.toml",
        "[runtime]\ndefault_mode = \"cmd\"\n\n[runners.command]\ncommand = 5\n",
    );
    let reload = ws.run(&["reload-config", "--wait"]).fails(1);
    assert_eq!(reload.value("applied"), Some("false"), "{}", reload.stdout);
    assert!(reload.stderr.contains("millrace.toml"), "{}", reload.stderr);
    enqueue(&ws, "t1", &[]);
    await_done(&ws, "t1");
    let ran = agents_of(&ws, "t1");
    assert!(
        !ran.is_empty() && ran.iter().all(|a| a == "first"),
        "{ran:?}"
    );
    ws.run(&["stop"]).ok();
    assert!(daemon.wait().expect("exit").success());
}
