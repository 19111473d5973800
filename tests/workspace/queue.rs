//! The queue store: enqueue, claim order, moves, quarantine, index events, lookup, depths.

use std::collections::BTreeSet;

use millrace::workspace::documents::WorkDocument;
use millrace::workspace::queue::{
    self, ClaimFilter, FileEvent, MoveReason, QueueError, QueueStore, TargetPaths, read_requeue_log,
};
use millrace::workspace::{Family, LifecycleState, Plane};

use super::support::{planning, task, workspace};

/// Claims everything a plane takes, in the shipped loops' entry order.
fn claim_ids(store: &mut QueueStore, plane: Plane, filter: &ClaimFilter) -> Vec<String> {
    let families: &[Family] = match plane {
        Plane::Execution => &[Family::Task],
        Plane::Planning => &[Family::Incident, Family::Probe, Family::Spec],
        Plane::Learning => &[Family::LearningRequest],
    };
    let mut ids = Vec::new();
    while let Some(claimed) = store.claim(families, filter).expect("claim") {
        ids.push(claimed.document.id().to_string());
    }
    ids
}

#[test]
fn enqueue_writes_canonically_and_refuses_duplicates_in_any_state() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    let doc = task("t1", 1, &[], None);
    let path = store.enqueue(&doc).expect("enqueue");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), doc.render());
    assert!(matches!(
        store.enqueue(&doc),
        Err(QueueError::Duplicate {
            state: LifecycleState::Queued,
            ..
        })
    ));
    store
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim")
        .expect("t1");
    store
        .complete(Family::Task, "t1", &MoveReason::new("runtime", "done"))
        .expect("done");
    let error = store.enqueue(&doc).expect_err("duplicate of a done task");
    assert_eq!(error.to_string(), "task `t1` already exists (done)");
    let mut fresh = QueueStore::open(&paths).expect("reopen");
    assert!(matches!(
        fresh.enqueue(&doc),
        Err(QueueError::Duplicate {
            state: LifecycleState::Done,
            ..
        })
    ));
}

#[test]
fn execution_claims_oldest_first_then_by_id_and_waits_for_dependencies() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    for doc in [
        task("b", 1, &[], None),
        task("a", 1, &[], None),
        task("old", 0, &["a"], None),
        task("late", 9, &[], None),
    ] {
        store.enqueue(&doc).expect("enqueue");
    }
    let any = ClaimFilter::default();
    let first = store
        .claim(&[Family::Task], &any)
        .expect("claim")
        .expect("an item");
    assert_eq!(first.document.id(), "a", "old waits for a");
    assert!(first.path.ends_with("tasks/active/a.md"));
    store
        .complete(Family::Task, "a", &MoveReason::new("runtime", "ok"))
        .expect("complete");
    let rest: Vec<String> = claim_ids(&mut store, Plane::Execution, &any);
    assert_eq!(rest, ["old", "b", "late"]);
}

#[test]
fn planning_claims_families_in_order_and_lineage_filter_restricts() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    store
        .enqueue(&planning(Family::Spec, "spec-1", 0))
        .expect("spec");
    store
        .enqueue(&planning(Family::Probe, "probe-1", 0))
        .expect("probe");
    store
        .enqueue(&planning(Family::Incident, "inc-2", 5))
        .expect("incident");
    store
        .enqueue(&planning(Family::Incident, "inc-1", 1))
        .expect("incident");
    let mut lineage = ClaimFilter {
        root_spec_id: Some("spec-1".to_string()),
    };
    assert_eq!(claim_ids(&mut store, Plane::Planning, &lineage), ["spec-1"]);
    lineage.root_spec_id = None;
    assert_eq!(
        claim_ids(&mut store, Plane::Planning, &lineage),
        ["inc-1", "inc-2", "probe-1"]
    );
    assert!(
        paths
            .item_path(Family::Incident, LifecycleState::Active, "inc-1")
            .is_file()
    );
}

#[test]
fn lineage_filter_uses_root_spec_id_of_tasks() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    store
        .enqueue(&task("other", 0, &[], Some("root-b")))
        .expect("enqueue");
    store
        .enqueue(&task("mine", 5, &[], Some("root-a")))
        .expect("enqueue");
    let filter = ClaimFilter {
        root_spec_id: Some("root-a".to_string()),
    };
    assert_eq!(claim_ids(&mut store, Plane::Execution, &filter), ["mine"]);
    assert_eq!(store.depths().plane(Plane::Execution), 1);
}

