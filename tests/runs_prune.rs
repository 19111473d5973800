//! Run-folder retention through the real binary: `runs prune` removes old
//! finished runs, always keeps the runs of unfinished work, touches nothing
//! outside `runs/`, and the daemon applies `[runs]` by itself.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::daemon::{enqueue, run_until_idle, scripted};
use crate::support::{Run, TestWorkspace};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The run folders, each with the work item id its trace names.
fn runs(ws: &TestWorkspace) -> Vec<(PathBuf, Option<String>)> {
    let item = |folder: &Path| {
        let text = std::fs::read_to_string(folder.join("run_trace.json")).ok()?;
        let trace: serde_json::Value = serde_json::from_str(&text).ok()?;
        trace["work_item_id"].as_str().map(str::to_string)
    };
    std::fs::read_dir(ws.path("runs"))
        .expect("runs folder")
        .flatten()
        .map(|entry| (entry.path(), item(&entry.path())))
        .collect()
}

/// The folder name of the one run of work item `id`.
fn run_of(ws: &TestWorkspace, id: &str) -> String {
    let (folder, _) = runs(ws)
        .into_iter()
        .find(|(_, item)| item.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("a run of {id}"));
    folder
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Makes a folder look last touched `age` ago.
fn age(folder: &Path, age: Duration) {
    std::fs::File::open(folder)
        .and_then(|dir| dir.set_modified(SystemTime::now() - age))
        .expect("set the folder's mtime");
}

fn prune(ws: &TestWorkspace, flags: &[&str]) -> Run {
    let mut args = vec!["runs", "prune"];
    args.extend_from_slice(flags);
    ws.run(&args)
}

/// Every value of a repeated `key: value` line.
fn values<'a>(run: &'a Run, key: &str) -> Vec<&'a str> {
    let prefix = format!("{key}: ");
    run.stdout
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .collect()
}

#[test]
fn prune_keeps_the_newest_runs_and_removes_older_finished_ones() {
    let ws = scripted("");
    for id in ["t1", "t2", "t3", "t4"] {
        enqueue(&ws, id, &[]);
    }
    run_until_idle(&ws);
    for (folder, item) in runs(&ws) {
        let days = match item.as_deref() {
            Some("t4") => 1,
            Some("t3") => 2,
            Some("t2") => 3,
            Some("t1") => 4,
            _ => 5,
        };
        age(&folder, DAY * days);
    }
    let total = runs(&ws).len();
    let run = prune(&ws, &["--keep-last", "2"]).ok();
    assert_eq!(run.value("removed"), Some(&*(total - 2).to_string()));
    assert_eq!(run.value("kept"), Some("2"), "{}", run.stdout);
    let freed: u64 = run
        .value("bytes_freed")
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    assert!(freed > 0, "{}", run.stdout);
    let mut left: Vec<Option<String>> = runs(&ws).into_iter().map(|(_, item)| item).collect();
    left.sort();
    assert_eq!(left, [Some("t3".to_string()), Some("t4".to_string())]);
    assert_eq!(ws.run(&["runs", "ls"]).ok().value("runs"), Some("2"));
    let journal = ws.read("logs/runtime_events.jsonl");
    assert!(
        journal.contains("\"event_type\":\"runs_pruned\""),
        "{journal}"
    );
    assert!(journal.contains("\"by\":\"operator\""), "{journal}");
}

/// A script in which task `id` never passes its checker and ends blocked.
fn stuck(id: &str) -> String {
    ["checker", "doublechecker"]
        .iter()
        .map(|node| {
            format!("[[step]]\nnode = \"{node}\"\nwork_item = \"{id}\"\noutcomes = [\"FIX_NEEDED\"]\n\n")
        })
        .chain([format!(
            "[[step]]\nnode = \"consultant\"\nwork_item = \"{id}\"\noutcomes = [\"CONSULT_COMPLETE\"]\n\n"
        )])
        .collect()
}

/// The learning the consultant's runs trigger ends with the curator
/// declining (an accepting curator must write its decision).
const CURATOR_DECLINES: &str = "[[step]]\nnode = \"curator\"\noutcomes = [\"CURATOR_NOOP\"]\n\n";

#[test]
fn runs_of_unfinished_work_and_open_incidents_are_kept_whatever_their_age() {
    let ws = scripted(&(stuck("b1") + &stuck("b2") + CURATOR_DECLINES));
    for id in ["d1", "d2", "b1", "b2"] {
        enqueue(&ws, id, &[]);
    }
    run_until_idle(&ws);
    assert!(ws.path("tasks/blocked/b2.md").is_file());
    // a1 is claimed, and its run left pending by a daemon stopped after a tick.
    enqueue(&ws, "a1", &[]);
    ws.run(&["run", "daemon", "--mode", "test", "--max-ticks", "1"])
        .ok();
    assert!(ws.path("tasks/active/a1.md").is_file());
    ws.run(&[
        "queue",
        "retry-blocked",
        "b2",
        "--reason",
        "again",
        "--force",
    ])
    .ok();
    let d2 = run_of(&ws, "d2");
    ws.write(
        "incidents/incoming/i1.md",
        &format!(
            "# I\n\nIncident-ID: i1\nSummary: s\nSource-Stage: checker\nSource-Plane: execution\nFailure-Class: f\nTrigger-Reason: t\nConsultant-Decision: needs_planning\nOpened-At: 2026-01-01T00:00:00Z\nOpened-By: t\n\nRelated-Run-IDs:\n- {d2}\n"
        ),
    );
    for (folder, _) in runs(&ws) {
        age(&folder, DAY * 60);
    }
    let d1 = run_of(&ws, "d1");
    let run = prune(&ws, &["--keep-last", "1"]).ok();
    let kept = values(&run, "kept_anyway");
    for (id, reason) in [
        ("b1", "work_blocked"),
        ("b2", "work_queued"),
        ("a1", "active_run"),
        ("d2", "open_incident"),
    ] {
        let run_id = run_of(&ws, id);
        assert!(
            kept.contains(&&*format!("{run_id} {reason}")),
            "{id}: {kept:?}"
        );
    }
    assert!(values(&run, "removed_run").contains(&d1.as_str()));
    assert!(!ws.path(&format!("runs/{d1}")).exists());
}

