//! The runtime ownership lock: exclusive, stale recovery, refusal of a live owner.

use millrace::workspace::lock::{self, LockError, LockRecord, LockState, StaleReason};
use millrace::workspace::{Timestamp, WorkspacePaths};

use super::support::workspace;

fn record(paths: &WorkspacePaths, pid: u32, boot_id: Option<String>) -> LockRecord {
    LockRecord {
        workspace_root: paths.root().to_path_buf(),
        owner_pid: pid,
        owner_hostname: lock::hostname(),
        owner_session_id: "old-session".to_string(),
        boot_id,
        acquired_at: Timestamp::now(),
    }
}

fn write(paths: &WorkspacePaths, record: &LockRecord) {
    let text = serde_json::to_string(record).expect("json");
    std::fs::write(paths.lock_file(), text).expect("write lock");
}

fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[test]
fn acquire_is_exclusive_and_release_removes_the_file() {
    let (_temp, paths) = workspace();
    assert_eq!(lock::inspect(&paths), LockState::Absent);
    let (held, recovered) = lock::acquire(&paths, Some("s1".to_string())).expect("acquire");
    assert!(recovered.is_none());
    assert_eq!(held.record().owner_pid, std::process::id());
    assert!(
        matches!(lock::inspect(&paths), LockState::Active(ref r) if r.owner_session_id == "s1")
    );
    let error = lock::acquire(&paths, None).expect_err("second owner");
    let expected = format!(
        "workspace runtime ownership lock is already held by pid={} host={} session=s1",
        std::process::id(),
        lock::hostname()
    );
    assert_eq!(error.to_string(), expected);
    held.release().expect("release");
    assert_eq!(lock::inspect(&paths), LockState::Absent);
    drop(lock::acquire(&paths, None).expect("acquire again"));
    assert_eq!(lock::inspect(&paths), LockState::Absent, "drop releases");
}

#[test]
fn a_dead_owner_is_recovered_and_reported() {
    let (_temp, paths) = workspace();
    let pid = dead_pid();
    write(&paths, &record(&paths, pid, lock::current_boot_id()));
    assert!(matches!(
        lock::inspect(&paths),
        LockState::Stale(_, StaleReason::OwnerDead)
    ));
    let (held, recovered) = lock::acquire(&paths, None).expect("acquire over stale");
    let recovered = recovered.expect("reported");
    assert_eq!(recovered.previous.owner_pid, pid);
    assert_eq!(recovered.reason, StaleReason::OwnerDead);
    assert_eq!(held.record().owner_pid, std::process::id());
}

#[test]
fn a_lock_from_before_a_reboot_is_stale() {
    let (_temp, paths) = workspace();
    if lock::current_boot_id().is_none() {
        return;
    }
    write(
        &paths,
        &record(&paths, std::process::id(), Some("another-boot".to_string())),
    );
    assert!(matches!(
        lock::inspect(&paths),
        LockState::Stale(_, StaleReason::Rebooted)
    ));
}

#[test]
fn a_live_owner_in_another_process_refuses() {
    let (_temp, paths) = workspace();
    write(&paths, &record(&paths, 1, None));
    let error = lock::acquire(&paths, None).expect_err("pid 1 lives");
    assert!(matches!(error, LockError::Held { pid: 1, .. }), "{error}");
}

#[test]
fn invalid_locks_are_reported_and_refused() {
    let (_temp, paths) = workspace();
    std::fs::write(paths.lock_file(), "{not json").expect("write");
    assert!(matches!(lock::inspect(&paths), LockState::Invalid(_)));
    let error = lock::acquire(&paths, None).expect_err("invalid");
    assert!(
        error
            .to_string()
            .starts_with("invalid runtime ownership lock"),
        "{error}"
    );
    let mut other = record(&paths, std::process::id(), None);
    other.workspace_root = "/somewhere/else".into();
    write(&paths, &other);
    assert!(
        matches!(lock::inspect(&paths), LockState::Invalid(ref r) if r.contains("/somewhere/else"))
    );
}
