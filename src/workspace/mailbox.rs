//! The mailbox: how operators talk to a live daemon. The CLI writes a typed
//! JSON envelope into `state/mailbox/incoming/`; the daemon applies commands
//! in file-name order at a safe boundary and archives each one, with its
//! result or error, into `processed/` or `failed/`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::workspace::atomic::write_atomic_new;
use crate::workspace::{MailboxDir, Timestamp, WorkspacePaths};

/// One operator command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", content = "payload", rename_all = "snake_case")]
pub enum MailboxCommand {
    Pause,
    Resume,
    /// Finish the stage in flight, keep the next one pending, exit.
    Stop,
    ReloadConfig,
    /// Requeue the active item of a plane (all planes when `plane` is absent
    /// and exactly one is active), or, with `work_item`, that one active
    /// item (one execution lane among several).
    RetryActive {
        reason: String,
        plane: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        work_item: Option<String>,
    },
    ClearStaleState {
        reason: String,
    },
    /// A work document to enqueue (`family` names its queue).
    AddWorkItem {
        family: String,
        document: serde_json::Value,
    },
    /// An idea file's markdown, to land in `ideas/inbox/<source_name>`.
    AddIdea {
        source_name: String,
        markdown: String,
    },
    CancelWorkItem {
        work_item_id: String,
        family: Option<String>,
        reason: String,
    },
    ArchiveBlockedTask {
        task_id: String,
        reason: String,
    },
    SupersedeTask {
        old_task_id: String,
        replacement_task_id: String,
        reason: String,
        cascade: String,
    },
    #[serde(rename = "retarget_task_dependency")]
    RetargetDependency {
        task_id: String,
        old_dependency_id: String,
        new_dependency_id: String,
        reason: String,
    },
    RetryBlocked {
        task_id: String,
        reason: String,
        force: bool,
    },
    ResolveIncident {
        incident_id: String,
        reason: String,
    },
    CancelIncident {
        incident_id: String,
        reason: String,
    },
    ArchiveInvalidIncident {
        filename: String,
        reason: String,
    },
    /// Give drifted lineage work the root spec of its closure target (of
    /// one target, or of every open one).
    RepairLineage {
        root_spec_id: Option<String>,
        reason: String,
    },
    /// `skills install`: the package a reference names (a path made
    /// absolute by the CLI, a URL, or a remote index id).
    InstallSkill {
        reference: String,
        force: bool,
        update: bool,
    },
    /// `skills promote`: a learning candidate becomes an installed skill.
    PromoteSkill {
        skill_id: String,
    },
    /// Let a stage gated on an execution capability run with it.
    ApproveExecutionCapability {
        approval_id: String,
        reason: String,
    },
    /// Refuse it: the gated stage does not run and its work item is blocked.
    DenyExecutionCapability {
        approval_id: String,
        reason: String,
    },
}

impl MailboxCommand {
    /// The command's name (`pause`, `cancel_work_item`, ...).
    pub fn name(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map
                .get("command")
                .and_then(|c| c.as_str())
                .unwrap_or("unknown")
                .to_string(),
            Ok(serde_json::Value::String(name)) => name,
            _ => "unknown".to_string(),
        }
    }
}

/// `state/mailbox/incoming/<command_id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub schema_version: String,
    pub kind: String,
    /// `<command>-<epoch_ms>-<hex8>`: file names sort in issue order.
    pub command_id: String,
    pub issued_at: Timestamp,
    pub issuer: String,
    #[serde(flatten)]
    pub command: MailboxCommand,
}

/// The archived envelope with what applying it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archived {
    pub kind: String,
    pub disposition: String,
    pub archived_at: Timestamp,
    /// The envelope as parsed, or the raw text when it did not parse.
    pub envelope: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Archived {
    /// The archived command's name, as its envelope gives it.
    pub fn name(&self) -> &str {
        self.envelope
            .get("command")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("command")
    }
}

