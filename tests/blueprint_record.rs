//! The whole blueprint record: a `blueprint_codex` run whose evaluator
//! rejects the first blueprint and approves the second leaves every record
//! of the review under `blueprints/`, linked by ids, and its task is built.

use serde_json::Value;

use crate::daemon::{exists, monitor, outcomes_of, run_until_idle};
use crate::support::TestWorkspace;

const BP1: &str = "idea-greeting-draft-01-bp1";
const BP2: &str = "idea-greeting-draft-01-bp2";
const TASK: &str = "idea-greeting-draft-01-task";

/// A workspace whose mode `test` is `blueprint_codex` played by the script.
fn blueprint_workspace() -> TestWorkspace {
    let ws = TestWorkspace::new();
    ws.write(
        "modes/test.loop",
        "mode test extends blueprint_codex {\n  runner script\n  timeout 30\n}\n",
    );
    ws.write("script.toml", include_str!("blueprint_record/script.toml"));
    std::fs::write(
        ws.root().join("ideas/inbox/greeting.md"),
        "# Greeting\n\nWrite a greeting.\n",
    )
    .expect("idea");
    ws
}

fn json(ws: &TestWorkspace, relative: &str) -> Value {
    let text = std::fs::read_to_string(ws.path(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}\n{}", monitor(ws)));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}\n{text}"))
}

#[test]
fn a_rejected_then_approved_blueprint_leaves_the_whole_record() {
    let ws = blueprint_workspace();
    run_until_idle(&ws);
    let log = monitor(&ws);
    assert_eq!(
        outcomes_of(&ws, "idea-greeting-draft-01"),
        [
            "contractor_blueprint BLUEPRINT_CANDIDATE_READY",
            "evaluator_blueprint BLUEPRINT_REJECTED",
            "contractor_blueprint BLUEPRINT_CANDIDATE_READY",
            "evaluator_blueprint BLUEPRINT_APPROVED",
        ],
        "{log}"
    );
    let manifest = json(&ws, "blueprints/manifests/idea-greeting-manifest.json");
    assert_eq!(manifest["draft_ids"][0], "idea-greeting-draft-01");

    let draft = json(
        &ws,
        "blueprints/drafts/approved/idea-greeting-draft-01.json",
    );
    assert_eq!(draft["current_revision"], 1, "{draft}");
    assert_eq!(draft["latest_blueprint_id"], BP2);
    assert_eq!(draft["latest_critique_id"], format!("{BP1}-critique"));

    for ext in ["json", "md"] {
        assert!(exists(
            &ws,
            &format!("blueprints/packets/rejected/{BP1}.{ext}")
        ));
        assert!(exists(
            &ws,
            &format!("blueprints/packets/approved/{BP2}.{ext}")
        ));
    }
    let candidates = std::fs::read_dir(ws.path("blueprints/packets/candidates"))
        .expect("candidates")
        .count();
    assert_eq!(candidates, 0, "every candidate was judged");

    let rejection = json(&ws, &format!("blueprints/evaluations/{BP1}-eval.json"));
    assert_eq!(rejection["decision"], "rejected");
    let critique_id = rejection["critique_id"].as_str().expect("critique id");
    let critique = json(
        &ws,
        &format!("blueprints/critiques/open/{critique_id}.json"),
    );
    assert_eq!(critique["evaluation_id"], format!("{BP1}-eval"));
    assert_eq!(critique["blueprint_id"], BP1);
    assert_eq!(critique["revision"], 1);

    let approval = json(&ws, &format!("blueprints/evaluations/{BP2}-eval.json"));
    assert_eq!(approval["decision"], "approved");
    let promotion = json(
        &ws,
        &format!("blueprints/promotions/promotion-{BP2}-eval.json"),
    );
    assert_eq!(promotion["blueprint_id"], BP2);
    assert_eq!(promotion["evaluation_id"], format!("{BP2}-eval"));
    assert_eq!(promotion["draft_id"], "idea-greeting-draft-01");
    assert_eq!(promotion["manifest_id"], "idea-greeting-manifest");
    assert_eq!(promotion["generated_task_id"], TASK);
    for field in ["approved_blueprint_path", "evaluation_path"] {
        let path = promotion[field].as_str().expect(field);
        assert!(ws.root().join(path).is_file(), "{field}: {path}");
    }
    assert!(
        promotion["generated_task_path"]
            .as_str()
            .is_some_and(|p| p.contains("/tasks/queue/")),
        "{promotion}"
    );

    let task = ws.read(&format!("tasks/done/{TASK}.md"));
    assert!(
        task.contains(&format!("blueprints/packets/approved/{BP2}.json")),
        "{task}"
    );
    assert!(exists(&ws, "specs/done/idea-greeting.md"), "{log}");
}
