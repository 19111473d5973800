//! From pest pairs to the spanned AST, with one syntax error per bad line.

use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

use super::ast::*;
use super::grammar::{LoopParser, Rule};
use super::source::{FileId, Span};

/// A syntax error: where, what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    /// User-facing names of what would have been accepted here.
    pub expected: Vec<String>,
    /// What stands at the error position, as the user wrote it.
    pub found: String,
    /// A message that replaces "expected ..., found ..." (an unclosed `{`,
    /// an unterminated string).
    pub custom: Option<(String, String)>,
    /// A hint: the keyword or spelling that was probably meant.
    pub help: Option<String>,
}

impl SyntaxError {
    pub fn message(&self) -> String {
        if let Some((message, _)) = &self.custom {
            return message.clone();
        }
        match self.expected.as_slice() {
            [] => format!("unexpected {}", self.found),
            [one] => format!("expected {one}, found {}", self.found),
            many => {
                let (last, rest) = many.split_last().unwrap_or((&many[0], &[]));
                format!(
                    "expected {} or {last}, found {}",
                    rest.join(", "),
                    self.found
                )
            }
        }
    }

    /// The label on the error's span.
    pub fn label(&self) -> String {
        if let Some((_, label)) = &self.custom {
            return label.clone();
        }
        match self.expected.as_slice() {
            [] => "unexpected here".to_string(),
            [one] => format!("expected {one}"),
            many => {
                let (last, rest) = many.split_last().unwrap_or((&many[0], &[]));
                format!("expected {} or {last}", rest.join(", "))
            }
        }
    }
}

/// Parses one file. Always returns a module (possibly partial) and the syntax
/// errors found; a bad statement costs one error and the rest still parses.
pub fn parse(file: FileId, text: &str) -> (Module, Vec<SyntaxError>) {
    let mut builder = Builder {
        file,
        text,
        errors: Vec::new(),
        pending_broken: Vec::new(),
        block_unclosed: false,
    };
    let mut module = Module {
        file,
        items: Vec::new(),
    };
    match LoopParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            if let Some(root) = pairs.next() {
                module.items = builder.items(root);
            }
        }
        Err(error) => builder.errors.push(builder.pest_error(&error, 0)),
    }
    (module, builder.errors)
}

struct Builder<'t> {
    file: FileId,
    text: &'t str,
    errors: Vec<SyntaxError>,
    /// Names declared by broken lines inside a node block, for the loop.
    pending_broken: Vec<Name>,
    /// A node block of the current loop swallowed loop statements: its `}`
    /// is probably missing, so the loop's own end is off too.
    block_unclosed: bool,
}

