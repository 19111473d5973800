//! A stage's run directory before its program starts: created, cleared of
//! the answers of an earlier attempt, holding the request and the prompt
//! (shared by the `command` runner and the agent CLIs).

use std::path::{Path, PathBuf};

use super::process::LaunchError;
use super::{StageRequest, compose_prompt, last_message_path, remove_stage_metadata, request_path};

/// Creates the run directory, clears answers of an earlier attempt, writes
/// the request and the prompt if missing; returns the prompt.
pub fn prepare(request: &StageRequest) -> Result<String, LaunchError> {
    let dir = &request.run_dir;
    std::fs::create_dir_all(dir).map_err(|e| LaunchError::io(dir, e))?;
    remove_stage_metadata(request).map_err(|e| LaunchError::io(dir, e))?;
    remove_if_present(&last_message_path(request))?;
    write_if_missing(&request_path(request), || {
        serde_json::to_string_pretty(request).unwrap_or_default()
    })?;
    write_if_missing(&request.prompt_path, || compose_prompt(request))?;
    let path = &request.prompt_path;
    std::fs::read_to_string(path).map_err(|e| LaunchError::io(path, e))
}

/// Removes a file left by an earlier attempt, if there is one.
pub fn remove_if_present(path: &Path) -> Result<(), LaunchError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(LaunchError::io(path, e)),
        _ => Ok(()),
    }
}

fn write_if_missing(path: &Path, text: impl FnOnce() -> String) -> Result<(), LaunchError> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LaunchError::io(dir, e))?;
    }
    std::fs::write(path, text()).map_err(|e| LaunchError::io(path, e))
}

/// A run directory path the CLIs accept: absolute, without `..` (Codex
/// refuses `--output-last-message` paths containing `..`).
pub fn plain_path(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}
