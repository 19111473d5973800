//! The agent-CLI runners against the real CLIs (Codex CLI, pi, Claude Code)
//! and the mock model server on 127.0.0.1, through the real `millrace`
//! daemon.
//!
//! The CLIs are found under `MILLRACE_CLI_DIR` (default
//! `$HOME/.cache/millrace-clis`), as `node_modules/.bin/<name>`; `.ci/run`
//! installs them there. When one is missing the tests print how to install
//! it and pass, except in CI (`CI=true`), where they fail.

mod capabilities;
mod claude;
mod codex;
mod pi;

use std::path::{Path, PathBuf};

use mock_model::{MockServer, Script};

use crate::support::{Run, TestWorkspace};

/// The pinned CLI packages, as `.ci/run` installs them.
/// The stage timeout of the "killed at its timeout" tests: long enough
/// for a CLI on Node to start and run its tool on a loaded machine (5 s
/// was not, with other builds running), far below the tool's sleep.
pub const TIMEOUT_TEST_SECS: u64 = 20;

pub const PACKAGES: &str =
    "@openai/codex@0.169.0 @mariozechner/pi-coding-agent@0.73.1 @anthropic-ai/claude-code@2.1.197";

/// The directory holding `node_modules/` with the CLIs.
fn cli_dir() -> PathBuf {
    match std::env::var_os("MILLRACE_CLI_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/millrace-clis")
        }
    }
}

/// The CLI `name` (`codex`, `pi`, `claude`), or `None` (with a printed
/// instruction) when it is not installed outside CI.
pub fn cli(name: &str) -> Option<PathBuf> {
    let path = cli_dir().join("node_modules/.bin").join(name);
    if path.exists() {
        return Some(path);
    }
    let help = format!(
        "{name} is not installed at {}: install the CLIs with\n  npm install --prefix \"$MILLRACE_CLI_DIR\" {PACKAGES}\n(or run .ci/run), then set MILLRACE_CLI_DIR",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{help}");
    }
    eprintln!("skipping: {help}");
    None
}

/// A workspace whose mode `h` binds every stage to `runner` with `model`.
pub fn workspace(runner: &str, model: &str, timeout_s: u64) -> TestWorkspace {
    let ws = TestWorkspace::new();
    let mode = format!(
        "mode h extends default_codex {{\n  runner {runner}\n  model \"{model}\"\n  thinking low\n  timeout {timeout_s}\n}}\n"
    );
    ws.write("modes/h.loop", &mode);
    crate::daemon::enqueue(&ws, "t1", &[]);
    ws
}

/// `millrace.toml` for a real-CLI test: the CLI at `command` under
/// `[runners.<table>]` with extra `settings` lines and its environment, and
/// no runtime retries (these tests watch the CLI fail; the runtime's own
/// retries are tested elsewhere).
pub fn runner_config(
    table: &str,
    command: &Path,
    settings: &[String],
    env: &[(&str, String)],
) -> String {
    let mut config = format!(
        "[auto_recovery]\nmax_transient_retries = 0\n\n[runners.{table}]\ncommand = \"{}\"\n",
        command.display()
    );
    for line in settings {
        config.push_str(line);
        config.push('\n');
    }
    config.push_str(&format!("\n[runners.{table}.env]\n"));
    for (key, value) in env {
        config.push_str(&format!("{key} = \"{value}\"\n"));
    }
    config
}

/// A private directory for a CLI's home and settings.
pub fn home(ws: &TestWorkspace, name: &str) -> PathBuf {
    let dir = ws.root().join(".homes").join(name);
    std::fs::create_dir_all(&dir).expect("home dir");
    dir
}

/// Runs the daemon in mode `h` until idle.
pub fn run_daemon(ws: &TestWorkspace) -> Run {
    let log = ws.path("logs/monitor.log");
    let log = log.to_str().expect("utf8 path");
    let args = [
        "run",
        "daemon",
        "--mode",
        "h",
        "--until-idle",
        "--monitor-log",
        log,
    ];
    ws.run(&args).ok()
}

