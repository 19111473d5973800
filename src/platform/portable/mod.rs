//! The portable platform, for macOS and the BSDs (and built on Linux with
//! the `portable-platform` feature, so that CI runs it): folder events
//! through `notify`, the process table through `sysinfo`, process groups
//! for containment, a no-replace claim that needs no Linux call.

pub mod claim;
pub mod containment;
pub mod owner;
pub mod processes;
pub mod watch;

/// The platform's name, for the daemon's monitor.
pub const NAME: &str = "portable";
