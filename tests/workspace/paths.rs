//! The workspace layout.

use millrace::workspace::{Family, LifecycleState, Plane, WorkspacePaths};

#[test]
fn create_layout_makes_every_dir_and_is_idempotent() {
    let temp = tempfile::tempdir().expect("temp dir");
    let paths = WorkspacePaths::new(temp.path());
    assert!(!paths.is_initialized());
    paths.create_layout().expect("layout");
    paths.create_layout().expect("layout again");
    assert!(paths.missing_dirs().is_empty());
    std::fs::write(paths.config_file(), "").expect("config");
    assert!(paths.is_initialized());
}

#[test]
fn layout_names_follow_the_reference() {
    let paths = WorkspacePaths::new("/ws");
    let rel = |path: std::path::PathBuf| path.display().to_string();
    assert_eq!(
        rel(paths.lifecycle_dir(Family::Incident, LifecycleState::Queued)),
        "/ws/millrace-agents/incidents/incoming"
    );
    assert_eq!(
        rel(paths.item_path(Family::BlueprintDraft, LifecycleState::Done, "d1")),
        "/ws/millrace-agents/blueprints/drafts/approved/d1.json"
    );
    assert_eq!(
        rel(paths.lifecycle_dir(Family::LearningRequest, LifecycleState::Blocked)),
        "/ws/millrace-agents/learning/requests/blocked"
    );
    assert_eq!(
        rel(paths.status_file(Plane::Planning)),
        "/ws/millrace-agents/state/planning_status.md"
    );
    assert_eq!(rel(paths.ideas_inbox()), "/ws/ideas/inbox");
    let all = paths.all_dirs();
    for expected in [
        "state/mailbox/failed",
        "arbiter/contracts/root-specs",
        "recon/packets",
    ] {
        assert!(all.iter().any(|dir| dir.ends_with(expected)), "{expected}");
    }
}