/// The task goes through builder, checker and updater, each a real tool
/// call of the CLI that leaves a file in the workspace.
pub fn three_stages() -> Script {
    Script::new()
        .write_file("built.txt", "built\n")
        .message("Built it.\n\n### BUILDER_COMPLETE")
        .shell("test -f built.txt && echo checked > checked.txt")
        .message("Checked.\n\n### CHECKER_PASS")
        .shell("echo updated > updated.txt")
        .message("Updated.\n\n### UPDATE_COMPLETE")
}

/// The model fails once with HTTP `status`, then serves the three stages.
pub fn after_one_error(status: u16) -> Script {
    let mut script = Script::new().http_error(status);
    script.turns.extend(three_stages().turns);
    script
}

/// The task reached `tasks/done/`.
pub fn assert_done(ws: &TestWorkspace) {
    assert!(
        ws.path("tasks/done/t1.md").is_file(),
        "{}",
        ws.read("logs/monitor.log")
    );
}

/// Every stage result of the workspace, as JSON.
pub fn stage_results(ws: &TestWorkspace) -> Vec<serde_json::Value> {
    let mut results = Vec::new();
    for run in std::fs::read_dir(ws.path("runs")).expect("runs").flatten() {
        let dir = run.path().join("stage_results");
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).expect("result");
            results.push(serde_json::from_str(&text).expect("result JSON"));
        }
    }
    results
}

/// The `invocation.<id>.json` records of the workspace.
pub fn invocations(ws: &TestWorkspace) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    for run in std::fs::read_dir(ws.path("runs")).expect("runs").flatten() {
        for entry in std::fs::read_dir(run.path()).expect("run dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("invocation.") {
                let text = std::fs::read_to_string(entry.path()).expect("invocation");
                found.push(serde_json::from_str(&text).expect("invocation JSON"));
            }
        }
    }
    found
}

/// Checks the happy path: the task is done, the files the tools wrote
/// exist, every stage recorded tokens and an invocation, and
/// `compile show` names the bindings.
pub fn assert_three_stages(ws: &TestWorkspace, runner: &str, model: &str, env_key: &str) {
    let monitor = ws.read("logs/monitor.log");
    let results = stage_results(ws);
    assert!(
        ws.path("tasks/done/t1.md").is_file(),
        "{monitor}\n{results:#?}"
    );
    for file in ["built.txt", "checked.txt", "updated.txt"] {
        assert!(ws.root().join(file).is_file(), "{file} missing\n{monitor}");
    }
    let trail = crate::daemon::outcomes_of(ws, "t1");
    let expected = [
        "builder BUILDER_COMPLETE",
        "checker CHECKER_PASS",
        "updater UPDATE_COMPLETE",
    ];
    assert_eq!(trail, expected);
    for result in stage_results(ws) {
        let input = result["tokens"]["input"].as_u64().unwrap_or(0);
        assert!(input > 0, "no tokens recorded: {result}");
    }
    let invocations = invocations(ws);
    assert_eq!(invocations.len(), 3);
    for invocation in &invocations {
        assert_eq!(invocation["runner"], runner);
        let keys = invocation["env_keys"].to_string();
        assert!(
            keys.contains(env_key) && keys.contains("MILLRACE_REQUEST_ID"),
            "{keys}"
        );
        let bare = model.rsplit('/').next().unwrap_or(model);
        let argv = invocation["argv"].to_string();
        assert!(argv.contains(bare), "{invocation}");
    }
    let show = ws.run(&["compile", "show", "--mode", "h"]).ok().stdout;
    for line in [
        format!("runner: {runner}"),
        format!("model: {model}"),
        "thinking: low".into(),
    ] {
        assert!(show.contains(&line), "{line} not in compile show");
    }
}

/// A failing model: every stage ends `BLOCKED` with a transient failure
/// class, and the task is blocked.
pub fn assert_transient_failure(ws: &TestWorkspace, class: &str) {
    let monitor = ws.read("logs/monitor.log");
    assert!(ws.path("tasks/blocked/t1.md").is_file(), "{monitor}");
    let results = stage_results(ws);
    assert!(!results.is_empty());
    for result in &results {
        assert_eq!(result["outcome"], "BLOCKED", "{result}");
        assert_eq!(result["failure_class"], class, "{result}");
    }
}

