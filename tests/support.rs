//! Test helpers: run the real `millrace` binary in a temporary workspace.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The result of one CLI run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The value of the first `key: value` line with this key.
    pub fn value(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}: ");
        self.stdout.lines().find_map(|l| l.strip_prefix(&prefix))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A temporary directory with an initialized workspace in it.
pub struct TestWorkspace {
    pub dir: tempfile::TempDir,
}

impl TestWorkspace {
    pub fn new() -> TestWorkspace {
        let ws = TestWorkspace::empty();
        ws.run(&["init"]).ok();
        ws
    }

    pub fn empty() -> TestWorkspace {
        TestWorkspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn agents(&self) -> PathBuf {
        self.root().join("millrace-agents")
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.agents().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create dir");
        }
        std::fs::write(path, text).expect("write file");
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).expect("read file")
    }

    /// Runs `millrace <args> --workspace <root>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.push("--workspace".into());
        all.push(self.root().display().to_string());
        millrace(
            &all.iter().map(String::as_str).collect::<Vec<_>>(),
            self.root(),
        )
    }

    /// Starts `millrace <args> --workspace <root>` in the background, its
    /// output discarded.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_millrace"))
            .args(args)
            .arg("--workspace")
            .arg(self.root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn millrace")
    }
}

/// Runs `millrace <args>` in `dir`.
pub fn millrace(args: &[&str], dir: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_millrace"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("millrace runs");
    Run::from(output)
}

/// The live (not zombie) processes of process group `pgid`, as
/// `(pid, state)`, read from `/proc/*/stat`.
pub fn live_group_members(pgid: i32) -> Vec<(i32, char)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; comm may contain spaces.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        let state = fields.first().and_then(|s| s.chars().next()).unwrap_or('?');
        let pgrp = fields.get(2).and_then(|s| s.parse::<i32>().ok());
        if pgrp == Some(pgid) && state != 'Z' && state != 'X' {
            members.push((pid, state));
        }
    }
    members
}

/// Waits until `condition` holds, waking on file events under `dir` (never
/// on a timer alone); panics with `what` after `limit`.
pub fn await_files(
    dir: &Path,
    what: &str,
    limit: std::time::Duration,
    condition: impl Fn() -> bool,
) {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })
    .expect("a file watcher");
    // A recursive watch fails when a folder vanishes while it is added (a
    // run folder pruned meanwhile): try again; the condition is also
    // checked every half second, so a missed event only costs that.
    let watching = (0..5).any(|_| watcher.watch(dir, notify::RecursiveMode::Recursive).is_ok());
    assert!(watching, "cannot watch {}", dir.display());
    let deadline = std::time::Instant::now() + limit;
    while !condition() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(
            !left.is_zero(),
            "timed out waiting for {what}\n{}",
            what_was_there(dir)
        );
        let _ = rx.recv_timeout(left.min(std::time::Duration::from_millis(500)));
    }
}

/// What a timed-out wait leaves as evidence: the work-item files under `dir`
/// and the last lines of every monitor log and runtime journal there, so a
/// rare failure in CI can be explained from its output alone.
fn what_was_there(dir: &Path) -> String {
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    files.sort();
    let mut report = String::from("files:\n");
    for file in &files {
        let shown = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        if shown.contains("tasks/") || shown.contains("state/") {
            report.push_str(&format!("  {shown}\n"));
        }
    }
    for file in files.iter().filter(|f| {
        f.ends_with("monitor.log") || f.file_name().is_some_and(|n| n == "runtime_events.jsonl")
    }) {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        report.push_str(&format!("last lines of {}:\n", file.display()));
        for line in &lines[lines.len().saturating_sub(30)..] {
            report.push_str(&format!("  {line}\n"));
        }
    }
    report
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect_files(&path, files),
            Ok(_) => files.push(path),
            Err(_) => {}
        }
    }
}
