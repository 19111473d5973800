//! Closure targets on disk (`arbiter/targets/<root_spec_id>.json`): one per
//! root spec whose body of work the closure stage must judge before it is
//! done. The daemon writes them; `status` and `doctor` read them. The field
//! names are the reference's where it has them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;
use super::documents::is_valid_id;
use super::input::read_text;
use super::paths::WorkspacePaths;
use super::timestamp::Timestamp;

/// One closure target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosureTarget {
    pub schema_version: String,
    pub root_spec_id: String,
    #[serde(default)]
    pub root_idea_id: Option<String>,
    pub closure_open: bool,
    /// Set when the judging stage blocked or remediation rounds ran out: the
    /// target waits for an operator and no longer holds back other lineages.
    #[serde(default)]
    pub waiting_for_operator: bool,
    /// The lineage's only work left is blocked: the target cannot be judged
    /// and does not hold back other lineages until an operator clears it.
    #[serde(default)]
    pub closure_blocked_by_lineage_work: bool,
    /// The items holding it (`family/id`).
    #[serde(default)]
    pub blocking_work_ids: Vec<String>,
    /// They hold it because they name another root spec (a lineage repair
    /// mends it), not because they are blocked.
    #[serde(default)]
    pub lineage_drift: bool,
    /// Root specs of other lineages queued while this target holds focus.
    #[serde(default)]
    pub deferred_root_spec_ids: Vec<String>,
    #[serde(default)]
    pub remediation_rounds: u32,
    pub root_spec_contract: PathBuf,
    #[serde(default)]
    pub root_idea_contract: Option<PathBuf>,
    pub opened_at: Timestamp,
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    #[serde(default)]
    pub last_run_id: Option<String>,
    #[serde(default)]
    pub latest_verdict: Option<String>,
}

impl ClosureTarget {
    /// A target just opened for `root_spec_id`.
    pub fn opened(root_spec_id: &str, root_idea_id: Option<String>, contract: PathBuf) -> Self {
        ClosureTarget {
            schema_version: "1.0".into(),
            root_spec_id: root_spec_id.to_string(),
            root_idea_id,
            closure_open: true,
            waiting_for_operator: false,
            closure_blocked_by_lineage_work: false,
            blocking_work_ids: Vec::new(),
            lineage_drift: false,
            deferred_root_spec_ids: Vec::new(),
            remediation_rounds: 0,
            root_spec_contract: contract,
            root_idea_contract: None,
            opened_at: Timestamp::now(),
            closed_at: None,
            last_run_id: None,
            latest_verdict: None,
        }
    }

    /// Open, and neither parked for an operator nor held by blocked work:
    /// the target may hold the foreground planes' focus.
    pub fn actionable(&self) -> bool {
        self.closure_open && !self.waiting_for_operator && !self.closure_blocked_by_lineage_work
    }
}

/// The target of `root`, if one was written (and reads).
pub fn load(paths: &WorkspacePaths, root: &str) -> Option<ClosureTarget> {
    read_at(&paths.closure_target(root)).ok()
}

/// A file under `arbiter/targets/` that is not a target the daemon can
/// use: it skips it, so the lineage it stood for is never judged; `status`
/// and `doctor` name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: PathBuf,
    pub reason: String,
}

/// Reads one target file as the daemon wrote it: a regular file (not a
/// FIFO, a folder or a link to one), of bounded size, whose root spec id is
/// valid and names the file (else a save would write another file).
fn read_at(path: &Path) -> Result<ClosureTarget, String> {
    let text = read_text(path).map_err(|e| e.to_string())?;
    let target: ClosureTarget = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if !is_valid_id(&target.root_spec_id) || target.root_spec_id != stem {
        return Err(format!(
            "its root_spec_id `{}` does not name the file",
            target.root_spec_id
        ));
    }
    Ok(target)
}
/// Writes a target atomically (the caller names the action in its error;
/// the I/O error's kind is kept for the daemon's disk-full check).
pub fn save(paths: &WorkspacePaths, target: &ClosureTarget) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(target).unwrap_or_default();
    bytes.push(b'\n');
    write_atomic(&paths.closure_target(&target.root_spec_id), &bytes)
}

/// Every target on disk, oldest first.
pub fn all(paths: &WorkspacePaths) -> Vec<ClosureTarget> {
    scan(paths).0
}

/// Every target on disk, oldest first, and the `.json` files there that
/// are not targets.
pub fn scan(paths: &WorkspacePaths) -> (Vec<ClosureTarget>, Vec<Unreadable>) {
    let Ok(entries) = std::fs::read_dir(paths.closure_targets_dir()) else {
        return (Vec::new(), Vec::new());
    };
    let mut targets = Vec::new();
    let mut unreadable = Vec::new();
    let files = entries.filter_map(Result::ok).map(|e| e.path());
    for path in files.filter(|p| p.extension().is_some_and(|x| x == "json")) {
        match read_at(&path) {
            Ok(target) => targets.push(target),
            Err(reason) => unreadable.push(Unreadable { path, reason }),
        }
    }
    targets.sort_by(|a: &ClosureTarget, b| {
        a.opened_at
            .cmp(&b.opened_at)
            .then(a.root_spec_id.cmp(&b.root_spec_id))
    });
    unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    (targets, unreadable)
}

/// The open targets, oldest first.
pub fn open(paths: &WorkspacePaths) -> Vec<ClosureTarget> {
    all(paths).into_iter().filter(|t| t.closure_open).collect()
}