#[test]
fn learning_claims_the_oldest_request() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    store
        .enqueue(&planning(Family::LearningRequest, "learn-b", 2))
        .expect("enqueue");
    store
        .enqueue(&planning(Family::LearningRequest, "learn-a", 3))
        .expect("enqueue");
    let ids = claim_ids(&mut store, Plane::Learning, &ClaimFilter::default());
    assert_eq!(ids, ["learn-b", "learn-a"]);
}

/// Sets a file's modification time `by` into the past.
fn age(path: &std::path::Path, by: std::time::Duration) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    let then = std::time::SystemTime::now() - by;
    file.set_modified(then).expect("set mtime");
}

#[test]
fn a_document_still_being_written_is_left_alone_until_it_settles() {
    let (_temp, paths) = workspace();
    let queue_dir = paths.lifecycle_dir(Family::Task, LifecycleState::Queued);
    std::fs::write(queue_dir.join("half.md"), "# Half\n\nTask-ID: ha").expect("write");
    let mut store = QueueStore::open(&paths).expect("open");
    let ids = claim_ids(&mut store, Plane::Execution, &ClaimFilter::default());
    assert!(ids.is_empty(), "{ids:?}");
    assert!(
        queue_dir.join("half.md").is_file(),
        "a young document stays in place"
    );
    assert!(!queue_dir.join("half.md.invalid").exists());
}

/// The portable claim moves by a hard link then an unlink: killed between
/// the two, it leaves one file under two names. The next opening finishes
/// the move (the name furthest along stays) instead of setting a copy aside.
#[test]
fn a_move_stopped_between_link_and_unlink_is_finished_not_quarantined() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    store.enqueue(&task("t1", 1, &[], None)).expect("enqueue");
    let queued = paths.item_path(Family::Task, LifecycleState::Queued, "t1");
    let active = paths.item_path(Family::Task, LifecycleState::Active, "t1");
    std::fs::hard_link(&queued, &active).expect("link");
    let mut store = QueueStore::open(&paths).expect("reopen");
    assert!(!queued.exists() && active.is_file());
    assert!(store.take_quarantined().is_empty());
    let queue_dir = paths.lifecycle_dir(Family::Task, LifecycleState::Queued);
    assert!(!queue_dir.join("t1.md.invalid").exists());
}

#[test]
fn unparsable_and_misnamed_documents_are_quarantined_at_claim() {
    let (_temp, paths) = workspace();
    let queue_dir = paths.lifecycle_dir(Family::Task, LifecycleState::Queued);
    std::fs::write(queue_dir.join("broken.md"), "no heading\n").expect("write");
    std::fs::write(
        queue_dir.join("misnamed.md"),
        task("real-id", 0, &[], None).render(),
    )
    .expect("write");
    // Documents that no writer has touched for a while: set aside at once.
    for name in ["broken.md", "misnamed.md"] {
        age(&queue_dir.join(name), std::time::Duration::from_secs(60));
    }
    let mut store = QueueStore::open(&paths).expect("open");
    store.enqueue(&task("good", 3, &[], None)).expect("enqueue");
    assert_eq!(
        claim_ids(&mut store, Plane::Execution, &ClaimFilter::default()),
        ["good"]
    );
    assert!(queue_dir.join("broken.md.invalid").is_file());
    assert!(queue_dir.join("misnamed.md.invalid").is_file());
    let log = std::fs::read_to_string(queue_dir.join("invalid-artifacts.jsonl")).expect("log");
    assert_eq!(log.lines().count(), 2);
    assert!(
        log.contains("a work document starts with a `# <title>` line"),
        "{log}"
    );
    assert!(log.contains("does not match `Task-ID` `real-id`"), "{log}");
}

