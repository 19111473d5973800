//! The agent-CLI runners driven through the real daemon by fake CLIs: bash
//! scripts that print what Codex CLI, Claude Code and pi print, so a test
//! chooses exactly how the CLI behaves (its exit code, how much it prints).

mod exit_codes;
mod flood;

use std::path::PathBuf;

use crate::harness::{runner_config, stage_results, workspace};
use crate::support::TestWorkspace;

/// Shell lines every fake starts with: `$first` is the stage's success
/// outcome, and `first_time` is true only on a stage's first run.
const PRELUDE: &str = r#"first=${MILLRACE_LEGAL_OUTCOMES%% *}
first_time() {
  local seen="$MILLRACE_AGENTS_DIR/seen.$MILLRACE_STAGE"
  [ -e "$seen" ] && return 1
  touch "$seen"
}
"#;

/// A workspace with task `t1` whose mode `h` runs every stage through
/// `runner`, configured in `[runners.<table>]` to be the fake CLI `body`.
pub fn fake_workspace(runner: &str, table: &str, body: &str) -> TestWorkspace {
    let ws = workspace(runner, "fake-model", 120);
    let cli = fake_cli(&ws, body);
    ws.write("millrace.toml", &runner_config(table, &cli, &[], &[]));
    ws
}

/// Writes the executable fake CLI.
fn fake_cli(ws: &TestWorkspace, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = ws.root().join("fake-cli");
    std::fs::write(&path, format!("#!/bin/bash\n{PRELUDE}{body}")).expect("fake cli");
    let mode = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(&path, mode).expect("chmod");
    path
}

/// The stage results of node `node`.
pub fn results_of(ws: &TestWorkspace, node: &str) -> Vec<serde_json::Value> {
    stage_results(ws)
        .into_iter()
        .filter(|r| r["node"] == node)
        .collect()
}
