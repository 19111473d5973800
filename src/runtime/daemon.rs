//! The daemon's event loop on tokio: it wakes on a runner's exit, a file
//! event in an intake folder, a signal or a timer; it never polls a child.
//! A tick applies finished stages, takes intake, and dispatches.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::closure::ClosureFocus;
use super::disk_full::{SpaceWait, wait_for_space};
use super::engine::Engine;
use super::error::{RuntimeError, io_error};
use super::flights::{Completion, Flights};
use super::governance::{Governance, ledger_path};
use super::lanes::Lanes;
use super::mailbox::MailboxWaits;
use super::monitor::Monitor;
use super::reload::Reloader;
use super::settings::{Recompile, RuntimeSettings};
use super::store::Store;
use super::watch::{Due, FolderWatch};
use crate::plan::Plan;
use crate::runners::Runners;
use crate::vocab::Plane;
use crate::workspace::intake::{IdeaOutcome, normalize_idea};
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::lock::{self, RuntimeLock};
use crate::workspace::{Timestamp, WorkspacePaths};

/// How the daemon runs.
pub struct DaemonOptions {
    /// Stop after this many ticks (finishing the stage in flight).
    pub max_ticks: Option<u64>,
    /// Exit when nothing is claimable or running.
    pub until_idle: bool,
    pub monitor_stdout: bool,
    pub monitor_log: Option<PathBuf>,
    /// The longest the daemon sleeps without an event (a safety net).
    pub heartbeat: Duration,
    /// Recovery, governance, runners and retention from `millrace.toml`.
    pub settings: RuntimeSettings,
    /// How `reload-config` recompiles (absent: reloads fail with a reason).
    pub recompile: Option<Recompile>,
}

/// What the daemon did, for the exit summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonSummary {
    pub ticks: u64,
    pub interrupted: bool,
    /// Set when `--until-idle` stopped with work still queued: how much,
    /// and why none of it could start.
    pub idle_with_work_queued: Option<String>,
}

/// Runs the daemon on `plan` until it stops.
pub fn run_daemon(
    paths: WorkspacePaths,
    plan: Plan,
    options: DaemonOptions,
) -> Result<DaemonSummary, RuntimeError> {
    // Tools an agent CLI starts in sessions of their own become the
    // daemon's children when they are orphaned, so a stage can reap them.
    crate::runners::become_subreaper();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io_error("start the async runtime"))?;
    runtime.block_on(supervise(paths, plan, options))
}

/// Runs the engine until it stops; a full disk pauses it until the disk
/// takes writes again, then it starts over from the disk with the same lock.
async fn supervise(
    paths: WorkspacePaths,
    mut plan: Plan,
    mut options: DaemonOptions,
) -> Result<DaemonSummary, RuntimeError> {
    let (lock, mut recovered) = lock::acquire(&paths, None)?;
    loop {
        let started = start(&paths, plan.clone(), &mut options, &lock, recovered.take());
        let (mut engine, mut loops) = match started {
            Ok(started) => started,
            Err(error) if error.is_disk_full() => {
                if pause_for_space(&paths, &options, &error).await == SpaceWait::Interrupted {
                    return Ok(interrupted_summary());
                }
                continue;
            }
            Err(error) => {
                report_failed_start(&paths, &options, &error);
                return Err(error);
            }
        };
        let result = event_loop(&mut engine, &mut loops, &options).await;
        if let Some(folders) = &mut loops.folders {
            folders.stop();
        }
        match result {
            Err(error) if error.is_disk_full() => {
                cancel_in_flight(&mut engine, &mut loops).await;
                // Starting over keeps what a reload brought.
                plan = engine.reloader.take_pending().unwrap_or(engine.plan);
                options.settings = engine.settings;
                options.recompile = engine.reloader.into_recompile();
                if pause_for_space(&paths, &options, &error).await == SpaceWait::Interrupted {
                    return Ok(interrupted_summary());
                }
            }
            result => {
                let closed = shut_down(&mut engine, lock, &StopReason::of(&result));
                // The error that ended the daemon is the one to report.
                return result.and_then(|summary| closed.map(|()| summary));
            }
        }
    }
}

fn interrupted_summary() -> DaemonSummary {
    DaemonSummary {
        ticks: 0,
        interrupted: true,
        idle_with_work_queued: None,
    }
}

