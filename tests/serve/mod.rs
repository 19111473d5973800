//! `millrace serve`: every endpoint, the token and host rules, paths that
//! try to leave the workspace, the no-write rule, a broken workspace, live
//! events; hostile input and hosts (`hostile.rs`); and the views in a real
//! browser (`browser.rs`).

mod browser;
mod hostile;
mod http;
mod server;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running `millrace serve`, stopped on drop.
pub struct Served {
    child: Child,
    /// `127.0.0.1:port`.
    pub host: String,
    /// The `dashboard:` URL as printed.
    pub url: String,
    /// The `token:` line, when one was generated.
    pub token: Option<String>,
    _stdout: BufReader<ChildStdout>,
}

impl Served {
    /// Serves `root` on `bind` with extra arguments.
    pub fn start(root: &Path, bind: &str, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_millrace"))
            .args(["serve", "--bind", bind, "--workspace"])
            .arg(root)
            .args(extra)
            .env_remove("MILLRACE_SERVE_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let url = read_value(&mut stdout, "dashboard");
        let token = (!bind.starts_with("127.")).then(|| read_value(&mut stdout, "token"));
        let host = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .replace("0.0.0.0", "127.0.0.1");
        Served {
            child,
            host,
            url,
            token,
            _stdout: stdout,
        }
    }

    pub fn get(&self, target: &str) -> http::Response {
        http::get(&self.host, target, &[])
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_value(stdout: &mut BufReader<ChildStdout>, key: &str) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).expect("serve prints");
    let prefix = format!("{key}: ");
    let value = line.trim_end().strip_prefix(&prefix);
    value
        .unwrap_or_else(|| panic!("expected `{key}:`, got {line:?}"))
        .to_string()
}

/// A workspace the demo ran in (a task with a fix cycle, an idea's spec...).
pub fn demo_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = crate::support::millrace(
        &["demo", "--workspace", &dir.path().display().to_string()],
        dir.path(),
    );
    run.ok();
    dir
}
