//! `reload-config`: the workspace is recompiled with its `millrace.toml`;
//! the new settings (recovery, governance, runners, retention) take effect
//! for the next stage, and the new plan once no run is in progress (a run
//! is routed with the plan it started with). A reload that fails changes
//! nothing: the daemon keeps its plan and settings and says why.

use super::engine::Engine;
use super::settings::{Recompile, Reloaded};
use crate::plan::Plan;
use crate::runners::Runners;
use crate::workspace::journal::RuntimeEvent;

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
}

impl Engine {
    /// Recompiles; returns what the operator reads, or why it was refused.
    pub fn reload(&mut self) -> Result<String, String> {
        let Some(recompile) = &self.reloader.recompile else {
            return Err("this daemon cannot recompile".into());
        };
        match recompile() {
            Ok(reloaded) => Ok(self.take_reloaded(reloaded)),
            Err(error) => {
                let message = error_chain(error.as_ref());
                self.event(RuntimeEvent::RuntimeError {
                    origin: "reload_config".into(),
                    message: message.clone(),
                });
                Err(format!(
                    "reload failed, the previous plan and settings are kept: {message}"
                ))
            }
        }
    }

    fn take_reloaded(&mut self, reloaded: Reloaded) -> String {
        let Reloaded { plan, settings } = reloaded;
        self.flights
            .replace_runners(Runners::new(settings.runners.clone()));
        self.governance.set_config(settings.governance.clone());
        self.settings = settings;
        let id = plan.plan_id.clone();
        self.reloader.pending = Some(plan);
        self.event(RuntimeEvent::RuntimeConfigReloaded {
            plan_id: id.clone(),
        });
        if self.swap_pending_plan() {
            format!("reload applied plan {id}")
        } else {
            format!("reload pending plan {id}: it takes over when the running work ends")
        }
    }

    /// Swaps in a pending plan when no run is in progress; true if it did.
    pub fn swap_pending_plan(&mut self) -> bool {
        let idle = self.flights.is_empty() && self.store.snapshot().active_runs.is_empty();
        if !idle {
            return false;
        }
        let Some(plan) = self.reloader.pending.take() else {
            return false;
        };
        self.monitor.line(&format!(
            "plan {} takes over from {}",
            plan.plan_id, self.plan.plan_id
        ));
        self.store.snapshot_mut().plan_id = Some(plan.plan_id.clone());
        self.plan = plan;
        true
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
