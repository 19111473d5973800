//! The shared interventions and controls, as the daemon calls them: queue
//! index kept current, archives, audit lines, refusals, the safe-boundary check.

use millrace::workspace::control;
use millrace::workspace::interventions::{
    self, BlockedDiagnostics, Cascade, InterventionError, RetryPolicy,
};
use millrace::workspace::journal::Journal;
use millrace::workspace::mailbox::MailboxCommand;
use millrace::workspace::queue::{ClaimFilter, MoveReason, QueueStore};
use millrace::workspace::state::{ActiveRun, RuntimeSnapshot, Slot, WorkItemRef};
use millrace::workspace::{Family, LifecycleState, Plane, Timestamp, WorkspacePaths};

use super::support::{planning, task, workspace};

fn setup(
    docs: &[millrace::workspace::documents::WorkDocument],
) -> (tempfile::TempDir, WorkspacePaths, QueueStore, Journal) {
    let (temp, paths) = workspace();
    let mut queue = QueueStore::open(&paths).expect("open");
    for doc in docs {
        queue.enqueue(doc).expect("enqueue");
    }
    let journal = Journal::new(&paths);
    (temp, paths, queue, journal)
}

fn run_on(family: Family, id: &str) -> ActiveRun {
    ActiveRun {
        run_id: "run-1".into(),
        node: "builder".into(),
        stage: "builder".into(),
        work_item: Some(WorkItemRef {
            family,
            id: id.into(),
        }),
        plan_id: None,
        started_at: Timestamp::now(),
        request_id: None,
        gate_request: None,
    }
}

fn cancel(id: &str) -> MailboxCommand {
    MailboxCommand::CancelWorkItem {
        work_item_id: id.into(),
        family: None,
        reason: "r".into(),
    }
}

#[test]
fn cancel_keeps_the_queue_index_current() {
    let (_t, paths, mut queue, journal) =
        setup(&[task("a", 1, &[], None), task("b", 2, &[], None)]);
    let detail =
        interventions::cancel_work_item(&mut queue, &journal, "a", None, "dup").expect("cancel");
    assert!(detail.starts_with("cancelled task a (queued) -> tasks/queue/cancelled/a."));
    assert_eq!(queue.ids(Family::Task, LifecycleState::Queued), ["b"]);
    let claimed = queue
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim")
        .expect("b");
    assert_eq!(claimed.document.id(), "b");
    let cancelled = paths
        .lifecycle_dir(Family::Task, LifecycleState::Queued)
        .join("cancelled");
    assert_eq!(std::fs::read_dir(cancelled).expect("dir").count(), 1);
}

#[test]
fn refusals_are_typed() {
    let (_t, _paths, mut queue, journal) = setup(&[task("a", 1, &[], None)]);
    let unsafe_id = interventions::cancel_work_item(&mut queue, &journal, "../a", None, "r");
    assert!(matches!(unsafe_id, Err(InterventionError::UnsafeId { .. })));
    let empty = interventions::cancel_work_item(&mut queue, &journal, "a", None, " \t");
    assert!(matches!(empty, Err(InterventionError::EmptyReason)));
    let unknown = interventions::cancel_work_item(&mut queue, &journal, "z", None, "r");
    assert!(matches!(unknown, Err(InterventionError::Unknown { .. })));
    queue
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim");
    let active = interventions::cancel_work_item(&mut queue, &journal, "a", None, "r");
    assert!(matches!(active, Err(InterventionError::WrongState { .. })));
    assert!(!active.expect_err("refused").is_refusal());
}

#[test]
fn an_id_in_two_families_needs_a_family() {
    let (_t, _paths, mut queue, journal) =
        setup(&[task("x", 1, &[], None), planning(Family::Spec, "x", 1)]);
    let error = interventions::cancel_work_item(&mut queue, &journal, "x", None, "r")
        .expect_err("ambiguous");
    assert_eq!(
        error.to_string(),
        "`x` exists as task, spec; pass --family to choose"
    );
    interventions::cancel_work_item(&mut queue, &journal, "x", Some(Family::Spec), "r")
        .expect("spec cancelled");
    assert_eq!(queue.ids(Family::Task, LifecycleState::Queued), ["x"]);
}

#[test]
fn retarget_updates_the_claim_facts() {
    let (_t, _paths, mut queue, journal) = setup(&[
        task("dep", 1, &[], None),
        task("other", 2, &[], None),
        task("child", 0, &["dep"], None),
    ]);
    queue
        .claim_family(Family::Task, &ClaimFilter::default())
        .expect("claim");
    queue
        .complete(Family::Task, "dep", &MoveReason::new("runtime", "done"))
        .expect("done");
    // `child` waits for `dep`, which is done now; retarget it to the queued `other`.
    interventions::retarget_dependency(&mut queue, &journal, "child", "dep", "other", "r")
        .expect("retarget");
    let next = queue
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim")
        .expect("other first: child now waits for it");
    assert_eq!(next.document.id(), "other");
}

