//! The compiler's command line, driven through the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{TestWorkspace, millrace};

#[test]
fn init_creates_the_layout_and_keeps_operator_edits() {
    let ws = TestWorkspace::empty();
    let first = ws.run(&["init"]).ok();
    assert_eq!(first.value("initialized"), Some("true"));
    for dir in [
        "tasks/queue",
        "specs/active",
        "incidents/incoming",
        "state/mailbox/failed",
        "loops/execution",
        "modes",
    ] {
        assert!(ws.path(dir).is_dir(), "{dir} missing");
    }
    assert!(ws.root().join("ideas/inbox").is_dir());
    ws.write("modes/default_codex.loop", "# edited by the operator\n");
    let again = ws.run(&["init"]).ok();
    assert_eq!(again.value("files_created"), Some("0"));
    assert_eq!(
        ws.read("modes/default_codex.loop"),
        "# edited by the operator\n"
    );
}

#[test]
fn commands_refuse_an_uninitialized_workspace() {
    let ws = TestWorkspace::empty();
    let run = ws.run(&["compile", "validate"]).fails(1);
    assert!(
        run.stderr
            .starts_with("error: workspace is not initialized"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("millrace init --workspace"));
}

#[test]
fn file_errors_say_the_action_the_file_and_the_cause_once() {
    let ws = TestWorkspace::new();
    let run = millrace(&["loop", "check", "missing.loop"], ws.root()).fails(1);
    assert!(
        run.stderr
            .starts_with("error: cannot read `missing.loop`: ")
            && run.stderr.trim_end().ends_with("(os error 2)")
            && run.stderr.lines().count() == 1,
        "{}",
        run.stderr
    );
    let snapshot = ws.path("state/runtime_snapshot.json");
    let _ = std::fs::remove_file(&snapshot);
    std::fs::create_dir_all(&snapshot).expect("a directory in its place");
    let run = ws.run(&["pause"]).fails(1);
    let expected = format!("error: cannot read `{}`: ", snapshot.display());
    assert!(
        run.stderr.starts_with(&expected)
            && run.stderr.trim_end().ends_with("not a regular file")
            && run.stderr.lines().count() == 1,
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let ws = TestWorkspace::new();
    ws.run(&["compile", "graph", "--format", "png"]).fails(2);
    millrace(&["no-such-command"], ws.root()).fails(2);
}

#[test]
fn validate_persists_a_plan_for_every_shipped_mode() {
    let ws = TestWorkspace::new();
    for mode in crate::shipped::SHIPPED_MODES {
        let run = ws.run(&["compile", "validate", "--mode", mode]).ok();
        assert_eq!(run.value("ok"), Some("true"));
        assert!(
            run.value("plan_id")
                .is_some_and(|id| id.starts_with(&format!("plan-{mode}-")))
        );
        let saved = ws.read("state/compiled_plan.json");
        assert!(saved.contains(&format!("\"mode_id\": \"{mode}\"")));
    }
}

#[test]
fn show_reports_max_stage_runs_per_plane_and_node_bindings() {
    let ws = TestWorkspace::new();
    let run = ws
        .run(&["compile", "show", "--mode", "learning_codex"])
        .ok();
    for plane in ["execution", "planning", "learning"] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(&format!("max_stage_runs: {plane} "))),
            "{plane}"
        );
    }
    assert!(
        run.stdout
            .contains("node: execution/checker\n  stage_kind: checker\n  runner: codex_cli\n")
    );
    assert!(run.stdout.contains(
        "  route: FIX_NEEDED -> fixer [spends fix_cycles] else troubleshooter [spends troubleshoot_attempts] else consultant\n"
    ));
}

#[test]
fn config_stage_bindings_win_over_the_mode() {
    let ws = TestWorkspace::new();
    let config = ws
        .read("millrace.toml")
        .replace("max_fix_cycles = 2", "max_fix_cycles = 5")
        + "\n[stages.checker]\nrunner = \"command\"\nmodel = \"gpt-test\"\nthinking_level = \"high\"\ntimeout_seconds = 120\n";
    ws.write("millrace.toml", &config);
    let run = ws.run(&["compile", "show"]).ok();
    assert!(run.stdout.contains("node: execution/checker\n  stage_kind: checker\n  runner: command\n  model: gpt-test\n  thinking: high\n  timeout_s: 120\n"));
    assert!(run.stdout.contains("budget: execution fix_cycles limit=5"));
}

