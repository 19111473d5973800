//! The integrity scan.

use millrace::workspace::doctor::{self, IssueCode};
use millrace::workspace::{self as ws, Family, LifecycleState, Plane};

use super::support::{task, workspace};

#[test]
fn a_fresh_workspace_is_healthy() {
    let (_temp, paths) = workspace();
    ws::init(&paths).expect("init");
    ws::init(&paths).expect("init again");
    assert!(paths.is_initialized());
    assert_eq!(doctor::doctor(&paths), []);
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let (_temp, paths) = workspace();
    ws::init(&paths).expect("init");
    let text = task("t1", 0, &[], None).render();
    std::fs::write(
        paths.item_path(Family::Task, LifecycleState::Queued, "t1"),
        &text,
    )
    .expect("write");
    std::fs::write(
        paths.item_path(Family::Task, LifecycleState::Done, "t1"),
        &text,
    )
    .expect("write");
    std::fs::write(
        paths.item_path(Family::Task, LifecycleState::Active, "a1"),
        task("a1", 0, &[], None).render(),
    )
    .expect("write");
    std::fs::write(
        paths.item_path(Family::Task, LifecycleState::Active, "a2"),
        &text,
    )
    .expect("write");
    std::fs::write(
        paths.item_path(Family::Spec, LifecycleState::Queued, "bad"),
        "# Bad\n",
    )
    .expect("write");
    let queue = paths.lifecycle_dir(Family::Probe, LifecycleState::Queued);
    std::fs::write(queue.join("x.md.invalid"), "junk").expect("write");
    std::fs::write(paths.status_file(Plane::Execution), "nonsense").expect("write");
    std::fs::write(paths.config_file(), "[runtime]\nmode = 1\n").expect("write");
    std::fs::remove_dir(paths.recon_packets_dir()).expect("rm");
    let mut codes: Vec<IssueCode> = doctor::doctor(&paths)
        .iter()
        .map(|issue| issue.code)
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            IssueCode::MissingDirectory,
            IssueCode::ConfigInvalid,
            IssueCode::InvalidDocument,
            IssueCode::StemMismatch,
            IssueCode::DuplicateLifecycleState,
            IssueCode::MultipleActive,
            IssueCode::QuarantinedArtifact,
            IssueCode::StateFileInvalid,
        ]
    );
    let issues = doctor::doctor(&paths);
    let duplicate = issues
        .iter()
        .find(|issue| issue.code == IssueCode::DuplicateLifecycleState);
    assert_eq!(
        duplicate.map(|issue| issue.message.as_str()),
        Some("task `t1` is in queue and done")
    );
}
