//! The event journal (`logs/runtime_events.jsonl`): typed events, append-only, rotated by size, tailed from the end.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::atomic::write_line;
use super::family::{Family, LifecycleState, Plane};
use super::paths::WorkspacePaths;
use super::state::WorkItemRef;
use super::timestamp::Timestamp;
use crate::fs_error::{FileError, at, json_at};

/// The journal schema version.
pub const JOURNAL_SCHEMA_VERSION: &str = "1.0";
/// Rotate when the journal would grow past this many bytes.
pub const DEFAULT_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Rotated files kept (`runtime_events.1.jsonl` is the newest).
pub const DEFAULT_MAX_FILES: usize = 5;
const TAIL_CHUNK: u64 = 8 * 1024;
/// The most a tail reads of one file: twice what the journal writes before
/// it rotates, so only a damaged file is cut.
const TAIL_SCAN_LIMIT: u64 = 2 * DEFAULT_MAX_BYTES;

/// Writing or reading the journal failed.
#[derive(Debug, Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// A line that is not a journal record.
    #[error("`{}`: not a runtime event: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// A runtime event: `event_type` and `data` of a journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data", rename_all = "snake_case")]
pub enum RuntimeEvent {
    /// The daemon started.
    RuntimeStarted {
        mode_id: String,
        plan_id: String,
        session_id: String,
    },
    /// The daemon stopped: `finished`, `signal`, or `error` with the error
    /// that ended it.
    RuntimeClosed {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The ownership lock was taken.
    RuntimeDaemonLockAcquired { owner_pid: u32, session_id: String },
    /// A stale lock was recovered (its owner was dead).
    RuntimeDaemonLockRecovered {
        previous_pid: u32,
        previous_hostname: String,
        previous_session_id: String,
        reason: String,
    },
    /// Another live daemon holds the lock.
    RuntimeDaemonLockDenied {
        owner_pid: u32,
        owner_hostname: String,
        owner_session_id: String,
    },
    /// The lock was released.
    RuntimeDaemonLockReleased { session_id: String },
    /// Nothing to do.
    RuntimeTickIdle { reason: String },
    /// Paused.
    RuntimeTickPaused { pause_sources: Vec<String> },
    /// Stopped on request.
    RuntimeTickStopped { reason: String },
    /// A stage started.
    StageStarted {
        plane: Plane,
        run_id: String,
        node: String,
        stage: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        work_item: Option<WorkItemRef>,
    },
    /// A stage finished with an outcome.
    StageCompleted {
        plane: Plane,
        run_id: String,
        node: String,
        outcome: String,
        result_class: String,
        duration_seconds: f64,
    },
    /// The router chose what runs next.
    RouterDecision {
        plane: Plane,
        run_id: String,
        node: String,
        outcome: String,
        action: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        reason: String,
    },
    /// A work item entered a queue.
    WorkItemEnqueued {
        family: Family,
        id: String,
        source: String,
    },
    /// A work item was claimed.
    WorkItemClaimed {
        family: Family,
        id: String,
        plane: Plane,
    },
    /// A work item changed lifecycle state.
    WorkItemMoved {
        family: Family,
        id: String,
        from: LifecycleState,
        to: LifecycleState,
        reason: String,
    },
    /// A bad document was quarantined.
    WorkItemQuarantined {
        family: Family,
        path: String,
        reason: String,
    },
    /// An idea became a spec.
    IdeaNormalizedToSpec { idea_path: String, spec_id: String },
    /// A mailbox command was applied.
    MailboxCommandApplied { command: String, command_id: String },
    /// A mailbox command failed.
    MailboxCommandFailed {
        command: String,
        command_id: String,
        error: String,
    },
    /// The configuration was reloaded.
    RuntimeConfigReloaded { plan_id: String },
    /// A skill was installed, updated, promoted or learned; the version
    /// replaced is kept in the skill's history.
    SkillChanged {
        skill_id: String,
        /// `install`, `update`, `promote`, `curator_promotion`, `librarian_install`.
        operation: String,
        version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_version: Option<u32>,
        /// `SKILL.md`, relative to `millrace-agents/`.
        path: String,
        source: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        learning_request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<String>,
    },
    /// A curator's accepted update waits: a stage binding the skill runs.
    SkillUpdateDeferred {
        skill_id: String,
        record: String,
        learning_request_id: String,
        run_id: String,
    },
    /// A runtime error the daemon survived.
    RuntimeError { origin: String, message: String },
    /// An operator cancelled a queued or blocked work item (archived, not deleted).
    WorkItemCancelled {
        family: Family,
        id: String,
        from: LifecycleState,
        archive_path: String,
        reason: String,
    },
    /// An operator archived a blocked task.
    BlockedTaskArchived {
        id: String,
        archive_path: String,
        reason: String,
    },
    /// An operator superseded a task by another one.
    TaskSuperseded {
        old_task_id: String,
        replacement_task_id: String,
        from: LifecycleState,
        archive_path: String,
        cascade: String,
        #[serde(default)]
        retargeted: Vec<String>,
        #[serde(default)]
        cancelled: Vec<String>,
        reason: String,
    },
    /// An operator rewrote one `Depends-On` entry of a queued task.
    TaskDependencyRetargeted {
        task_id: String,
        old_dependency_id: String,
        new_dependency_id: String,
        reason: String,
    },
    /// An operator put a blocked task back in the queue.
    BlockedTaskRequeued {
        id: String,
        forced: bool,
        reason: String,
    },
    /// An operator resolved an incident.
    IncidentResolvedByOperator {
        id: String,
        from: LifecycleState,
        archive_path: String,
        reason: String,
    },
    /// An operator cancelled an incident.
    IncidentCancelled {
        id: String,
        from: LifecycleState,
        archive_path: String,
        reason: String,
    },
    /// An operator archived a quarantined (`*.invalid`) incident file.
    InvalidIncidentArchived {
        filename: String,
        archive_path: String,
        reason: String,
    },
    /// An operator control (pause, resume, stop, retry-active, ...) was applied.
    RuntimeControlApplied { action: String, detail: String },
    /// A stage waits for an operator to approve an execution capability.
    ApprovalRequested {
        approval_id: String,
        capability: String,
        plane: Plane,
        node: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        work_item: Option<String>,
    },
    /// An operator approved or denied an execution capability.
    ApprovalAnswered {
        approval_id: String,
        status: String,
        reason: String,
    },
    /// Run folders past the retention limits (`[runs]`) were removed.
    RunsPruned {
        /// `daemon`, or `operator` for `millrace runs prune`.
        by: String,
        removed: usize,
        bytes_freed: u64,
        /// Run folders left, the always-kept ones among them.
        kept: usize,
    },
    /// A closure target opened: the root spec's body of work is judged by
    /// the closure stage before it is done.
    ClosureTargetOpened {
        root_spec_id: String,
        root_idea_id: Option<String>,
    },
    /// The closure stage judged the body of work done.
    ClosureTargetClosed { root_spec_id: String },
    /// The closure stage blocked, or remediation rounds ran out: the target
    /// waits for an operator and holds nothing back.
    ClosureTargetWaitingForOperator { root_spec_id: String },
    /// The target's only lineage work left is blocked: it cannot be judged
    /// and stops holding back other lineages until these are cleared.
    ClosureTargetHeld {
        root_spec_id: String,
        blocking_work_ids: Vec<String>,
    },
    /// The blocked work was cleared: the target may hold the focus again.
    ClosureTargetReleased { root_spec_id: String },
    /// Root specs of other lineages wait while this target holds the focus.
    ClosureTargetBackpressure {
        open_root_spec_id: String,
        deferred_root_spec_ids: Vec<String>,
    },
    /// `queue repair-lineage --apply` gave drifted work its target's root spec.
    ClosureLineageRepaired {
        root_spec_id: String,
        repair_count: usize,
        repair_report_path: String,
        reason: String,
    },
    /// `clear-stale-state` requeued active work and reset the runtime state.
    StaleStateCleared {
        requeued: usize,
        runtime_ownership_lock: String,
        reason: String,
    },
}

impl RuntimeEvent {
    /// The `event_type` string.
    pub fn event_type(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map
                .get("event_type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        }
    }
}

/// One journal line as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalRecord {
    /// `1.0`.
    pub schema_version: String,
    /// `runtime_event`.
    pub kind: String,
    /// When.
    pub occurred_at: Timestamp,
    /// What.
    #[serde(flatten)]
    pub event: RuntimeEvent,
}

/// One journal line as read: the event kept as data, so lines of event types
/// this build does not know are still shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalLine {
    /// The record's schema version.
    pub schema_version: String,
    /// When.
    pub occurred_at: Timestamp,
    /// The event type.
    pub event_type: String,
    /// The event's fields.
    #[serde(default)]
    pub data: Value,
}