#[test]
fn supersede_retarget_and_cancel_cascades() {
    let (_t, paths, mut queue, journal) = setup(&[
        task("old", 1, &[], None),
        task("new", 2, &[], None),
        task("c1", 3, &["old"], None),
        task("c2", 4, &["old", "new"], None),
    ]);
    interventions::supersede_task(&mut queue, &journal, "old", "new", "r", Cascade::Retarget)
        .expect("supersede");
    let c2 = queue
        .read(&queue.find(Family::Task, "c2").expect("c2"))
        .expect("read");
    assert_eq!(c2.depends_on(), ["new"]);
    let c1 = queue
        .read(&queue.find(Family::Task, "c1").expect("c1"))
        .expect("read");
    assert_eq!(c1.depends_on(), ["new"]);
    let audit =
        std::fs::read_to_string(interventions::audit_log(&queue, Family::Task)).expect("audit");
    assert_eq!(audit.lines().count(), 3);
    assert!(
        paths
            .lifecycle_dir(Family::Task, LifecycleState::Queued)
            .join("superseded")
            .is_dir()
    );
    let cancel =
        interventions::supersede_task(&mut queue, &journal, "c1", "new", "r", Cascade::Cancel);
    assert!(
        cancel
            .expect("no dependents")
            .contains("no queued dependents")
    );
    let same =
        interventions::supersede_task(&mut queue, &journal, "new", "new", "r", Cascade::None);
    assert!(matches!(same, Err(InterventionError::Invalid(_))));
}

#[test]
fn retry_blocked_counts_automatic_requeues_from_the_log() {
    let (_t, paths, mut queue, journal) = setup(&[task("t", 1, &[], None)]);
    let auto = MoveReason::new("auto_recovery", "transient").automatic();
    for _ in 0..2 {
        queue
            .claim(&[Family::Task], &ClaimFilter::default())
            .expect("claim");
        queue
            .block(Family::Task, "t", &MoveReason::new("runtime", "x"))
            .expect("block");
        queue
            .retry_blocked(Family::Task, "t", &auto)
            .expect("auto requeue");
    }
    queue
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim");
    queue
        .block(Family::Task, "t", &MoveReason::new("runtime", "x"))
        .expect("block");
    let diagnostics = BlockedDiagnostics {
        family: Some("task".into()),
        id: Some("t".into()),
        node: Some("builder".into()),
        final_name: Some("BLOCKED".into()),
        failure_class: Some("runner_timeout".into()),
        transient: true,
        blocked_at: Some(Timestamp::now()),
        auto_requeues: 0,
    };
    diagnostics.write(&paths, Family::Task, "t").expect("write");
    assert_eq!(
        interventions::read_blocked_diagnostics(&paths, Family::Task, "t").expect("read"),
        Some(diagnostics)
    );
    let policy = RetryPolicy {
        max_auto_requeues: 2,
    };
    let refused = interventions::retry_blocked(&mut queue, &journal, "t", "r", false, &policy);
    assert!(matches!(
        refused,
        Err(InterventionError::NotRetryable { .. })
    ));
    let policy = RetryPolicy {
        max_auto_requeues: 3,
    };
    interventions::retry_blocked(&mut queue, &journal, "t", "r", false, &policy).expect("retried");
    assert_eq!(queue.ids(Family::Task, LifecycleState::Queued), ["t"]);
}

#[test]
fn blocking_run_names_the_run_holding_an_affected_item() {
    let mut snapshot = RuntimeSnapshot::default();
    assert!(interventions::blocking_run(&snapshot, &cancel("t1")).is_none());
    snapshot.set_run(Slot::of(Plane::Execution), run_on(Family::Task, "t1"));
    let busy = interventions::blocking_run(&snapshot, &cancel("t1")).expect("busy");
    assert!(busy.is_refusal());
    assert!(
        busy.to_string()
            .contains("execution/builder (run run-1) holds task `t1`")
    );
    assert!(interventions::blocking_run(&snapshot, &cancel("t2")).is_none());
    assert!(interventions::blocking_run(&snapshot, &MailboxCommand::Pause).is_none());
    assert_eq!(
        interventions::affected_ids(&MailboxCommand::SupersedeTask {
            old_task_id: "a".into(),
            replacement_task_id: "b".into(),
            reason: "r".into(),
            cascade: "none".into(),
        }),
        ["a"]
    );
}

#[test]
fn validate_checks_ids_reasons_and_cascades_without_io() {
    assert!(interventions::validate(&cancel("ok.id-1")).is_ok());
    assert!(interventions::validate(&cancel("/etc")).is_err());
    let bad_cascade = MailboxCommand::SupersedeTask {
        old_task_id: "a".into(),
        replacement_task_id: "b".into(),
        reason: "r".into(),
        cascade: "all".into(),
    };
    assert!(matches!(
        interventions::validate(&bad_cascade),
        Err(InterventionError::BadCascade(_))
    ));
    let no_reason = MailboxCommand::RetryActive {
        reason: "".into(),
        plane: None,
        work_item: None,
    };
    assert!(matches!(
        interventions::validate(&no_reason),
        Err(InterventionError::EmptyReason)
    ));
    assert!(interventions::validate(&MailboxCommand::Stop).is_ok());
}

