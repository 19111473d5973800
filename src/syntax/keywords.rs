//! The keywords of `.loop`, read from the grammar's `kw_*` rules so that
//! the grammar is the one list: a name may not be a keyword, and a syntax
//! error names a keyword rule by its word (`kw_stage` is `` `stage` ``).

use std::sync::LazyLock;

use super::grammar::Rule;

/// A keyword rule and the word it matches.
struct Keyword {
    rule: Rule,
    word: String,
    /// The word in backticks, as "expected ..." messages show it.
    label: String,
}

/// Every keyword rule, in the grammar's order.
static KEYWORDS: LazyLock<Vec<Keyword>> = LazyLock::new(|| {
    Rule::all_rules()
        .iter()
        .filter_map(|&rule| {
            let name = format!("{rule:?}");
            let word = name.strip_prefix("kw_")?.to_string();
            let label = format!("`{word}`");
            Some(Keyword { rule, word, label })
        })
        .collect()
});

/// Every keyword of the language, in the grammar's order.
pub fn keywords() -> impl Iterator<Item = &'static str> {
    KEYWORDS.iter().map(|k| k.word.as_str())
}

/// Whether `word` is a keyword (a name may not be one).
pub(super) fn is_keyword(word: &str) -> bool {
    keywords().any(|k| k == word)
}

/// Whether `rule` matches a keyword.
pub(super) fn is_keyword_rule(rule: Rule) -> bool {
    keyword_label(rule).is_some()
}

/// A keyword rule's word in backticks; `None` for other rules.
pub(super) fn keyword_label(rule: Rule) -> Option<&'static str> {
    let keyword = KEYWORDS.iter().find(|k| k.rule == rule)?;
    Some(keyword.label.as_str())
}
