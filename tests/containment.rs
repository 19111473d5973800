//! No process a stage starts outlives it, not even one that leaves the
//! session and drops its environment (`setsid env -i sleep N &`): with a
//! cgroup per stage, with the process tree alone
//! (`MILLRACE_CONTAINMENT=process_tree`), and after a `kill -9` of the
//! daemon. Each test sleeps for its own number of seconds, so its escaped
//! process is found in `/proc` by its command line.
//!
//! A process that left its session and environment and lost its parents
//! is caught on the Linux platform only (cgroups, the subreaper): with the
//! portable platform (`--features portable-platform`, what macOS runs)
//! those tests are skipped, saying so, and one that kept its environment
//! is checked instead (docs/platforms.md).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::{commanded, enqueue};
use crate::support::{TestWorkspace, await_files};

/// The builder's first run starts `sleep <secs>` in a session of its own
/// with an empty environment, notes its pid once it is that sleep (not the
/// `setsid` or `env` it starts as), then does `then`; the checker
/// notes whether that sleep still runs; every stage answers its success.
fn agent(secs: u32, then: &str) -> String {
    agent_escaping("setsid env -i", secs, then)
}

/// [`agent`], the sleep started by `launcher` (`setsid env -i`, `setsid`).
fn agent_escaping(launcher: &str, secs: u32, then: &str) -> String {
    format!(
        r####"read -r -d '' prompt
first=${{MILLRACE_LEGAL_OUTCOMES%% *}}
seen="$MILLRACE_AGENTS_DIR/seen.$MILLRACE_STAGE"
if [ "$MILLRACE_STAGE" = builder ] && [ ! -e "$seen" ]; then
  touch "$seen"
  {launcher} sleep {secs} &
  pid=$!
  for _ in $(seq 500); do
    [ "$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)" = "sleep {secs} " ] && break
    sleep 0.01
  done
  echo $pid > "$MILLRACE_AGENTS_DIR/escaped.pid"
  {then}
fi
if [ "$MILLRACE_STAGE" = checker ]; then
  for cmdline in /proc/[0-9]*/cmdline; do
    [ "$(tr '\0' ' ' < "$cmdline" 2>/dev/null)" = "sleep {secs} " ] && echo "$cmdline" >> "$MILLRACE_AGENTS_DIR/survivors"
  done
fi
echo "### $first"
"####
    )
}

/// Runs the daemon in mode `cmd` until idle, with `env` added.
fn run_daemon(ws: &TestWorkspace, env: &[(&str, &str)]) {
    let status = daemon(ws, env, &["--until-idle"])
        .status()
        .expect("the daemon runs");
    assert!(status.success(), "{}", ws.read("logs/monitor.log"));
}