/// Says, best effort, that a daemon which could not start stopped on its
/// error (there is no engine to shut down).
fn report_failed_start(paths: &WorkspacePaths, options: &DaemonOptions, error: &RuntimeError) {
    let reason = StopReason::Error(error.to_string());
    let _ = Journal::new(paths).append(reason.event());
    if let Ok(mut monitor) = Monitor::new(options.monitor_stdout, options.monitor_log.as_deref()) {
        monitor.line(&reason.line(peak_rss_kb()));
    }
}

/// Says the daemon is paused for a full disk and waits for space.
async fn pause_for_space(
    paths: &WorkspacePaths,
    options: &DaemonOptions,
    error: &RuntimeError,
) -> SpaceWait {
    let monitor = Monitor::new(options.monitor_stdout, options.monitor_log.as_deref());
    let mut monitor = monitor.unwrap_or_default();
    // Best effort: the journal may have no room either.
    let _ = Journal::new(paths).append(RuntimeEvent::RuntimeTickPaused {
        pause_sources: vec!["disk_full".to_string()],
    });
    wait_for_space(&paths.state_dir(), &mut monitor, error).await
}

/// Cancels the stages in flight and waits for their runners to give up:
/// their runs stay pending in the snapshot and start again.
async fn cancel_in_flight(engine: &mut Engine, loops: &mut Loops) {
    let _ = loops.cancel_tx.send(true);
    while !engine.flights.is_empty() {
        let Some(completion) = loops.done_rx.recv().await else {
            break;
        };
        engine.flights.land(completion.slot);
    }
}

/// The channels the loop waits on.
struct Loops {
    done_rx: mpsc::UnboundedReceiver<Completion>,
    cancel_tx: watch::Sender<bool>,
    /// `None` when the folders cannot be watched: then every tick lists them.
    folders: Option<FolderWatch>,
    /// The heartbeat fired: list the folders as a safety net.
    heartbeat_due: bool,
}

impl Loops {
    /// Applies the queue changes seen so far.
    fn absorb(&mut self, engine: &mut Engine) {
        if let Some(folders) = &mut self.folders {
            for change in folders.drain() {
                engine.store.queue_mut().apply_event(&change);
            }
        }
    }

    /// Before a finished stage is routed, every queue change it made must
    /// be indexed: drained from a watcher that is a barrier, else listed.
    fn absorb_stage(&mut self, engine: &mut Engine) {
        self.absorb(engine);
        if self.folders.as_mut().is_some_and(FolderWatch::after_stage) {
            engine.sync_queues();
        }
    }

    /// The folders this tick must read.
    fn take_due(&mut self, engine: &mut Engine) -> Due {
        self.absorb(engine);
        let heartbeat = std::mem::take(&mut self.heartbeat_due);
        match &mut self.folders {
            Some(folders) if !heartbeat => folders.take_due(),
            Some(folders) => {
                folders.take_due();
                Due::ALL
            }
            None => Due::ALL,
        }
    }
}

/// Resolves when the watched folders changed; never without a watch.
async fn folders_changed(folders: &Option<FolderWatch>) {
    match folders {
        Some(folders) => folders.readable().await,
        None => std::future::pending().await,
    }
}

fn start(
    paths: &WorkspacePaths,
    plan: Plan,
    options: &mut DaemonOptions,
    lock: &RuntimeLock,
    recovered: Option<lock::RecoveredLock>,
) -> Result<(Engine, Loops), RuntimeError> {
    let paths = paths.clone();
    let runners = Runners::new(options.settings.runners.clone());
    check_runners(&plan, &runners)?;
    let journal = Journal::new(&paths);
    let mut monitor = Monitor::new(options.monitor_stdout, options.monitor_log.as_deref())
        .map_err(io_error("open the monitor log"))?;
    if let Some(old) = recovered {
        report_recovered_lock(&mut monitor, &journal, &old);
    }
    // How stage processes are contained, chosen once: operators see which.
    monitor.line(&crate::runners::choose_containment());
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let (cancel_tx, cancel_rx) = watch::channel(false);
    // Before the queue is listed, so that nothing arriving in between is missed.
    let folders = FolderWatch::new(&paths);
    if let Err(e) = &folders {
        monitor.line(&format!(
            "folder watch unavailable ({e}): listing the intake folders every tick"
        ));
    }
    let settings = options.settings.clone();
    let lanes = open_lanes(&paths, &plan, &settings, &mut monitor);
    let mut engine = Engine {
        store: Store::open(&paths)?,
        flights: Flights::new(runners, done_tx, cancel_rx),
        governance: Governance::load(settings.governance.clone(), &ledger_path(&paths)),
        settings,
        closure: ClosureFocus::default(),
        waits: MailboxWaits::default(),
        reloader: Reloader::new(options.recompile.take()),
        monitor,
        draining: false,
        lanes,
        plan,
    };
    announce(&mut engine, lock)?;
    engine.reconcile_at_start()?;
    Ok((
        engine,
        Loops {
            done_rx,
            cancel_tx,
            folders: folders.ok(),
            heartbeat_due: false,
        },
    ))
}

