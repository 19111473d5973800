//! The engine: the daemon's single owner of state, made of parts that own
//! their data ([`Store`], [`Flights`], [`Governance`], [`ClosureFocus`],
//! [`MailboxWaits`], [`Reloader`]). Every change happens here, one at a
//! time; the files beside this one in `runtime/` add the engine's behaviour
//! (claim and dispatch, apply and route, finish, recover), each borrowing
//! the parts it needs, and the files below it lend the engine's parts to
//! the mailbox and the reloader, which know nothing of the engine.

mod mailbox;
mod reload;
mod skills;

use std::collections::BTreeSet;

use super::closure::ClosureFocus;
use super::error::RuntimeError;
use super::flights::Flights;
use super::governance::Governance;
use super::lanes::{self, Homecoming, Lanes};
use super::mailbox::MailboxWaits;
use super::monitor::{Monitor, short};
use super::reload::Reloader;
use super::settings::RuntimeSettings;
use super::store::Store;
use crate::plan::Plan;
use crate::vocab::Plane;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::state::{Slot, StatusMarker};
use crate::workspace::{Family, LifecycleState};

/// The daemon's state, in parts.
pub struct Engine {
    /// Queues, snapshot, counters, status markers, journal.
    pub(super) store: Store,
    /// The plan runs are routed with.
    pub(super) plan: Plan,
    /// Stages in flight and planes waiting for a retry.
    pub(super) flights: Flights,
    /// What `millrace.toml` says about recovery, governance and runners.
    pub(super) settings: RuntimeSettings,
    pub(super) governance: Governance,
    /// The open closure target claims focus on.
    pub(super) closure: ClosureFocus,
    /// Mailbox commands waiting for a boundary.
    pub(super) waits: MailboxWaits,
    /// The compiler, and a reloaded plan waiting for the running work to end.
    pub(super) reloader: Reloader,
    pub(super) monitor: Monitor,
    /// No new work is started (stop requested, signal, `--max-ticks` reached).
    pub(super) draining: bool,
    /// The execution lanes in effect: their worktrees and the merge gate.
    pub(super) lanes: Lanes,
}

impl Engine {
    /// Appends an event; a journal that cannot be written is reported on
    /// the monitor and does not stop the daemon.
    pub fn event(&mut self, event: RuntimeEvent) {
        if let RuntimeEvent::RuntimeError { origin, message } = &event {
            self.store.snapshot_mut().record_error(origin, message);
        }
        if let Err(e) = self.store.append(event) {
            self.monitor.line(&format!("journal write failed: {e}"));
        }
    }

    pub fn save_snapshot(&mut self) -> Result<(), RuntimeError> {
        self.store.save_snapshot()
    }

    pub fn set_status(&mut self, slot: Slot, marker: StatusMarker) -> Result<(), RuntimeError> {
        self.store.set_status(slot, marker)
    }

    /// Removes the worktrees and branches of tasks that will not run again
    /// (docs/lanes.md); a failure is reported and tried again next time.
    pub fn sweep_lanes(&mut self) {
        let queue = self.store.queue();
        let keep = |id: &str| {
            queue.find(Family::Task, id).is_some_and(|found| {
                matches!(
                    found.state,
                    LifecycleState::Queued | LifecycleState::Active | LifecycleState::Blocked
                )
            })
        };
        match self.lanes.sweep(keep) {
            Ok(cleaned) if cleaned.is_empty() => {}
            Ok(cleaned) => self
                .monitor
                .line(&format!("lanes cleaned {}", cleaned.join(", "))),
            Err(error) => self.event(RuntimeEvent::RuntimeError {
                origin: "lanes".into(),
                message: format!("leftover worktrees not removed: {error}"),
            }),
        }
    }

    /// With one lane, merges into the main checkout the work of tasks that
    /// ran in lanes before this start, so that they go on with it there
    /// (docs/lanes.md, "Recovery"); a branch that cannot merge is kept and
    /// the monitor and journal say why.
    pub fn bring_lanes_home(&mut self) {
        if self.lanes.count() > 1 {
            return;
        }
        let tasks = self.active_tasks();
        for (id, homecoming) in lanes::bring_home(self.store.paths(), &tasks) {
            match homecoming {
                Homecoming::Merged { commit } => self.monitor.line(&format!(
                    "lanes one lane now: {id}'s lane work merged at {}, it goes on in the main checkout",
                    short(&commit)
                )),
                Homecoming::Kept { reason } => {
                    let message =
                        format!("one lane now: {id}'s lane branch millrace/{id} is kept: {reason}");
                    self.monitor.line(&format!("lanes {message}"));
                    self.event(RuntimeEvent::RuntimeError {
                        origin: "lanes".into(),
                        message,
                    });
                }
            }
        }
    }

    /// The tasks active in the snapshot's runs, with their titles.
    fn active_tasks(&self) -> Vec<(String, String)> {
        let queue = self.store.queue();
        let ids = self.store.snapshot().runs().filter_map(|(_, run)| {
            let item = run.work_item.as_ref()?;
            (item.family == Family::Task).then(|| item.id.clone())
        });
        ids.map(|id| {
            let title = queue
                .find(Family::Task, &id)
                .and_then(|found| queue.read(&found).ok())
                .map(|d| d.title().to_string())
                .unwrap_or_default();
            (id, title)
        })
        .collect()
    }

    /// True when a run is pending or running in some lane of `plane`.
    pub fn busy(&self, plane: Plane) -> bool {
        !self.busy_slots(plane).is_empty()
    }

    /// The slots of `plane` with a run pending or running, whatever the
    /// lanes in effect now (a restart with fewer lanes lets the runs of
    /// the others finish).
    fn busy_slots(&self, plane: Plane) -> BTreeSet<Slot> {
        let recorded = self.store.snapshot().runs().map(|(slot, _)| slot);
        let flying = self.flights.flying().map(|(slot, _)| slot);
        recorded
            .chain(flying)
            .filter(|slot| slot.plane == plane)
            .collect()
    }

    /// How many runs `plane` may have at once: only the execution plane
    /// has lanes.
    pub fn lane_count(&self, plane: Plane) -> u16 {
        match plane {
            Plane::Execution => self.lanes.count(),
            _ => 1,
        }
    }

    /// The free lane a new run of `plane` may start in beside the planes
    /// (and lanes) busy now, if any.
    pub fn may_start(&self, plane: Plane) -> Option<Slot> {
        self.plan.plane(plane)?;
        let beside = Plane::ALL
            .iter()
            .filter(|p| **p != plane && self.busy(**p))
            .all(|p| self.plan.may_run_together(plane, *p));
        let busy = self.busy_slots(plane);
        if !beside || busy.len() >= usize::from(self.lane_count(plane)) {
            return None;
        }
        (1..=u16::MAX)
            .map(|lane| Slot::lane(plane, lane))
            .find(|slot| !busy.contains(slot))
    }
}
