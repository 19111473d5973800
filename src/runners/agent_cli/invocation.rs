//! What an agent CLI was given, recorded before it starts, and where its
//! outputs go in the run directory: `invocation.<id>.json` (the argv and
//! the names, not the values, of the environment variables the CLI was
//! given), `events.<id>.jsonl` (its JSONL output) and `stderr.<id>.txt`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fs_error::at;
use crate::runners::process::{Launch, LaunchError};
use crate::runners::{StageRequest, stage_env};

/// `invocation.<request_id>.json`.
#[derive(Debug, Serialize)]
struct Invocation<'a> {
    runner: &'a str,
    program: &'a str,
    argv: &'a [String],
    cwd: &'a Path,
    /// Names of the variables set for the CLI (values are not recorded:
    /// they may be secrets).
    env_keys: Vec<&'a str>,
    stdin: &'a str,
    prompt_path: &'a Path,
}

/// `<run_dir>/events.<request_id>.jsonl`: the CLI's JSONL output.
pub fn events_path(request: &StageRequest) -> PathBuf {
    request.artifact("events", "jsonl")
}

/// `<run_dir>/stderr.<request_id>.txt`.
pub fn stderr_path(request: &StageRequest) -> PathBuf {
    request.artifact("stderr", "txt")
}

/// `<run_dir>/invocation.<request_id>.json`.
pub fn invocation_path(request: &StageRequest) -> PathBuf {
    request.artifact("invocation", "json")
}

/// Records exactly what the CLI is given.
pub fn write_invocation(
    request: &StageRequest,
    runner: &str,
    launch: &Launch,
    stdin: &str,
) -> Result<(), LaunchError> {
    let stage = stage_env(request);
    let mut env_keys: Vec<&str> = launch.env.iter().map(|(k, _)| k.as_str()).collect();
    env_keys.extend(stage.iter().map(|(k, _)| *k));
    env_keys.sort_unstable();
    env_keys.dedup();
    let record = Invocation {
        runner,
        program: &launch.program,
        argv: &launch.args,
        cwd: &request.workspace_root,
        env_keys,
        stdin,
        prompt_path: &request.prompt_path,
    };
    let path = invocation_path(request);
    let json = serde_json::to_string_pretty(&record).unwrap_or_default();
    Ok(std::fs::write(&path, json).map_err(at("write", &path))?)
}
