//! Lanes and the merge gate: with more than one execution lane, every way a
//! task can finish passes a `builtin merge_gate` node, so no task's work
//! reaches `done/` without entering the target branch through the gate.

use std::collections::{BTreeMap, VecDeque};

use super::diagnostic::{Diagnostic, Diagnostics, Kind};
use super::model::*;
use super::routing_rules::{route_chain, route_targets};
use crate::syntax::{LanesDecl, ModeDef};

/// Reports `millrace::lanes_unmerged` at the mode's `lanes execution N`
/// line when N > 1 and the execution loop has a path that skips the gate.
pub fn check_merged(mode: &Mode, chain: &[&ModeDef], program: &Program, diags: &mut Diagnostics) {
    let Some(&lanes) = mode.lanes.get(&Plane::Execution) else {
        return;
    };
    let Some(decl) = execution_lanes_decl(chain) else {
        return;
    };
    let execution = mode.loops.get(&Plane::Execution);
    let Some(lp) = execution.and_then(|name| program.loops.get(name)) else {
        return;
    };
    let Some(path) = unmerged_path(lp, &program.stages) else {
        return;
    };
    let shown = path.join(" -> ");
    let fin = path.last().and_then(|f| lp.finals.get(f));
    let kind = Kind::LanesUnmerged {
        lanes,
        loop_name: lp.name.clone(),
        path,
    };
    let mut d = Diagnostic::new(kind, decl.span, format!("`{shown}` skips the merge gate"));
    if let Some(fin) = fin {
        d = d.with_note(fin.span, "a task finishes here without merging");
    }
    diags.push(d);
}

/// The `lanes execution N` in force: the last one of the `extends` chain.
fn execution_lanes_decl<'a>(chain: &[&'a ModeDef]) -> Option<&'a LanesDecl> {
    let mut decls = chain.iter().rev().flat_map(|def| def.lanes.iter().rev());
    decls.find(|d| d.plane.text == Plane::Execution.as_str())
}

fn is_merge_gate(lp: &Loop, stages: &BTreeMap<String, StageKind>, node: &str) -> bool {
    let kind = lp.nodes.get(node).map(|n| n.kind.as_str());
    let stage = kind.and_then(|k| stages.get(k));
    stage.is_some_and(|s| s.builtin == Some(Builtin::MergeGate))
}

/// The shortest path (entry node to a finishing final) that passes no merge
/// gate, or `None` when every such path passes one.
fn unmerged_path(lp: &Loop, stages: &BTreeMap<String, StageKind>) -> Option<Vec<String>> {
    let starts = lp.entries.iter().flat_map(|e| e.nodes.iter());
    let starts = starts.chain(lp.drained.iter()).map(String::as_str);
    let mut came_from: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    for start in starts {
        if !is_merge_gate(lp, stages, start) && !came_from.contains_key(start) {
            came_from.insert(start, None);
            queue.push_back(start);
        }
    }
    while let Some(name) = queue.pop_front() {
        for next in successors(lp, name) {
            match next {
                Step::Final(f) if lp.finals.get(f).is_some_and(|x| x.class.finishes()) => {
                    return Some(path_to(&came_from, name, f));
                }
                Step::Node(n) if !came_from.contains_key(n) && !is_merge_gate(lp, stages, n) => {
                    came_from.insert(n, Some(name));
                    queue.push_back(n);
                }
                _ => {}
            }
        }
    }
    None
}

/// Where a route or an effect port leads.
#[derive(Clone, Copy)]
enum Step<'a> {
    Node(&'a str),
    Final(&'a str),
}

impl<'a> From<&'a Dest> for Step<'a> {
    fn from(dest: &'a Dest) -> Self {
        match dest {
            Dest::Node(n) => Step::Node(n),
            Dest::Final(f) => Step::Final(f),
        }
    }
}

/// Every node and final a node's routes (budgets spent or not, result keys
/// included) and effect ports may lead to: the routes the node writes
/// first, so the path shown reads as the loop's usual way.
fn successors<'a>(lp: &'a Loop, name: &str) -> Vec<Step<'a>> {
    let Some(node) = lp.nodes.get(name) else {
        return Vec::new();
    };
    let mut routes: Vec<&Route> = node.routes.values().flat_map(route_chain).collect();
    routes.sort_by_key(|r| r.from_catch);
    let mut next: Vec<Step> = routes.iter().map(|r| Step::from(&r.to)).collect();
    for route in routes {
        next.extend(route_targets(lp, route).into_iter().map(Step::Node));
    }
    let ports = node.effects.iter().flat_map(|e| e.ports.values());
    next.extend(ports.map(Step::from));
    next
}

/// The nodes from a start to `last`, then the final reached from it.
fn path_to(came_from: &BTreeMap<&str, Option<&str>>, last: &str, fin: &str) -> Vec<String> {
    let mut path = vec![fin.to_string()];
    let mut at = Some(last);
    while let Some(name) = at {
        path.push(name.to_string());
        at = came_from.get(name).copied().flatten();
    }
    path.reverse();
    path
}