#[test]
fn a_broken_workspace_loop_fails_with_a_located_diagnostic() {
    let ws = TestWorkspace::new();
    let text = ws
        .read("loops/execution/standard.loop")
        .replace("CHECKER_PASS -> updater", "CHECKER_PASS -> updatr");
    ws.write("loops/execution/standard.loop", &text);
    let run = ws.run(&["compile", "validate"]).fails(1);
    assert_eq!(run.value("ok"), Some("false"));
    assert!(
        run.stderr.contains("millrace::unknown_target"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("loops/execution/standard.loop:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `updater`?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: mode `default_codex` does not compile")
    );
}

#[test]
fn deny_warnings_turns_warnings_into_a_failure() {
    let ws = TestWorkspace::new();
    let text = ws
        .read("loops/execution/standard.loop")
        .replace("  entry task", "  budget spare = 1\n  entry task");
    ws.write("loops/execution/standard.loop", &text);
    let run = ws.run(&["compile", "validate"]).ok();
    assert_eq!(run.value("warnings"), Some("1"));
    assert!(run.stderr.contains("millrace::unused_budget"));
    ws.run(&["compile", "validate", "--deny", "warnings"])
        .fails(1);
}

#[test]
fn currentness_follows_edits_to_prompts_and_config() {
    let ws = TestWorkspace::new();
    ws.run(&["compile", "validate"]).ok();
    assert_eq!(
        ws.run(&["compile", "show"])
            .ok()
            .value("currentness_before"),
        Some("current")
    );
    ws.write("entrypoints/execution/builder.md", "edited prompt\n");
    assert_eq!(
        ws.run(&["compile", "show"])
            .ok()
            .value("currentness_before"),
        Some("stale")
    );
    let config = ws
        .read("millrace.toml")
        .replace("[params]\n", "[params]\nmax_consultations = 1\n");
    ws.write("millrace.toml", &config);
    assert_eq!(
        ws.run(&["compile", "show"])
            .ok()
            .value("currentness_before"),
        Some("stale")
    );
    std::fs::remove_file(ws.path("state/compiled_plan.json")).expect("remove plan");
    assert_eq!(
        ws.run(&["compile", "show"])
            .ok()
            .value("currentness_before"),
        Some("missing")
    );
}

/// The plan file's inode: an atomic rewrite replaces it.
fn plan_inode(ws: &TestWorkspace) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(ws.path("state/compiled_plan.json"))
        .expect("the plan file")
        .ino()
}

#[test]
fn an_unchanged_plan_is_not_written_again() {
    let ws = TestWorkspace::new();
    ws.run(&["compile", "validate"]).ok();
    let first = plan_inode(&ws);
    ws.run(&["compile", "validate"]).ok();
    assert_eq!(plan_inode(&ws), first, "same inputs: the file stays");
    ws.write("entrypoints/execution/builder.md", "edited prompt\n");
    ws.run(&["compile", "validate"]).ok();
    assert_ne!(
        plan_inode(&ws),
        first,
        "an edited input: the plan is rewritten"
    );
}

