//! `loop fmt` on every shipped `.loop` file: the shipped files are
//! formatted; formatting keeps every comment, is idempotent, undoes any
//! change of layout, and never changes what a file means (the plan of
//! every shipped mode is the same, its fingerprint too, but for whitespace).

use millrace::plan::{InputDigest, Plan, digest, fingerprint, shipped_sources};
use millrace::syntax::{SourceMap, format};

use crate::shipped::{SHIPPED_MODES, compile_sources};
use crate::support::millrace;

/// Where a line's comment starts: its first `#` outside a string.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// The comments of a text, each with the rest of its line.
fn comments(text: &str) -> Vec<&str> {
    let found = text
        .lines()
        .filter_map(|l| Some(l[comment_start(l)?..].trim_end()));
    found.collect()
}

/// The code part of a line and its comment (with its `#`).
fn split(line: &str) -> (&str, &str) {
    line.split_at(comment_start(line).unwrap_or(line.len()))
}

/// The same text with its layout scrambled: other indentation, spaces
/// around punctuation, blank lines doubled, comments untouched.
fn scramble(text: &str, blank_lines: bool) -> String {
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        let (code, comment) = split(line);
        let code = code
            .trim()
            .replace("->", "  ->\t")
            .replace(',', " ,  ")
            .replace('{', "\t{ ")
            .replace('}', " } ")
            .replace(':', " :");
        let indent = " ".repeat(n % 5);
        out.push_str(&format!("{indent}{code}  {comment}\n"));
        if blank_lines && line.trim().is_empty() {
            out.push('\n');
        }
    }
    out
}

fn shipped_files() -> Vec<(String, String)> {
    let sources = shipped_sources();
    let files: Vec<(String, String)> = sources
        .files()
        .map(|(_, f)| (f.name.clone(), f.text.to_string()))
        .collect();
    assert!(files.len() >= 10, "the shipped loops and modes");
    files
}

#[test]
fn shipped_files_are_formatted_and_keep_every_comment() {
    for (name, text) in shipped_files() {
        let formatted = format(&text);
        assert_eq!(
            formatted, text,
            "{name} is not formatted: run `millrace loop fmt`"
        );
        let scrambled = scramble(&text, false);
        assert_ne!(scrambled, text);
        let restored = format(&scrambled);
        assert_eq!(
            restored, text,
            "{name}: formatting undoes a change of layout"
        );
        assert_eq!(format(&restored), restored, "{name}: idempotent");
        assert_eq!(
            comments(&restored),
            comments(&text),
            "{name}: comments kept"
        );
        assert!(!comments(&text).is_empty(), "{name} has comments to keep");
    }
}

/// A plan's fingerprint with every `.loop` input hashed without whitespace.
fn fingerprint_but_whitespace(plan: &Plan, sources: &SourceMap) -> String {
    let inputs: Vec<InputDigest> = plan
        .inputs
        .iter()
        .map(|input| {
            let source = sources.files().find(|(_, f)| f.name == input.path);
            match source {
                Some((_, f)) => {
                    let bare: String = f.text.split_whitespace().collect();
                    digest(&input.path, Some(bare.as_bytes()))
                }
                None => input.clone(),
            }
        })
        .collect();
    fingerprint(&plan.mode_id, &inputs)
}

#[test]
fn formatting_never_changes_a_plan() {
    let mut formatted = SourceMap::new();
    for (name, text) in shipped_files() {
        formatted.add(name, format(&scramble(&text, true)));
    }
    for mode in SHIPPED_MODES {
        let (before, before_sources) = compile_sources(shipped_sources(), mode);
        let (after, after_sources) = compile_sources(formatted.clone(), mode);
        assert_eq!(after.plan_id, before.plan_id, "{mode}");
        assert_eq!(after.planes, before.planes, "{mode}");
        assert_eq!(
            fingerprint_but_whitespace(&after, &after_sources),
            fingerprint_but_whitespace(&before, &before_sources),
            "{mode}: the same inputs but whitespace"
        );
    }
}

/// What CI runs: `loop fmt --check` over the shipped `loops/` and `modes/`.
#[test]
fn loop_fmt_check_passes_on_the_shipped_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = vec!["loop".to_string(), "fmt".into(), "--check".into()];
    args.extend(shipped_files().into_iter().map(|(name, _)| name));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = millrace(&args, root).ok();
    assert!(!run.stdout.contains("would_reformat"), "{}", run.stdout);
}

/// A directory stands for every `.loop` file under it, as CI passes them.
#[test]
fn loop_fmt_check_takes_directories() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = millrace(&["loop", "fmt", "--check", "loops", "modes"], root).ok();
    let checked = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("unchanged: "))
        .count();
    assert_eq!(checked, shipped_files().len(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("unchanged: loops/execution/standard.loop"),
        "{}",
        run.stdout
    );
}

/// A link back up the tree (`loops/up -> ..`) is walked once: each file
/// is formatted and checked once, not once per round of the cycle.
#[test]
fn a_directory_link_cycle_is_walked_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let loops = dir.path().join("loops");
    std::fs::create_dir(&loops).expect("loops");
    std::fs::write(
        loops.join("mine.loop"),
        "stage mine in execution {\n  MINE_COMPLETE: success\n  writes stage_result\n  families task\n}\n",
    )
    .expect("write");
    std::os::unix::fs::symlink("..", loops.join("up")).expect("link");
    let fmt = millrace(&["loop", "fmt", "--check", "loops"], dir.path()).ok();
    assert_eq!(fmt.stdout, "unchanged: loops/mine.loop\n");
    let check = millrace(&["loop", "check", "loops"], dir.path()).ok();
    assert_eq!(check.value("errors"), Some("0"), "{}", check.stdout);
}

/// A syntax error past column 65,535 (a generated file, a minified line)
/// is reported on one line; drawing its snippet panicked.
#[test]
fn an_error_far_right_in_a_long_line_is_reported_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!("loop a.b {{{}@\n}}\n", " ".repeat(70_000));
    std::fs::write(dir.path().join("wide.loop"), text).expect("write");
    for command in ["check", "fmt"] {
        let run = millrace(&["loop", command, "wide.loop"], dir.path()).fails(1);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            run.stderr.contains("wide.loop:1:70011: error["),
            "{}",
            run.stderr
        );
    }
}
