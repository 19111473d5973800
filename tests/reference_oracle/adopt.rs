//! A workspace the reference's own CLI made (init, add-task, add-spec,
//! add-probe, add-idea) is adopted by ours: `init` and `upgrade --apply`
//! keep the operator's edits, `doctor` is clean, every mode compiles, and the
//! daemon drains the task the reference queued.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::python;
use crate::support::{TestWorkspace, millrace};

const TASK: &str = "# Add greeting\n\nTask-ID: task-greet\nTitle: Add greeting\n\
Summary: Print hello.\nTarget-Paths:\n- hello.txt\nAcceptance:\n- hello.txt exists\n\
Required-Checks:\n- test -f hello.txt\nReferences:\n- none\nRisk:\n- low\n\
Created-At: 2026-01-01T00:00:00Z\nCreated-By: operator\n";

const SPEC: &str = "# Spec one\n\nSpec-ID: spec-one\nTitle: Spec one\nSummary: A spec.\n\
Source-Type: manual\nGoals:\n- g\nConstraints:\n- c\nAcceptance:\n- a\nReferences:\n- none\n\
Created-At: 2026-01-01T00:00:00Z\nCreated-By: operator\n";

const PROBE: &str = "# Probe one\n\nProbe-ID: probe-one\nTitle: Probe one\n\
Summary: Look around.\nRequest: What is here?\nCreated-At: 2026-01-01T00:00:00Z\n\
Created-By: operator\n";

/// The operator's line added to a prompt both packages ship.
const EDIT: &str = "\nOperator note: run the linter before answering.\n";
const EDITED: &str = "entrypoints/execution/builder.md";

