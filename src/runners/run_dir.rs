//! A stage's run directory before its program starts: created, cleared of
//! the answers of an earlier attempt, holding the request and the prompt
//! (shared by the `command` runner and the agent CLIs).

use std::path::{Path, PathBuf};

use super::process::LaunchError;
use super::{StageRequest, compose_prompt, last_message_path, remove_stage_metadata, request_path};
use crate::fs_error::at;

/// Creates the run directory, clears answers of an earlier attempt, writes
/// the request and the prompt if missing; returns the prompt.
pub fn prepare(request: &StageRequest) -> Result<String, LaunchError> {
    let dir = &request.run_dir;
    std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    remove_stage_metadata(request).map_err(at("clear the stage metadata in", dir))?;
    remove_if_present(&last_message_path(request))?;
    write_if_missing(&request_path(request), || {
        serde_json::to_string_pretty(request).unwrap_or_default()
    })?;
    write_if_missing(&request.prompt_path, || compose_prompt(request))?;
    let path = &request.prompt_path;
    Ok(std::fs::read_to_string(path).map_err(at("read", path))?)
}

/// Removes a file left by an earlier attempt, if there is one.
pub fn remove_if_present(path: &Path) -> Result<(), LaunchError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(at("remove", path)(e).into()),
        _ => Ok(()),
    }
}

fn write_if_missing(path: &Path, text: impl FnOnce() -> String) -> Result<(), LaunchError> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    }
    Ok(std::fs::write(path, text()).map_err(at("write", path))?)
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
