//! Syntax-error recovery and reporting: a statement that does not parse is
//! read again with the strict rule of its context, so the error says what
//! was expected there, with the user-facing names of grammar rules.

use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

use super::ast::*;
use super::builder::Builder;
use super::error::SyntaxError;
use super::grammar::{LoopParser, Rule};
use super::keywords::{is_keyword, keyword_label};
use super::source::Span;

impl Builder<'_> {
    pub(super) fn recover(&mut self, pair: &Pair<'_, Rule>, strict: Rule) {
        let start = pair.as_span().start();
        let end = pair.as_span().end();
        let mut error = None;
        if let Some(stmt_start) = self.statement_start(start) {
            error = self
                .reparse(stmt_start, end, strict)
                .filter(|e| e.span.start as usize >= start);
            if error.is_none() {
                let rest = &self.text[start..];
                error =
                    Some(self.error_at(start, vec!["end of line".into()], describe_found(rest)));
            }
        }
        let mut error = error
            .or_else(|| self.reparse(start, end, strict))
            .unwrap_or_else(|| SyntaxError {
                span: self.span(pair),
                expected: Vec::new(),
                found: describe_found(pair.as_str()),
                custom: None,
                help: None,
            });
        self.refine(&mut error, start, end, strict);
        self.errors.push(error);
    }

    /// Where the statement starts that a region at `start` trails on the same
    /// line, or `None` when the region starts its own statement.
    pub(super) fn statement_start(&self, start: usize) -> Option<usize> {
        let before = &self.text[..start];
        let trimmed = before.trim_end_matches([' ', '\t']);
        match trimmed.chars().last() {
            None | Some('\n' | '\r' | '{' | ';') => None,
            Some(_) => {
                let from = trimmed.rfind(['\n', '{', ';']).map_or(0, |i| i + 1);
                let skipped = trimmed[from..].len() - trimmed[from..].trim_start().len();
                Some(from + skipped)
            }
        }
    }

    /// Parses `text[start..end]` with a strict rule; the error, if any.
    pub(super) fn reparse(&self, start: usize, end: usize, strict: Rule) -> Option<SyntaxError> {
        let region = &self.text[start..end];
        LoopParser::parse(strict, region.trim_end())
            .err()
            .map(|e| self.pest_error(&e, start))
    }

    pub(super) fn error_at(&self, pos: usize, expected: Vec<String>, found: String) -> SyntaxError {
        let rest = self.text.get(pos..).unwrap_or("");
        let width = found_width(rest).max(1);
        let end = (pos + width).min(self.text.len()).max(pos);
        SyntaxError {
            span: Span::new(self.file, pos, end),
            expected,
            found,
            custom: None,
            help: None,
        }
    }

    /// Says more where the generic "expected ..." would mislead: an unclosed
    /// `{`, an unterminated string, a lowercase outcome, a misspelt keyword.
    pub(super) fn refine(&self, error: &mut SyntaxError, start: usize, end: usize, strict: Rule) {
        let pos = error.span.start as usize;
        let region = &self.text[start..end];
        let at_end = pos >= start + region.trim_end().len();
        if at_end && error.expected.iter().any(|e| e == "`}`") {
            if let Some(open) = unclosed_brace(region) {
                let open = start + open;
                error.span = Span::new(self.file, open, open + 1);
                let message = "unclosed `{`".to_string();
                error.custom = Some((message, "this `{` is never closed".into()));
                error.help = Some("close the block with a `}` on its own line".into());
                return;
            }
        }
        let rest = &self.text[pos..];
        if rest.starts_with('"') && !rest[1..].lines().next().unwrap_or("").contains('"') {
            let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            error.span = Span::new(self.file, pos, pos + line_end.max(1));
            let label = "this string is not closed before the end of the line";
            error.custom = Some(("unterminated string".into(), label.into()));
            error.help = Some("add the closing `\"`".into());
            return;
        }
        let word = &rest[..found_width(rest)];
        let is_lower_word = word.starts_with(|c: char| c.is_ascii_lowercase())
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        let wants_outcome = error.expected.iter().any(|e| e == OUTCOME_LABEL)
            || (strict == Rule::strict_node_stmt && pos == start && looks_like_route(rest));
        if is_lower_word && wants_outcome {
            error.expected = vec![OUTCOME_LABEL.into()];
            error.help = Some(format!(
                "outcomes are written in UPPER_SNAKE_CASE: `{}`",
                word.to_uppercase()
            ));
            return;
        }
        let first = region.trim_start();
        let first = &first[..found_width(first)];
        if let Some(keyword) = close_keyword(first, strict) {
            error.help = Some(format!("did you mean `{keyword}`?"));
        } else if strict == Rule::strict_loop_stmt && error.expected.iter().any(|e| e == "`{`") {
            error.help = Some(format!(
                "a node's routes go in a block: `{first} {{ ... }}`"
            ));
        } else if strict == Rule::strict_mode_stmt && error.expected.iter().any(|e| e == "`{`") {
            error.help = Some(format!(
                "a node's bindings go in a block: `{first} {{ ... }}`"
            ));
        } else if error.expected == ["`(`"] && is_lower_word {
            error.help = Some(format!("write the learn action in parentheses: `({word})`"));
        }
    }

    /// A loop statement (`final`, `entry`, ...) inside a node block: the
    /// node's `}` is probably missing. Reported once per node.
    pub(super) fn loop_stmt_in_node(
        &mut self,
        pair: &Pair<'_, Rule>,
        first: &str,
        node: Option<&Name>,
        node_head: bool,
    ) {
        let start = pair.as_span().start();
        let node = node.map_or("this node", |n| n.text.as_str());
        let mut error = self.error_at(start, Vec::new(), format!("`{first}`"));
        let message = if node_head {
            format!("node `{first}` starts inside the block of node `{node}`")
        } else {
            format!("`{first}` is a loop statement, but it is inside node `{node}`")
        };
        error.custom = Some((message, "not allowed in a node block".into()));
        error.help = Some(format!(
            "close the block of `{node}` with `}}` before this line"
        ));
        self.errors.push(error);
    }

    /// An item keyword inside a loop: the loop is not closed.
    pub(super) fn item_inside(&mut self, pair: &Pair<'_, Rule>, first: &str, name: &Option<Name>) {
        let start = pair.as_span().start();
        let name = name.as_ref().map_or("", |n| n.text.as_str());
        let mut error = self.error_at(start, Vec::new(), format!("`{first}`"));
        let message = format!("`{first}` starts a new item, but loop `{name}` is not closed");
        error.custom = Some((message, "inside the loop's block".into()));
        error.help = Some("close the loop with `}` before this line".into());
        self.errors.push(error);
    }

    /// A name that a statement which did not parse was declaring.
    pub(super) fn broken_name(&self, pair: &Pair<'_, Rule>) -> Option<Name> {
        let start = pair.as_span().start();
        let text = pair.as_str();
        let first_len = found_width(text);
        let first = &text[..first_len];
        let declaring = matches!(first, "final" | "budget" | "param")
            || matches!(
                close_keyword(first, Rule::strict_loop_stmt),
                Some("final" | "budget" | "param")
            );
        let (offset, word) = if declaring {
            let rest = &text[first_len..];
            let skipped = rest.len() - rest.trim_start().len();
            let rest = rest.trim_start();
            (first_len + skipped, &rest[..found_width(rest)])
        } else {
            (0, first)
        };
        let ident = word.starts_with(|c: char| c.is_ascii_lowercase())
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        let keyword = is_keyword(word);
        (ident && !keyword).then(|| Name {
            text: word.to_string(),
            span: Span::new(self.file, start + offset, start + offset + word.len()),
        })
    }

    pub(super) fn pest_error(
        &self,
        error: &pest::error::Error<Rule>,
        offset: usize,
    ) -> SyntaxError {
        let pos = match error.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        } + offset;
        let rest = self.text.get(pos..).unwrap_or("");
        let expected = match &error.variant {
            ErrorVariant::ParsingError { positives, .. } => expected_labels(positives),
            ErrorVariant::CustomError { message } => vec![message.clone()],
        };
        self.error_at(pos, expected, describe_found(rest))
    }
}

