//! `millrace init`: create the workspace layout and install editable copies
//! of the shipped loops, modes, entrypoints and skills. Idempotent: files that
//! exist (an operator's edits) are never overwritten.

use std::path::{Path, PathBuf};

use clap::Args;

use super::context::{AGENTS_DIR, CONFIG_FILE};
use super::output::{CliError, CliResult, Out};
use crate::assets;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The workspace directory (created if missing)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}

/// Directories of a workspace, relative to `millrace-agents/`.
pub const LAYOUT: &[&str] = &[
    "tasks/queue",
    "tasks/active",
    "tasks/done",
    "tasks/blocked",
    "specs/queue",
    "specs/active",
    "specs/done",
    "specs/blocked",
    "probes/queue",
    "probes/active",
    "probes/done",
    "probes/blocked",
    "incidents/incoming",
    "incidents/active",
    "incidents/resolved",
    "incidents/blocked",
    "learning/requests/queue",
    "learning/requests/active",
    "learning/requests/done",
    "learning/requests/blocked",
    "state/mailbox/incoming",
    "state/mailbox/processed",
    "state/mailbox/failed",
    "runs",
    "logs",
    "arbiter/targets",
    "arbiter/contracts/ideas",
    "arbiter/contracts/root-specs",
    "arbiter/rubrics",
    "arbiter/verdicts",
    "arbiter/reports",
    "intake/ideas",
    "recon/packets",
    "diagnostics/blocked",
];

/// The config a fresh workspace starts with.
pub const DEFAULT_CONFIG: &str = "\
# Millrace workspace configuration. Every key is optional; see `millrace config show`.

[runtime]
# The mode `millrace run daemon` and `millrace compile` use without `--mode`.
default_mode = \"default_codex\"
";

pub fn run(args: &InitArgs) -> CliResult {
    let root = std::path::absolute(&args.workspace).unwrap_or_else(|_| args.workspace.clone());
    let created = install(&root)?;
    let mut out = Out::new();
    out.kv("workspace", root.display())?;
    out.kv("initialized", true)?;
    out.kv("files_created", created)?;
    Ok(())
}

/// Creates the layout and installs missing files; returns how many it wrote.
pub fn install(root: &Path) -> Result<usize, CliError> {
    let agents = root.join(AGENTS_DIR);
    let mut created = 0usize;
    for dir in LAYOUT {
        std::fs::create_dir_all(agents.join(dir)).map_err(|e| io_error(&agents.join(dir), e))?;
    }
    std::fs::create_dir_all(root.join("ideas/inbox")).map_err(|e| io_error(root, e))?;
    created += usize::from(write_missing(
        &agents.join(CONFIG_FILE),
        DEFAULT_CONFIG.as_bytes(),
    )?);
    for file in assets::shipped_files() {
        created += usize::from(write_missing(
            &agents.join(&file.relative_path),
            file.contents,
        )?);
    }
    Ok(created)
}

/// Writes `bytes` unless the file exists; returns whether it wrote.
fn write_missing(path: &Path, bytes: &[u8]) -> Result<bool, CliError> {
    if path.exists() {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    super::fsutil::write_atomic(path, bytes).map_err(|e| io_error(path, e))?;
    Ok(true)
}

fn io_error(path: &Path, error: std::io::Error) -> CliError {
    CliError::Failed(format!("cannot write {}: {error}", path.display()))
}
