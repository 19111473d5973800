//! The runtime: a generic interpreter of the frozen plan. It claims work,
//! dispatches stages to runners, routes their outcomes through the plan and
//! persists every step. It contains no stage names: behaviour that differs
//! per stage is data in the plan (routes, finals, handoffs, effects by id).

mod apply;
mod closure;
mod closure_review;
mod counts;
mod daemon;
mod disk_full;
mod dispatch;
mod effects;
mod engine;
mod error;
mod evidence;
mod finish;
mod flights;
mod gates;
mod governance;
mod handoff;
mod lanes;
mod mailbox;
mod monitor;
mod recovery;
mod reload;
mod retry;
pub mod route;
mod settings;
mod store;
mod watch;

pub use daemon::{DaemonOptions, DaemonSummary, run_daemon};
pub use error::RuntimeError;
pub use evidence::{RunTrace, StageResult, TraceEdge, TraceNode};
pub use settings::{Recompile, ReloadError, Reloaded, RuntimeSettings};
