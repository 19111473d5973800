//! Collects the items of every module, reports duplicates, and resolves
//! `extends` chains before handing each loop and mode to its checker.

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Diagnostics, Kind};
use super::flatten::FlatLoop;
use super::model::Program;
use super::stages::{check_stage, duplicate, unknown};
use super::{loops, modes};
use crate::syntax::{AliasDef, Item, LoopDef, ModeDef, Module, Name, StageDef};

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
        if let Some(stage) = check_stage(def, diags) {
            program.stages.insert(stage.name.clone(), stage);
        }
    }
    for name in defs.loops.keys() {
        if let Some(flat) = flatten_loop(&defs, name, diags) {
            let def = defs.loops[name];
            if let Some(checked) = loops::check_loop(def, &flat, &program.stages, diags) {
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
    let mut defs = Defs {
        stages: BTreeMap::new(),
        loops: BTreeMap::new(),
        modes: BTreeMap::new(),
        aliases: BTreeMap::new(),
    };
    for item in modules.iter().flat_map(|m| &m.items) {
        match item {
            Item::Stage(s) => insert(&mut defs.stages, "stage", &s.name, s, diags),
            Item::Loop(l) => insert(&mut defs.loops, "loop", &l.name, l, diags),
            Item::Mode(m) => insert(&mut defs.modes, "mode", &m.name, m, diags),
            Item::Alias(a) => insert(&mut defs.aliases, "alias", &a.name, a, diags),
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

fn insert<'m, T>(
    map: &mut BTreeMap<&'m str, &'m T>,
    what: &'static str,
    name: &'m Name,
    def: &'m T,
    diags: &mut Diagnostics,
) {
    if name.text.is_empty() {
        return;
    }
    if map.contains_key(name.text.as_str()) {
        diags.push(duplicate(what, name));
    } else {
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
            names.push(next.text.clone());
            let kind = Kind::ExtendsCycle { what, chain: names };
            diags.push(Diagnostic::new(
                kind,
                next.span,
                "extends an item that extends this one",
            ));
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
        loops::report_local_duplicates(def, diags);
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
                diags.push(unknown("inherited name", name, &known));
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
