//! The runtime ownership lock (`state/runtime_daemon.lock.json`): one daemon per workspace.
//!
//! The lock file is created exclusively and records who owns it. While a
//! daemon lives it also holds an advisory `flock` on a guard file beside it
//! (`state/runtime_daemon.lock.guard`). The `flock` is the authority: the
//! kernel drops it when its holder dies, however it dies, so a daemon that
//! takes the guard knows that nobody owns the workspace and recovers any
//! lock file left behind, whatever pid it names (a daemon that was pid 1 of
//! a container, a pid reused by another process). Readers that must not
//! touch the guard (`status`, `doctor`) ask the platform whether the guard
//! is held (on Linux the kernel's lock table, elsewhere a probing shared
//! `flock` released at once); where that cannot be told, the record's pid,
//! process start time and boot id decide (see [`crate::platform::owner`]).

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
use crate::fs_error::{FileError, at, json_at};
use crate::platform;
pub use crate::platform::{hostname, pid_alive};

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
    /// What told the boot when the lock was taken, where the system has it
    /// (on Linux `/proc/sys/kernel/random/boot_id`, elsewhere the boot time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The owner's pid namespace (`pid:[4026531836]`), where the system has one:
    /// a pid means something only inside its namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_namespace: Option<String>,
    /// The owner's start time (on Linux clock ticks since boot, elsewhere
    /// seconds since the epoch): a reused pid has another start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_started_ticks: Option<u64>,
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
    /// A process runs under the owner's pid, but it is another process (it
    /// started later, or lives in another pid namespace).
    PidReused,
    /// Nobody holds the guard `flock`: whatever the record says, no daemon
    /// owns the workspace (the record was left by a killed daemon, or is not
    /// a record at all).
    Unheld,
}

impl fmt::Display for StaleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StaleReason::OwnerDead => "owner_dead",
            StaleReason::Rebooted => "rebooted",
            StaleReason::PidReused => "pid_reused",
            StaleReason::Unheld => "unheld",
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
    #[error(transparent)]
    File(#[from] FileError),
}

/// A stale lock that [`acquire`] removed before taking ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredLock {
    /// The previous owner (`None`: the file was not a lock record).
    pub previous: Option<LockRecord>,
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
                Err(at("remove", &self.path)(error).into())
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
    classify(paths, record)
}

fn classify(paths: &WorkspacePaths, record: LockRecord) -> LockState {
    match guard_held(&guard_path(paths)) {
        Some(true) => LockState::Active(record),
        Some(false) if record.owner_hostname == hostname() => {
            let reason = owner_gone(&record).unwrap_or(StaleReason::Unheld);
            LockState::Stale(record, reason)
        }
        // The kernel's lock table shows this host only; a record from
        // another host (a shared file system) can only be trusted.
        Some(false) => LockState::Active(record),
        None => match owner_gone(&record) {
            Some(reason) => LockState::Stale(record, reason),
            None => LockState::Active(record),
        },
    }
}

/// What the record proves about its owner being gone, checked on this
/// host: a reboot, a dead pid, or a pid now used by a later process.
/// `None`: the owner may be alive (or lives where it cannot be checked).
fn owner_gone(record: &LockRecord) -> Option<StaleReason> {
    if record.owner_hostname != hostname() {
        return None;
    }
    let booted = current_boot_id();
    if record.boot_id.is_some() && booted.is_some() && record.boot_id != booted {
        return Some(StaleReason::Rebooted);
    }
    if record.pid_namespace.is_some() && record.pid_namespace != own_pid_namespace() {
        // Its pid means nothing in this namespace.
        return None;
    }
    if !pid_alive(record.owner_pid) {
        return Some(StaleReason::OwnerDead);
    }
    let started = record.owner_started_ticks?;
    (process_start_ticks(record.owner_pid) != Some(started)).then_some(StaleReason::PidReused)
}

/// True when the record's owner is provably this host's live process: same
/// boot, same pid namespace (where the platform has them), the pid alive
/// with the start time recorded. A daemon whose guard file was deleted
/// under it is still this.
fn owner_provably_alive(record: &LockRecord) -> bool {
    let namespaces = platform::owner::HAS_PID_NAMESPACES;
    let same_place = record.owner_hostname == hostname()
        && record.boot_id.is_some()
        && record.boot_id == current_boot_id()
        && (record.pid_namespace.is_some() || !namespaces)
        && record.pid_namespace == own_pid_namespace();
    same_place
        && record
            .owner_started_ticks
            .is_some_and(|t| process_start_ticks(record.owner_pid) == Some(t))
}

/// Whether a daemon (or a command applying itself directly) owns the
/// workspace now: the guard's `flock` is held, or, where the kernel's lock
/// table cannot be read, the record names a live owner. Unlike [`inspect`],
/// a record that is unreadable or names another path (the same workspace
/// seen through a bind mount) does not hide a held guard.
pub fn owner_present(paths: &WorkspacePaths) -> bool {
    let guard = guard_held(&guard_path(paths));
    if guard == Some(true) {
        return true;
    }
    let Ok(record) = read_record(&paths.lock_file()) else {
        return false;
    };
    // A daemon whose guard file was deleted or replaced under it still owns.
    owner_provably_alive(&record)
        || match guard {
            Some(_) => record.owner_hostname != hostname(),
            None => owner_gone(&record).is_none(),
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
        pid_namespace: own_pid_namespace(),
        owner_started_ticks: process_start_ticks(std::process::id()),
        acquired_at: Timestamp::now(),
    };
    let text = serde_json::to_string_pretty(&record).map_err(json_at("encode", &path))?;
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
                recovered = Some(recover_existing(&path)?);
            }
            Err(error) => return Err(at("create", &path)(error).into()),
        }
    }
}

