//! From pest pairs to the spanned AST, with one syntax error per bad line.

use pest::Parser;
use pest::iterators::Pair;

use super::ast::*;
use super::builder::Builder;
use super::error::SyntaxError;
use super::grammar::{LoopParser, Rule};
use super::keywords::is_keyword_rule;
use super::recovery::{LOOP_KEYWORDS, empty_route, first_word, is_word, placeholder};
use super::source::{FileId, Span};

/// Parses one file. Always returns a module (possibly partial) and the syntax
/// errors found; a bad statement costs one error and the rest still parses.
pub fn parse(file: FileId, text: &str) -> (Module, Vec<SyntaxError>) {
    let mut builder = Builder::new(file, text);
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

impl<'t> Builder<'t> {
    pub(super) fn name(&self, pair: Pair<'_, Rule>) -> Name {
        Name {
            text: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    pub(super) fn names(&self, list: Pair<'_, Rule>) -> Vec<Name> {
        list.into_inner()
            .filter(is_word)
            .map(|p| self.name(p))
            .collect()
    }

    pub(super) fn int(&self, pair: Pair<'_, Rule>) -> Spanned<u64> {
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
    fn stage(&mut self, pair: Pair<'_, Rule>) -> StageDef {
        let span = self.span(&pair);
        let mut words = Vec::new();
        let (mut outcomes, mut writes, mut families) = (Vec::new(), Vec::new(), Vec::new());
        let (mut requests, mut builtins) = (Vec::new(), Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => words.push(self.name(inner)),
                Rule::builtin_decl => builtins.extend(self.names(inner)),
                Rule::outcome_decl => outcomes.push(self.outcome_decl(inner)),
                Rule::requests_decl => requests.extend(self.capabilities(inner)),
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
            requests,
            builtins,
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

    pub(super) fn list_after_keyword(&self, pair: Pair<'_, Rule>) -> Vec<Name> {
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
            Rule::grant_decl => LoopStmt::Grant(self.grant(pair)),
            _ => return None,
        };
        Some(stmt)
    }

    /// The identifiers directly inside a pair, in order.
    pub(super) fn words(&self, pair: Pair<'_, Rule>) -> Vec<Name> {
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

    pub(super) fn first_word(&self, pair: Pair<'_, Rule>) -> Option<Name> {
        pair.into_inner().find(is_word).map(|p| self.name(p))
    }

    fn node(&mut self, pair: Pair<'_, Rule>) -> NodeDef {
        let span = self.span(&pair);
        let mut words = Vec::new();
        let (mut routes, mut effects, mut bindings) = (Vec::new(), Vec::new(), Vec::new());
        let (mut grants, mut misplaced) = (Vec::new(), false);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => words.push(self.name(inner)),
                // After a line that shows the block's `}` is missing, what
                // follows belongs to the loop or to another node, not here.
                _ if misplaced && inner.as_rule() != Rule::bad_stmt => {}
                Rule::route_decl => routes.push(self.route_decl(inner)),
                Rule::effect_decl => effects.push(self.effect(inner)),
                Rule::grant_decl => grants.push(self.grant(inner)),
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
            grants,
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
            lanes: Vec::new(),
            bindings: Vec::new(),
            stage_bindings: Vec::new(),
            grants: Vec::new(),
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
            Rule::lanes_decl => mode.lanes.push(self.lanes(pair)),
            Rule::bindings => mode.bindings.extend(self.bindings(pair)),
            Rule::grant_decl => mode.grants.push(self.grant(pair)),
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

    fn lanes(&self, pair: Pair<'_, Rule>) -> LanesDecl {
        let span = self.span(&pair);
        let param = self.param(pair);
        LanesDecl {
            plane: param.name,
            count: param.value,
            span,
        }
    }

    fn stage_bindings(&mut self, pair: Pair<'_, Rule>) -> StageBindings {
        let span = self.span(&pair);
        let (mut stage, mut bindings, mut grants) = (None, Vec::new(), Vec::new());
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => stage = Some(self.name(inner)),
                Rule::bindings => bindings.extend(self.bindings(inner)),
                Rule::grant_decl => grants.push(self.grant(inner)),
                Rule::bad_stmt => self.recover(&inner, Rule::strict_binding_stmt),
                _ => {}
            }
        }
        StageBindings {
            stage: stage.unwrap_or_else(|| placeholder(span)),
            bindings,
            grants,
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
