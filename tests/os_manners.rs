//! Manners towards the operating system: files are made with the process
//! umask (0644 under 022, as the reference makes them), and no command
//! panics when its reader has gone (`millrace ... | head -1`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::TestWorkspace;

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => out.extend(files(&path)),
            Ok(kind) if kind.is_file() => out.push(path),
            _ => {}
        }
    }
    out
}

#[test]
fn files_are_made_with_the_process_umask() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = dir.path().join("demo");
    let status = Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\" demo --workspace \"$1\""])
        .arg(env!("CARGO_BIN_EXE_millrace"))
        .arg(&ws)
        .stdout(Stdio::null())
        .status()
        .expect("demo runs");
    assert!(status.success());
    let all = files(&ws);
    assert!(all.len() > 50, "the demo wrote {} files", all.len());
    let private: Vec<String> = all
        .iter()
        .filter_map(|path| {
            let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
            (mode & 0o044 != 0o044).then(|| format!("{:o} {}", mode, path.display()))
        })
        .collect();
    assert!(
        private.is_empty(),
        "files others cannot read under umask 022:\n{}",
        private.join("\n")
    );
}

/// The printing commands, with the arguments they need in a workspace with one task.
const PRINTING: &[&[&str]] = &[
    &["--help"],
    &["--version"],
    &["version"],
    &["completions", "bash"],
    &["completions", "zsh"],
    &["completions", "fish"],
    &["status", "--workspace", "."],
    &["status", "--workspace", ".", "--format", "json"],
    &["status", "show", "--workspace", "."],
    &[
        "status",
        "watch",
        "--workspace",
        ".",
        "--max-updates",
        "2",
        "--interval-seconds",
        "0",
    ],
    &["queue", "ls", "--workspace", "."],
    &["queue", "ls", "--workspace", ".", "--format", "json"],
    &["queue", "show", "t1", "--workspace", "."],
    &["doctor", "--workspace", "."],
    &["upgrade", "--workspace", "."],
    &["config", "show", "--workspace", "."],
    &["compile", "validate", "--workspace", "."],
    &["compile", "show", "--workspace", "."],
    &["compile", "graph", "--workspace", ".", "--format", "dot"],
    &[
        "compile",
        "graph",
        "--workspace",
        ".",
        "--format",
        "mermaid",
    ],
    &["compile", "graph", "--workspace", ".", "--format", "json"],
    &["modes", "list", "--workspace", "."],
    &["modes", "show", "default_codex", "--workspace", "."],
    &["runs", "ls", "--workspace", "."],
    &[
        "loop",
        "check",
        "millrace-agents/loops/execution/standard.loop",
    ],
    &["demo", "--workspace", "demo-ws"],
];

#[test]
fn no_command_panics_on_a_closed_stdout() {
    let ws = TestWorkspace::new();
    crate::daemon::enqueue(&ws, "t1", &[]);
    let mut failures = Vec::new();
    for args in PRINTING {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_millrace"))
            .args(*args)
            .current_dir(ws.root())
            .stdin(Stdio::null())
            .stdout(writer)
            .output()
            .expect("millrace runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(0) || stderr.contains("panicked") {
            failures.push(format!(
                "millrace {}: {:?}\n{stderr}",
                args.join(" "),
                out.status
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