/// The lock file exists while this process holds the guard: nobody else
/// owns the workspace, so the file is a leftover whatever it says. It is
/// removed; what it said is returned for the journal.
fn recover_existing(path: &Path) -> Result<RecoveredLock, LockError> {
    let recovered = match read_record(path) {
        // Its guard file was removed or replaced under it: still the owner.
        Ok(record) if owner_provably_alive(&record) => return Err(held(&record)),
        Ok(record) => {
            let reason = owner_gone(&record).unwrap_or(StaleReason::Unheld);
            RecoveredLock {
                previous: Some(record),
                reason,
            }
        }
        Err(_) => RecoveredLock {
            previous: None,
            reason: StaleReason::Unheld,
        },
    };
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != ErrorKind::NotFound => {
            Err(at("remove stale", path)(error).into())
        }
        _ => Ok(recovered),
    }
}

/// `state/runtime_daemon.lock.guard`, the file whose `flock` proves ownership.
fn guard_path(paths: &WorkspacePaths) -> PathBuf {
    paths.state_dir().join("runtime_daemon.lock.guard")
}

/// Opens (creating it if need be) the guard file, not yet locked.
fn open_guard(paths: &WorkspacePaths) -> Result<(File, PathBuf), LockError> {
    let path = guard_path(paths);
    let guard = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(at("open", &path))?;
    Ok((guard, path))
}

/// Locks the guard; a live holder means a live owner.
fn take_guard(paths: &WorkspacePaths) -> Result<File, LockError> {
    let (guard, guard_path) = open_guard(paths)?;
    // A command applying itself directly holds the guard for a moment:
    // wait for it rather than refuse to start.
    for _ in 0..GUARD_TRIES {
        if FileExt::try_lock_exclusive(&guard).map_err(at("lock", &guard_path))? {
            return Ok(guard);
        }
        if matches!(inspect(paths), LockState::Active(_)) {
            break;
        }
        std::thread::sleep(GUARD_WAIT);
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

/// For `clear-stale-state`, run by a daemon or by a command holding the
/// guard: removes a lock file that names no live owner. Says what it found:
/// `missing`, `active_owner` (kept), `cleared_stale` or `cleared_invalid`.
pub fn clear_left_lock(paths: &WorkspacePaths) -> Result<&'static str, LockError> {
    let path = paths.lock_file();
    let outcome = match read_record(&path) {
        Err(None) => return Ok("missing"),
        Ok(record) if owner_provably_alive(&record) => return Ok("active_owner"),
        Ok(_) => "cleared_stale",
        Err(Some(_)) => "cleared_invalid",
    };
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != ErrorKind::NotFound => Err(at("remove", &path)(error).into()),
        _ => Ok(outcome),
    }
}

/// How often and how long a start waits for a short-lived guard holder.
const GUARD_TRIES: usize = 100;
const GUARD_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The guard held by a command that applies itself without a daemon (an
/// intervention, `clear-stale-state`): while it lives no daemon starts, and
/// a daemon that is running makes [`hold_for_command`] fail.
#[derive(Debug)]
pub struct CommandGuard {
    _guard: File,
}

/// Takes the guard for a direct command, waiting up to five seconds for
/// another direct command; `None` when a daemon owns the workspace (the
/// command goes to its mailbox instead).
pub fn hold_for_command(paths: &WorkspacePaths) -> Result<Option<CommandGuard>, LockError> {
    let (guard, guard_path) = open_guard(paths)?;
    for _ in 0..GUARD_TRIES {
        if FileExt::try_lock_exclusive(&guard).map_err(at("lock", &guard_path))? {
            // The guard file may be a new one beside a live daemon's.
            let live = read_record(&paths.lock_file()).is_ok_and(|r| owner_provably_alive(&r));
            return Ok((!live).then_some(CommandGuard { _guard: guard }));
        }
        if lock_file_names_owner(paths) {
            return Ok(None);
        }
        std::thread::sleep(GUARD_WAIT);
    }
    Ok(None)
}

/// True when a lock file exists: a daemon holds the guard, not a command.
fn lock_file_names_owner(paths: &WorkspacePaths) -> bool {
    paths.lock_file().exists()
}

fn held(owner: &LockRecord) -> LockError {
    LockError::Held {
        pid: owner.owner_pid,
        host: owner.owner_hostname.clone(),
        session: owner.owner_session_id.clone(),
    }
}

/// This process's pid namespace, where the system has them.
pub fn own_pid_namespace() -> Option<String> {
    platform::owner::pid_namespace()
}

/// When process `pid` started, in the platform's unit, where it tells.
pub fn process_start_ticks(pid: u32) -> Option<u64> {
    platform::owner::process_start(pid)
}

/// What tells this boot of the machine from others, where the system has it.
pub fn current_boot_id() -> Option<String> {
    platform::owner::boot_id()
}

/// Whether some process holds a `flock` on `guard`; `None` when that
/// cannot be told.
fn guard_held(guard: &Path) -> Option<bool> {
    platform::owner::flock_held(guard)
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
