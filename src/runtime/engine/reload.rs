//! The engine taking a reload: the new settings (recovery, governance,
//! runners, retention) take effect for the next stage, and the new plan
//! once no run is in progress. A reload that fails changes nothing: the
//! daemon keeps its plan and settings and says why. The compiler and the
//! waiting plan are the [`Reloader`](crate::runtime::reload::Reloader)'s.

use super::Engine;
use crate::runners::Runners;
use crate::runtime::daemon::open_lanes;
use crate::runtime::settings::Reloaded;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::state::PlanRef;

impl Engine {
    /// Recompiles; returns what the operator reads, or why it was refused.
    pub fn reload(&mut self) -> Result<String, String> {
        match self.reloader.recompile() {
            None => Err("this daemon cannot recompile".into()),
            Some(Ok(reloaded)) => Ok(self.take_reloaded(reloaded)),
            Some(Err(message)) => {
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
        self.store.snapshot_mut().pending_plan = Some(PlanRef {
            plan_id: id.clone(),
            fingerprint: plan.fingerprint.clone(),
        });
        self.reloader.set_pending(plan);
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
        let idle = self.flights.is_empty() && !self.store.snapshot().has_runs();
        if !idle {
            return false;
        }
        let Some(plan) = self.reloader.take_pending() else {
            return false;
        };
        self.monitor.line(&format!(
            "plan {} takes over from {}",
            plan.plan_id, self.plan.plan_id
        ));
        self.store
            .snapshot_mut()
            .set_plan(&plan.plan_id, &plan.fingerprint);
        self.plan = plan;
        // Idle: no task is in a lane, so the lanes can change with the plan.
        let paths = self.store.paths().clone();
        self.lanes = open_lanes(&paths, &self.plan, &self.settings, &mut self.monitor);
        true
    }
}
