//! Robustness of the front end: generated and mutated `.loop` inputs must
//! never make `parse`, `check`, lowering or rendering panic, and the
//! formatter must be idempotent and keep a file's meaning (the same set of
//! diagnostic codes) on every input that parses.
//!
//! Two sources of inputs, about 100,000 in all:
//! - proptest: token sequences over the language's vocabulary (keywords,
//!   names, outcomes, punctuation, newlines, strings, numbers);
//! - a deterministic, seeded mutation loop over the shipped sources: delete,
//!   insert, duplicate and swap characters and lines.

use std::collections::BTreeSet;

use millrace::check::{self, Overrides, render, render_short, standalone};
use millrace::lower::{build, lower, prove_termination};
use millrace::plan::shipped_sources;
use millrace::syntax::{self, FileId, SourceMap};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// Generated token sequences.
const GENERATED_CASES: u32 = 40_000;
/// Mutants per shipped file, each checked alone.
const MUTANTS_PER_FILE: usize = 4_000;
/// Every this many mutants is also checked with the other shipped files
/// around it (slower: every item resolves).
const IN_CONTEXT_EVERY: usize = 16;
/// Every this many inputs is also rendered in full by miette.
const RENDER_EVERY: usize = 97;

/// Parses, checks, lowers and renders `sources`; returns the diagnostic codes.
fn exercise(sources: &SourceMap, render_full: bool) -> BTreeSet<String> {
    let mut checked = check::check(sources);
    if !checked.diagnostics.has_errors() {
        for lp in checked.program.loops.values() {
            if let Err(d) = prove_termination(&build(&standalone(lp), &[])) {
                checked.diagnostics.extend(d);
            }
        }
        for mode in checked.program.modes.keys() {
            if let Ok(Err(d)) =
                check::select_mode(&checked.program, mode, &Overrides::default()).map(lower)
            {
                checked.diagnostics.extend(d);
            }
        }
    }
    let sorted = checked.diagnostics.sorted();
    for diagnostic in &sorted {
        let line = render_short(sources, diagnostic);
        assert!(!line.is_empty());
    }
    if render_full {
        let text = render(sources, &sorted, false);
        assert!(sorted.is_empty() || !text.is_empty());
    }
    sorted.iter().map(|d| d.code()).collect()
}

fn single(text: &str) -> SourceMap {
    let mut sources = SourceMap::new();
    sources.add("fuzz.loop", text.to_string());
    sources
}

/// Checks one input alone; when it parses, also checks that formatting is
/// idempotent and keeps the diagnostic codes. Returns whether it parsed.
fn check_input(text: &str, render_full: bool) -> bool {
    let codes = exercise(&single(text), render_full);
    let (_, errors) = syntax::parse(FileId(0), text);
    if !errors.is_empty() {
        return false;
    }
    let once = syntax::format(text);
    let twice = syntax::format(&once);
    assert_eq!(twice, once, "formatting is not idempotent for:\n{text}");
    let (_, errors) = syntax::parse(FileId(0), &once);
    assert!(
        errors.is_empty(),
        "formatted text does not parse:\n{text}\n---\n{once}"
    );
    let formatted_codes = exercise(&single(&once), false);
    assert_eq!(
        formatted_codes, codes,
        "formatting changed the diagnostics of:\n{text}\n---\n{once}"
    );
    true
}

// ---------------------------------------------------------------- generated inputs

const VOCABULARY: &[&str] = &[
    // keywords
    "stage",
    "in",
    "loop",
    "extends",
    "mode",
    "alias",
    "param",
    "budget",
    "per",
    "cap",
    "entry",
    "on",
    "drained",
    "catch",
    "within",
    "else",
    "result",
    "or",
    "except",
    "effect",
    "final",
    "status",
    "emits",
    "handoff",
    "drop",
    "set",
    "learn",
    "concurrent",
    "lanes",
    "builtin",
    "merge_gate",
    "with",
    "runner",
    "model",
    "thinking",
    "timeout",
    "entrypoint",
    "skill",
    "writes",
    "families",
    // names the shipped sources define or use
    "builder",
    "checker",
    "fixer",
    "doublechecker",
    "updater",
    "troubleshooter",
    "consultant",
    "planner",
    "manager",
    "mechanic",
    "auditor",
    "recon",
    "arbiter",
    "analyst",
    "professor",
    "curator",
    "librarian",
    "done",
    "blocked",
    "stuck",
    "task",
    "spec",
    "probe",
    "incident",
    "learning_request",
    "success",
    "no_op",
    "followup_needed",
    "recoverable_failure",
    "escalate_planning",
    "execution",
    "planning",
    "learning",
    "execution.standard",
    "execution.x",
    "planning.standard",
    "learning.standard",
    "default_codex",
    "codex_cli",
    "script",
    "fix_cycles",
    "failure_class",
    "fault",
    "planner_disposition",
    "improve",
    "install",
    "resume_stage",
    "result.resume_stage",
    "$max_fix_cycles",
    "$p",
    "high",
    "x",
    "y_1",
    // outcomes
    "BUILDER_COMPLETE",
    "CHECKER_PASS",
    "FIX_NEEDED",
    "BLOCKED",
    "PLANNER_COMPLETE",
    "ANALYST_NOOP",
    "X",
    // punctuation
    "{",
    "}",
    "->",
    ":",
    "=",
    ",",
    "(",
    ")",
    "|",
    ";",
    ".",
    "$",
    "-",
    ">",
    "#",
    "# note",
    // layout, strings, numbers
    "\n",
    "\n",
    "\n",
    "\n  ",
    "\t",
    "\"gpt-5\"",
    "\"unterminated",
    "\"\"",
    "0",
    "1",
    "2",
    "42",
    "10m",
    "90s",
    "2h",
    "7x",
    "18446744073709551616",
    "é",
    "\u{0}",
];