/// A lock left by a daemon that is gone: said on the monitor and journaled.
fn report_recovered_lock(monitor: &mut Monitor, journal: &Journal, old: &lock::RecoveredLock) {
    let previous = old.previous.as_ref();
    let pid = previous.map_or(0, |p| p.owner_pid);
    monitor.line(&format!(
        "recovered stale lock pid={pid} reason={}",
        old.reason
    ));
    let _ = journal.append(RuntimeEvent::RuntimeDaemonLockRecovered {
        previous_pid: pid,
        previous_hostname: previous.map_or_else(String::new, |p| p.owner_hostname.clone()),
        previous_session_id: previous.map_or_else(String::new, |p| p.owner_session_id.clone()),
        reason: old.reason.to_string(),
    });
}

/// The execution lanes the plan asks for, where the workspace allows them;
/// the monitor says how many run, and why fewer when it is so.
pub(super) fn open_lanes(
    paths: &WorkspacePaths,
    plan: &Plan,
    settings: &RuntimeSettings,
    monitor: &mut Monitor,
) -> Lanes {
    let requested = plan.lanes(Plane::Execution);
    let (lanes, count) = Lanes::open(paths, requested, settings.merge_check.clone());
    if requested > 1 {
        let target = lanes.target().unwrap_or("none");
        monitor.line(&format!(
            "lanes execution {} target_branch={target}",
            count.describe()
        ));
    }
    lanes
}

/// Every node's runner must exist before anything starts.
fn check_runners(plan: &Plan, runners: &Runners) -> Result<(), RuntimeError> {
    for (plane, p) in &plan.planes {
        for (name, node) in &p.nodes {
            if node.builtin.is_none() && runners.get(&node.runner).is_none() {
                return Err(RuntimeError::Plan(format!(
                    "mode `{}` binds {plane}/{name} to runner `{}`, which is not available in this build; bind another runner (`runner command` or `runner script`) in the mode or in `[stages.{name}]`",
                    plan.mode_id, node.runner
                )));
            }
        }
    }
    Ok(())
}

fn announce(engine: &mut Engine, lock: &RuntimeLock) -> Result<(), RuntimeError> {
    engine.store.snapshot_mut().process_running = true;
    engine.store.snapshot_mut().stop_requested = false;
    engine.store.snapshot_mut().mode_id = Some(engine.plan.mode_id.clone());
    let (plan_id, fingerprint) = (&engine.plan.plan_id, &engine.plan.fingerprint);
    engine.store.snapshot_mut().set_plan(plan_id, fingerprint);
    engine.store.snapshot_mut().started_at = Some(Timestamp::now());
    engine.save_snapshot()?;
    let session_id = lock.record().owner_session_id.clone();
    engine.event(RuntimeEvent::RuntimeDaemonLockAcquired {
        owner_pid: std::process::id(),
        session_id: session_id.clone(),
    });
    engine.event(RuntimeEvent::RuntimeStarted {
        mode_id: engine.plan.mode_id.clone(),
        plan_id: engine.plan.plan_id.clone(),
        session_id,
    });
    let line = format!(
        "runtime started mode={} plan={} currentness=current",
        engine.plan.mode_id, engine.plan.plan_id
    );
    engine.monitor.line(&line);
    Ok(())
}

