//! Names written in two places that must agree: the effect ids `check`
//! accepts and the handlers the runtime registers; the keywords of the
//! grammar and the keywords the parser's recovery knows.

use std::collections::BTreeSet;
use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The ids of the runtime's effect registry, read from its source (the
/// registry is private to the runtime): the first string of each entry
/// of the `HANDLERS` table in `src/runtime/effects/`.
fn runtime_effect_ids() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/runtime/effects");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    let table = files
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .find_map(|text| handlers_table(&text));
    let table = table.expect("no `HANDLERS` table in src/runtime/effects/: update this test to where the runtime registers effect handlers");
    table
        .split('(')
        .filter_map(|entry| entry.trim_start().strip_prefix('"')?.split('"').next())
        .map(String::from)
        .collect()
}

/// The text of `const HANDLERS: ... = &[ ... ];`.
fn handlers_table(text: &str) -> Option<String> {
    let start = text.find("const HANDLERS")?;
    let body = &text[start..];
    let open = body.find("&[")?;
    let close = body[open..].find("];")?;
    Some(body[open..open + close].to_string())
}

#[test]
fn every_effect_check_accepts_has_a_runtime_handler_and_back() {
    let declared: BTreeSet<String> = millrace::check::EFFECTS
        .iter()
        .map(|e| e.id.to_string())
        .collect();
    let handled = runtime_effect_ids();
    let unhandled: Vec<_> = declared.difference(&handled).collect();
    let undeclared: Vec<_> = handled.difference(&declared).collect();
    assert!(
        unhandled.is_empty(),
        "effects declared in src/check/effects.rs with no handler in src/runtime/effects/: {unhandled:?}"
    );
    assert!(
        undeclared.is_empty(),
        "handlers in src/runtime/effects/ for effects src/check/effects.rs does not declare (no loop can name them): {undeclared:?}"
    );
}

/// The quoted words of the grammar rule `name = ... { ... }` (a rule
/// without inner braces), up to its first `~` (the word list, before what
/// must not follow it).
fn quoted_words_of_rule(grammar: &str, name: &str) -> BTreeSet<String> {
    let start = grammar
        .lines()
        .position(|l| l.starts_with(&format!("{name} ")) && l.contains('='))
        .unwrap_or_else(|| panic!("grammar/loop.pest has no rule `{name}`"));
    let rule: String = grammar.lines().skip(start).collect::<Vec<_>>().join("\n");
    let body = rule.split_once('{').map_or("", |(_, b)| b);
    let body = body.split('}').next().unwrap_or("");
    let words = body.split('~').next().unwrap_or("");
    words
        .split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn the_grammar_and_the_recovery_know_the_same_keywords() {
    let grammar = read("grammar/loop.pest");
    let known: BTreeSet<String> = millrace::syntax::keywords().map(String::from).collect();
    let not_names = quoted_words_of_rule(&grammar, "keyword");
    assert_eq!(
        not_names, known,
        "the words of the grammar's `keyword` rule (what a name may not be) and its `kw_*` rules (what the parser and its recovery know) differ"
    );
    for rule in ["item_start", "bind_word"] {
        let words = quoted_words_of_rule(&grammar, rule);
        let unknown: Vec<_> = words.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "`{rule}` in grammar/loop.pest quotes words that are not keywords: {unknown:?}"
        );
    }
}

#[test]
fn each_keyword_rule_matches_the_word_it_is_named_for() {
    let grammar = read("grammar/loop.pest");
    for word in millrace::syntax::keywords() {
        let matched = quoted_words_of_rule(&grammar, &format!("kw_{word}"));
        assert_eq!(
            matched,
            BTreeSet::from([word.to_string()]),
            "grammar/loop.pest: `kw_{word}` must match `\"{word}\"`: the parser names it by its rule"
        );
    }
}
