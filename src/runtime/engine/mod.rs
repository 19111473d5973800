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

use super::closure::ClosureFocus;
use super::error::RuntimeError;
use super::flights::Flights;
use super::governance::Governance;
use super::mailbox::MailboxWaits;
use super::monitor::Monitor;
use super::reload::Reloader;
use super::settings::RuntimeSettings;
use super::store::Store;
use crate::plan::Plan;
use crate::vocab::Plane;
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::state::{Slot, StatusMarker};

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
    /// Lanes per plane in effect, when more than one (decided at start:
    /// the plan's request where the workspace allows it, docs/lanes.md).
    pub(super) lane_counts: std::collections::BTreeMap<Plane, u16>,
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

    /// True when a run is pending or running in `slot`.
    pub fn slot_busy(&self, slot: Slot) -> bool {
        self.flights.is_flying(slot) || self.store.has_run(slot)
    }

    /// True when a run is pending or running in some lane of `plane`.
    pub fn busy(&self, plane: Plane) -> bool {
        self.lanes(plane).any(|slot| self.slot_busy(slot))
    }

    /// The slots of `plane`'s lanes, first lane first.
    pub fn lanes(&self, plane: Plane) -> impl Iterator<Item = Slot> {
        let count = self.lane_counts.get(&plane).copied().unwrap_or(1);
        (1..=count).map(move |lane| Slot::lane(plane, lane))
    }

    /// The free lane a new run of `plane` may start in beside the planes
    /// (and lanes) busy now, if any.
    pub fn may_start(&self, plane: Plane) -> Option<Slot> {
        self.plan.plane(plane)?;
        let beside = Plane::ALL
            .iter()
            .filter(|p| **p != plane && self.busy(**p))
            .all(|p| self.plan.may_run_together(plane, *p));
        let free = self.lanes(plane).find(|slot| !self.slot_busy(*slot));
        free.filter(|_| beside)
    }
}
