//! A child's process group: the unit a stage is stopped as.
//!
//! A stage program runs as the leader of its own process group, so every
//! process it starts (unless it leaves the group on purpose) can be signalled
//! at once. Stopping is SIGTERM to the group, a grace period, then SIGKILL.
//! If the owner is dropped before the group was stopped (an abandoned
//! future), the guard kills the group.

use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;

/// The default time between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// The process group led by a spawned child.
#[derive(Debug)]
pub struct ProcessGroup {
    pgid: Pid,
    /// Whether dropping the guard must kill the group.
    armed: bool,
}

impl ProcessGroup {
    /// The group led by `child` (spawned with `process_group(0)`).
    pub fn of(child: &Child) -> Option<ProcessGroup> {
        let pid = i32::try_from(child.id()?).ok()?;
        Some(ProcessGroup {
            pgid: Pid::from_raw(pid),
            armed: true,
        })
    }

    /// Sends `signal` to every member; false when the group is gone.
    pub fn signal(&self, signal: Signal) -> bool {
        killpg(self.pgid, signal).is_ok()
    }

    /// Stops a group whose leader still runs: SIGTERM, up to `grace` for the
    /// leader to exit, then SIGKILL; returns once the leader is reaped.
    pub async fn stop_with_leader(&self, child: &mut Child, grace: Duration) {
        self.signal(Signal::SIGTERM);
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            self.signal(Signal::SIGKILL);
            let _ = child.wait().await;
        }
    }

    /// Waits (up to `limit`) until no process of the group is left: a killed
    /// process closes its files before it is gone, so "output closed" is not
    /// yet "no process". The members are not our children, so there is
    /// nothing to await; this checks every few milliseconds, only at teardown.
    pub async fn wait_empty(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while killpg(self.pgid, None).is_ok() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The group is stopped and its leader reaped: dropping it is safe.
    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            self.signal(Signal::SIGKILL);
        }
    }
}
