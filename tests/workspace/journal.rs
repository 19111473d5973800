//! The event journal: envelope, append, rotation, tail.

use millrace::workspace::journal::{Journal, RuntimeEvent};
use millrace::workspace::{Family, LifecycleState, Timestamp};

use super::support::workspace;

fn idle(n: usize) -> RuntimeEvent {
    RuntimeEvent::RuntimeTickIdle {
        reason: format!("no_work-{n}"),
    }
}

#[test]
fn events_are_written_as_one_line_envelopes() {
    let (_temp, paths) = workspace();
    let journal = Journal::new(&paths);
    let at = Timestamp::parse("2026-01-01T00:00:00Z").expect("time");
    let moved = RuntimeEvent::WorkItemMoved {
        family: Family::Task,
        id: "t1".to_string(),
        from: LifecycleState::Active,
        to: LifecycleState::Done,
        reason: "UPDATE_COMPLETE".to_string(),
    };
    journal.append_at(moved.clone(), at).expect("append");
    let text = std::fs::read_to_string(paths.events_file()).expect("read");
    insta::assert_snapshot!(text, @r#"{"schema_version":"1.0","kind":"runtime_event","occurred_at":"2026-01-01T00:00:00Z","event_type":"work_item_moved","data":{"family":"task","id":"t1","from":"active","to":"done","reason":"UPDATE_COMPLETE"}}"#);
    let tail = journal.tail(5).expect("tail");
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].event(), Some(moved.clone()));
    assert_eq!(moved.event_type(), "work_item_moved");
}

#[test]
fn the_journal_rotates_by_size_and_tail_spans_rotated_files() {
    let (_temp, paths) = workspace();
    let journal = Journal::with_limits(paths.events_file(), 400, 3);
    for n in 0..20 {
        journal.append(idle(n)).expect("append");
    }
    assert!(journal.rotated_path(1).is_file());
    assert!(
        !journal.rotated_path(4).exists(),
        "only 3 rotated files are kept"
    );
    for file in 0..=3 {
        let size = std::fs::metadata(journal.rotated_path(file))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size <= 400, "file {file} has {size} bytes");
    }
    let tail = journal.tail(6).expect("tail");
    let reasons: Vec<String> = tail
        .iter()
        .map(|line| line.data["reason"].to_string())
        .collect();
    assert_eq!(reasons.len(), 6);
    assert_eq!(reasons.last().map(String::as_str), Some("\"no_work-19\""));
    assert_eq!(reasons.first().map(String::as_str), Some("\"no_work-14\""));
}

#[test]
fn tail_reads_long_journals_from_the_end_and_keeps_unknown_events() {
    let (_temp, paths) = workspace();
    let journal = Journal::new(&paths);
    for n in 0..2000 {
        journal.append(idle(n)).expect("append");
    }
    let future = r#"{"schema_version":"1.0","kind":"runtime_event","occurred_at":"2026-01-01T00:00:00Z","event_type":"from_the_future","data":{"x":1}}"#;
    millrace::workspace::atomic::append_line(&paths.events_file(), future).expect("append");
    let tail = journal.tail(3).expect("tail");
    assert_eq!(tail.len(), 3);
    assert_eq!(tail[1].data["reason"], "no_work-1999");
    assert_eq!(tail[2].event_type, "from_the_future");
    assert_eq!(tail[2].event(), None);
    assert_eq!(journal.tail(0).expect("tail").len(), 0);
}
