//! `reload-config` on a live daemon: the runners, the run retention and
//! the other settings of `millrace.toml` apply from the next stage without
//! a restart, and a config that does not load is refused while the daemon
//! keeps working with the one it has.

use std::time::Duration;

use crate::daemon::{commanded, enqueue, exists};
use crate::live::start_daemon;
use crate::support::{TestWorkspace, await_files};

const LIMIT: Duration = Duration::from_secs(60);

/// An agent that answers every stage with its first legal outcome and
/// appends `<name> <item> <stage>` to `agents.log`.
fn agent(name: &str) -> String {
    format!(
        r####"#!/bin/bash
read -r -d '' prompt
echo "{name} $MILLRACE_WORK_ITEM_ID $MILLRACE_STAGE" >> "$MILLRACE_WORKSPACE/agents.log"
echo "### $(echo "$MILLRACE_LEGAL_OUTCOMES" | cut -d' ' -f1)"
"####
    )
}

/// `millrace.toml` running every stage through `script`, keeping `keep_last` runs.
fn config(ws: &TestWorkspace, script: &str, keep_last: u32) -> String {
    format!(
        "[runtime]\ndefault_mode = \"cmd\"\n\n[runners.command]\ncommand = \"bash\"\nargs = [\"{}\"]\n\n[runs]\nkeep_last = {keep_last}\n",
        ws.path(script).display()
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
    let ws = commanded(&agent("first"), "30");
    ws.write("second.sh", &agent("second"));
    ws.write("millrace.toml", &config(&ws, "../agent.sh", 1000));
    let mut daemon = start_daemon(&ws, "cmd");
    for id in ["t1", "t2", "t3"] {
        enqueue(&ws, id, &[]);
        await_done(&ws, id);
    }
    assert_eq!(run_folders(&ws), 3);
    ws.write("millrace.toml", &config(&ws, "second.sh", 1));
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
    ws.write("millrace.toml", &config(&ws, "../agent.sh", 1000));
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
