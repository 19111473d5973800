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
        pid_namespace: None,
        owner_started_ticks: None,
        acquired_at: Timestamp::now(),
    }
}

/// Holds the guard `flock` from another open file, as a live daemon would.
fn hold_guard(paths: &WorkspacePaths) -> std::fs::File {
    use fs4::fs_std::FileExt;
    let guard =
        std::fs::File::create(paths.state_dir().join("runtime_daemon.lock.guard")).expect("guard");
    assert!(FileExt::try_lock_exclusive(&guard).expect("lock"));
    guard
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
    assert_eq!(recovered.previous.expect("record").owner_pid, pid);
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
fn a_lock_naming_a_live_pid_is_recovered_when_nobody_holds_the_guard() {
    // A daemon that was pid 1 of its container, killed: pid 1 lives on.
    let (_temp, paths) = workspace();
    let mut old = record(&paths, 1, lock::current_boot_id());
    old.pid_namespace = Some("pid:[1]".to_string());
    write(&paths, &old);
    std::fs::File::create(paths.state_dir().join("runtime_daemon.lock.guard")).expect("guard");
    assert!(matches!(
        lock::inspect(&paths),
        LockState::Stale(_, StaleReason::Unheld)
    ));
    let (held, recovered) = lock::acquire(&paths, None).expect("acquire over a reused pid");
    let recovered = recovered.expect("reported");
    assert_eq!(recovered.previous.expect("record").owner_pid, 1);
    assert_eq!(held.record().owner_pid, std::process::id());
    assert!(held.record().owner_started_ticks.is_some());
}

#[test]
fn a_reused_pid_is_told_apart_by_its_start_time() {
    let (_temp, paths) = workspace();
    let mut old = record(&paths, std::process::id(), lock::current_boot_id());
    old.owner_started_ticks = Some(1);
    write(&paths, &old);
    assert!(matches!(
        lock::inspect(&paths),
        LockState::Stale(_, StaleReason::PidReused)
    ));
}

#[test]
fn a_held_guard_refuses_whatever_the_record_says() {
    let (_temp, paths) = workspace();
    write(&paths, &record(&paths, dead_pid(), None));
    let _guard = hold_guard(&paths);
    assert!(matches!(lock::inspect(&paths), LockState::Active(_)));
    let error = lock::acquire(&paths, None).expect_err("the guard is held");
    assert!(matches!(error, LockError::Held { .. }), "{error}");
}

#[test]
fn invalid_locks_are_reported_and_recovered_by_the_next_owner() {
    let (_temp, paths) = workspace();
    std::fs::write(paths.lock_file(), "{not json").expect("write");
    assert!(matches!(lock::inspect(&paths), LockState::Invalid(_)));
    let (held, recovered) = lock::acquire(&paths, None).expect("nobody holds the guard");
    let recovered = recovered.expect("reported");
    assert_eq!(recovered.previous, None);
    assert_eq!(recovered.reason, StaleReason::Unheld);
    held.release().expect("release");
    let mut other = record(&paths, std::process::id(), None);
    other.workspace_root = "/somewhere/else".into();
    write(&paths, &other);
    assert!(
        matches!(lock::inspect(&paths), LockState::Invalid(ref r) if r.contains("/somewhere/else"))
    );
}
