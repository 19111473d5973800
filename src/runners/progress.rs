//! The script runner's durable progress: how many answers each
//! (node, work item) pair has consumed, so a restarted daemon continues the
//! script where the previous one stopped.
//!
//! Stored as `<agents_dir>/state/script_runner_progress.json`:
//! `{"counts": {"<node>": {"<work item id>": <answers consumed>}}}`, written
//! atomically (a temporary file in the same directory, then a rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ScriptError;
use crate::fs_error::{at, json_at};

/// The progress file's name under `<agents_dir>/state/`.
pub const PROGRESS_FILE: &str = "script_runner_progress.json";

/// The counters, per node then per work item id.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    #[serde(default)]
    counts: BTreeMap<String, BTreeMap<String, u64>>,
}

/// `<agents_dir>/state/script_runner_progress.json`.
pub fn progress_path(agents_dir: &Path) -> PathBuf {
    agents_dir.join("state").join(PROGRESS_FILE)
}

/// Returns how many answers `(node, subject)` consumed so far and records
/// one more. Callers serialize calls for the same file.
pub fn take_turn(agents_dir: &Path, node: &str, subject: &str) -> Result<u64, ScriptError> {
    let path = progress_path(agents_dir);
    let mut progress = load(&path)?;
    let count = progress
        .counts
        .entry(node.to_string())
        .or_default()
        .entry(subject.to_string())
        .or_default();
    let taken = *count;
    *count += 1;
    save(&path, &progress)?;
    Ok(taken)
}

fn load(path: &Path) -> Result<Progress, ScriptError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Progress::default()),
        Err(error) => return Err(at("read", path)(error).into()),
    };
    serde_json::from_slice(&bytes).map_err(|e| ScriptError::Progress {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn save(path: &Path, progress: &Progress) -> Result<(), ScriptError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    let mut bytes = serde_json::to_vec_pretty(progress).map_err(json_at("encode", path))?;
    bytes.push(b'\n');
    // 0666 less the umask, as `File::create` makes files (not tempfile's 0600).
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o666);
    let mut temp = tempfile::Builder::new()
        .permissions(mode)
        .tempfile_in(dir)
        .map_err(at("create a temp file in", dir))?;
    temp.write_all(&bytes).map_err(at("write", path))?;
    temp.persist(path).map_err(|e| at("write", path)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_node_and_subject() {
        let dir = tempfile::tempdir().expect("temp dir");
        let turn = |node, subject| take_turn(dir.path(), node, subject).expect("turn");
        assert_eq!(turn("checker", "task-1"), 0);
        assert_eq!(turn("checker", "task-1"), 1);
        assert_eq!(turn("checker", "task-2"), 0);
        assert_eq!(turn("builder", "task-1"), 0);
        assert_eq!(turn("checker", "task-1"), 2);
    }

    #[test]
    fn corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = progress_path(dir.path());
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(&path, "not json").expect("write");
        let error = take_turn(dir.path(), "a", "b").expect_err("corrupt");
        assert!(error.to_string().contains(PROGRESS_FILE));
    }
}
