//! Everything that differs between operating systems, behind one interface
//! per concern; the rest of the crate calls these and never names a
//! platform (tests/architecture refuses a `cfg(target_os)` or a Linux-only
//! call outside this module).
//!
//! | concern | interface | Linux | portable (macOS, the BSDs) |
//! |---|---|---|---|
//! | watching folders | [`FolderWatcher`], [`ArrivalWait`] | inotify, read in the daemon's thread | `notify` (FSEvents, kqueue; inotify when built on Linux) |
//! | a stage's processes | [`processes`], [`StageContainer`] | `/proc`, the child subreaper, a cgroup v2 per stage | the process table through `sysinfo`, process groups; no subreaper, no container |
//! | claiming a file | [`rename_no_replace`] | `renameat2(RENAME_NOREPLACE)` | `renamex_np(RENAME_EXCL)` on macOS, a hard link then an unlink elsewhere |
//! | swapping two folders | [`exchange`] | `renameat2(RENAME_EXCHANGE)` | `renamex_np(RENAME_SWAP)` on macOS, three renames elsewhere |
//! | a lock's owner | [`owner`] | boot id, pid namespace, start ticks, `/proc/locks` | boot time, start time, a probing `flock` |
//!
//! The Linux platform is built on Linux; everywhere else, and on Linux with
//! the `portable-platform` feature (so that CI runs the code macOS runs),
//! the portable one. Both offer the same names with the same meaning.

mod posix;
mod process_row;
mod watch_types;

#[cfg(all(target_os = "linux", not(feature = "portable-platform")))]
mod linux;
#[cfg(all(target_os = "linux", not(feature = "portable-platform")))]
use linux as native;

#[cfg(any(not(target_os = "linux"), feature = "portable-platform"))]
mod portable;
#[cfg(any(not(target_os = "linux"), feature = "portable-platform"))]
use portable as native;

pub use native::claim::{exchange, rename_no_replace};
pub use native::containment::{ContainerParent, StageContainer, Unavailable, sweep_recorded};
pub use native::watch::{ArrivalWait, FolderWatcher};
pub use native::{NAME, owner, processes};
pub use posix::{hostname, pid_alive};
pub use process_row::ProcessRow;
pub use watch_types::{Change, Interest, WatchEvent, WatchId};
