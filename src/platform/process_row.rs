//! One row of the process table, as every platform reports it.

/// A process: who started it, whether it is only a zombie, and when it
/// started (in the platform's unit: clock ticks since boot on Linux,
/// seconds since the epoch elsewhere; only compared with each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessRow {
    pub pid: i32,
    pub ppid: i32,
    pub zombie: bool,
    pub start: u64,
}
