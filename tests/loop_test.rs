//! `millrace loop test`: the shipped scenarios pass, a walk that differs
//! from its expectations fails with the differences, a scenario naming
//! what the loop does not have is refused, and `--explore` reports every
//! final with a shortest path and a longest path.

use std::path::{Path, PathBuf};

use crate::support::{Run, millrace};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("scenarios/").flatten() {
        let path = entry.path();
        if path.is_dir() {
            scenario_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn loop_test(args: &[&str]) -> Run {
    let mut all = vec!["loop", "test"];
    all.extend_from_slice(args);
    millrace(&all, root())
}

#[test]
fn the_shipped_scenarios_pass() {
    let mut files = Vec::new();
    scenario_files(&root().join("scenarios"), &mut files);
    files.sort();
    let names: Vec<&str> = files.iter().filter_map(|p| p.to_str()).collect();
    for shipped in [
        "execution.standard",
        "execution.parallel",
        "planning.standard",
        "learning.standard",
    ] {
        let covered = files.iter().any(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains(&format!("loop = \"{shipped}\""))
        });
        assert!(covered, "no scenario for {shipped}");
    }
    let run = loop_test(&names).ok();
    assert_eq!(run.value("passed"), Some(files.len().to_string().as_str()));
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write scenario");
    path.display().to_string()
}

#[test]
fn a_walk_that_differs_from_its_expectations_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        &dir,
        "fix.toml",
        "loop = \"execution.standard\"\n[set]\nmax_fix_cycles = 0\n[answers]\nchecker = [\"FIX_NEEDED\", \"CHECKER_PASS\"]\n[expect]\nfinal = \"update_complete\"\nspent = { fix_cycles = 1 }\n",
    );
    let run = loop_test(&[&path]).fails(1);
    assert!(
        run.stdout
            .contains("step: checker FIX_NEEDED -> troubleshooter (outcome FIX_NEEDED; fix_cycles exhausted (0/0); troubleshoot_attempts 1/2)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("mismatch: spent.fix_cycles: expected 1, got 0\n")
    );
    assert_eq!(run.value("result"), Some("fail"));
    assert!(run.stderr.contains("error: 1 of 1 scenario(s) failed"));
}

#[test]
fn a_scenario_naming_what_the_loop_lacks_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        &dir,
        "bad.toml",
        "loop = \"execution.standard\"\n[answers]\nchekcer = [\"FIX_NEEDED\"]\nbuilder = [\"BUILD_DONE\"]\n",
    );
    let run = loop_test(&[&path]).fails(1);
    assert!(
        run.stderr
            .contains("answers: `chekcer` is not a node of the loop; did you mean `checker`?")
    );
    assert!(run.stderr.contains("answers.builder: `BUILD_DONE` is not an outcome of `builder`; it has BUILDER_COMPLETE, BLOCKED"));
    let unknown = write(&dir, "unknown.toml", "loop = \"execution.standrd\"\n");
    let run = loop_test(&[&unknown]).fails(1);
    assert!(
        run.stderr
            .contains("unknown loop `execution.standrd`; did you mean `execution.standard`?")
    );
}

#[test]
fn an_authors_own_loop_file_is_tested_with_its_scenario() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lp = write(
        &dir,
        "mine.loop",
        "loop execution.mine {\n  budget retries = 1\n  entry task -> builder\n  catch BLOCKED -> blocked\n  builder { BUILDER_COMPLETE -> checker }\n  checker {\n    CHECKER_PASS -> done\n    FIX_NEEDED -> builder within retries else gave_up\n  }\n  final done: success\n  final gave_up: followup_needed\n  final blocked: blocked\n}\n",
    );
    let scenario = write(
        &dir,
        "mine.toml",
        "loop = \"execution.mine\"\n[answers]\nchecker = [\"FIX_NEEDED\"]\n[expect]\nfinal = \"gave_up\"\npath = [\"builder\", \"checker\", \"builder\", \"checker\"]\n",
    );
    loop_test(&[&lp, &scenario]).ok();
}

/// `--explore` on the standard loop: every final with a shortest path, and
/// a longest path as long as the bound the compiler proved. The time it
/// took is printed (`elapsed_ms`), not asserted.
#[test]
fn explore_reports_every_final_and_the_longest_path() {
    let run = loop_test(&["--explore", "execution.standard"]).ok();
    let finals: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("final: "))
        .collect();
    assert_eq!(
        finals,
        [
            "blocked (blocked) shortest=4",
            "needs_planning (escalate_planning) shortest=4",
            "update_complete (success) shortest=3"
        ]
    );
    assert!(run.stdout.contains(
        "final: update_complete (success) shortest=3\n  builder BUILDER_COMPLETE -> checker\n  checker CHECKER_PASS -> updater\n  updater UPDATE_COMPLETE -> final:update_complete\n"
    ));
    assert_eq!(run.value("longest"), run.value("max_stage_runs"));
    assert!(run.value("elapsed_ms").is_some());
    assert!(!run.stdout.contains("unreached_final"));
}

/// A budget of thousands makes paths thousands of steps deep (the walk
/// once recursed per step and overflowed its stack); budgets whose product
/// is billions of states are refused with a message instead of filling
/// memory.
#[test]
fn explore_stays_bounded_on_huge_budgets() {
    let deep = loop_test(&[
        "--explore",
        "execution.standard",
        "--set",
        "max_fix_cycles=20000",
        "--set",
        "max_troubleshoot_attempts_before_consult=0",
        "--set",
        "max_consultations=0",
    ])
    .ok();
    // Each fix cycle is a fixer and a checker run (the compiler's bound,
    // coarse for budgets this large, is higher).
    assert_eq!(deep.value("longest"), Some("40004"), "{}", deep.stdout);
    let wide = loop_test(&[
        "--explore",
        "execution.standard",
        "--set",
        "max_fix_cycles=1000",
        "--set",
        "max_troubleshoot_attempts_before_consult=1000",
        "--set",
        "max_consultations=1000",
    ])
    .fails(1);
    assert!(
        wide.stderr
            .contains("more than 100000 states (node, budgets spent)"),
        "{}",
        wide.stderr
    );
}
