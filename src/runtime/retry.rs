//! Transient failures: a runner that failed for a reason that may pass
//! (rate limit, network, provider, timeout) is retried with exponential
//! backoff and jitter, a bounded number of times per work item, before its
//! `BLOCKED` is routed. A task blocked by such a failure, that queued work
//! depends on, is requeued by itself after a cooldown.

use std::time::{Duration, Instant};

use super::engine::Engine;
use super::error::RuntimeError;
use crate::runners::FailureClass;
use crate::workspace::config::AutoRecoveryConfig;
use crate::workspace::documents::WorkDocument;
use crate::workspace::interventions::{BlockedDiagnostics, read_blocked_diagnostics};
use crate::workspace::journal::RuntimeEvent;
use crate::workspace::queue::MoveReason;
use crate::workspace::state::{Slot, item_key};
use crate::workspace::{Family, LifecycleState, Timestamp};

/// The counter (in the budget counters of an item) of transient retries.
const RETRIES: &str = "transient_retries";

/// The delay before retry `attempt` (1-based): base * 2^(attempt-1), capped,
/// spread by +-jitter.
pub fn backoff(config: &AutoRecoveryConfig, attempt: u32) -> Duration {
    let exponential = config.backoff_base_seconds * 2f64.powi(attempt.saturating_sub(1) as i32);
    let capped = exponential.min(config.backoff_max_seconds).max(0.0);
    let spread = config.backoff_jitter.clamp(0.0, 1.0) * (2.0 * rand_unit() - 1.0);
    Duration::from_secs_f64((capped * (1.0 + spread)).max(0.0))
}

/// A number in [0, 1) from a fresh random id (no extra dependency).
fn rand_unit() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        / (f64::from(u32::MAX) + 1.0)
}

impl Engine {
    /// Schedules a retry of the same node when the failure is transient and
    /// the item has retries left; returns whether it did.
    pub fn schedule_retry(
        &mut self,
        slot: Slot,
        item: &str,
        node: &str,
        class: Option<FailureClass>,
    ) -> Result<bool, RuntimeError> {
        let Some(class) = class.filter(|c| c.is_transient()) else {
            return Ok(false);
        };
        let used = self.store.counters().get(item, RETRIES, None);
        if used >= self.settings.auto_recovery.max_transient_retries {
            return Ok(false);
        }
        let attempt = self.store.counters_mut().increment(item, RETRIES, None);
        self.store.save_counters()?;
        let delay = backoff(&self.settings.auto_recovery, attempt);
        if let Some(run) = self.store.snapshot_mut().run_mut(slot) {
            run.request_id = None;
        }
        self.save_snapshot()?;
        self.flights.retry_at(slot, Instant::now() + delay);
        let max = self.settings.auto_recovery.max_transient_retries;
        let message = format!(
            "retry {slot}/{node} in {:.1}s (attempt {attempt}/{max}) failure={}",
            delay.as_secs_f64(),
            class.as_str()
        );
        self.monitor.line(&message);
        self.event(RuntimeEvent::RuntimeError {
            origin: "transient_retry".into(),
            message,
        });
        Ok(true)
    }

    /// Records why an item was blocked, for operators and automatic requeues.
    pub fn write_blocked_diagnostics(
        &self,
        document: &WorkDocument,
        node: &str,
        final_name: &str,
        class: Option<FailureClass>,
    ) -> Result<(), RuntimeError> {
        let (family, id) = (document.family(), document.id());
        let auto_requeues = self
            .store
            .queue()
            .requeue_count(family, id, true)
            .unwrap_or(0) as u32;
        let diagnostics = BlockedDiagnostics {
            family: Some(family.as_str().into()),
            id: Some(id.into()),
            node: Some(node.into()),
            final_name: Some(final_name.into()),
            failure_class: class.map(|c| c.as_str().to_string()),
            transient: class.is_some_and(FailureClass::is_transient),
            blocked_at: Some(Timestamp::now()),
            auto_requeues,
        };
        diagnostics
            .write(self.store.paths(), family, id)
            .map(|_| ())
            .map_err(|e| RuntimeError::Plan(e.to_string()))
    }

    /// Requeues blocked tasks whose failure was transient, whose cooldown has
    /// passed and that queued tasks depend on; returns the next due time of
    /// one still cooling down.
    pub fn auto_requeue_blocked(&mut self) -> Result<Option<Instant>, RuntimeError> {
        let config = self.settings.auto_recovery.clone();
        if !config.enabled || !config.blocked_dependency_retry_enabled {
            return Ok(None);
        }
        let mut next = None;
        for id in self
            .store
            .queue()
            .ids(Family::Task, LifecycleState::Blocked)
        {
            let Ok(Some(diag)) = read_blocked_diagnostics(self.store.paths(), Family::Task, &id)
            else {
                continue;
            };
            if !diag.transient
                || diag.auto_requeues >= config.max_auto_requeues_per_work_item
                || !self.has_queued_dependents(&id)
            {
                continue;
            }
            let cooldown = cooldown(&config, diag.auto_requeues);
            let blocked_at = diag.blocked_at.clone().unwrap_or_else(Timestamp::now);
            let elapsed = (Timestamp::now().instant() - blocked_at.instant())
                .whole_seconds()
                .max(0) as u64;
            if elapsed < cooldown {
                let due = Instant::now() + Duration::from_secs(cooldown - elapsed);
                next = Some(next.map_or(due, |n: Instant| n.min(due)));
                continue;
            }
            self.requeue_transient(&id, &diag)?;
        }
        Ok(next)
    }

    fn requeue_transient(
        &mut self,
        id: &str,
        diag: &BlockedDiagnostics,
    ) -> Result<(), RuntimeError> {
        let reason = MoveReason::new(
            "runtime",
            &format!(
                "transient {} cleared after cooldown",
                diag.failure_class.as_deref().unwrap_or("failure")
            ),
        )
        .automatic();
        self.store
            .queue_mut()
            .retry_blocked(Family::Task, id, &reason)?;
        self.store
            .counters_mut()
            .reset_item(&item_key(Family::Task, id));
        self.store.save_counters()?;
        let message = format!(
            "requeued blocked task {id} (attempt {} of automatic requeue)",
            diag.auto_requeues + 1
        );
        self.monitor.line(&message);
        self.event(RuntimeEvent::RuntimeError {
            origin: "blocked_dependency_auto_requeued".into(),
            message,
        });
        Ok(())
    }

    fn has_queued_dependents(&self, id: &str) -> bool {
        self.store
            .queue()
            .queued_items(Family::Task)
            .any(|queued| queued.depends_on.iter().any(|d| d == id))
    }
}

fn cooldown(config: &AutoRecoveryConfig, attempt: u32) -> u64 {
    let index = (attempt as usize).min(config.cooldown_seconds.len().saturating_sub(1));
    config.cooldown_seconds.get(index).copied().unwrap_or(300)
}