impl<'t> Builder<'t> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn name(&self, pair: Pair<'_, Rule>) -> Name {
        Name {
            text: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn names(&self, list: Pair<'_, Rule>) -> Vec<Name> {
        list.into_inner()
            .filter(is_word)
            .map(|p| self.name(p))
            .collect()
    }

    fn int(&self, pair: Pair<'_, Rule>) -> Spanned<u64> {
        let span = self.span(&pair);
        let digits = pair.as_str().trim_end_matches(['s', 'm', 'h']);
        let unit = match pair.as_str().chars().last() {
            Some('m') => 60,
            Some('h') => 3600,
            _ => 1,
        };
        let value = digits
            .parse::<u64>()
            .map_or(u64::MAX, |v| v.saturating_mul(unit));
        Spanned { value, span }
    }

    fn items(&mut self, root: Pair<'_, Rule>) -> Vec<Item> {
        let mut items = Vec::new();
        for pair in root.into_inner() {
            match pair.as_rule() {
                Rule::stage_def => items.push(Item::Stage(self.stage(pair))),
                Rule::loop_def => items.push(Item::Loop(self.loop_def(pair))),
                Rule::mode_def => items.push(Item::Mode(self.mode(pair))),
                Rule::alias_def => items.push(Item::Alias(self.alias(pair))),
                Rule::bad_item => self.recover(&pair, Rule::strict_item),
                _ => {}
            }
        }
        items
    }

    /// Re-reads a recovered region with the strict rule to say what was
    /// expected. Text after a complete statement on the same line is re-read
    /// together with that statement, so the error names what could follow it.
    fn recover(&mut self, pair: &Pair<'_, Rule>, strict: Rule) {
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
    fn statement_start(&self, start: usize) -> Option<usize> {
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
    fn reparse(&self, start: usize, end: usize, strict: Rule) -> Option<SyntaxError> {
        let region = &self.text[start..end];
        LoopParser::parse(strict, region.trim_end())
            .err()
            .map(|e| self.pest_error(&e, start))
    }

    fn error_at(&self, pos: usize, expected: Vec<String>, found: String) -> SyntaxError {
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
    fn refine(&self, error: &mut SyntaxError, start: usize, end: usize, strict: Rule) {
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
    fn loop_stmt_in_node(
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
    fn item_inside(&mut self, pair: &Pair<'_, Rule>, first: &str, name: &Option<Name>) {
        let start = pair.as_span().start();
        let name = name.as_ref().map_or("", |n| n.text.as_str());
        let mut error = self.error_at(start, Vec::new(), format!("`{first}`"));
        let message = format!("`{first}` starts a new item, but loop `{name}` is not closed");
        error.custom = Some((message, "inside the loop's block".into()));
        error.help = Some("close the loop with `}` before this line".into());
        self.errors.push(error);
    }

    /// A name that a statement which did not parse was declaring.
    fn broken_name(&self, pair: &Pair<'_, Rule>) -> Option<Name> {
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
        let keyword = KEYWORDS.contains(&word);
        (ident && !keyword).then(|| Name {
            text: word.to_string(),
            span: Span::new(self.file, start + offset, start + offset + word.len()),
        })
    }

    fn pest_error(&self, error: &pest::error::Error<Rule>, offset: usize) -> SyntaxError {
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

    fn stage(&mut self, pair: Pair<'_, Rule>) -> StageDef {
        let span = self.span(&pair);
        let mut words = Vec::new();
        let (mut outcomes, mut writes, mut families) = (Vec::new(), Vec::new(), Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => words.push(self.name(inner)),
                Rule::outcome_decl => outcomes.push(self.outcome_decl(inner)),
                Rule::writes_decl => writes.extend(self.list_after_keyword(inner)),
                Rule::families_decl => families.extend(self.list_after_keyword(inner)),
                Rule::bad_stmt => self.recover(&inner, Rule::strict_stage_stmt),
                _ => {}
            }
        }
        let mut words = words.into_iter();
        let name = words.next().unwrap_or_else(|| placeholder(span));
        let plane = words.next().unwrap_or_else(|| placeholder(span));
        StageDef {
            name,
            plane,
            outcomes,
            writes,
            families,
            span,
        }
    }

    fn outcome_decl(&self, pair: Pair<'_, Rule>) -> OutcomeDecl {
        let mut outcome = None;
        let mut classes = Vec::new();
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::outcome => outcome = Some(self.name(inner)),
                Rule::class_list => classes = self.names(inner),
                _ => {}
            }
        }
        let outcome = outcome.unwrap_or_else(|| placeholder(Span::default()));
        OutcomeDecl { outcome, classes }
    }

    fn list_after_keyword(&self, pair: Pair<'_, Rule>) -> Vec<Name> {
        pair.into_inner()
            .filter(|p| matches!(p.as_rule(), Rule::name_list | Rule::outcome_list))
            .flat_map(|p| self.names(p))
            .collect()
    }

    fn loop_def(&mut self, pair: Pair<'_, Rule>) -> LoopDef {
        let span = self.span(&pair);
        let (mut name, mut extends, mut stmts) = (None, None, Vec::new());
        let (mut recovered, mut broken, mut item_cut) = (false, Vec::new(), false);
        self.block_unclosed = false;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::loop_name => name = Some(self.name(inner)),
                Rule::extends => extends = self.extends(inner),
                Rule::bad_stmt | Rule::bad_node => {
                    recovered = true;
                    broken.extend(self.broken_name(&inner));
                    let first = first_word(inner.as_str());
                    if matches!(first, "stage" | "loop" | "mode" | "alias") {
                        // A new item inside the loop: the loop's `}` (or a
                        // node's) is missing; everything after follows from it.
                        if !item_cut && !self.block_unclosed {
                            self.item_inside(&inner, first, &name);
                        }
                        item_cut = true;
                    } else if !item_cut {
                        self.recover(&inner, Rule::strict_loop_stmt);
                    }
                }
                _ => {
                    let before = self.errors.len();
                    stmts.extend(self.loop_stmt(inner));
                    recovered |= self.errors.len() > before;
                    broken.append(&mut self.pending_broken);
                }
            }
        }
        let name = name.unwrap_or_else(|| placeholder(span));
        LoopDef {
            name,
            extends,
            stmts,
            recovered,
            broken,
            span,
        }
    }

    fn extends(&self, pair: Pair<'_, Rule>) -> Option<Name> {
        pair.into_inner().find(is_word).map(|p| self.name(p))
    }

    fn loop_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<LoopStmt> {
        let span = self.span(&pair);
        let stmt = match pair.as_rule() {
            Rule::param_decl => LoopStmt::Param(self.param(pair)),
            Rule::budget_decl => LoopStmt::Budget(self.budget(pair)),
            Rule::entry_decl => LoopStmt::Entry(self.entry(pair)),
            Rule::drained_decl => {
                let node = self.words(pair).pop().unwrap_or_else(|| placeholder(span));
                LoopStmt::Drained(DrainedDecl { node, span })
            }
            Rule::catch_decl => LoopStmt::Catch(self.catch(pair)),
            Rule::final_decl => LoopStmt::Final(self.final_decl(pair)),
            Rule::drop_decl => LoopStmt::Drop(DropDecl {
                names: self.list_after_keyword(pair),
            }),
            Rule::node_def => LoopStmt::Node(self.node(pair)),
            _ => return None,
        };
        Some(stmt)
    }

    /// The identifiers directly inside a pair, in order.
    fn words(&self, pair: Pair<'_, Rule>) -> Vec<Name> {
        pair.into_inner()
            .filter(is_word)
            .map(|p| self.name(p))
            .collect()
    }

    fn param(&self, pair: Pair<'_, Rule>) -> ParamDecl {
        let span = self.span(&pair);
        let mut name = placeholder(span);
        let mut value = Spanned { value: 0, span };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = self.name(inner),
                Rule::int => value = self.int(inner),
                _ => {}
            }
        }
        ParamDecl { name, value }
    }

    fn value(&self, pair: Pair<'_, Rule>) -> Value {
        match pair.as_rule() {
            Rule::param_ref => {
                let span = self.span(&pair);
                let text = pair.as_str().trim_start_matches('$').to_string();
                Value::Param(Name { text, span })
            }
            _ => Value::Int(self.int(pair)),
        }
    }

    fn budget(&self, pair: Pair<'_, Rule>) -> BudgetDecl {
        let span = self.span(&pair);
        let (mut name, mut limit, mut per) = (None, None, None);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = Some(self.name(inner)),
                Rule::int | Rule::param_ref => limit = Some(self.value(inner)),
                Rule::per_clause => per = Some(self.per(inner)),
                _ => {}
            }
        }
        BudgetDecl {
            name: name.unwrap_or_else(|| placeholder(span)),
            limit: limit.unwrap_or(Value::Int(Spanned { value: 0, span })),
            per,
        }
    }

    fn per(&self, pair: Pair<'_, Rule>) -> PerClause {
        let span = self.span(&pair);
        let (mut key, mut cap) = (None, None);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => key = Some(self.name(inner)),
                Rule::int | Rule::param_ref => cap = Some(self.value(inner)),
                _ => {}
            }
        }
        PerClause {
            key: key.unwrap_or_else(|| placeholder(span)),
            cap,
        }
    }

    fn entry(&self, pair: Pair<'_, Rule>) -> EntryDecl {
        let span = self.span(&pair);
        let (mut family, mut nodes) = (None, Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => family = Some(self.name(inner)),
                Rule::name_list => nodes = self.names(inner),
                _ => {}
            }
        }
        EntryDecl {
            family: family.unwrap_or_else(|| placeholder(span)),
            nodes,
            span,
        }
    }

    fn catch(&self, pair: Pair<'_, Rule>) -> CatchDecl {
        let span = self.span(&pair);
        let (mut outcomes, mut route) = (Vec::new(), None);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::outcome_list => outcomes = self.names(inner),
                Rule::route => route = Some(self.route(inner)),
                _ => {}
            }
        }
        CatchDecl {
            outcomes,
            route: route.unwrap_or_else(|| empty_route(span)),
            span,
        }
    }

    fn route(&self, pair: Pair<'_, Rule>) -> Route {
        let span = self.span(&pair);
        let (mut target, mut budget) = (None, None);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::target => target = Some(self.target(inner)),
                Rule::budget_clause => budget = self.budget_clause(inner),
                _ => {}
            }
        }
        let target = target.unwrap_or_else(|| empty_route(span).target);
        Route {
            target,
            budget,
            span,
        }
    }

    fn budget_clause(&self, pair: Pair<'_, Rule>) -> Option<Box<BudgetClause>> {
        let (mut budget, mut exhausted) = (None, None);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => budget = Some(self.name(inner)),
                Rule::route => exhausted = Some(self.route(inner)),
                _ => {}
            }
        }
        Some(Box::new(BudgetClause {
            budget: budget?,
            exhausted: exhausted?,
        }))
    }

    fn target(&self, pair: Pair<'_, Rule>) -> Target {
        let span = self.span(&pair);
        let (mut result_keys, mut to, mut except) = (Vec::new(), None, Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::result_key => result_keys.extend(self.words(inner)),
                Rule::ident => to = Some(self.name(inner)),
                Rule::except => except = self.list_after_keyword(inner),
                _ => {}
            }
        }
        Target {
            result_keys,
            to: to.unwrap_or_else(|| placeholder(span)),
            except,
        }
    }

    fn final_decl(&self, pair: Pair<'_, Rule>) -> FinalDecl {
        let span = self.span(&pair);
        let mut words = Vec::new();
        let (mut status, mut emits, mut handoff) = (None, Vec::new(), None);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => words.push(self.name(inner)),
                Rule::final_status => status = self.first_word(inner),
                Rule::final_emits => emits = self.list_after_keyword(inner),
                Rule::final_handoff => handoff = self.first_word(inner),
                _ => {}
            }
        }
        let mut words = words.into_iter();
        let name = words.next().unwrap_or_else(|| placeholder(span));
        let class = words.next().unwrap_or_else(|| placeholder(span));
        FinalDecl {
            name,
            class,
            status,
            emits,
            handoff,
            span,
        }
    }

    fn first_word(&self, pair: Pair<'_, Rule>) -> Option<Name> {
        pair.into_inner().find(is_word).map(|p| self.name(p))
    }

    fn node(&mut self, pair: Pair<'_, Rule>) -> NodeDef {
        let span = self.span(&pair);
        let mut words = Vec::new();
        let (mut routes, mut effects, mut bindings) = (Vec::new(), Vec::new(), Vec::new());
        let mut misplaced = false;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => words.push(self.name(inner)),
                // After a line that shows the block's `}` is missing, what
                // follows belongs to the loop or to another node, not here.
                _ if misplaced && inner.as_rule() != Rule::bad_stmt => {}
                Rule::route_decl => routes.push(self.route_decl(inner)),
                Rule::effect_decl => effects.push(self.effect(inner)),
                Rule::bindings => bindings.extend(self.bindings(inner)),
                Rule::bad_stmt if misplaced => {
                    self.pending_broken.extend(self.broken_name(&inner));
                }
                Rule::bad_stmt => {
                    let first = first_word(inner.as_str());
                    let node_head = inner.as_str().trim_end().ends_with('{');
                    if LOOP_KEYWORDS.contains(&first) || node_head {
                        self.pending_broken.extend(self.broken_name(&inner));
                        self.loop_stmt_in_node(&inner, first, words.first(), node_head);
                        misplaced = true;
                        self.block_unclosed = true;
                    } else {
                        self.recover(&inner, Rule::strict_node_stmt);
                    }
                }
                _ => {}
            }
        }
        let mut words = words.into_iter();
        let name = words.next().unwrap_or_else(|| placeholder(span));
        NodeDef {
            name,
            kind: words.next(),
            routes,
            effects,
            bindings,
            span,
        }
    }

    fn route_decl(&self, pair: Pair<'_, Rule>) -> RouteDecl {
        let span = self.span(&pair);
        let (mut outcomes, mut route) = (Vec::new(), None);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::outcome_list => outcomes = self.names(inner),
                Rule::route => route = Some(self.route(inner)),
                _ => {}
            }
        }
        RouteDecl {
            outcomes,
            route: route.unwrap_or_else(|| empty_route(span)),
            span,
        }
    }

    fn effect(&self, pair: Pair<'_, Rule>) -> EffectDecl {
        let span = self.span(&pair);
        let (mut id, mut on, mut ports) = (None, Vec::new(), Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => id = Some(self.name(inner)),
                Rule::effect_on => on = self.list_after_keyword(inner),
                Rule::effect_port => {
                    let mut words = self.words(inner).into_iter();
                    if let (Some(port), Some(target)) = (words.next(), words.next()) {
                        ports.push((port, target));
                    }
                }
                _ => {}
            }
        }
        EffectDecl {
            id: id.unwrap_or_else(|| placeholder(span)),
            on,
            ports,
            span,
        }
    }

    fn bindings(&self, pair: Pair<'_, Rule>) -> Vec<Binding> {
        pair.into_inner().filter_map(|b| self.binding(b)).collect()
    }

    fn binding(&self, pair: Pair<'_, Rule>) -> Option<Binding> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let value = pair.into_inner().find(|p| !is_keyword_rule(p.as_rule()))?;
        let kind = match rule {
            Rule::bind_runner => BindingKind::Runner(self.name(value)),
            Rule::bind_model => BindingKind::Model(self.string(value)),
            Rule::bind_thinking => BindingKind::Thinking(self.string(value)),
            Rule::bind_timeout => BindingKind::Timeout(self.int(value)),
            Rule::bind_entrypoint => BindingKind::Entrypoint(self.string(value)),
            Rule::bind_skill => BindingKind::Skill(self.string(value)),
            _ => return None,
        };
        Some(Binding { kind, span })
    }

    fn string(&self, pair: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&pair);
        let value = pair.as_str().trim_matches('"').to_string();
        Spanned { value, span }
    }

    fn mode(&mut self, pair: Pair<'_, Rule>) -> ModeDef {
        let span = self.span(&pair);
        let mut mode = ModeDef {
            name: placeholder(span),
            extends: None,
            loops: Vec::new(),
            sets: Vec::new(),
            learn: Vec::new(),
            concurrent: Vec::new(),
            bindings: Vec::new(),
            stage_bindings: Vec::new(),
            recovered: false,
            span,
        };
        for inner in pair.into_inner() {
            let before = self.errors.len();
            self.mode_stmt(&mut mode, inner);
            mode.recovered |= self.errors.len() > before;
        }
        mode
    }

    fn mode_stmt(&mut self, mode: &mut ModeDef, pair: Pair<'_, Rule>) {
        match pair.as_rule() {
            Rule::ident => mode.name = self.name(pair),
            Rule::extends => mode.extends = self.extends(pair),
            Rule::mode_loop => mode.loops.extend(self.first_loop_name(pair)),
            Rule::set_decl => {
                let param = self.param(pair);
                mode.sets.push(SetDecl {
                    name: param.name,
                    value: param.value,
                });
            }
            Rule::learn_block => self.learn_block(mode, pair),
            Rule::concurrent_decl => mode.concurrent.push(self.concurrent(pair)),
            Rule::bindings => mode.bindings.extend(self.bindings(pair)),
            Rule::stage_bindings => mode.stage_bindings.push(self.stage_bindings(pair)),
            Rule::bad_stmt | Rule::bad_node => self.recover(&pair, Rule::strict_mode_stmt),
            _ => {}
        }
    }

    fn first_loop_name(&self, pair: Pair<'_, Rule>) -> Option<Name> {
        pair.into_inner()
            .find(|p| p.as_rule() == Rule::loop_name)
            .map(|p| self.name(p))
    }

    fn learn_block(&mut self, mode: &mut ModeDef, pair: Pair<'_, Rule>) {
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::learn_rule => mode.learn.push(self.learn_rule(inner)),
                Rule::bad_stmt => self.recover(&inner, Rule::strict_learn_stmt),
                _ => {}
            }
        }
    }

    fn learn_rule(&self, pair: Pair<'_, Rule>) -> LearnRule {
        let span = self.span(&pair);
        let (mut words, mut outcomes) = (Vec::new(), Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => words.push(self.name(inner)),
                Rule::outcome_list => outcomes = self.names(inner),
                _ => {}
            }
        }
        let mut words = words.into_iter();
        let mut next = || words.next().unwrap_or_else(|| placeholder(span));
        let (source, target, action) = (next(), next(), next());
        LearnRule {
            source,
            outcomes,
            target,
            action,
            span,
        }
    }

    fn concurrent(&self, pair: Pair<'_, Rule>) -> ConcurrentDecl {
        let span = self.span(&pair);
        let (mut plane, mut with) = (None, Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => plane = Some(self.name(inner)),
                Rule::name_list => with = self.names(inner),
                _ => {}
            }
        }
        ConcurrentDecl {
            plane: plane.unwrap_or_else(|| placeholder(span)),
            with,
            span,
        }
    }

    fn stage_bindings(&mut self, pair: Pair<'_, Rule>) -> StageBindings {
        let span = self.span(&pair);
        let (mut stage, mut bindings) = (None, Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => stage = Some(self.name(inner)),
                Rule::bindings => bindings.extend(self.bindings(inner)),
                Rule::bad_stmt => self.recover(&inner, Rule::strict_binding_stmt),
                _ => {}
            }
        }
        StageBindings {
            stage: stage.unwrap_or_else(|| placeholder(span)),
            bindings,
        }
    }

    fn alias(&self, pair: Pair<'_, Rule>) -> AliasDef {
        let span = self.span(&pair);
        let mut words = self.words(pair).into_iter();
        let name = words.next().unwrap_or_else(|| placeholder(span));
        let target = words.next().unwrap_or_else(|| placeholder(span));
        AliasDef { name, target, span }
    }
}