#[test]
fn graph_exports_every_format() {
    let ws = TestWorkspace::new();
    let text = ws.run(&["compile", "graph", "--plane", "execution"]).ok();
    assert_eq!(text.value("ok"), Some("true"), "text keeps its summary");
    assert!(
        text.stdout
            .contains("checker FIX_NEEDED -> fixer [spends fix_cycles]")
    );
    assert!(text.stdout.contains(
        "troubleshooter TROUBLESHOOT_COMPLETE -> named by result.resume_stage: builder, checker, fixer, doublechecker, updater\n"
    ));
    let json = ws
        .run(&[
            "compile", "graph", "--format", "json", "--plane", "planning",
        ])
        .ok();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("stdout is JSON");
    assert_eq!(value["planes"][0]["loop_id"], "planning.standard");
    let mermaid = ws.run(&["compile", "graph", "--format", "mermaid"]).ok();
    assert!(mermaid.stdout.starts_with("flowchart LR\n"));
    let out = ws.root().join("g.dot");
    let dot = ws
        .run(&[
            "compile",
            "graph",
            "--format",
            "dot",
            "--output",
            out.to_str().expect("utf8"),
        ])
        .ok();
    assert_eq!(
        dot.value("output"),
        out.to_str(),
        "a file export keeps the summary"
    );
    let text = std::fs::read_to_string(&out).expect("dot written");
    assert!(text.contains("style=dashed, color=red") && text.contains("shape=doubleoctagon"));
    let piped = ws
        .run(&["compile", "graph", "--format", "dot", "--output", "-"])
        .ok();
    assert_eq!(
        piped.stdout, text,
        "`--output -` is stdout, the export alone"
    );
    ws.run(&["compile", "graph", "--plane", "nowhere"]).fails(1);
}

/// Every shipped mode: the DOT export alone on stdout, one document that
/// Graphviz draws as one SVG; the JSON export parses; a result-named route
/// is drawn once; the planes are linked.
#[test]
fn every_shipped_mode_exports_one_drawable_graph() {
    let ws = TestWorkspace::new();
    for mode in crate::shipped::SHIPPED_MODES {
        let dot = ws
            .run(&["compile", "graph", "--format", "dot", "--mode", mode])
            .ok();
        assert!(dot.stdout.starts_with("digraph "), "{mode}: {}", dot.stdout);
        assert_eq!(dot.stdout.matches("digraph ").count(), 1, "{mode}");
        let clusters = dot.stdout.matches("subgraph \"cluster_").count();
        let json = ws
            .run(&["compile", "graph", "--format", "json", "--mode", mode])
            .ok();
        let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
        let planes = value["planes"].as_array().map_or(0, Vec::len);
        assert_eq!(clusters, planes, "{mode}: one cluster per plane");
        assert!(planes < 2 || !value["links"].as_array().is_none_or(Vec::is_empty));
        assert!(
            dot.stdout.matches("named by result").count() <= 3,
            "{mode}: one note per result-named route"
        );
        if let Some(svg) = graphviz(&dot.stdout) {
            assert_eq!(svg.matches("<svg").count(), 1, "{mode}: one SVG");
            parse_svg(&svg);
        }
    }
}

#[test]
fn svg_export_is_one_svg_document_or_says_why_not() {
    let ws = TestWorkspace::new();
    let run = ws.run(&[
        "compile",
        "graph",
        "--format",
        "svg",
        "--mode",
        "learning_codex",
    ]);
    if graphviz("digraph { a -> b }").is_none() {
        let run = run.fails(1);
        assert!(
            run.stderr.contains("`dot` was not found on PATH"),
            "{}",
            run.stderr
        );
        return;
    }
    let run = run.ok();
    let svg = parse_svg(&run.stdout);
    assert_eq!(svg.root_element().tag_name().name(), "svg");
}

/// The SVG as an XML document (Graphviz writes the SVG 1.1 doctype).
fn parse_svg(svg: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(svg, options).expect("the SVG is well-formed XML")
}

