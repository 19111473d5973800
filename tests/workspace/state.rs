//! The state store: versioned files, snapshot, budget counters, status markers.

use millrace::workspace::state::{
    self, ActiveRun, BudgetCounters, Slot, StateError, StateStore, StatusMarker, WorkItemRef,
    item_key,
};
use millrace::workspace::{Family, Plane, Timestamp};

use super::support::workspace;

#[test]
fn snapshot_round_trips_and_defaults_when_missing() {
    let (_temp, paths) = workspace();
    let store = StateStore::new(&paths);
    let mut snapshot = store.load_snapshot().expect("default");
    assert_eq!(snapshot.schema_version, "1.0");
    snapshot.mode_id = Some("default_codex".to_string());
    snapshot.pause("operator");
    snapshot.pause("usage_governance");
    snapshot.resume("operator");
    snapshot.set_run(
        Slot::of(Plane::Execution),
        ActiveRun {
            run_id: "run-1".to_string(),
            node: "builder".to_string(),
            stage: "builder".to_string(),
            work_item: Some(WorkItemRef {
                family: Family::Task,
                id: "t1".to_string(),
            }),
            plan_id: Some("plan-1".to_string()),
            started_at: Timestamp::now(),
            request_id: None,
            gate_request: None,
        },
    );
    snapshot.queue_depths.insert(Plane::Planning, 3);
    store.save_snapshot(&mut snapshot).expect("save");
    let loaded = store.load_snapshot().expect("load");
    assert_eq!(loaded, snapshot);
    assert!(loaded.paused);
    assert_eq!(loaded.pause_sources, ["usage_governance"]);
    let text = std::fs::read_to_string(paths.snapshot_file()).expect("read");
    assert!(text.contains("\"execution\": {"), "{text}");
}

#[test]
fn a_future_schema_version_is_refused_naming_file_and_versions() {
    let (_temp, paths) = workspace();
    std::fs::write(
        paths.snapshot_file(),
        r#"{"schema_version": "2.0", "kind": "runtime_snapshot"}"#,
    )
    .expect("write");
    let error = StateStore::new(&paths).load_snapshot().expect_err("future");
    assert!(matches!(error, StateError::FutureVersion { .. }));
    let message = error.to_string();
    assert!(
        message.contains("runtime_snapshot.json` has schema_version 2.0, newer than 1.0"),
        "{message}"
    );
}

#[test]
fn bad_state_files_name_file_and_line() {
    let (_temp, paths) = workspace();
    std::fs::write(
        paths.counters_file(),
        "{\n  \"schema_version\": \"1.0\",\n  \"items\": [\n",
    )
    .expect("write");
    std::fs::write(paths.status_file(Plane::Learning), "running\n").expect("write");
    let problems = StateStore::new(&paths).check();
    assert_eq!(problems.len(), 2);
    assert!(
        problems[0]
            .to_string()
            .contains("budget_counters.json`:4: invalid state file"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1]
            .to_string()
            .contains("expected one `### MARKER` line, found `running`")
    );
    let missing: Result<Option<BudgetCounters>, _> =
        state::read_state(&paths.root().join("none.json"));
    assert!(missing.expect("missing is fine").is_none());
}

#[test]
fn budget_counters_count_per_item_budget_and_failure_class() {
    let mut counters = BudgetCounters::default();
    let item = item_key(Family::Task, "t1");
    assert_eq!(item, "task:t1");
    assert_eq!(counters.increment(&item, "fix_cycles", None), 1);
    assert_eq!(counters.increment(&item, "fix_cycles", None), 2);
    counters.increment(&item, "troubleshoot_attempts", Some("runner_timeout"));
    counters.increment(&item, "troubleshoot_attempts", Some("network_unavailable"));
    assert_eq!(
        counters.get(&item, "troubleshoot_attempts", Some("runner_timeout")),
        1
    );
    assert_eq!(counters.total(&item, "troubleshoot_attempts"), 2);
    let (_temp, paths) = workspace();
    let store = StateStore::new(&paths);
    store.save_counters(&counters).expect("save");
    let mut loaded = store.load_counters().expect("load");
    assert_eq!(loaded, counters);
    assert!(loaded.reset_item(&item));
    assert_eq!(loaded.get(&item, "fix_cycles", None), 0);
}

#[test]
fn status_markers_are_one_line_files() {
    let (_temp, paths) = workspace();
    let store = StateStore::new(&paths);
    assert_eq!(store.read_status(Plane::Execution).expect("missing"), None);
    store
        .write_status(Plane::Execution, &StatusMarker::running("builder"))
        .expect("write");
    let text = std::fs::read_to_string(paths.status_file(Plane::Execution)).expect("read");
    assert_eq!(text, "### BUILDER_RUNNING\n");
    assert_eq!(
        store.read_status(Plane::Execution).expect("read"),
        StatusMarker::new("BUILDER_RUNNING")
    );
    assert!(StatusMarker::new("lower").is_none());
    assert_eq!(StatusMarker::idle().as_str(), "IDLE");
}