pub(super) fn is_word(pair: &Pair<'_, Rule>) -> bool {
    matches!(
        pair.as_rule(),
        Rule::ident | Rule::outcome | Rule::loop_name
    )
}

pub(super) fn placeholder(span: Span) -> Name {
    Name {
        text: String::new(),
        span,
    }
}

pub(super) fn empty_route(span: Span) -> Route {
    let target = Target {
        result_keys: Vec::new(),
        to: placeholder(span),
        except: Vec::new(),
    };
    Route {
        target,
        budget: None,
        span,
    }
}

/// What the user wrote at an error position, for "found ..." messages.
pub(super) fn describe_found(rest: &str) -> String {
    let rest = rest.trim_start_matches([' ', '\t']);
    match rest.chars().next() {
        None => "end of file".to_string(),
        Some('\n' | '\r') => "end of line".to_string(),
        Some(_) => format!("`{}`", &rest[..found_width(rest)]),
    }
}

/// The length of the token at the start of `rest`.
pub(super) fn found_width(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return 0;
    };
    if first == '\n' || first == '\r' {
        return 0;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$';
    if first == '"' {
        let line = rest.find(['\n', '\r']).unwrap_or(rest.len());
        return rest[1..line].find('"').map_or(line, |close| close + 2);
    }
    if !word(first) {
        return if rest.starts_with("->") {
            2
        } else {
            first.len_utf8()
        };
    }
    rest.find(|c: char| !word(c)).unwrap_or(rest.len())
}

pub(super) fn expected_labels(positives: &[Rule]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for rule in positives {
        let Some(label) = rule_label(*rule) else {
            continue;
        };
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_string());
        }
    }
    // "end of line" reads best last: "expected `within`, `except` or end of line".
    labels.sort_by_key(|l| l == "end of line");
    labels
}

