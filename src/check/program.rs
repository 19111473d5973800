//! Collects the items of every module, reports duplicates, and resolves
//! `extends` chains before handing each loop and mode to its checker.

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Diagnostics, Kind};
use super::flatten::FlatLoop;
use super::model::Program;
use super::stages::{check_stage, duplicate, relabel, unknown};
use super::{loop_resolve, modes};
use crate::syntax::{AliasDef, Item, LoopDef, ModeDef, Module, Name, Span, StageDef};

/// Definitions by name, first definition wins.
struct Defs<'m> {
    stages: BTreeMap<&'m str, &'m StageDef>,
    loops: BTreeMap<&'m str, &'m LoopDef>,
    modes: BTreeMap<&'m str, &'m ModeDef>,
    aliases: BTreeMap<&'m str, &'m AliasDef>,
}

pub fn check_modules(modules: &[Module], diags: &mut Diagnostics) -> Program {
    let defs = collect(modules, diags);
    let mut program = Program::default();
    for def in defs.stages.values() {
        if let Some(mut stage) = check_stage(def, diags) {
            stage.requests = super::grants::requests(&def.requests, diags);
            program.stages.insert(stage.name.clone(), stage);
        }
    }
    for name in defs.loops.keys() {
        if let Some(flat) = flatten_loop(&defs, name, diags) {
            let def = defs.loops[name];
            if let Some(checked) = loop_resolve::check_loop(def, &flat, &program.stages, diags) {
                program.loops.insert(checked.name.clone(), checked);
            }
        }
    }
    for name in defs.modes.keys() {
        if let Some(chain) = extends_chain(&defs.modes, name, "mode", |d| &d.extends, diags) {
            if let Some(mode) = modes::check_mode(&chain, &program, diags) {
                program.modes.insert(mode.name.clone(), mode);
            }
        }
    }
    check_aliases(&defs, &mut program, diags);
    program
}

fn collect<'m>(modules: &'m [Module], diags: &mut Diagnostics) -> Defs<'m> {
    let mut first: BTreeMap<(&str, &str), Span> = BTreeMap::new();
    let mut defs = Defs {
        stages: BTreeMap::new(),
        loops: BTreeMap::new(),
        modes: BTreeMap::new(),
        aliases: BTreeMap::new(),
    };
    for item in modules.iter().flat_map(|m| &m.items) {
        let (what, name) = match item {
            Item::Stage(s) => ("stage", &s.name),
            Item::Loop(l) => ("loop", &l.name),
            Item::Mode(m) => ("mode", &m.name),
            Item::Alias(a) => ("alias", &a.name),
        };
        if let Some(&span) = first.get(&(what, name.text.as_str())) {
            diags.push(duplicate(what, name).with_note(span, "first defined here"));
            continue;
        }
        if !name.text.is_empty() {
            first.insert((what, &name.text), name.span);
        }
        match item {
            Item::Stage(s) => insert(&mut defs.stages, &s.name, s),
            Item::Loop(l) => insert(&mut defs.loops, &l.name, l),
            Item::Mode(m) => insert(&mut defs.modes, &m.name, m),
            Item::Alias(a) => insert(&mut defs.aliases, &a.name, a),
        }
    }
    for (name, alias) in &defs.aliases {
        if let Some(mode) = defs.modes.get(name) {
            let d = duplicate("mode", &alias.name).with_note(mode.name.span, "mode defined here");
            diags.push(d);
        }
    }
    defs
}

fn insert<'m, T>(map: &mut BTreeMap<&'m str, &'m T>, name: &'m Name, def: &'m T) {
    if !name.text.is_empty() {
        map.insert(&name.text, def);
    }
}

/// The chain `[root, ..., def]` of an item and its ancestors, or `None` after
/// reporting an unknown parent or a cycle.
pub fn extends_chain<'m, T>(
    defs: &BTreeMap<&'m str, &'m T>,
    name: &str,
    what: &'static str,
    parent: impl Fn(&T) -> &Option<Name>,
    diags: &mut Diagnostics,
) -> Option<Vec<&'m T>> {
    let mut chain: Vec<&'m T> = Vec::new();
    let mut names: Vec<String> = vec![name.to_string()];
    let mut current = *defs.get(name)?;
    chain.push(current);
    while let Some(next) = parent(current) {
        if names.contains(&next.text) {
            // Reported once, from the cycle's first member by name; an item
            // that only leads into a cycle is not reported again.
            let first = names.iter().min().is_some_and(|n| *n == name);
            if next.text == name && first {
                names.push(next.text.clone());
                let links: Vec<&Name> = chain.iter().filter_map(|d| parent(d).as_ref()).collect();
                let kind = Kind::ExtendsCycle { what, chain: names };
                let label = format!("this `extends` leads back to `{name}`");
                let mut d = Diagnostic::new(kind, links[0].span, label);
                for link in &links[1..] {
                    d = d.with_note(link.span, "part of the cycle");
                }
                diags.push(d);
            }
            return None;
        }
        let Some(def) = defs.get(next.text.as_str()) else {
            let known: Vec<&str> = defs.keys().copied().collect();
            diags.push(unknown(what, next, &known));
            return None;
        };
        names.push(next.text.clone());
        current = def;
        chain.push(current);
    }
    chain.reverse();
    Some(chain)
}

fn flatten_loop(defs: &Defs<'_>, name: &str, diags: &mut Diagnostics) -> Option<FlatLoop> {
    let chain = extends_chain(&defs.loops, name, "loop", |d| &d.extends, diags)?;
    let mut flat = FlatLoop::default();
    for def in chain {
        loop_resolve::report_local_duplicates(def, diags);
        report_bad_drops(def, &flat, diags);
        flat.apply(def);
    }
    Some(flat)
}

fn report_bad_drops(def: &LoopDef, flat: &FlatLoop, diags: &mut Diagnostics) {
    for stmt in &def.stmts {
        let crate::syntax::LoopStmt::Drop(drop) = stmt else {
            continue;
        };
        for name in &drop.names {
            if !flat.defines(&name.text) {
                let mut known: Vec<&str> =
                    flat.nodes.iter().map(|n| n.name.text.as_str()).collect();
                known.extend(flat.finals.keys().map(String::as_str));
                let d = unknown("node, final, budget or param", name, &known);
                diags.push(relabel(d, "the parent loop defines no such name"));
            }
        }
    }
}

fn check_aliases(defs: &Defs<'_>, program: &mut Program, diags: &mut Diagnostics) {
    let known: Vec<&str> = defs.modes.keys().copied().collect();
    for (name, alias) in &defs.aliases {
        if defs.modes.contains_key(alias.target.text.as_str()) {
            program
                .aliases
                .insert(name.to_string(), alias.target.text.clone());
        } else {
            diags.push(unknown("mode", &alias.target, &known));
        }
    }
}