impl JournalLine {
    /// The typed event, when this build knows its type.
    pub fn event(&self) -> Option<RuntimeEvent> {
        let mut object = serde_json::Map::new();
        object.insert(
            "event_type".to_string(),
            Value::String(self.event_type.clone()),
        );
        object.insert("data".to_string(), self.data.clone());
        serde_json::from_value(Value::Object(object)).ok()
    }
}

/// The append-only, size-rotated event journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    max_bytes: u64,
    max_files: usize,
    /// The current file, kept open between appends (a long-lived daemon
    /// appends several events per stage); reopened when the path names
    /// another file (rotated, by this or another process).
    open: Mutex<Option<OpenFile>>,
}

#[derive(Debug)]
struct OpenFile {
    file: File,
    dev: u64,
    ino: u64,
}

impl Clone for Journal {
    fn clone(&self) -> Journal {
        Journal::with_limits(self.path.clone(), self.max_bytes, self.max_files)
    }
}

impl Journal {
    /// The journal of a workspace, with the default limits.
    pub fn new(paths: &WorkspacePaths) -> Journal {
        Journal::with_limits(paths.events_file(), DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES)
    }

    /// A journal at `path` rotated past `max_bytes`, keeping `max_files` rotated files.
    pub fn with_limits(path: PathBuf, max_bytes: u64, max_files: usize) -> Journal {
        Journal {
            path,
            max_bytes,
            max_files: max_files.max(1),
            open: Mutex::new(None),
        }
    }