/// The user-facing name of a grammar rule in "expected ..." messages.
pub(super) fn rule_label(rule: Rule) -> Option<&'static str> {
    if let Some(label) = keyword_label(rule) {
        return Some(label);
    }
    Some(match rule {
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::arrow => "`->`",
        Rule::colon => "`:`",
        Rule::equals => "`=`",
        Rule::comma => "`,`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::ident | Rule::node_head => "a name",
        Rule::outcome | Rule::outcome_list | Rule::route_decl | Rule::outcome_decl => OUTCOME_LABEL,
        Rule::loop_name => "a loop name such as `execution.standard`",
        Rule::int | Rule::duration => "a number",
        Rule::param_ref => "a `$param` reference",
        Rule::string => "a quoted string",
        Rule::route | Rule::target => "a target",
        Rule::result_key => "`result.<key> or`",
        Rule::bindings => {
            "a binding (`runner`, `model`, `thinking`, `timeout`, `entrypoint`, `skill`)"
        }
        Rule::stage_def | Rule::loop_def | Rule::mode_def | Rule::alias_def => {
            "an item (`stage`, `loop`, `mode` or `alias`)"
        }
        Rule::EOI => "end of line",
        Rule::strict_item => "an item (`stage`, `loop`, `mode` or `alias`)",
        Rule::strict_stage_stmt => {
            "an outcome (`OUTCOME: class`), `writes`, `families`, `requests` or `builtin`"
        }
        Rule::strict_loop_stmt => {
            "a loop statement (`param`, `budget`, `entry`, `on drained`, `catch`, `final`, `drop` or a node)"
        }
        Rule::strict_node_stmt => "a route (`OUTCOME -> target`), an `effect` or a binding",
        Rule::strict_mode_stmt => {
            "a mode statement (`loop`, `set`, `learn`, `concurrent`, `lanes`, a binding or a node block)"
        }
        Rule::strict_binding_stmt => {
            "a binding (`runner`, `model`, `thinking`, `timeout`, `entrypoint`, `skill`)"
        }
        Rule::strict_learn_stmt => "a learn rule (`node OUTCOME -> target (action)`)",
        _ => return None,
    })
}

const OUTCOME_LABEL: &str = "an outcome (UPPER_SNAKE_CASE)";

/// The keyword that a misspelt first word of a statement probably meant.
pub(super) fn close_keyword(word: &str, strict: Rule) -> Option<&'static str> {
    let candidates: &[&'static str] = match strict {
        Rule::strict_item => &["stage", "loop", "mode", "alias"],
        Rule::strict_stage_stmt => &["writes", "families", "requests", "builtin"],
        Rule::strict_loop_stmt => &["param", "budget", "entry", "on", "catch", "final", "drop"],
        Rule::strict_node_stmt | Rule::strict_binding_stmt => &[
            "effect",
            "runner",
            "model",
            "thinking",
            "timeout",
            "entrypoint",
            "skill",
        ],
        Rule::strict_mode_stmt => &[
            "loop",
            "set",
            "learn",
            "concurrent",
            "lanes",
            "runner",
            "model",
            "thinking",
            "timeout",
            "entrypoint",
            "skill",
        ],
        _ => &[],
    };
    if word.len() < 2 || candidates.contains(&word) {
        return None;
    }
    let best = candidates
        .iter()
        .map(|k| (strsim::levenshtein(word, k), *k))
        .min()?;
    (best.0 <= 1 || (best.0 == 2 && word.len() >= 5)).then_some(best.1)
}

/// True when `rest` reads like a route: a word, maybe more, then `->`.
pub(super) fn looks_like_route(rest: &str) -> bool {
    rest.lines()
        .next()
        .and_then(|line| line.split_once("->"))
        .is_some_and(|(head, _)| {
            head.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .all(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        })
}

/// The `{` in `region` that is never closed. Braces are matched by
/// indentation: a `}` that starts a line closes the block opened on the
/// nearest line indented no deeper, so a missing `}` is found where it was
/// forgotten, not at the end of the file.
pub(super) fn unclosed_brace(region: &str) -> Option<usize> {
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut unclosed = None;
    let mut line_start = 0;
    for line in region.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let mut in_string = false;
        for (i, c) in line.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '#' if !in_string => break,
                '{' if !in_string => stack.push((indent, line_start + i)),
                '}' if !in_string => {
                    if line[..i].trim().is_empty() {
                        while let Some(&(open_indent, open)) = stack.last() {
                            if open_indent <= indent {
                                break;
                            }
                            unclosed.get_or_insert(open);
                            stack.pop();
                        }
                    }
                    stack.pop();
                }
                _ => {}
            }
        }
        line_start += line.len();
    }
    unclosed.or_else(|| stack.last().map(|&(_, open)| open))
}

/// Statements that belong to a loop, not to a node block.
pub(super) const LOOP_KEYWORDS: &[&str] =
    &["param", "budget", "entry", "on", "catch", "final", "drop"];

/// The first token of a statement.
pub(super) fn first_word(text: &str) -> &str {
    let text = text.trim_start();
    &text[..found_width(text)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_of_loop_statements_are_keywords() {
        let not_keywords: Vec<_> = LOOP_KEYWORDS.iter().filter(|w| !is_keyword(w)).collect();
        assert!(not_keywords.is_empty(), "{not_keywords:?}");
    }
}