#[test]
fn moves_write_one_audit_line_and_requeues_are_counted() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    store.enqueue(&task("t", 0, &[], None)).expect("enqueue");
    let any = ClaimFilter::default();
    store
        .claim(&[Family::Task], &any)
        .expect("claim")
        .expect("t");
    store
        .requeue(
            Family::Task,
            "t",
            &MoveReason::new("operator", "retry-active"),
        )
        .expect("requeue");
    store
        .claim(&[Family::Task], &any)
        .expect("claim")
        .expect("t");
    store
        .block(Family::Task, "t", &MoveReason::new("runtime", "blocked"))
        .expect("block");
    let auto = MoveReason::new("auto_recovery", "transient").automatic();
    store
        .retry_blocked(Family::Task, "t", &auto)
        .expect("retry");
    assert_eq!(
        store
            .requeue_count(Family::Task, "t", false)
            .expect("count"),
        2
    );
    assert_eq!(
        store.requeue_count(Family::Task, "t", true).expect("count"),
        1
    );
    let log = paths
        .lifecycle_dir(Family::Task, LifecycleState::Queued)
        .join("t.requeue.jsonl");
    let records = read_requeue_log(&log).expect("log");
    assert_eq!(records[1].attempt_number, Some(2));
    assert_eq!(records[1].from, LifecycleState::Blocked);
    let transitions =
        std::fs::read_to_string(paths.family_dir(Family::Task).join("transitions.jsonl"));
    assert_eq!(transitions.expect("transitions").lines().count(), 1);
    let error = store
        .complete(Family::Task, "t", &MoveReason::new("runtime", "x"))
        .expect_err("not active");
    assert_eq!(error.to_string(), "task `t` is not active");
    let error = store
        .move_item(
            Family::Task,
            "t",
            LifecycleState::Queued,
            LifecycleState::Canceled,
            &auto,
        )
        .expect_err("tasks have no canceled state");
    assert_eq!(error.to_string(), "task items have no `canceled` state");
}

#[test]
fn file_events_keep_the_index_current_without_a_scan() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    let dropped = paths.item_path(Family::Task, LifecycleState::Queued, "external");
    std::fs::write(&dropped, task("external", 0, &[], None).render()).expect("write");
    assert_eq!(store.count(Family::Task, LifecycleState::Queued), 0);
    store.apply_event(&FileEvent::Created(dropped.clone()));
    store.apply_event(&FileEvent::Created(dropped.with_extension("md.invalid")));
    store.apply_event(&FileEvent::Created(paths.root().join("elsewhere/x.md")));
    assert_eq!(store.count(Family::Task, LifecycleState::Queued), 1);
    let other = paths.item_path(Family::Task, LifecycleState::Queued, "gone");
    std::fs::write(&other, task("gone", 1, &[], None).render()).expect("write");
    store.apply_event(&FileEvent::Created(other.clone()));
    std::fs::remove_file(&other).expect("rm");
    store.apply_event(&FileEvent::Removed(other));
    assert_eq!(
        claim_ids(&mut store, Plane::Execution, &ClaimFilter::default()),
        ["external"]
    );
}

#[test]
fn a_vanished_file_is_skipped_at_claim() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    store.enqueue(&task("a", 0, &[], None)).expect("enqueue");
    store.enqueue(&task("b", 1, &[], None)).expect("enqueue");
    std::fs::remove_file(paths.item_path(Family::Task, LifecycleState::Queued, "a")).expect("rm");
    assert_eq!(
        claim_ids(&mut store, Plane::Execution, &ClaimFilter::default()),
        ["b"]
    );
}

#[test]
fn lookup_and_depths() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    store.enqueue(&task("t1", 0, &[], None)).expect("enqueue");
    store.enqueue(&task("t2", 1, &[], None)).expect("enqueue");
    store
        .enqueue(&planning(Family::Spec, "s1", 0))
        .expect("enqueue");
    store
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim");
    let found = store.locate("t1");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].state, LifecycleState::Active);
    assert_eq!(store.read(&found[0]).expect("read").id(), "t1");
    assert_eq!(queue::locate_on_disk(&paths, "s1")[0].family, Family::Spec);
    let depths = store.depths();
    assert_eq!(
        (
            depths.plane(Plane::Execution),
            depths.plane(Plane::Planning)
        ),
        (1, 1)
    );
    assert_eq!(queue::count_queued(&paths).expect("count"), depths);
    assert_eq!(store.ids(Family::Task, LifecycleState::Queued), ["t2"]);
}