    /// The current journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `event` stamped now.
    pub fn append(&self, event: RuntimeEvent) -> Result<(), JournalError> {
        self.append_at(event, Timestamp::now())
    }

    /// Appends `event` stamped `occurred_at`: one `write` of one line.
    pub fn append_at(
        &self,
        event: RuntimeEvent,
        occurred_at: Timestamp,
    ) -> Result<(), JournalError> {
        let record = JournalRecord {
            schema_version: JOURNAL_SCHEMA_VERSION.to_string(),
            kind: "runtime_event".to_string(),
            occurred_at,
            event,
        };
        let line = serde_json::to_string(&record).map_err(json_at("encode", &self.path))?;
        let current = self.rotate_if_needed(line.len() as u64 + 1)?;
        let appended = self.append_line(current, &line);
        Ok(appended.map_err(at("append to", &self.path))?)
    }

    /// One `write` of the line through the kept handle, when `current` (the
    /// path's metadata) says it still is the file at the path.
    fn append_line(&self, current: Option<Metadata>, line: &str) -> io::Result<()> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let same = |f: &OpenFile| {
            current
                .as_ref()
                .is_some_and(|m| (m.dev(), m.ino()) == (f.dev, f.ino))
        };
        if !open.as_ref().is_some_and(same) {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            let meta = file.metadata()?;
            *open = Some(OpenFile {
                file,
                dev: meta.dev(),
                ino: meta.ino(),
            });
        }
        match open.as_mut() {
            Some(open) => write_line(&mut open.file, line),
            None => Ok(()),
        }
    }

    /// The `n`th rotated file (`runtime_events.<n>.jsonl`); 0 is the current file.
    pub fn rotated_path(&self, n: usize) -> PathBuf {
        if n == 0 {
            return self.path.clone();
        }
        let stem = self
            .path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("runtime_events");
        self.path.with_file_name(format!("{stem}.{n}.jsonl"))
    }

    /// Rotates when `incoming` bytes would pass the limit; returns the
    /// current file's metadata when it stays (`None`: missing or rotated).
    fn rotate_if_needed(&self, incoming: u64) -> Result<Option<Metadata>, JournalError> {
        let current = std::fs::metadata(&self.path).ok();
        let size = current.as_ref().map_or(0, Metadata::len);
        if size == 0 || size + incoming <= self.max_bytes {
            return Ok(current);
        }
        for n in (1..=self.max_files).rev() {
            let from = self.rotated_path(n - 1);
            if from.exists() {
                std::fs::rename(&from, self.rotated_path(n)).map_err(at("rotate", &self.path))?;
            }
        }
        Ok(None)
    }

    /// The last `n` events, oldest first, reading backwards from the end of the
    /// current file (and of rotated files when it holds fewer). Never reads a
    /// file whole; lines that are not records are skipped.
    pub fn tail(&self, n: usize) -> Result<Vec<JournalLine>, JournalError> {
        let mut lines: Vec<JournalLine> = Vec::new();
        for file in 0..=self.max_files {
            if lines.len() >= n {
                break;
            }
            let path = self.rotated_path(file);
            let raw = last_lines(&path, n - lines.len()).map_err(at("read", &path))?;
            let mut older: Vec<JournalLine> = raw
                .iter()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect();
            older.append(&mut lines);
            lines = older;
        }
        Ok(lines)
    }
}

/// The last `n` non-empty lines of `path`, read in chunks from the end:
/// each byte is read and copied once, and no more than [`TAIL_SCAN_LIMIT`]
/// bytes are read, so a damaged journal (one line of many megabytes, a
/// FIFO in its place) costs a bounded read instead of a hang.
fn last_lines(path: &Path, n: usize) -> io::Result<Vec<String>> {
    let mut file = match crate::workspace::input::open_regular(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let end = file.metadata()?.len();
    let mut pos = end;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut newlines = 0;
    while pos > 0 && newlines <= n && end - pos < TAIL_SCAN_LIMIT {
        let step = TAIL_CHUNK.min(pos);
        pos -= step;
        file.seek(SeekFrom::Start(pos))?;
        let mut chunk = vec![0; step as usize];
        file.read_exact(&mut chunk)?;
        newlines += complete_lines(&chunk);
        chunks.push(chunk);
    }
    chunks.reverse();
    let buf = chunks.concat();
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if pos > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    let lines: Vec<String> = lines
        .into_iter()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect();
    Ok(lines[lines.len().saturating_sub(n)..].to_vec())
}

fn complete_lines(buf: &[u8]) -> usize {
    buf.iter().filter(|byte| **byte == b'\n').count()
}