/// A loop-shaped skeleton, so that generated tokens often land inside
/// well-formed blocks and reach the checker and the termination proof.
const SKELETONS: &[(&str, &str)] = &[
    ("", ""),
    ("loop execution.x {\n  entry task -> builder\n  ", "\n}\n"),
    (
        "loop execution.x {\n  entry task -> builder\n  catch BLOCKED -> done\n  builder {\n    ",
        "\n  }\n  final done: blocked\n}\n",
    ),
    ("mode m {\n  loop execution.standard\n  ", "\n}\n"),
    ("stage s in execution {\n  ", "\n}\n"),
];

fn token_input() -> impl Strategy<Value = String> {
    let token = prop::sample::select(VOCABULARY);
    let skeleton = prop::sample::select(SKELETONS);
    (
        skeleton,
        prop::collection::vec((token, prop::bool::ANY), 0..48),
    )
        .prop_map(|((head, tail), tokens)| {
            let mut text = String::from(head);
            for (token, space) in tokens {
                text.push_str(token);
                if space {
                    text.push(' ');
                }
            }
            text.push_str(tail);
            text
        })
}

proptest! {
    #![proptest_config(Config {
        cases: GENERATED_CASES,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    })]

    #[test]
    fn generated_token_sequences_never_panic(text in token_input()) {
        let render_full = text.len() % RENDER_EVERY == 0;
        check_input(&text, render_full);
    }
}

// ---------------------------------------------------------------- mutated shipped sources

/// xorshift64*: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Characters worth inserting: the language's punctuation, both cases,
/// digits, layout, and a multi-byte character to test span arithmetic.
const INSERTS: &[char] = &[
    '{', '}', '-', '>', ':', '=', ',', '(', ')', '|', ';', '.', '$', '#', '"', ' ', '\n', '\t',
    'a', 'z', '_', 'A', 'Z', '0', '9', 'é', '→',
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(3) {
        let len = chars.len();
        match rng.below(7) {
            0 if len > 0 => {
                chars.remove(rng.below(len));
            }
            1 => chars.insert(rng.below(len + 1), INSERTS[rng.below(INSERTS.len())]),
            2 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(12)).min(len);
                let piece: Vec<char> = chars[start..end].to_vec();
                let at = rng.below(len + 1);
                chars.splice(at..at, piece);
            }
            3 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                chars.swap(a, b);
            }
            op => {
                let text: String = chars.iter().collect();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let n = lines.len();
                match op {
                    4 => {
                        lines.remove(rng.below(n));
                    }
                    5 => {
                        let line = lines[rng.below(n)];
                        lines.insert(rng.below(n + 1), line);
                    }
                    _ => {
                        let (a, b) = (rng.below(n), rng.below(n));
                        lines.swap(a, b);
                    }
                }
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

/// Mutates every shipped file under `dir` and checks each mutant alone and,
/// now and then, among the other shipped files. Returns the mutant count.
fn mutate_shipped(dir: &str, seed: u64) -> usize {
    let shipped = shipped_sources();
    let files: Vec<(String, String)> = shipped
        .files()
        .map(|(_, f)| (f.name.clone(), f.text.to_string()))
        .collect();
    let mut rng = Rng(seed);
    let mut count = 0usize;
    let mut formatted = 0usize;
    for (index, (name, text)) in files
        .iter()
        .enumerate()
        .filter(|(_, (n, _))| n.starts_with(dir))
    {
        for _ in 0..MUTANTS_PER_FILE {
            let mutant = mutate(text, &mut rng);
            count += 1;
            formatted += usize::from(check_input(&mutant, count % RENDER_EVERY == 0));
            if count % IN_CONTEXT_EVERY == 0 {
                let mut sources = SourceMap::new();
                for (_, (other_name, other_text)) in
                    files.iter().enumerate().filter(|(i, _)| *i != index)
                {
                    sources.add(other_name.clone(), other_text.clone());
                }
                sources.add(name.clone(), mutant);
                exercise(&sources, false);
            }
        }
    }
    // Most mutants break the syntax, but enough must parse for the
    // formatter checks to mean something.
    assert!(
        formatted * 20 >= count,
        "only {formatted} of {count} mutants parsed"
    );
    eprintln!("{dir}: {count} mutants, {formatted} formatted");
    count
}

#[test]
fn mutated_shipped_loops_never_panic() {
    let count = mutate_shipped("loops/", 0x9E37_79B9_7F4A_7C15);
    assert_eq!(count, 9 * MUTANTS_PER_FILE);
}

#[test]
fn mutated_shipped_modes_never_panic() {
    let count = mutate_shipped("modes/", 0xD1B5_4A32_D192_ED03);
    assert_eq!(count, 10 * MUTANTS_PER_FILE);
}