async fn event_loop(
    engine: &mut Engine,
    loops: &mut Loops,
    options: &DaemonOptions,
) -> Result<DaemonSummary, RuntimeError> {
    let mut summary = DaemonSummary {
        ticks: 0,
        interrupted: false,
        idle_with_work_queued: None,
    };
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(io_error("install the SIGTERM handler"))?;
    let mut janitor = crate::workspace::runs::RunsJanitor::new(&engine.settings.runs);
    loop {
        // Once draining, iterations only wait for stages in flight: not ticks.
        if !engine.draining {
            summary.ticks += 1;
        }
        let due = loops.take_due(engine);
        if due.mailbox || engine.waits.any() {
            engine.drain_mailbox()?;
        }
        engine.swap_pending_plan();
        engine.apply_deferred_skill_updates();
        if due.ideas {
            engine.intake_ideas()?;
        }
        if due.rescan {
            engine.sync_queues();
            // Targets are only written by the daemon; re-reading them on the
            // heartbeat also picks up a hand edit.
            engine.closure.forget();
        }
        engine.flights.forget_due_retries();
        engine.govern()?;
        janitor.follow(&engine.settings.runs);
        for event in janitor.after_tick(engine.store.paths(), engine.store.snapshot()) {
            engine.event(event);
        }
        let started = engine.dispatch()?;
        engine.report_quarantines();
        let requeue_due = if engine.flights.is_empty() {
            engine.auto_requeue_blocked()?
        } else {
            None
        };
        if options.max_ticks.is_some_and(|n| summary.ticks >= n) {
            engine.draining = true;
        }
        if engine.flights.is_empty() {
            let waiting = engine.flights.any_waiting();
            if engine.draining || (options.until_idle && !started && !waiting) {
                if !engine.draining {
                    summary.idle_with_work_queued = engine.idle_note();
                }
                if let Some(note) = &summary.idle_with_work_queued {
                    engine
                        .monitor
                        .line(&format!("idle with work queued: {note}"));
                }
                break;
            }
            if !started {
                engine.monitor.idle("no_work");
                engine.event(RuntimeEvent::RuntimeTickIdle {
                    reason: "no_work".into(),
                });
            }
        }
        let wakeup = engine.next_wakeup(options.heartbeat, requeue_due);
        tokio::select! {
            Some(completion) = loops.done_rx.recv() => {
                // Route with every queue change the stage made already indexed.
                loops.absorb_stage(engine);
                engine.apply(completion)?;
            }
            () = folders_changed(&loops.folders) => {}
            _ = tokio::signal::ctrl_c() => interrupt(engine, loops, &mut summary),
            _ = terminate.recv() => interrupt(engine, loops, &mut summary),
            () = tokio::time::sleep(wakeup) => loops.heartbeat_due = wakeup >= options.heartbeat,
        }
    }
    Ok(summary)
}

/// The first signal finishes the stages in flight; a second cancels them
/// (their runs stay pending and start again with the next daemon).
fn interrupt(engine: &mut Engine, loops: &Loops, summary: &mut DaemonSummary) {
    summary.interrupted = true;
    if engine.draining {
        let _ = loops.cancel_tx.send(true);
        engine
            .monitor
            .line("second signal: cancelling the stages in flight");
    } else {
        engine.draining = true;
        engine
            .monitor
            .line("signal: finishing the stages in flight, then stopping");
    }
}

/// Why the daemon stopped, as the monitor and the journal say it: an
/// operator reading `stopped` must not take a crash for a finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StopReason {
    /// Nothing left to do (`--until-idle`, `--max-ticks`, a stop command).
    Finished,
    /// SIGINT or SIGTERM.
    Signal,
    /// An error ended the event loop; its message.
    Error(String),
}

impl StopReason {
    /// The reason of the event loop's result.
    fn of(result: &Result<DaemonSummary, RuntimeError>) -> StopReason {
        match result {
            Ok(summary) if summary.interrupted => StopReason::Signal,
            Ok(_) => StopReason::Finished,
            Err(error) => StopReason::Error(error.to_string()),
        }
    }

    fn label(&self) -> &'static str {
        match self {
            StopReason::Finished => "finished",
            StopReason::Signal => "signal",
            StopReason::Error(_) => "error",
        }
    }

    fn error(&self) -> Option<&str> {
        match self {
            StopReason::Error(message) => Some(message),
            _ => None,
        }
    }

    /// The journal's `runtime_closed`.
    fn event(&self) -> RuntimeEvent {
        RuntimeEvent::RuntimeClosed {
            reason: self.label().into(),
            error: self.error().map(str::to_string),
        }
    }

    /// The monitor line: `stopped reason=error peak_rss_kb=N error=...`.
    fn line(&self, peak_rss_kb: Option<u64>) -> String {
        let peak = peak_rss_kb.map_or_else(String::new, |kb| format!(" peak_rss_kb={kb}"));
        let error = self
            .error()
            .map_or_else(String::new, |e| format!(" error={e}"));
        format!("stopped reason={}{peak}{error}", self.label())
    }
}