/// Two real processes enqueue and claim against one workspace: nothing is lost,
/// nothing is claimed twice, every item ends in exactly one place.
#[test]
fn two_processes_never_lose_or_duplicate_an_item() {
    let (_temp, paths) = workspace();
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = ["p", "q"]
        .iter()
        .map(|prefix| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "workspace::queue::concurrency_child",
                    "--nocapture",
                ])
                .env("MILLRACE_QUEUE_CHILD", prefix)
                .env("MILLRACE_QUEUE_WORKSPACE", paths.root())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success(), "child failed");
    }
    let mut claimed = BTreeSet::new();
    for prefix in ["p", "q"] {
        let text = std::fs::read_to_string(paths.root().join(format!("claimed-{prefix}.txt")));
        for id in text.expect("claims file").lines() {
            assert!(claimed.insert(id.to_string()), "{id} claimed twice");
        }
    }
    assert_eq!(claimed.len(), 2 * CHILD_ITEMS);
    let store = QueueStore::open(&paths).expect("open");
    assert_eq!(
        store.count(Family::Task, LifecycleState::Done),
        2 * CHILD_ITEMS
    );
    for state in [
        LifecycleState::Queued,
        LifecycleState::Active,
        LifecycleState::Blocked,
    ] {
        assert_eq!(store.count(Family::Task, state), 0, "{state}");
    }
}

const CHILD_ITEMS: usize = 60;

/// The child role of the test above; does nothing unless started by it.
#[test]
fn concurrency_child() {
    let Ok(prefix) = std::env::var("MILLRACE_QUEUE_CHILD") else {
        return;
    };
    let root = std::env::var("MILLRACE_QUEUE_WORKSPACE").expect("workspace");
    let paths = millrace::workspace::WorkspacePaths::new(root);
    let mut store = QueueStore::open(&paths).expect("open");
    let mut claimed = Vec::new();
    let any = ClaimFilter::default();
    for i in 0..CHILD_ITEMS {
        store
            .enqueue(&task(
                &format!("{prefix}-{i:03}"),
                (i % 60) as u32,
                &[],
                None,
            ))
            .expect("enqueue");
        if i % 3 == 0 {
            store.refresh().expect("refresh");
            claim_one(&mut store, &any, &mut claimed);
        }
    }
    std::fs::write(paths.root().join(format!("enqueued-{prefix}")), "").expect("marker");
    let other = if prefix == "p" { "q" } else { "p" };
    loop {
        let other_done = paths.root().join(format!("enqueued-{other}")).exists();
        store.refresh().expect("refresh");
        while claim_one(&mut store, &any, &mut claimed) {}
        if other_done && store.count(Family::Task, LifecycleState::Queued) == 0 {
            break;
        }
    }
    let claims = claimed
        .iter()
        .map(|id| format!("{id}\n"))
        .collect::<String>();
    std::fs::write(paths.root().join(format!("claimed-{prefix}.txt")), claims).expect("claims");
}

fn claim_one(store: &mut QueueStore, filter: &ClaimFilter, claimed: &mut Vec<String>) -> bool {
    let Some(item) = store.claim(&[Family::Task], filter).expect("claim") else {
        return false;
    };
    let id = item.document.id().to_string();
    store
        .complete(Family::Task, &id, &MoveReason::new("child", "done"))
        .expect("complete");
    claimed.push(id);
    true
}