/// Runs the reference's CLI (beside the venv's python) in `dir`; returns its stdout.
fn reference(python: &Path, dir: &Path, args: &[&str]) -> String {
    let cli = python.with_file_name("millrace");
    let out = Command::new(&cli)
        .args(args)
        .args(["--workspace", "."])
        .current_dir(dir)
        .output()
        .expect("the reference CLI runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "reference {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A workspace made and filled by the reference, with one managed prompt edited.
fn reference_workspace(python: &Path) -> TestWorkspace {
    let ws = TestWorkspace::empty();
    let root = ws.root();
    reference(python, root, &["init"]);
    for (name, text) in [("task.md", TASK), ("spec.md", SPEC), ("probe.md", PROBE)] {
        std::fs::write(root.join(name), text).expect("write document");
    }
    std::fs::write(root.join("idea.md"), "# An idea\n\nMake it better.\n").expect("idea");
    reference(python, root, &["add-task", "task.md"]);
    reference(python, root, &["add-spec", "spec.md"]);
    reference(python, root, &["add-probe", "probe.md"]);
    reference(python, root, &["add-idea", "idea.md"]);
    let edited = ws.path(EDITED);
    let mut text = std::fs::read_to_string(&edited).expect("reference prompt");
    text.push_str(EDIT);
    std::fs::write(&edited, text).expect("edit prompt");
    ws
}

fn modes(ws: &TestWorkspace) -> Vec<String> {
    let entries = std::fs::read_dir(ws.path("modes")).expect("modes folder");
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let path: PathBuf = entry.expect("entry").path();
            let stem = path.file_stem()?.to_str()?.to_string();
            (path.extension()? == "loop").then_some(stem)
        })
        .collect();
    names.sort();
    names
}

/// What ours must hold of an adopted workspace, whichever command adopted it.
fn assert_adopted(ws: &TestWorkspace) {
    assert!(
        ws.read(EDITED).ends_with(EDIT),
        "the operator's edit is kept"
    );
    let doctor = ws.run(&["doctor"]).ok();
    assert_eq!(doctor.value("errors"), Some("0"), "{}", doctor.stdout);
    let modes = modes(ws);
    assert!(modes.len() >= 9, "ours' modes are installed: {modes:?}");
    for mode in &modes {
        ws.run(&["compile", "validate", "--mode", mode]).ok();
    }
    let again = ws.run(&["upgrade"]).ok();
    for clean in ["conflict", "safe_update", "missing", "new", "adopted_edit"] {
        assert_eq!(again.value(clean), Some("0"), "{clean}: {}", again.stdout);
    }
    assert!(
        again
            .stdout
            .contains(&format!("entry: {EDITED} local_modification")),
        "{}",
        again.stdout
    );
}

/// The fake agent: the script runner answers every stage's success outcome.
fn drain_with_fake_agent(ws: &TestWorkspace) {
    ws.write(
        "modes/fake.loop",
        "mode fake extends default_codex {\n  runner script\n  timeout 30\n}\n",
    );
    ws.write("script.toml", "");
    ws.run(&["run", "daemon", "--mode", "fake", "--until-idle"])
        .ok();
    assert!(ws.path("tasks/done/task-greet.md").is_file());
}

#[test]
fn init_adopts_a_workspace_the_reference_made() {
    let Some(python) = python() else {
        return;
    };
    let ws = reference_workspace(&python);
    let init = millrace(&["init", "--workspace", "."], ws.root()).ok();
    assert_eq!(init.value("adopted_from"), Some("millrace-ai 0.20.0"));
    assert_adopted(&ws);
    drain_with_fake_agent(&ws);
}

#[test]
fn upgrade_apply_adopts_a_workspace_the_reference_made() {
    let Some(python) = python() else {
        return;
    };
    let ws = reference_workspace(&python);
    let preview = ws.run(&["upgrade"]).ok();
    assert_eq!(
        preview.value("adopted_edit"),
        Some("1"),
        "{}",
        preview.stdout
    );
    assert_eq!(preview.value("conflict"), Some("0"));
    ws.run(&["upgrade", "--apply"]).ok();
    assert_adopted(&ws);
    drain_with_fake_agent(&ws);
}

/// The keys of `key: value` lines.
fn text_keys(stdout: &str) -> std::collections::BTreeSet<String> {
    let keys = stdout.lines().filter_map(|line| line.split_once(": "));
    keys.map(|(key, _)| key.to_string()).collect()
}

/// The top-level keys of a JSON object.
fn json_keys(stdout: &str) -> std::collections::BTreeSet<String> {
    let value: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
    let object = value.as_object().expect("an object");
    object.keys().cloned().collect()
}

/// Keys of the reference's `status --format json` ours does not report,
/// each explained in docs/reference-differences.md (section 7).
const JSON_KEYS_NOT_REPORTED: [&str; 4] = [
    "current_failure_class",
    "lanes_by_id",
    "latest_runtime_effect",
    "work_item_families",
];

#[test]
fn status_and_queue_ls_report_every_key_the_reference_reports() {
    let Some(python) = python() else {
        return;
    };
    let ws = reference_workspace(&python);
    let root = ws.root();
    let theirs_text = reference(&python, root, &["status"]);
    let theirs_json = reference(&python, root, &["status", "--format", "json"]);
    let theirs_ls = reference(&python, root, &["queue", "ls"]);
    millrace(&["init", "--workspace", "."], root).ok();
    let missing = |theirs: std::collections::BTreeSet<String>, ours| {
        theirs.difference(&ours).cloned().collect::<Vec<String>>()
    };
    let ours = ws.run(&["status"]).ok().stdout;
    assert_eq!(
        missing(text_keys(&theirs_text), text_keys(&ours)),
        Vec::<String>::new()
    );
    let ours = ws.run(&["status", "--format", "json"]).ok().stdout;
    let mut expected = json_keys(&theirs_json);
    expected.retain(|key| !JSON_KEYS_NOT_REPORTED.contains(&key.as_str()));
    assert_eq!(missing(expected, json_keys(&ours)), Vec::<String>::new());
    let ours = ws.run(&["queue", "ls"]).ok().stdout;
    assert_eq!(
        missing(text_keys(&theirs_ls), text_keys(&ours)),
        Vec::<String>::new()
    );
}