#[test]
fn apply_dispatches_interventions_and_ignores_controls() {
    let (_t, _paths, mut queue, journal) = setup(&[task("a", 1, &[], None)]);
    let policy = RetryPolicy::default();
    assert!(interventions::apply(&mut queue, &journal, &MailboxCommand::Pause, &policy).is_none());
    let result =
        interventions::apply(&mut queue, &journal, &cancel("a"), &policy).expect("intervention");
    assert!(result.expect("applied").starts_with("cancelled task a"));
}

#[test]
fn resume_never_removes_the_governance_pause() {
    let mut snapshot = RuntimeSnapshot::default();
    control::pause(&mut snapshot);
    snapshot.pause(control::USAGE_GOVERNANCE_PAUSE);
    let refused = control::resume(&mut snapshot).expect_err("blocked");
    assert!(refused.is_refusal());
    assert_eq!(snapshot.pause_sources, [control::USAGE_GOVERNANCE_PAUSE]);
    assert!(snapshot.paused);
}

#[test]
fn retry_active_picks_the_busy_plane_or_asks() {
    let (_t, _paths, mut queue, journal) =
        setup(&[task("t", 1, &[], None), planning(Family::Spec, "s", 1)]);
    let mut snapshot = RuntimeSnapshot::default();
    let none = control::retry_active(&mut queue, &journal, &mut snapshot, None, "r");
    assert!(matches!(none, Err(InterventionError::NothingToRetry)));
    queue
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim");
    queue
        .claim(
            &[Family::Incident, Family::Probe, Family::Spec],
            &ClaimFilter::default(),
        )
        .expect("claim");
    snapshot.set_run(Slot::of(Plane::Execution), run_on(Family::Task, "t"));
    let both = control::retry_active(&mut queue, &journal, &mut snapshot, None, "r");
    assert!(matches!(both, Err(InterventionError::PlaneRequired { .. })));
    let detail = control::retry_active(
        &mut queue,
        &journal,
        &mut snapshot,
        Some(Plane::Execution),
        "r",
    )
    .expect("retried");
    assert_eq!(detail, "requeued task t from the execution plane");
    assert!(!snapshot.has_runs());
    let detail =
        control::retry_active(&mut queue, &journal, &mut snapshot, None, "r").expect("spec");
    assert_eq!(detail, "requeued spec s from the planning plane");
    assert_eq!(
        queue.requeue_count(Family::Spec, "s", false).expect("log"),
        1
    );
}

#[test]
fn retry_active_of_one_work_item_clears_only_its_lane() {
    let (_t, _paths, mut queue, journal) =
        setup(&[task("t1", 1, &[], None), task("t2", 2, &[], None)]);
    for _ in 0..2 {
        queue
            .claim(&[Family::Task], &ClaimFilter::default())
            .expect("claim");
    }
    let mut snapshot = RuntimeSnapshot::default();
    snapshot.set_run(Slot::of(Plane::Execution), run_on(Family::Task, "t1"));
    snapshot.set_run(Slot::lane(Plane::Execution, 2), run_on(Family::Task, "t2"));
    let detail = control::retry_active_item(&mut queue, &journal, &mut snapshot, "t2", "r")
        .expect("retried");
    assert_eq!(
        detail,
        "requeued task t2 and cleared run run-1 of execution.2"
    );
    let lanes: Vec<String> = snapshot.runs().map(|(slot, _)| slot.to_string()).collect();
    assert_eq!(lanes, ["execution"]);
    let located = queue.find(Family::Task, "t2").expect("t2");
    assert_eq!(located.state, LifecycleState::Queued);
    let again = control::retry_active_item(&mut queue, &journal, &mut snapshot, "t2", "r");
    assert!(matches!(again, Err(InterventionError::NotActive(_))));
}

#[test]
fn clear_stale_state_never_removes_a_live_lock() {
    let (_t, paths, mut queue, journal) = setup(&[task("t", 1, &[], None)]);
    queue
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim");
    let (lock, _) = millrace::workspace::lock::acquire(&paths, None).expect("lock");
    let mut snapshot = RuntimeSnapshot::default();
    snapshot.process_running = true;
    let detail =
        control::clear_stale_state(&mut queue, &journal, &mut snapshot, "r").expect("cleared");
    assert_eq!(
        detail,
        "cleared stale runtime state; requeued=1; runtime_ownership_lock=active_owner"
    );
    assert!(paths.lock_file().is_file());
    assert!(snapshot.process_running, "a live owner keeps running");
    lock.release().expect("release");
}