fn is_word(pair: &Pair<'_, Rule>) -> bool {
    matches!(
        pair.as_rule(),
        Rule::ident | Rule::outcome | Rule::loop_name
    )
}

fn is_keyword_rule(rule: Rule) -> bool {
    keyword_label(rule).is_some()
}

fn placeholder(span: Span) -> Name {
    Name {
        text: String::new(),
        span,
    }
}

fn empty_route(span: Span) -> Route {
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
fn describe_found(rest: &str) -> String {
    let rest = rest.trim_start_matches([' ', '\t']);
    match rest.chars().next() {
        None => "end of file".to_string(),
        Some('\n' | '\r') => "end of line".to_string(),
        Some(_) => format!("`{}`", &rest[..found_width(rest)]),
    }
}

/// The length of the token at the start of `rest`.
fn found_width(rest: &str) -> usize {
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

fn expected_labels(positives: &[Rule]) -> Vec<String> {
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

fn keyword_label(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_stage => "`stage`",
        Rule::kw_in => "`in`",
        Rule::kw_loop => "`loop`",
        Rule::kw_extends => "`extends`",
        Rule::kw_mode => "`mode`",
        Rule::kw_alias => "`alias`",
        Rule::kw_param => "`param`",
        Rule::kw_budget => "`budget`",
        Rule::kw_per => "`per`",
        Rule::kw_cap => "`cap`",
        Rule::kw_entry => "`entry`",
        Rule::kw_on => "`on`",
        Rule::kw_drained => "`drained`",
        Rule::kw_catch => "`catch`",
        Rule::kw_within => "`within`",
        Rule::kw_else => "`else`",
        Rule::kw_result => "`result`",
        Rule::kw_or => "`or`",
        Rule::kw_except => "`except`",
        Rule::kw_effect => "`effect`",
        Rule::kw_final => "`final`",
        Rule::kw_status => "`status`",
        Rule::kw_emits => "`emits`",
        Rule::kw_handoff => "`handoff`",
        Rule::kw_drop => "`drop`",
        Rule::kw_set => "`set`",
        Rule::kw_learn => "`learn`",
        Rule::kw_concurrent => "`concurrent`",
        Rule::kw_with => "`with`",
        Rule::kw_writes => "`writes`",
        Rule::kw_families => "`families`",
        Rule::kw_runner => "`runner`",
        Rule::kw_model => "`model`",
        Rule::kw_thinking => "`thinking`",
        Rule::kw_timeout => "`timeout`",
        Rule::kw_entrypoint => "`entrypoint`",
        Rule::kw_skill => "`skill`",
        _ => return None,
    })
}

/// The user-facing name of a grammar rule in "expected ..." messages.
fn rule_label(rule: Rule) -> Option<&'static str> {
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
        Rule::strict_stage_stmt => "an outcome (`OUTCOME: class`), `writes` or `families`",
        Rule::strict_loop_stmt => {
            "a loop statement (`param`, `budget`, `entry`, `on drained`, `catch`, `final`, `drop` or a node)"
        }
        Rule::strict_node_stmt => "a route (`OUTCOME -> target`), an `effect` or a binding",
        Rule::strict_mode_stmt => {
            "a mode statement (`loop`, `set`, `learn`, `concurrent`, a binding or a node block)"
        }
        Rule::strict_binding_stmt => {
            "a binding (`runner`, `model`, `thinking`, `timeout`, `entrypoint`, `skill`)"
        }
        Rule::strict_learn_stmt => "a learn rule (`node OUTCOME -> target (action)`)",
        _ => return None,
    })
}

const OUTCOME_LABEL: &str = "an outcome (UPPER_SNAKE_CASE)";

/// Every keyword of the language (a name may not be one).
const KEYWORDS: &[&str] = &[
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
    "with",
    "runner",
    "model",
    "thinking",
    "timeout",
    "entrypoint",
    "skill",
    "writes",
    "families",
];

/// The keyword that a misspelt first word of a statement probably meant.
fn close_keyword(word: &str, strict: Rule) -> Option<&'static str> {
    let candidates: &[&'static str] = match strict {
        Rule::strict_item => &["stage", "loop", "mode", "alias"],
        Rule::strict_stage_stmt => &["writes", "families"],
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
fn looks_like_route(rest: &str) -> bool {
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
fn unclosed_brace(region: &str) -> Option<usize> {
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
const LOOP_KEYWORDS: &[&str] = &["param", "budget", "entry", "on", "catch", "final", "drop"];

/// The first token of a statement.
fn first_word(text: &str) -> &str {
    let text = text.trim_start();
    &text[..found_width(text)]
}
