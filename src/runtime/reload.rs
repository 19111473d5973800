//! `reload-config`, apart from the engine: the compiler the daemon was
//! started with, and the recompiled plan that waits for the running work
//! to end (a run is routed with the plan it started with). The engine takes
//! the new settings and swaps the plan in (`engine/reload.rs`).

use super::settings::{Recompile, Reloaded};
use crate::plan::Plan;

/// The compiler, and a reloaded plan waiting for the running work to end.
pub struct Reloader {
    recompile: Option<Recompile>,
    pending: Option<Plan>,
}

impl Reloader {
    pub fn new(recompile: Option<Recompile>) -> Reloader {
        Reloader {
            recompile,
            pending: None,
        }
    }

    /// The compiler back, for a daemon that starts over.
    pub fn into_recompile(self) -> Option<Recompile> {
        self.recompile
    }

    /// The plan waiting to take over, if any.
    pub fn take_pending(&mut self) -> Option<Plan> {
        self.pending.take()
    }

    /// Keeps `plan` until no run is in progress.
    pub fn set_pending(&mut self, plan: Plan) {
        self.pending = Some(plan);
    }

    /// Recompiles the workspace: `None` when this daemon has no compiler,
    /// the error and its causes as one line when the compile failed.
    pub fn recompile(&self) -> Option<Result<Reloaded, String>> {
        let recompile = self.recompile.as_ref()?;
        Some(recompile().map_err(|error| error_chain(error.as_ref())))
    }
}

/// An error and its causes, joined as `error: cause: cause`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}
