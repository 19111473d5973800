//! Idea intake: add-idea into the inbox, normalization into a root spec.

use millrace::workspace::documents::{SourceType, WorkDocument};
use millrace::workspace::intake::{self, IdeaOutcome, IntakeError};
use millrace::workspace::queue::QueueStore;
use millrace::workspace::{Family, LifecycleState};

use super::support::workspace;

#[test]
fn add_idea_copies_into_the_inbox_and_refuses_an_existing_name() {
    let (temp, paths) = workspace();
    let source = temp.path().join("Build a Queue!.md");
    std::fs::write(&source, "# Build a queue\n\nA durable queue of work.\n").expect("write");
    let copied = intake::add_idea(&paths, &source).expect("add");
    assert_eq!(copied, paths.ideas_inbox().join("Build a Queue!.md"));
    assert!(matches!(
        intake::add_idea(&paths, &source),
        Err(IntakeError::Exists { .. })
    ));
}

#[test]
fn an_idea_becomes_a_root_spec_once() {
    let (_temp, paths) = workspace();
    let idea = paths.ideas_inbox().join("Build a Queue!.md");
    std::fs::write(&idea, "# Build a queue\n\nA durable queue of work.\n").expect("write");
    let mut store = QueueStore::open(&paths).expect("open");
    let outcome = intake::normalize_idea(&mut store, &idea).expect("normalize");
    let IdeaOutcome::Normalized { spec_id, path } = outcome else {
        panic!("not normalized")
    };
    assert_eq!(spec_id, "idea-build-a-queue");
    assert_eq!(
        path,
        paths.item_path(Family::Spec, LifecycleState::Queued, &spec_id)
    );
    let located = store.find(Family::Spec, &spec_id).expect("queued");
    let WorkDocument::Spec(spec) = store.read(&located).expect("read") else {
        panic!("not a spec")
    };
    assert_eq!(spec.source_type, SourceType::Idea);
    assert_eq!(spec.title, "Build a queue");
    assert_eq!(spec.goals, ["A durable queue of work."]);
    assert_eq!(spec.root_idea_id.as_deref(), Some(spec_id.as_str()));
    assert_eq!(spec.root_spec_id.as_deref(), Some(spec_id.as_str()));
    assert!(
        paths
            .intake_ideas_dir()
            .join("idea-build-a-queue.md")
            .is_file()
    );
    let again = intake::normalize_idea(&mut store, &idea).expect("normalize again");
    assert!(matches!(again, IdeaOutcome::AlreadyRepresented { .. }));
}

#[test]
fn idea_names_are_sanitized() {
    let id = |name: &str| intake::idea_spec_id(std::path::Path::new(name));
    assert_eq!(id("My  Idea (v2).md").as_deref(), Some("idea-my-idea-v2"));
    assert_eq!(id("plain.md").as_deref(), Some("idea-plain"));
    assert_eq!(id("???.md"), None);
}