/// Writes a command for the daemon; returns its envelope and path.
pub fn send(
    paths: &WorkspacePaths,
    command: MailboxCommand,
) -> std::io::Result<(Envelope, PathBuf)> {
    let millis = Timestamp::now().instant().unix_timestamp_nanos() / 1_000_000;
    let hex = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let command_id = format!("{}-{millis}-{hex}", command.name());
    let envelope = Envelope {
        schema_version: "1.0".into(),
        kind: "mailbox_command".into(),
        command_id: command_id.clone(),
        issued_at: Timestamp::now(),
        issuer: "operator".into(),
        command,
    };
    let path = paths
        .mailbox_dir(MailboxDir::Incoming)
        .join(format!("{millis:016}-{command_id}.json"));
    let mut bytes = serde_json::to_vec_pretty(&envelope).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_atomic_new(&path, &bytes)?;
    Ok((envelope, path))
}

/// Incoming command files, in issue order.
pub fn incoming(paths: &WorkspacePaths) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(paths.mailbox_dir(MailboxDir::Incoming)) else {
        return Vec::new();
    };
    // Directories are not commands; anything else named `*.json` is read
    // (and refused, then archived, when it is not a regular file).
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Reads an incoming file: the envelope, or why it is not one.
pub fn read(path: &Path) -> Result<Envelope, String> {
    let text = super::input::read_text(path).map_err(|e| format!("cannot read: {e}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    serde_json::from_value(value).map_err(|e| format!("not a mailbox command: {e}"))
}

/// Moves an incoming file to `processed/` or `failed/` with its outcome.
pub fn archive(
    paths: &WorkspacePaths,
    path: &Path,
    outcome: Result<String, String>,
) -> std::io::Result<PathBuf> {
    // Never the text of a link's target or a FIFO's writer: what it says
    // is only kept when the file itself is a small regular file.
    let text = super::input::read_text(path).unwrap_or_default();
    let envelope = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    let (dir, disposition) = if outcome.is_ok() {
        (MailboxDir::Processed, "processed")
    } else {
        (MailboxDir::Failed, "failed")
    };
    let archived = Archived {
        kind: "mailbox_archive".into(),
        disposition: disposition.into(),
        archived_at: Timestamp::now(),
        envelope,
        result: outcome.as_ref().ok().cloned(),
        error: outcome.err(),
    };
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let target = paths.mailbox_dir(dir).join(name);
    let mut bytes = serde_json::to_vec_pretty(&archived).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    crate::workspace::atomic::write_atomic(&target, &bytes)?;
    std::fs::remove_file(path)?;
    Ok(target)
}

/// Why waiting for the daemon's answer to a command ended without one.
#[derive(Debug, thiserror::Error)]
pub enum AwaitError {
    /// The daemon did not answer in time; the command stays in the mailbox.
    #[error("no answer from the daemon within {0} s; the command stays in the mailbox")]
    TimedOut(u64),
    /// The daemon stopped before it answered.
    #[error(
        "the daemon stopped before it applied the command; it stays in the mailbox for the next daemon"
    )]
    DaemonGone,
    /// The archive folders could not be watched or read.
    #[error("cannot wait for the daemon's answer: {0}")]
    Io(#[from] std::io::Error),
}

/// Waits until the daemon archives the command sent as `sent` (its file in
/// `incoming/`) and returns the archive. Wakes on the archive folders'
/// events; once a second it also checks `daemon_alive`, so that a daemon
/// that died does not leave the caller waiting for the whole `timeout`.
pub fn await_archive(
    paths: &WorkspacePaths,
    sent: &Path,
    timeout: std::time::Duration,
    daemon_alive: impl Fn() -> bool,
) -> Result<Archived, AwaitError> {
    let name = sent.file_name().unwrap_or_default();
    let folders = [MailboxDir::Processed, MailboxDir::Failed].map(|d| paths.mailbox_dir(d));
    for folder in &folders {
        std::fs::create_dir_all(folder)?;
    }
    let mut arrivals = crate::platform::ArrivalWait::new(&folders)?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        // Checked after the watches exist: an answer written since is seen.
        if let Some(archived) = folders.iter().find_map(|f| read_archive(&f.join(name))) {
            return Ok(archived);
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(AwaitError::TimedOut(timeout.as_secs()));
        }
        if !daemon_alive() && sent.exists() {
            return Err(AwaitError::DaemonGone);
        }
        arrivals.wait(left.min(std::time::Duration::from_secs(1)))?;
    }
}

/// An archive that is complete (written atomically, so any file is).
fn read_archive(path: &Path) -> Option<Archived> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}