/// A shell command that starts `sleep <secs>` in a session of its own
/// (outside the CLI's process group), detached from every pipe.
pub fn detached_sleep(secs: u32) -> String {
    format!(
        "setsid -f sh -c 'echo $$ > detached.pid; exec sleep {secs}' > /dev/null 2>&1 < /dev/null; echo started"
    )
}

/// The builder starts a detached tool, then the model hangs; the stage is
/// killed at its timeout and the later stages block.
pub fn hanging(secs: u32) -> Script {
    Script::new()
        .shell(detached_sleep(secs))
        .hang()
        .message("### BLOCKED")
        .repeat()
}

/// The builder starts a detached tool and answers; the stage ends normally
/// with the tool still running, and the later stages pass.
pub fn leaving_a_tool(secs: u32) -> Script {
    Script::new()
        .shell(detached_sleep(secs))
        .message("Built it.\n\n### BUILDER_COMPLETE")
        .message("Checked.\n\n### CHECKER_PASS")
        .message("Updated.\n\n### UPDATE_COMPLETE")
}

/// Live processes tied to the workspace (by its path in their
/// environment) or running `sleep <secs>`.
pub fn leftovers(ws: &TestWorkspace, secs: u32) -> Vec<String> {
    let root = format!("MILLRACE_WORKSPACE={}", ws.root().display());
    let sleep = format!("sleep\0{secs}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
        let path = entry.path();
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        let cmdline = std::fs::read(path.join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).into_owned();
        let environ = std::fs::read(path.join("environ")).unwrap_or_default();
        let tagged = environ.split(|b| *b == 0).any(|e| e == root.as_bytes());
        if !zombie && (tagged || cmdline.starts_with(&sleep)) {
            found.push(format!(
                "{}: {}",
                entry.file_name().to_string_lossy(),
                cmdline.replace('\0', " ")
            ));
        }
    }
    found
}

/// Checks the hang: the builder timed out, nothing of any stage survived.
pub fn assert_killed_at_timeout(ws: &TestWorkspace, secs: u32) {
    let results = stage_results(ws);
    let builder = results
        .iter()
        .find(|r| r["node"] == "builder")
        .expect("builder ran");
    assert_eq!(builder["failure_class"], "runner_timeout", "{builder}");
    assert!(ws.path("tasks/blocked/t1.md").is_file());
    assert_nothing_left(ws, secs);
}

/// Starts the mock model server.
pub fn mock(script: Script) -> MockServer {
    MockServer::start(script).expect("mock model server")
}

/// Starts the daemon, waits until the builder's tool ran and the model
/// hangs, then stops the daemon with two SIGTERMs (the second cancels the
/// stage in flight) and waits for it to exit.
pub fn stop_daemon_mid_stage(ws: &TestWorkspace, server: &MockServer, requests: usize) {
    use std::io::BufRead;
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_millrace"))
        .args([
            "run",
            "daemon",
            "--mode",
            "h",
            "--monitor",
            "basic",
            "--workspace",
        ])
        .arg(ws.root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the daemon");
    let stdout = daemon.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let wait = std::time::Duration::from_secs(60);
    assert!(
        server.wait_for_requests(requests, wait),
        "the model was never called"
    );
    let pid = nix::unistd::Pid::from_raw(i32::try_from(daemon.id()).expect("pid"));
    let term = || nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill");
    term();
    let drained = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("finishing the stages"));
    assert!(drained, "the daemon did not take the first signal");
    term();
    let status = daemon.wait().expect("wait for the daemon");
    assert!(status.success(), "{status}");
}

/// Checks that the cancelled stage left nothing behind.
pub fn assert_nothing_left(ws: &TestWorkspace, secs: u32) {
    let pid = std::fs::read_to_string(ws.root().join("detached.pid")).expect("the tool ran");
    let pid = pid.trim();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Killed but not reaped is gone: where the daemon is no subreaper (the
    // portable platform) the zombie is init's to reap.
    let zombie = stat
        .rsplit(')')
        .next()
        .is_some_and(|s| s.trim_start().starts_with('Z'));
    assert!(
        zombie || !stat.contains("sleep"),
        "the detached tool {pid} survived: {stat}"
    );
    assert_eq!(
        leftovers(ws, secs),
        Vec::<String>::new(),
        "processes outlived their stage"
    );
}
