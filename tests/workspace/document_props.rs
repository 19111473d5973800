//! Properties of the document reader: any text parses or fails without a panic, and
//! generated documents (shuffled fields, stray whitespace, lists) round-trip.

use std::path::Path;

use millrace::workspace::Family;
use millrace::workspace::documents::{self, WorkDocument};
use proptest::prelude::*;

const LABELS: &[&str] = &[
    "Task-ID",
    "Title",
    "Summary",
    "Created-At",
    "Created-By",
    "Target-Paths",
    "Acceptance",
    "Required-Checks",
    "References",
    "Risk",
    "Depends-On",
    "Blocks",
    "Tags",
    "Severity",
    "Needs-Planning",
    "Trigger-Metadata",
    "Spec-ID",
    "Source-Type",
    "Unknown",
];

fn junk_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (prop::sample::select(LABELS), "[ -~]{0,12}").prop_map(|(l, v)| format!("{l}:{v}")),
        "[ -~]{0,12}".prop_map(|v| format!("- {v}")),
        Just(String::new()),
        Just("# Title".to_string()),
        "[ -~\u{e9}\r\t]{0,20}",
    ]
}

proptest! {
    #[test]
    fn any_text_parses_or_fails_cleanly(lines in prop::collection::vec(junk_line(), 0..30)) {
        let text = lines.join("\n");
        for family in Family::ALL {
            let _ = documents::parse_markdown(family, Path::new("x.md"), &text);
            let _ = documents::parse_json(family, Path::new("x.json"), &text);
        }
    }

    #[test]
    fn generated_tasks_round_trip(task in generated_task()) {
        let document = documents::parse_markdown(Family::Task, Path::new("t.md"), &task.text)
            .map_err(|error| TestCaseError::fail(format!("{error}\n---\n{}", task.text)))?;
        let WorkDocument::Task(parsed) = &document else {
            return Err(TestCaseError::fail("not a task"));
        };
        prop_assert_eq!(&parsed.task_id, &task.id);
        prop_assert_eq!(&parsed.acceptance, &task.acceptance);
        prop_assert_eq!(&parsed.depends_on, &task.depends_on);
        prop_assert_eq!(&parsed.body, &task.body);
        let rendered = document.render();
        let again = documents::parse_markdown(Family::Task, Path::new("t.md"), &rendered)
            .map_err(|error| TestCaseError::fail(format!("{error}\n---\n{rendered}")))?;
        prop_assert_eq!(&again, &document);
        prop_assert_eq!(again.render(), rendered);
    }
}

#[derive(Debug, Clone)]
struct GeneratedTask {
    id: String,
    acceptance: Vec<String>,
    depends_on: Vec<String>,
    body: String,
    text: String,
}

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,12}"
}

fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 ,./:()`_-]{0,20}[A-Za-z0-9.)]".prop_map(|text| text.to_string())
}

fn items() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(value(), 1..4)
}

/// Spaces around a value, a blank line or not, indentation of items.
fn spacing() -> impl Strategy<Value = (String, String, bool, String)> {
    (" {0,3}", " {0,3}", any::<bool>(), " {0,2}")
}

fn generated_task() -> impl Strategy<Value = GeneratedTask> {
    let lists = (items(), items(), items(), items(), items());
    let deps = prop::collection::vec(prop_oneof![id(), Just("none".to_string())], 0..3);
    let body = prop_oneof![
        Just(String::new()),
        "[ -~]{0,30}".prop_map(|l| format!("## Notes\n\n{l}"))
    ];
    let order = Just((0..10).collect::<Vec<usize>>()).prop_shuffle();
    let spacings = prop::collection::vec(spacing(), 10);
    (id(), value(), lists, deps, body, order, spacings).prop_map(
        |(id, title, lists, deps, body, order, spacings)| {
            let (paths, acceptance, checks, references, risk) = lists;
            let depends_on: Vec<String> = deps.iter().filter(|d| *d != "none").cloned().collect();
            let blocks: Vec<(String, Block)> = vec![
                ("Task-ID".into(), Block::Scalar(id.clone())),
                ("Title".into(), Block::Scalar(title.clone())),
                (
                    "Created-At".into(),
                    Block::Scalar("2026-01-01T00:00:00Z".into()),
                ),
                ("Created-By".into(), Block::Scalar("operator".into())),
                ("Target-Paths".into(), Block::List(paths)),
                ("Acceptance".into(), Block::List(acceptance.clone())),
                ("Required-Checks".into(), Block::List(checks)),
                ("References".into(), Block::List(references)),
                ("Risk".into(), Block::List(risk)),
                ("Depends-On".into(), Block::List(deps)),
            ];
            let mut text = format!("# {title}\n");
            for (index, position) in order.iter().enumerate() {
                let (label, block) = &blocks[*position];
                write_block(&mut text, label, block, &spacings[index]);
            }
            if !body.is_empty() {
                text.push_str(&format!("\n{body}\n"));
            }
            let body = body.trim_end().to_string();
            GeneratedTask {
                id,
                acceptance,
                depends_on,
                body,
                text,
            }
        },
    )
}

#[derive(Debug, Clone)]
enum Block {
    Scalar(String),
    List(Vec<String>),
}

fn write_block(
    text: &mut String,
    label: &str,
    block: &Block,
    spacing: &(String, String, bool, String),
) {
    let (before, after, blank, indent) = spacing;
    if *blank {
        text.push('\n');
    }
    match block {
        Block::Scalar(value) => text.push_str(&format!("{label}:{before}{value}{after}\n")),
        Block::List(items) if items.is_empty() => text.push_str(&format!("{label}:\n")),
        Block::List(items) => {
            text.push_str(&format!("{label}:{after}\n"));
            for item in items {
                text.push_str(&format!("{indent}- {item}{after}\n"));
            }
            text.push('\n');
        }
    }
}
