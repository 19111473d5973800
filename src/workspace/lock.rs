//! The runtime ownership lock (`state/runtime_daemon.lock.json`): one daemon per workspace.
//!
//! The lock file is created exclusively and records who owns it. While a
//! daemon lives it also holds an advisory `flock` on a guard file beside it,
//! so two daemons starting together cannot both recover the same stale lock.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::atomic::write_atomic_new;
use super::paths::WorkspacePaths;
use super::timestamp::Timestamp;

/// The content of the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// The workspace the lock is for.
    pub workspace_root: PathBuf,
    /// The owner's process id.
    pub owner_pid: u32,
    /// The owner's host name.
    pub owner_hostname: String,
    /// The owner's session id.
    pub owner_session_id: String,
    /// `/proc/sys/kernel/random/boot_id` when the lock was taken, where the system has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// When the lock was taken.
    pub acquired_at: Timestamp,
}

/// Why a lock's owner is known to be gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// The owner pid is not running.
    OwnerDead,
    /// The machine rebooted since the lock was taken.
    Rebooted,
}

impl fmt::Display for StaleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StaleReason::OwnerDead => "owner_dead",
            StaleReason::Rebooted => "rebooted",
        })
    }
}

/// What the lock file says about ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    /// No lock file.
    Absent,
    /// A live owner (or one on another host, which cannot be checked).
    Active(LockRecord),
    /// The owner is gone.
    Stale(LockRecord, StaleReason),
    /// The file is unreadable, not a lock record, or for another workspace.
    Invalid(String),
}

/// Taking or releasing the lock failed.
#[derive(Debug, Error)]
pub enum LockError {
    /// A live daemon owns the workspace.
    #[error(
        "workspace runtime ownership lock is already held by pid={pid} host={host} session={session}"
    )]
    Held {
        /// Owner pid.
        pid: u32,
        /// Owner host.
        host: String,
        /// Owner session.
        session: String,
    },
    /// The lock file cannot be trusted; an operator must look.
    #[error("invalid runtime ownership lock `{}`: {reason}; remove it once no daemon runs", path.display())]
    Invalid {
        /// The lock file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file operation failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> LockError {
    let path = path.to_path_buf();
    move |source| LockError::Io {
        action,
        path,
        source,
    }
}

/// A stale lock that [`acquire`] removed before taking ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredLock {
    /// The previous owner.
    pub previous: LockRecord,
    /// Why it was stale.
    pub reason: StaleReason,
}

/// The held lock; released by [`RuntimeLock::release`] or on drop.
#[derive(Debug)]
pub struct RuntimeLock {
    path: PathBuf,
    record: LockRecord,
    guard: Option<File>,
}

impl RuntimeLock {
    /// The record written.
    pub fn record(&self) -> &LockRecord {
        &self.record
    }

    /// Removes the lock file (if still ours) and drops the guard.
    pub fn release(mut self) -> Result<(), LockError> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<(), LockError> {
        if self.guard.is_none() {
            return Ok(());
        }
        let ours = read_record(&self.path)
            .is_ok_and(|record| record.owner_session_id == self.record.owner_session_id);
        let removed = if ours {
            std::fs::remove_file(&self.path)
        } else {
            Ok(())
        };
        self.guard = None;
        match removed {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                Err(io("remove", &self.path)(error))
            }
            _ => Ok(()),
        }
    }
}

impl Drop for RuntimeLock {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

/// Inspects the lock of a workspace without changing anything.
pub fn inspect(paths: &WorkspacePaths) -> LockState {
    let path = paths.lock_file();
    let record = match read_record(&path) {
        Ok(record) => record,
        Err(None) => return LockState::Absent,
        Err(Some(reason)) => return LockState::Invalid(reason),
    };
    if record.workspace_root != paths.root() {
        let reason = format!("it is for workspace `{}`", record.workspace_root.display());
        return LockState::Invalid(reason);
    }
    classify(record)
}

fn classify(record: LockRecord) -> LockState {
    if record.owner_hostname != hostname() {
        return LockState::Active(record);
    }
    let booted = current_boot_id();
    if record.boot_id.is_some() && booted.is_some() && record.boot_id != booted {
        return LockState::Stale(record, StaleReason::Rebooted);
    }
    if pid_alive(record.owner_pid) {
        LockState::Active(record)
    } else {
        LockState::Stale(record, StaleReason::OwnerDead)
    }
}

/// `Err(None)`: no file; `Err(Some(reason))`: unreadable or not a record.
fn read_record(path: &Path) -> Result<LockRecord, Option<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == ErrorKind::NotFound => return Err(None),
        Err(error) => return Err(Some(error.to_string())),
    };
    serde_json::from_str(&text).map_err(|error| Some(format!("not a lock record: {error}")))
}