fn daemon(ws: &TestWorkspace, env: &[(&str, &str)], extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_millrace"));
    command
        .args(["run", "daemon", "--mode", "cmd", "--monitor-log"])
        .arg(ws.path("logs/monitor.log"))
        .arg("--workspace")
        .arg(ws.root())
        .args(extra)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// The pid of the escaped sleep, as the builder noted it.
fn escaped_pid(ws: &TestWorkspace) -> i32 {
    let text = ws.read("escaped.pid");
    text.trim().parse().expect("a pid")
}

/// Whether `pid` is a live `sleep <secs>`.
fn sleeping(pid: i32, secs: u32) -> bool {
    let proc = Path::new("/proc").join(pid.to_string());
    let cmdline = std::fs::read(proc.join("cmdline")).unwrap_or_default();
    let stat = std::fs::read_to_string(proc.join("stat")).unwrap_or_default();
    let zombie = stat
        .rsplit(')')
        .next()
        .is_some_and(|s| s.trim_start().starts_with('Z'));
    cmdline == format!("sleep\0{secs}\0").as_bytes() && !zombie
}

/// The task went through, the escaped sleep was gone when the checker
/// looked (so it died with the builder's stage) and is gone now.
fn assert_died_with_its_stage(ws: &TestWorkspace, secs: u32) {
    let monitor = ws.read("logs/monitor.log");
    assert!(ws.path("tasks/done/t1.md").is_file(), "{monitor}");
    let pid = escaped_pid(ws);
    let survivors = std::fs::read_to_string(ws.path("survivors")).unwrap_or_default();
    assert_eq!(survivors, "", "the escaped sleep outlived its stage");
    assert!(!sleeping(pid, secs), "sleep {secs} ({pid}) survived");
}

fn escaping_workspace(secs: u32, then: &str) -> TestWorkspace {
    let ws = commanded(&agent(secs, then), "60");
    enqueue(&ws, "t1", &[]);
    ws
}

/// Whether the daemon under test runs the Linux platform (cgroups, the
/// subreaper); says why a test is skipped when not.
fn linux_platform(test: &str) -> bool {
    let linux = !cfg!(feature = "portable-platform");
    if !linux {
        eprintln!(
            "skipping {test}: the portable platform cannot trace a process that left its session and environment and lost its parents (docs/platforms.md)"
        );
    }
    linux
}

#[test]
fn a_child_that_left_the_session_but_kept_its_environment_dies_with_its_stage() {
    let ws = commanded(&agent_escaping("setsid", 1781, ""), "60");
    enqueue(&ws, "t1", &[]);
    run_daemon(&ws, &[("MILLRACE_CONTAINMENT", "process_tree")]);
    assert_died_with_its_stage(&ws, 1781);
    let platform = if cfg!(feature = "portable-platform") {
        "portable"
    } else {
        "linux"
    };
    let monitor = ws.read("logs/monitor.log");
    let line = format!("containment process_tree platform={platform}");
    assert!(monitor.contains(&line), "{monitor}");
}

#[test]
fn a_child_that_left_the_session_and_its_environment_dies_with_its_stage() {
    if !linux_platform("the escaped child") {
        return;
    }
    let ws = escaping_workspace(1777, "");
    run_daemon(&ws, &[]);
    assert_died_with_its_stage(&ws, 1777);
}

#[test]
fn without_cgroups_the_process_tree_attributes_the_escaped_child() {
    if !linux_platform("the escaped child without cgroups") {
        return;
    }
    let ws = escaping_workspace(1778, "");
    run_daemon(&ws, &[("MILLRACE_CONTAINMENT", "process_tree")]);
    assert_died_with_its_stage(&ws, 1778);
    let monitor = ws.read("logs/monitor.log");
    assert!(monitor.contains("containment process_tree"), "{monitor}");
}

#[test]
fn after_a_kill_9_of_the_daemon_the_next_one_kills_the_escaped_child() {
    if !linux_platform("the escaped child after a kill -9") {
        return;
    }
    if !cgroups_writable() {
        eprintln!(
            "skipping: no writable cgroup v2 here; without one, a process that dropped its environment and lost its parents cannot be traced after a kill -9 (docs/harness-runners.md)"
        );
        return;
    }
    let ws = escaping_workspace(1779, "sleep 600");
    let mut first = daemon(&ws, &[], &[]).spawn().expect("spawn the daemon");
    let noted = || std::fs::read_to_string(ws.path("escaped.pid")).is_ok_and(|p| p.ends_with('\n'));
    await_files(
        ws.root(),
        "the escaped sleep",
        Duration::from_secs(60),
        noted,
    );
    first.kill().expect("kill -9 the daemon");
    first.wait().expect("reap the daemon");
    let pid = escaped_pid(&ws);
    assert!(
        sleeping(pid, 1779),
        "the escaped sleep did not outlive the dead daemon"
    );
    run_daemon(&ws, &[]);
    assert!(
        !sleeping(pid, 1779),
        "sleep 1779 ({pid}) survived the restart"
    );
    let monitor = ws.read("logs/monitor.log");
    assert!(
        monitor.contains("stage cgroup(s) left by a dead daemon"),
        "{monitor}"
    );
    assert!(ws.path("tasks/done/t1.md").is_file(), "{monitor}");
}

#[test]
fn a_missing_program_is_still_reported_as_missing() {
    let ws = escaping_workspace(1780, "");
    let config = "[runtime]\ndefault_mode = \"cmd\"\n\n[runners.command]\ncommand = \"/nonexistent/millrace-agent\"\n";
    ws.write("millrace.toml", config);
    run_daemon(&ws, &[]);
    let results = crate::daemon::all_results(&ws.path("runs"));
    let builder = results.iter().find(|r| r["node"] == "builder");
    let class = builder.map(|r| r["failure_class"].clone());
    assert_eq!(class, Some(serde_json::json!("runner_binary_missing")));
    let records = std::fs::read_dir(ws.path("state/stage_cgroups"));
    assert_eq!(
        records.map_or(0, Iterator::count),
        0,
        "a cgroup record was left"
    );
}

/// Whether this process may make a child of its own cgroup v2, as the
/// daemon will try to (the test decides by the machine, not by the daemon).
fn cgroups_writable() -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mount = mountinfo.lines().find_map(|line| {
        let (fields, fs) = line.split_once(" - ")?;
        fs.starts_with("cgroup2 ")
            .then(|| fields.split(' ').nth(4))?
    });
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let own = cgroup.lines().find_map(|l| l.strip_prefix("0::"));
    let (Some(mount), Some(own)) = (mount, own) else {
        return false;
    };
    let probe = Path::new(mount)
        .join(own.trim_start_matches('/'))
        .join(format!("millrace-test-{}", std::process::id()));
    let made = std::fs::create_dir(&probe).is_ok();
    made && std::fs::remove_dir(&probe).is_ok()
}
