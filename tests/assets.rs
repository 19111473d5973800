//! The stage contracts (entrypoints and skills) the binary ships: the lint
//! passes for every shipped mode, and catches each kind of seeded mistake in
//! an operator's edited copies.

use millrace::plan::{LintFinding, lint, shipped_reader, workspace_reader};

use crate::shipped::{SHIPPED_MODES, compile_shipped};
use crate::support::TestWorkspace;

#[test]
fn every_shipped_mode_passes_the_stage_contract_lint() {
    for mode in SHIPPED_MODES {
        let findings = lint(&compile_shipped(mode), &shipped_reader);
        assert!(findings.is_empty(), "{mode}: {findings:#?}");
    }
}

/// Lints the learning blueprint mode (every stage kind) against a workspace.
fn lint_workspace(ws: &TestWorkspace) -> Vec<LintFinding> {
    let plan = compile_shipped("blueprint_learning_codex");
    let mut findings = lint(&plan, &workspace_reader(&ws.agents()));
    findings.extend(lint(
        &compile_shipped("learning_codex_integrated"),
        &workspace_reader(&ws.agents()),
    ));
    // The two modes share most nodes: one finding per file and message.
    findings.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    findings.dedup_by(|a, b| a.path == b.path && a.message == b.message);
    findings
}

fn edit(ws: &TestWorkspace, path: &str, change: impl Fn(String) -> String) {
    let text = ws.read(path);
    let changed = change(text.clone());
    assert_ne!(text, changed, "the edit of {path} changed nothing");
    ws.write(path, &changed);
}

fn has(findings: &[LintFinding], path: &str, message: &str) -> bool {
    findings
        .iter()
        .any(|f| f.path == path && f.message.contains(message))
}

#[test]
fn the_lint_catches_each_kind_of_mistake() {
    let ws = TestWorkspace::new();
    assert_eq!(lint_workspace(&ws), [], "a fresh workspace is clean");
    std::fs::remove_file(ws.path("entrypoints/execution/updater.md")).expect("remove");
    std::fs::remove_file(ws.path("skills/stage/learning/curator-core/SKILL.md")).expect("remove");
    edit(&ws, "entrypoints/execution/checker.md", |t| {
        t.replace("### FIX_NEEDED", "FIX NEEDED")
    });
    edit(&ws, "entrypoints/execution/builder.md", |t| {
        format!("{t}\n### BUILD_DONE\n")
    });
    edit(&ws, "entrypoints/planning/planner.md", |t| {
        t.replace("planner_disposition.json", "the disposition file")
    });
    edit(&ws, "entrypoints/execution/troubleshooter.md", |t| {
        t.replace("stage_result_metadata.json", "a metadata file")
    });
    edit(&ws, "entrypoints/planning/recon.md", |t| {
        format!("{t}\nTODO: say more\n")
    });
    let findings = lint_workspace(&ws);
    let expected = [
        (
            "entrypoints/execution/updater.md",
            "entrypoint file is missing",
        ),
        (
            "skills/stage/learning/curator-core/SKILL.md",
            "skill file is missing",
        ),
        (
            "entrypoints/execution/checker.md",
            "does not name the legal outcome `### FIX_NEEDED`",
        ),
        (
            "entrypoints/execution/builder.md",
            "names `### BUILD_DONE`, which is not an outcome",
        ),
        (
            "entrypoints/planning/planner.md",
            "does not name `planner_disposition.json`",
        ),
        (
            "entrypoints/execution/troubleshooter.md",
            "does not name `stage_result_metadata.json`",
        ),
        ("entrypoints/planning/recon.md", "placeholder text `TODO`"),
    ];
    for (path, message) in expected {
        assert!(
            has(&findings, path, message),
            "no finding `{message}` for {path}: {findings:#?}"
        );
    }
    assert_eq!(findings.len(), expected.len(), "{findings:#?}");
}

#[test]
fn compile_validate_warns_about_broken_stage_contracts() {
    let ws = TestWorkspace::new();
    edit(&ws, "entrypoints/execution/checker.md", |t| {
        t.replace("### CHECKER_PASS", "CHECKER PASS")
    });
    let run = ws.run(&["compile", "validate"]).ok();
    assert!(run.stderr.contains("warning: entrypoints/execution/checker.md: does not name the legal outcome `### CHECKER_PASS`"), "{}", run.stderr);
    ws.run(&["compile", "validate", "--deny", "warnings"])
        .fails(1);
}

/// A prompt that sends its agent to a folder nobody writes fails the
/// compile; naming the folders the blueprint effects write passes.
#[test]
fn a_prompt_naming_a_path_nobody_writes_fails_the_compile() {
    let ws = TestWorkspace::new();
    ws.write(
        "modes/bp.loop",
        "mode bp extends blueprint_codex {\n  runner script\n}\n",
    );
    ws.run(&["compile", "validate", "--mode", "bp"]).ok();
    edit(&ws, "entrypoints/planning/contractor_blueprint.md", |t| {
        t.replace(
            "millrace-agents/blueprints/manifests/",
            "millrace-agents/blueprints/reviews/",
        )
    });
    let run = ws.run(&["compile", "validate", "--mode", "bp"]).fails(1);
    assert!(
        run.stderr.contains("error: entrypoints/planning/contractor_blueprint.md: names `millrace-agents/blueprints/reviews/`, which no stage or effect of this mode writes"),
        "{}",
        run.stderr
    );
}

/// The work-item folders the prompt-path lint counts as written are the
/// workspace's own.
#[test]
fn the_prompt_path_lint_knows_every_family_folder() {
    for family in millrace::workspace::Family::ALL {
        let dir = format!("{}/", family.dir());
        assert!(
            millrace::plan::ALWAYS_WRITTEN.contains(&dir.as_str()),
            "{dir} is missing from ALWAYS_WRITTEN"
        );
    }
}