fn shut_down(
    engine: &mut Engine,
    lock: RuntimeLock,
    reason: &StopReason,
) -> Result<(), RuntimeError> {
    engine.store.snapshot_mut().process_running = false;
    engine.save_snapshot()?;
    engine.event(reason.event());
    // The daemon's own high-water mark, so operators (and the flood test)
    // see what a run cost it; a stage's children are not counted.
    engine.monitor.line(&reason.line(peak_rss_kb()));
    let session_id = lock.record().owner_session_id.clone();
    lock.release()?;
    engine.event(RuntimeEvent::RuntimeDaemonLockReleased { session_id });
    Ok(())
}

/// The most resident memory this process ever used, in kB.
fn peak_rss_kb() -> Option<u64> {
    crate::platform::processes::peak_rss_kb()
}

impl Engine {
    /// How long to sleep without events: until the next retry or requeue is
    /// due, at most `heartbeat`.
    fn next_wakeup(
        &self,
        heartbeat: Duration,
        requeue_due: Option<std::time::Instant>,
    ) -> Duration {
        let now = std::time::Instant::now();
        let due = self
            .flights
            .next_retry()
            .into_iter()
            .chain(requeue_due)
            .min();
        due.map_or(heartbeat, |at| {
            at.saturating_duration_since(now).min(heartbeat)
        })
    }

    /// Ideas dropped in `ideas/inbox/` become specs.
    pub fn intake_ideas(&mut self) -> Result<(), RuntimeError> {
        let Ok(entries) = std::fs::read_dir(self.store.paths().ideas_inbox()) else {
            return Ok(());
        };
        let mut ideas: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        ideas.sort();
        for idea in ideas {
            match normalize_idea(self.store.queue_mut(), &idea) {
                Ok(IdeaOutcome::Normalized { spec_id, .. }) => {
                    self.monitor
                        .line(&format!("idea {} -> spec {spec_id}", idea.display()));
                    self.event(RuntimeEvent::IdeaNormalizedToSpec {
                        idea_path: idea.display().to_string(),
                        spec_id,
                    });
                }
                Ok(IdeaOutcome::AlreadyRepresented { .. }) => {}
                Err(e) => self.event(RuntimeEvent::RuntimeError {
                    origin: "idea intake".into(),
                    message: e.to_string(),
                }),
            }
        }
        Ok(())
    }

    /// Brings the queue index up to date with the queue folders; a folder
    /// that cannot be listed is reported and tried again next time.
    fn sync_queues(&mut self) {
        if let Err(e) = self.store.queue_mut().sync_queued() {
            self.event(RuntimeEvent::RuntimeError {
                origin: "queue sync".into(),
                message: e.to_string(),
            });
        }
    }

    /// Journals, and shows on the monitor, every document the queue set
    /// aside since the last report.
    pub fn report_quarantines(&mut self) {
        for record in self.store.queue_mut().take_quarantined() {
            self.monitor.line(&format!(
                "quarantined {} reason={}",
                record.original_path, record.reason
            ));
            self.event(record.to_event());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_the_stop_reason_with_its_message() {
        let failed: Result<DaemonSummary, RuntimeError> =
            Err(RuntimeError::Plan("node `x` is not in the plan".into()));
        let reason = StopReason::of(&failed);
        assert_eq!(reason.label(), "error");
        let line = reason.line(Some(12));
        assert!(
            line.starts_with("stopped reason=error peak_rss_kb=12 error="),
            "{line}"
        );
        assert!(line.contains("node `x` is not in the plan"), "{line}");
    }

    #[test]
    fn a_run_that_ended_says_finished_or_signal() {
        let summary = |interrupted| DaemonSummary {
            ticks: 3,
            interrupted,
            idle_with_work_queued: None,
        };
        assert_eq!(StopReason::of(&Ok(summary(false))), StopReason::Finished);
        assert_eq!(StopReason::of(&Ok(summary(true))), StopReason::Signal);
        assert_eq!(StopReason::Finished.line(None), "stopped reason=finished");
        assert_eq!(StopReason::Signal.error(), None);
    }
}
