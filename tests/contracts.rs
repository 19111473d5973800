//! The stage contracts agree with the runtime: an agent that writes exactly
//! the artifacts the entrypoints describe (`tests/fixtures/contract_agent.py`,
//! played through the `command` runner) takes an idea through the planner,
//! the manager, builder, checker and updater, to a closure target the
//! arbiter closes.

use crate::support::TestWorkspace;

#[test]
fn artifacts_written_as_the_entrypoints_say_take_an_idea_to_closure() {
    let ws = TestWorkspace::new();
    let agent = std::path::absolute("tests/fixtures/contract_agent.py").expect("path");
    ws.write(
        "modes/contract.loop",
        "mode contract extends default_codex {\n  runner command\n  timeout 60\n}\n",
    );
    let config = format!(
        "[runtime]\ndefault_mode = \"contract\"\n\n[runners.command]\ncommand = \"python3\"\nargs = [\"{}\"]\n",
        agent.display()
    );
    ws.write("millrace.toml", &config);
    std::fs::write(
        ws.root().join("ideas/inbox/greeting.md"),
        "# Greeting\n\nVisitors are greeted by greeting.txt.\n",
    )
    .expect("idea");
    let log = ws.path("logs/monitor.log");
    ws.run(&[
        "run",
        "daemon",
        "--until-idle",
        "--monitor-log",
        log.to_str().expect("utf8"),
    ])
    .ok();
    let monitor = ws.read("logs/monitor.log");
    for stage in [
        "planning/planner",
        "planning/manager",
        "execution/builder",
        "execution/checker",
        "execution/updater",
        "planning/arbiter",
    ] {
        assert!(
            monitor.contains(&format!("stage start {stage}")),
            "{stage} did not run:\n{monitor}"
        );
    }
    assert!(
        !monitor.contains("fault"),
        "an effect refused an artifact:\n{monitor}"
    );
    assert!(ws.root().join("greeting.txt").is_file());
    assert!(ws.path("tasks/done/idea-greeting-task-01.md").is_file());
    assert!(ws.path("specs/done/idea-greeting.md").is_file());
    let target: serde_json::Value =
        serde_json::from_str(&ws.read("arbiter/targets/idea-greeting.json")).expect("target");
    assert_eq!(target["closure_open"], false, "{monitor}");
    assert!(
        target["latest_verdict"]
            .as_str()
            .is_some_and(|v| v.ends_with("verdicts/idea-greeting.json"))
    );
}
