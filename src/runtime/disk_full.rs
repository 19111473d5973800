//! A full disk pauses the daemon instead of ending it. When a write fails
//! with "no space left" (or a quota), the daemon cancels the stages in
//! flight (their runs stay pending, as after a crash), says so, and waits
//! with backoff until a probe write succeeds; then it starts over from what
//! is on disk, exactly as a restarted daemon would: nothing is lost, a stage
//! that was cut off runs again.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::RuntimeError;
use super::monitor::Monitor;
use crate::workspace::atomic::write_atomic_unsynced;

/// The first wait after a failed write.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between two probes.
const LONGEST_WAIT: Duration = Duration::from_secs(60);
/// What a probe writes: enough to matter on a nearly full disk.
const PROBE_BYTES: usize = 64 * 1024;

impl RuntimeError {
    /// True when the failure is a full disk or an exhausted quota,
    /// however deep in the chain of causes.
    pub fn is_disk_full(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(is_out_of_space)
            {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

/// ENOSPC or EDQUOT.
pub fn is_out_of_space(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded
    )
}

/// How the wait for space ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceWait {
    /// A probe write succeeded: the daemon starts over.
    Writable,
    /// A signal asked the daemon to stop while it waited.
    Interrupted,
}

/// Waits, with doubling intervals up to a minute, until the state folder
/// takes a write again; a signal ends the wait early.
pub async fn wait_for_space(
    state_dir: &Path,
    monitor: &mut Monitor,
    error: &RuntimeError,
) -> SpaceWait {
    monitor.line(&format!("paused reason=disk_full error={error}"));
    let probe = state_dir.join(".disk_probe");
    let mut wait = FIRST_WAIT;
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = tokio::signal::ctrl_c() => return SpaceWait::Interrupted,
            _ = terminated(&mut terminate) => return SpaceWait::Interrupted,
        }
        if probe_write(&probe) {
            monitor.line("resumed reason=disk_writable");
            return SpaceWait::Writable;
        }
        wait = (wait * 2).min(LONGEST_WAIT);
        monitor.line(&format!(
            "disk still full: next try in {} s",
            wait.as_secs()
        ));
    }
}

async fn terminated(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => drop(signal.recv().await),
        None => std::future::pending().await,
    }
}

/// Writes and removes a probe file; true when the write went through.
fn probe_write(probe: &PathBuf) -> bool {
    let written = write_atomic_unsynced(probe, &[0u8; PROBE_BYTES]).is_ok();
    let _ = std::fs::remove_file(probe);
    written
}

/// Fails with the write's error when `state_dir` has no room: a runner
/// that failed may have failed only because the disk is full, and then its
/// stage must wait for space, not be routed as a failure.
pub fn check_room(state_dir: &Path) -> Result<(), RuntimeError> {
    let probe = state_dir.join(".disk_probe");
    let written = write_atomic_unsynced(&probe, &[0u8; PROBE_BYTES]);
    let _ = std::fs::remove_file(&probe);
    match written {
        Err(error) if is_out_of_space(&error) => Err(RuntimeError::Io {
            what: "write a probe: the disk is full".into(),
            source: error,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_found_under_the_causes() {
        let full = std::io::Error::from_raw_os_error(28); // ENOSPC
        let error = RuntimeError::Queue(crate::fs_error::at("write", "x")(full).into());
        assert!(error.is_disk_full());
        let other = super::super::error::io_error("write")(std::io::Error::from(
            ErrorKind::PermissionDenied,
        ));
        assert!(!other.is_disk_full());
    }
}