/// Takes ownership of the workspace. A stale lock is removed and reported in
/// the second value so the caller can journal it; a live owner is refused.
pub fn acquire(
    paths: &WorkspacePaths,
    session_id: Option<String>,
) -> Result<(RuntimeLock, Option<RecoveredLock>), LockError> {
    let path = paths.lock_file();
    let guard = take_guard(paths)?;
    let record = LockRecord {
        workspace_root: paths.root().to_path_buf(),
        owner_pid: std::process::id(),
        owner_hostname: hostname(),
        owner_session_id: session_id.unwrap_or_else(new_session_id),
        boot_id: current_boot_id(),
        acquired_at: Timestamp::now(),
    };
    let text = serde_json::to_string_pretty(&record)
        .map_err(|error| io("encode", &path)(std::io::Error::other(error)))?;
    let mut recovered = None;
    loop {
        match write_atomic_new(&path, format!("{text}\n").as_bytes()) {
            Ok(()) => {
                return Ok((
                    RuntimeLock {
                        path,
                        record,
                        guard: Some(guard),
                    },
                    recovered,
                ));
            }
            Err(error) if error.kind() == ErrorKind::AlreadyExists && recovered.is_none() => {
                recovered = Some(recover_existing(paths, &path)?);
            }
            Err(error) => return Err(io("create", &path)(error)),
        }
    }
}

/// The lock file exists: refuse a live or invalid one, remove a stale one.
fn recover_existing(paths: &WorkspacePaths, path: &Path) -> Result<RecoveredLock, LockError> {
    match inspect(paths) {
        LockState::Active(owner) => Err(held(&owner)),
        LockState::Invalid(reason) => Err(LockError::Invalid {
            path: path.to_path_buf(),
            reason,
        }),
        LockState::Absent => Err(LockError::Invalid {
            path: path.to_path_buf(),
            reason: "it vanished while being recovered".to_string(),
        }),
        LockState::Stale(previous, reason) => {
            std::fs::remove_file(path).map_err(io("remove stale", path))?;
            Ok(RecoveredLock { previous, reason })
        }
    }
}

/// Locks `state/runtime_daemon.lock.guard`; a live holder means a live owner.
fn take_guard(paths: &WorkspacePaths) -> Result<File, LockError> {
    let guard_path = paths.state_dir().join("runtime_daemon.lock.guard");
    let guard = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&guard_path)
        .map_err(io("open", &guard_path))?;
    if FileExt::try_lock_exclusive(&guard).map_err(io("lock", &guard_path))? {
        return Ok(guard);
    }
    match inspect(paths) {
        LockState::Active(owner) | LockState::Stale(owner, _) => Err(held(&owner)),
        _ => Err(LockError::Held {
            pid: 0,
            host: "unknown".to_string(),
            session: "starting".to_string(),
        }),
    }
}

fn held(owner: &LockRecord) -> LockError {
    LockError::Held {
        pid: owner.owner_pid,
        host: owner.owner_hostname.clone(),
        session: owner.owner_session_id.clone(),
    }
}

/// True when a process with this pid exists (`kill(pid, 0)`; `EPERM` counts as alive).
pub fn pid_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(errno) => errno == rustix::io::Errno::PERM,
    }
}

/// The kernel boot id, where `/proc/sys/kernel/random/boot_id` exists.
pub fn current_boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// This machine's host name.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// A fresh session id: 32 hex characters.
pub fn new_session_id() -> String {
    let mut hasher = Sha256::new();
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(
        Timestamp::now()
            .instant()
            .unix_timestamp_nanos()
            .to_le_bytes(),
    );
    hasher.update(time::OffsetDateTime::now_utc().nanosecond().to_le_bytes());
    hasher.update(current_boot_id().unwrap_or_default().as_bytes());
    let local = 0_u8;
    hasher.update(format!("{:p}", &local).as_bytes());
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