/// Graphviz's SVG of a DOT text; `None` when `dot` is not installed (CI
/// installs it, so there it must be).
fn graphviz(dot: &str) -> Option<String> {
    use std::io::Write;
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("CI").is_none(),
            "graphviz `dot` must be installed in CI"
        );
        eprintln!(
            "graphviz `dot` not installed; install it (apt-get install graphviz) to check DOT rendering"
        );
        return None;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("write dot");
    let output = child.wait_with_output().expect("dot runs");
    assert!(
        output.status.success(),
        "dot failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let ws = TestWorkspace::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_millrace"))
        .args(["compile", "show", "--workspace"])
        .arg(ws.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read");
    assert_eq!(first, "ok: true\n");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn modes_list_and_show() {
    let ws = TestWorkspace::new();
    let list = millrace(&["modes", "list"], ws.root()).ok();
    assert!(list.stdout.contains(
        "default_codex: execution_loop=execution.standard planning_loop=planning.standard\n"
    ));
    assert!(
        list.stdout
            .contains("standard_plain -> default_codex (alias)")
    );
    let show = millrace(&["modes", "show", "standard_plain"], ws.root()).ok();
    assert_eq!(show.value("mode_id"), Some("default_codex"));
    let unknown = millrace(&["modes", "show", "default_codx"], ws.root()).fails(1);
    assert!(
        unknown
            .stderr
            .contains("unknown mode `default_codx`; did you mean `default_codex`?")
    );
    ws.run(&["modes", "list"]).ok();
}

#[test]
fn loop_check_reports_bounds_and_errors() {
    let ws = TestWorkspace::new();
    let good = ws.path("loops/execution/standard.loop");
    let run = millrace(&["loop", "check", good.to_str().expect("utf8")], ws.root()).ok();
    assert_eq!(
        run.value("loop"),
        Some("execution.standard max_stage_runs=26")
    );
    let bad = ws.root().join("bad.loop");
    std::fs::write(&bad, "loop execution.bad {\n  entry task -> builder\n  builder { BUILDER_COMPLETE -> builder }\n}\n").expect("write");
    let run = millrace(&["loop", "check", bad.to_str().expect("utf8")], ws.root()).fails(1);
    assert!(run.stderr.contains("millrace::unrouted_outcome"));
}

#[test]
fn loop_fmt_formats_and_checks() {
    let ws = TestWorkspace::new();
    let file = ws.root().join("messy.loop");
    std::fs::write(
        &file,
        "mode   messy{\n   loop execution.standard\n\n\n  runner script}\n",
    )
    .expect("write");
    let path = file.to_str().expect("utf8");
    millrace(&["loop", "fmt", "--check", path], ws.root()).fails(1);
    millrace(&["loop", "fmt", path], ws.root()).ok();
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "mode messy {\n  loop execution.standard\n\n  runner script\n}\n"
    );
    millrace(&["loop", "fmt", "--check", path], ws.root()).ok();
}

/// Runs `git args` in `dir` with a fixed identity; panics on failure.
fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?}");
}

/// Lanes need a git work tree with a branch checked out: elsewhere one
/// lane runs, and `compile show` and `doctor` say why.
#[test]
fn lanes_fall_back_to_one_outside_git_and_on_a_detached_head() {
    let ws = TestWorkspace::new();
    ws.write("millrace.toml", "[lanes]\nexecution = 4\n");
    let expect = |reason: String| {
        let show = ws.run(&["compile", "show"]).ok();
        let line = format!("\nlanes: execution 1 (4 requested: {reason})\n");
        assert!(show.stdout.contains(&line), "{}", show.stdout);
        let doctor = ws.run(&["doctor"]).ok();
        let warning = format!(
            "lanes_unavailable {} 4 execution lanes requested, 1 will run: {reason}",
            ws.root().display()
        );
        assert!(doctor.stdout.contains(&warning), "{}", doctor.stdout);
    };
    expect(format!("{} is not a git repository", ws.root().display()));
    git(ws.root(), &["init", "--quiet"]);
    git(
        ws.root(),
        &["commit", "--quiet", "--allow-empty", "-m", "first"],
    );
    git(ws.root(), &["checkout", "--quiet", "--detach"]);
    expect(format!("HEAD is detached in {}", ws.root().display()));
    git(ws.root(), &["checkout", "--quiet", "-"]);
    let show = ws.run(&["compile", "show"]).ok();
    assert!(
        show.stdout.contains("\nlanes: execution 4\n"),
        "{}",
        show.stdout
    );
    assert!(
        !ws.run(&["doctor"])
            .ok()
            .stdout
            .contains("lanes_unavailable")
    );
}