#[test]
fn queue_depth_counts_are_cached_until_the_directory_changes() {
    let (_temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    for n in 0..3 {
        store
            .enqueue(&task(&format!("t{n}"), n, &[], None))
            .expect("enqueue");
    }
    let dir = paths.lifecycle_dir(Family::Task, LifecycleState::Queued);
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::open(&dir)
        .expect("dir")
        .set_modified(an_hour_ago)
        .expect("set mtime");
    assert_eq!(
        queue::count_queued(&paths)
            .expect("count")
            .family(Family::Task),
        3
    );
    assert!(
        paths.state_dir().join("queue_depth_cache.json").is_file(),
        "quiet dir cached"
    );
    assert_eq!(
        queue::count_queued(&paths)
            .expect("cached")
            .family(Family::Task),
        3
    );
    store.enqueue(&task("t9", 9, &[], None)).expect("enqueue");
    assert_eq!(
        queue::count_queued(&paths)
            .expect("count")
            .family(Family::Task),
        4
    );
    store
        .claim(&[Family::Task], &ClaimFilter::default())
        .expect("claim");
    assert_eq!(
        queue::count_queued(&paths)
            .expect("count")
            .plane(Plane::Execution),
        3
    );
}

/// A task created at `second` whose `Target-Paths` are `paths`.
fn touching(id: &str, second: u32, paths: &[&str]) -> WorkDocument {
    let mut document = task(id, second, &[], None);
    if let WorkDocument::Task(task) = &mut document {
        task.target_paths = paths.iter().map(|p| p.to_string()).collect();
    }
    document
}

/// A store holding `tasks`, enqueued in this order.
fn lanes_queue(tasks: &[WorkDocument]) -> (tempfile::TempDir, QueueStore) {
    let (temp, paths) = workspace();
    let mut store = QueueStore::open(&paths).expect("open");
    for document in tasks {
        store.enqueue(document).expect("enqueue");
    }
    (temp, store)
}

/// Claims one task beside the active tasks `running`, as a free lane would.
fn claim_beside(store: &mut QueueStore, running: &[&str]) -> Option<String> {
    let running: Vec<TargetPaths> = running
        .iter()
        .map(|id| store.active_target_paths(id).expect("active task"))
        .collect();
    let claimed = store.claim_beside(&[Family::Task], &ClaimFilter::default(), &running);
    claimed.expect("claim").map(|c| c.document.id().to_string())
}

/// Active task `id` finishes: its lane is free.
fn finish(store: &mut QueueStore, id: &str) {
    let done = MoveReason::new("runtime", "done");
    store.complete(Family::Task, id, &done).expect("done");
}

#[test]
fn with_nothing_running_overlapping_tasks_are_claimed_in_queue_order() {
    let (_temp, mut store) = lanes_queue(&[
        touching("c", 3, &["src"]),
        touching("a", 1, &["src/a.rs"]),
        touching("b", 2, &["none"]),
    ]);
    assert_eq!(
        claim_ids(&mut store, Plane::Execution, &ClaimFilter::default()),
        ["a", "b", "c"]
    );
}

#[test]
fn a_task_overlapping_a_running_one_is_never_claimed_beside_it() {
    let (_temp, mut store) = lanes_queue(&[
        touching("t1", 1, &["src/a"]),
        touching("t2", 2, &["./src/a/b.rs"]),
        touching("t3", 3, &["docs"]),
    ]);
    assert_eq!(claim_beside(&mut store, &[]).as_deref(), Some("t1"));
    assert_eq!(claim_beside(&mut store, &["t1"]).as_deref(), Some("t3"));
    assert_eq!(claim_beside(&mut store, &["t1", "t3"]), None);
    finish(&mut store, "t1");
    assert_eq!(claim_beside(&mut store, &["t3"]).as_deref(), Some("t2"));
}

#[test]
fn a_task_without_target_paths_runs_alone() {
    let (_temp, mut store) = lanes_queue(&[
        touching("narrow", 1, &["src"]),
        touching("wide", 2, &["none"]),
        touching("docs", 3, &["docs"]),
    ]);
    assert_eq!(claim_beside(&mut store, &[]).as_deref(), Some("narrow"));
    assert_eq!(
        claim_beside(&mut store, &["narrow"]),
        None,
        "wide waits, and holds docs back"
    );
    finish(&mut store, "narrow");
    assert_eq!(claim_beside(&mut store, &[]).as_deref(), Some("wide"));
    assert_eq!(claim_beside(&mut store, &["wide"]), None);
}

#[test]
fn a_held_task_reserves_its_paths_so_overlapping_tasks_keep_their_order() {
    let (_temp, mut store) = lanes_queue(&[
        touching("run", 0, &["src"]),
        touching("t1", 1, &["src/a.rs", "lib"]),
        touching("t2", 2, &["lib/x.rs"]),
        touching("t3", 3, &["docs"]),
    ]);
    assert_eq!(claim_beside(&mut store, &[]).as_deref(), Some("run"));
    assert_eq!(claim_beside(&mut store, &["run"]).as_deref(), Some("t3"));
    assert_eq!(
        claim_beside(&mut store, &["run", "t3"]),
        None,
        "t2 waits behind t1"
    );
    finish(&mut store, "run");
    assert_eq!(claim_beside(&mut store, &["t3"]).as_deref(), Some("t1"));
}
