//! `[execution_capabilities]` of `millrace.toml`: the reference's section
//! loads and compiles into every node's grants, a misspelled id is refused
//! at its line with the closest id, and `doctor` names a denial no runner
//! holds.

use crate::support::TestWorkspace;

#[test]
fn a_reference_config_with_execution_capabilities_compiles_into_grants() {
    let ws = TestWorkspace::new();
    let reference = std::fs::read_to_string("tests/reference_oracle/millrace.toml")
        .expect("the reference's config");
    ws.write("millrace.toml", &reference);
    let show = ws.run(&["compile", "show"]).ok();
    assert!(
        !show.stderr.contains("execution_capabilities"),
        "{}",
        show.stderr
    );
    let builder = show
        .stdout
        .split("node: ")
        .find(|n| n.starts_with("execution/builder"))
        .expect("the builder");
    for line in [
        "grant: network.access denied runner_enforced by config",
        "grant: shell.run granted advisory_only by config",
        "grant: runner.invoke granted runtime_enforced by default_policy",
    ] {
        assert!(builder.contains(line), "{line} not in\n{builder}");
    }
}

#[test]
fn a_misspelled_capability_in_the_config_is_refused_at_its_line() {
    let ws = TestWorkspace::new();
    let config =
        "[runs]\nkeep_last = 10\n\n[execution_capabilities.defaults]\n\"git.mutat\" = \"deny\"\n";
    ws.write("millrace.toml", config);
    let run = ws.run(&["compile", "validate"]).fails(1);
    assert!(
        run.stderr.contains("millrace.toml:5: unknown capability `git.mutat` in `execution_capabilities.defaults`; did you mean `git.mutate`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn doctor_names_a_denial_the_runner_cannot_hold() {
    let ws = TestWorkspace::new();
    let config = "[stages.checker]\nrunner = \"claude_code\"\n\n[execution_capabilities.stages.checker]\n\"workspace.write\" = \"deny\"\n";
    ws.write("millrace.toml", config);
    let doctor = ws.run(&["doctor"]).ok().stdout;
    assert!(
        doctor.contains("capability_denial_not_enforced")
            && doctor.contains("execution/checker denies `workspace.write` but runner `claude_code` cannot hold it (unsupported)"),
        "{doctor}"
    );
    let show = ws.run(&["compile", "show"]).ok().stdout;
    assert!(show.contains("grant: workspace.write denied unsupported by config_stage"));
}

/// A policy for a misspelt stage decided nothing: the denial it meant was
/// silently a grant. Refused, with the closest node; a node of another
/// mode's loop is accepted, so one config serves every mode.
#[test]
fn a_policy_for_a_stage_no_loop_has_is_refused_with_the_closest_name() {
    let ws = TestWorkspace::new();
    ws.write(
        "millrace.toml",
        "[execution_capabilities.stages.bulder]\n\"git.mutate\" = \"deny\"\n",
    );
    let run = ws.run(&["compile", "validate"]).fails(1);
    assert!(
        run.stderr.contains(
            "`execution_capabilities.stages.bulder` names no stage of any loop; did you mean `builder`?"
        ),
        "{}",
        run.stderr
    );
    ws.write(
        "millrace.toml",
        "[execution_capabilities.stages.curator]\n\"git.mutate\" = \"deny\"\n",
    );
    ws.run(&["compile", "validate"]).ok();
}

/// `runner.invoke` denied was labelled `runtime_enforced` while the stage
/// ran anyway: the plan that would never start the stage is refused.
#[test]
fn a_stage_denied_runner_invoke_is_refused_not_run() {
    let ws = TestWorkspace::new();
    ws.write(
        "millrace.toml",
        "[execution_capabilities.planes.execution]\nrunner_invoke = \"deny\"\n",
    );
    let run = ws.run(&["compile", "validate"]).fails(1);
    assert!(
        run.stderr
            .contains("denies `runner.invoke` (set by config_plane), so it could never run"),
        "{}",
        run.stderr
    );
    ws.write(
        "millrace.toml",
        "[execution_capabilities.stages.builder]\n\"runner.invoke\" = \"approval_required\"\n",
    );
    let show = ws.run(&["compile", "show"]).ok().stdout;
    assert!(
        show.contains(
            "grant: runner.invoke approval_required runtime_enforced per stage by config_stage"
        ),
        "{show}"
    );
}

/// A runner binding for a misspelt stage ran the stage on the default
/// runner without a word: refused like a policy, with the closest node.
#[test]
fn a_binding_for_a_stage_no_loop_has_is_refused_with_the_closest_name() {
    let ws = TestWorkspace::new();
    ws.write("millrace.toml", "[stages.chekcer]\nrunner = \"pi_rpc\"\n");
    let run = ws.run(&["compile", "validate"]).fails(1);
    assert!(
        run.stderr
            .contains("`stages.chekcer` names no stage of any loop; did you mean `checker`?"),
        "{}",
        run.stderr
    );
    ws.write("millrace.toml", "[stages.checker]\nrunner = \"pi_rpc\"\n");
    ws.run(&["compile", "validate"]).ok();
}