#[test]
fn a_dry_run_reports_what_would_go_and_deletes_nothing() {
    let ws = scripted("");
    enqueue(&ws, "t1", &[]);
    enqueue(&ws, "t2", &[]);
    run_until_idle(&ws);
    for (folder, _) in runs(&ws) {
        age(&folder, DAY * 40);
    }
    let before = runs(&ws).len();
    // No flags: the config's defaults, 30 days among them.
    let run = prune(&ws, &["--dry-run"]).ok();
    assert_eq!(run.value("dry_run"), Some("true"));
    assert_eq!(run.value("keep_days"), Some("30"));
    assert_eq!(run.value("removed"), Some(&*before.to_string()));
    assert_eq!(values(&run, "removed_run").len(), before);
    assert_eq!(runs(&ws).len(), before);
    assert!(!ws.read("logs/runtime_events.jsonl").contains("runs_pruned"));
}

#[test]
fn the_daemon_prunes_by_the_configured_policy() {
    let ws = scripted("");
    let config = ws
        .read("millrace.toml")
        .replace("keep_last = 1000", "keep_last = 2");
    ws.write("millrace.toml", &config);
    for id in ["t1", "t2", "t3", "t4", "t5"] {
        enqueue(&ws, id, &[]);
    }
    run_until_idle(&ws);
    for id in ["t1", "t2", "t3", "t4", "t5"] {
        assert!(ws.path(&format!("tasks/done/{id}.md")).is_file(), "{id}");
    }
    assert_eq!(runs(&ws).len(), 2, "{:?}", runs(&ws));
    let journal = ws.read("logs/runtime_events.jsonl");
    assert!(journal.contains("\"by\":\"daemon\""), "{journal}");
}

#[test]
fn an_interrupted_prune_is_finished_and_links_are_never_followed() {
    let ws = TestWorkspace::new();
    let outside = ws.root().join("precious");
    std::fs::create_dir_all(&outside).expect("outside folder");
    std::fs::write(outside.join("keep.txt"), "mine").expect("outside file");
    // A prune killed halfway left a renamed folder.
    ws.write("runs/.removing-run-gone/stage_results/r.json", "{}");
    // A link in runs/, and an old finished run holding a link out.
    std::os::unix::fs::symlink(&outside, ws.path("runs/run-link")).expect("link");
    ws.write("runs/run-old/run_trace.json", "{\"status\": \"closed\"}");
    std::os::unix::fs::symlink(&outside, ws.path("runs/run-old/evidence")).expect("link");
    age(&ws.path("runs/run-old"), DAY * 40);
    // Folders that name nothing yet: runs being created.
    std::fs::create_dir_all(ws.path("runs/run-new")).expect("run-new");
    std::fs::create_dir_all(ws.path("runs/run-young")).expect("run-young");
    age(&ws.path("runs/run-young"), Duration::from_secs(3600));
    let run = prune(&ws, &["--keep-last", "1"]).ok();
    assert_eq!(run.value("leftovers_finished"), Some("1"), "{}", run.stdout);
    assert_eq!(values(&run, "removed_run"), ["run-old"]);
    assert_eq!(
        values(&run, "kept_anyway"),
        ["run-young recent_unidentified"]
    );
    assert_eq!(values(&run, "skipped"), ["run-link"]);
    assert!(!ws.path("runs/.removing-run-gone").exists());
    assert!(!ws.path("runs/run-old").exists());
    assert!(ws.path("runs/run-link").is_symlink());
    assert_eq!(
        std::fs::read_to_string(outside.join("keep.txt"))
            .ok()
            .as_deref(),
        Some("mine")
    );
}

#[test]
fn a_bad_retention_value_is_an_error_naming_the_key() {
    let ws = TestWorkspace::new();
    let config = ws
        .read("millrace.toml")
        .replace("keep_days = 30", "keep_days = \"a month\"");
    ws.write("millrace.toml", &config);
    let expected =
        "`runs.keep_days`: invalid type: string \"a month\", expected a whole number, 0 or more";
    let run = prune(&ws, &[]).fails(1);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains(expected), "{}", run.stderr);
    let daemon = ws.run(&["run", "daemon", "--until-idle"]).fails(1);
    assert!(
        daemon.stderr.contains("`runs.keep_days`"),
        "{}",
        daemon.stderr
    );
}