/// `millrace.toml`'s `[lanes] execution` wins over the mode's, both ways;
/// overriding to one lane freezes a plan without lanes.
#[test]
fn the_config_lanes_override_the_modes() {
    let ws = TestWorkspace::new();
    ws.write(
        "modes/parallel.loop",
        "mode parallel extends default_codex {\n  loop execution.parallel\n  lanes execution 4\n}\n\nmode one_by_one extends default_codex {\n  loop execution.parallel\n}\n",
    );
    ws.write("millrace.toml", "[lanes]\nexecution = 2\n");
    ws.run(&["compile", "show", "--mode", "one_by_one"]).ok();
    let saved = ws.read("state/compiled_plan.json");
    assert!(
        saved.contains("\"lanes\": {\n    \"execution\": 2\n  }"),
        "{saved}"
    );
    ws.write("millrace.toml", "[lanes]\nexecution = 1\n");
    ws.run(&["compile", "show", "--mode", "parallel"]).ok();
    assert!(!ws.read("state/compiled_plan.json").contains("\"lanes\""));
    ws.write("millrace.toml", "[lanes]\nexecution = 40\n");
    let run = ws.run(&["compile", "show", "--mode", "parallel"]).fails(1);
    assert!(
        run.stderr
            .contains("millrace.toml:2: `lanes.execution` must be from 1 to 16"),
        "{}",
        run.stderr
    );
}

#[test]
fn lanes_are_shown_and_frozen_only_when_a_mode_declares_more_than_one() {
    let ws = TestWorkspace::new();
    ws.write(
        "modes/parallel.loop",
        "mode parallel extends default_codex {\n  loop execution.parallel\n  lanes execution 4\n}\n\nmode serial_again extends parallel {\n  lanes execution 1\n}\n",
    );
    git(ws.root(), &["init", "--quiet"]);
    let run = ws.run(&["compile", "show", "--mode", "parallel"]).ok();
    assert!(
        run.stdout.contains("\nlanes: execution 4\n"),
        "{}",
        run.stdout
    );
    let saved = ws.read("state/compiled_plan.json");
    assert!(
        saved.contains("\"lanes\": {\n    \"execution\": 4\n  }"),
        "{saved}"
    );
    for mode in ["serial_again", "default_codex"] {
        let run = ws.run(&["compile", "show", "--mode", mode]).ok();
        assert!(!run.stdout.contains("lanes:"), "{mode}: {}", run.stdout);
        assert!(
            !ws.read("state/compiled_plan.json").contains("\"lanes\""),
            "{mode}"
        );
    }
}

#[test]
fn compile_show_prints_a_builtin_node_as_run_by_the_runtime() {
    let ws = TestWorkspace::new();
    let config = ws.read("millrace.toml") + "\n[stages.merge]\ntimeout_seconds = 900\n";
    ws.write("millrace.toml", &config);
    let run = ws
        .run(&["compile", "show", "--mode", "default_codex_lanes"])
        .ok();
    let merge = run
        .stdout
        .split("node: execution/merge\n")
        .nth(1)
        .and_then(|rest| rest.split("\nnode: ").next())
        .unwrap_or_else(|| panic!("no merge node:\n{}", run.stdout));
    assert!(
        merge.starts_with("  stage_kind: merge\n  runs: builtin merge_gate\n  timeout_s: 900\n"),
        "{merge}"
    );
    for absent in ["runner:", "model:", "entrypoint:", "skill:", "grant:"] {
        assert!(!merge.contains(absent), "{absent} in {merge}");
    }
    assert!(
        merge.contains("route: MERGE_CONFLICT -> fixer [spends merge_attempts] else final:blocked"),
        "{merge}"
    );
    let saved = ws.read("state/compiled_plan.json");
    assert!(
        saved.contains("\"runner\": \"builtin\",\n          \"builtin\": \"merge_gate\","),
        "{saved}"
    );
    ws.write("millrace.toml", &format!("{config}runner = \"command\"\n"));
    let run = ws
        .run(&["compile", "show", "--mode", "default_codex_lanes"])
        .fails(1);
    assert!(
        run.stderr.contains("`[stages.merge]` binds `runner`, but stage `merge` is run by the runtime (`builtin merge_gate`)"),
        "{}",
        run.stderr
    );
}
