//! `docs/language.md` is the language reference: every keyword of the
//! grammar appears in one of its examples, and every diagnostic code the
//! compiler can produce is named. `loop new-stage` scaffolds a stage that
//! compiles without warnings, and a stage with a skill of its own is not
//! asked for the core skill it does not use.

use crate::support::{Run, TestWorkspace};

fn doc() -> String {
    std::fs::read_to_string("docs/language.md").expect("docs/language.md")
}

/// The text inside the fenced code blocks of a markdown document.
fn code_blocks(markdown: &str) -> String {
    let mut inside = false;
    let mut code = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if inside {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == word)
}

#[test]
fn every_keyword_has_an_example() {
    let code = code_blocks(&doc());
    let missing: Vec<&str> = millrace::syntax::keywords()
        .filter(|k| !has_word(&code, k))
        .collect();
    assert!(
        missing.is_empty(),
        "keywords without an example in docs/language.md: {missing:?}"
    );
}

/// The text of `source` from `start` to the next `end`.
fn between<'a>(source: &'a str, start: &str, end: &str) -> &'a str {
    let from = source.find(start).expect("the function is in the source");
    let rest = &source[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The codes `Kind::code` and `unknown_code` return, read from the source.
fn diagnostic_codes() -> Vec<String> {
    let source = std::fs::read_to_string("src/check/diagnostic.rs").expect("diagnostic.rs");
    let bodies = [
        between(&source, "pub fn code(&self)", "\n    }\n"),
        between(&source, "fn unknown_code(", "\n}\n"),
    ];
    let mut codes: Vec<String> = bodies
        .iter()
        .flat_map(|body| body.lines())
        .filter_map(|l| l.split_once("=> \"").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once('"').map(|(code, _)| code.to_string()))
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn every_diagnostic_code_is_named() {
    let doc = doc();
    let codes = diagnostic_codes();
    assert!(codes.len() > 30, "codes read from the source: {codes:?}");
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !doc.contains(&format!("millrace::{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "diagnostic codes missing from docs/language.md: {missing:?}"
    );
}

const OVERLAY: &str = "loop execution.secure extends execution.standard {
  checker {
    CHECKER_PASS -> security_review
  }
  security_review {
    SECURITY_REVIEW_COMPLETE -> updater
  }
}

mode secure extends default_codex {
  loop execution.secure
}
";

fn new_stage(ws: &TestWorkspace) -> Run {
    ws.run(&[
        "loop",
        "new-stage",
        "security_review",
        "--plane",
        "execution",
    ])
}

#[test]
fn new_stage_scaffolds_a_stage_that_compiles_cleanly() {
    let ws = TestWorkspace::new();
    let run = new_stage(&ws).ok();
    assert!(
        run.stdout
            .contains("created: entrypoints/execution/security_review.md\n")
    );
    assert!(
        ws.path("skills/stage/execution/security_review-core/SKILL.md")
            .is_file()
    );
    ws.write("loops/execution/secure.loop", OVERLAY);
    let show = ws
        .run(&["compile", "show", "--mode", "secure", "--deny", "warnings"])
        .ok();
    assert!(show.stdout.contains("node: execution/security_review\n"));
    let again = new_stage(&ws).fails(1);
    assert!(
        again
            .stderr
            .contains("stage kind `security_review` already exists")
    );
    let keyword = ws.run(&["loop", "new-stage", "loop", "--plane", "execution"]);
    assert!(keyword.fails(1).stderr.contains("is a keyword"));
}

#[test]
fn a_stage_with_its_own_skill_needs_no_core_skill() {
    let ws = TestWorkspace::new();
    new_stage(&ws).ok();
    std::fs::remove_dir_all(ws.path("skills/stage/execution/security_review-core"))
        .expect("remove the core skill");
    ws.write("loops/execution/secure.loop", OVERLAY);
    let missing = ws.run(&["compile", "show", "--mode", "secure"]).ok();
    assert!(
        missing
            .stderr
            .contains("security_review-core/SKILL.md: the skill file is missing")
    );
    let own = OVERLAY.replace(
        "SECURITY_REVIEW_COMPLETE -> updater\n",
        "SECURITY_REVIEW_COMPLETE -> updater\n    skill \"skills/review/SKILL.md\"\n",
    );
    ws.write("loops/execution/secure.loop", &own);
    ws.write("skills/review/SKILL.md", "# Security review\n");
    let show = ws
        .run(&["compile", "show", "--mode", "secure", "--deny", "warnings"])
        .ok();
    assert!(show.stdout.contains("  skill: skills/review/SKILL.md\n"));
    assert!(!show.stdout.contains("security_review-core"));
}
