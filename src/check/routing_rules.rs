//! Rules over a whole loop's routing once its names resolve (see
//! [`loop_resolve`](super::loop_resolve)): totality, reachability, final
//! classes, and warnings for what is declared but never used; plus the
//! route walks (`route_chain`, `route_targets`, `reachable`) that `lower`
//! reuses.

use std::collections::{BTreeMap, BTreeSet};

use super::diagnostic::{Diagnostic, Diagnostics, Kind};
use super::model::*;

/// `recovered`: part of the loop did not parse, so what it routed, entered
/// or spent is unknown; only the rules that hold route by route are checked.
pub fn check(
    lp: &Loop,
    stages: &BTreeMap<String, StageKind>,
    recovered: bool,
    diags: &mut Diagnostics,
) {
    final_classes(lp, stages, diags);
    if !recovered {
        totality(lp, stages, diags);
        reachability(lp, diags);
        unused(lp, diags);
    }
}

fn totality(lp: &Loop, stages: &BTreeMap<String, StageKind>, diags: &mut Diagnostics) {
    for name in &lp.node_order {
        let node = &lp.nodes[name];
        let Some(stage) = stages.get(&node.kind) else {
            continue;
        };
        for outcome in &stage.outcomes {
            if !node.routes.contains_key(&outcome.name) {
                let kind = Kind::UnroutedOutcome {
                    node: node.name.clone(),
                    outcome: outcome.name.clone(),
                };
                let label = format!("`{}` has no route", outcome.name);
                diags.push(Diagnostic::new(kind, node.span, label));
            }
        }
    }
}

/// Every route of a node, including the routes taken when budgets run out.
pub fn route_chain(route: &Route) -> impl Iterator<Item = &Route> {
    std::iter::successors(Some(route), |r| {
        r.budget.as_ref().map(|(_, next)| next.as_ref())
    })
}

/// The nodes a route may lead to (a result key may name any node but the excepted).
pub fn route_targets<'a>(lp: &'a Loop, route: &'a Route) -> Vec<&'a str> {
    let mut targets = Vec::new();
    if let Dest::Node(n) = &route.to {
        targets.push(n.as_str());
    }
    if !route.result_keys.is_empty() {
        let open = lp.node_order.iter().filter(|n| !route.except.contains(n));
        targets.extend(open.map(String::as_str));
    }
    targets
}

/// Nodes reachable from any entry, `on drained`, or (for learning) learn targets.
pub fn reachable<'a>(lp: &'a Loop, extra_starts: &[&'a str]) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = lp
        .entries
        .iter()
        .flat_map(|e| e.nodes.iter().map(String::as_str))
        .collect();
    stack.extend(lp.drained.as_deref());
    stack.extend(extra_starts.iter().copied());
    while let Some(name) = stack.pop() {
        if !seen.insert(name) {
            continue;
        }
        let Some(node) = lp.nodes.get(name) else {
            continue;
        };
        for route in node.routes.values().flat_map(route_chain) {
            stack.extend(route_targets(lp, route));
        }
        for dest in node.effects.iter().flat_map(|e| e.ports.values()) {
            if let Dest::Node(n) = dest {
                stack.push(n);
            }
        }
    }
    seen
}

fn reachability(lp: &Loop, diags: &mut Diagnostics) {
    let seen = reachable(lp, &[]);
    for name in &lp.node_order {
        if !seen.contains(name.as_str()) {
            let kind = Kind::UnreachableNode { node: name.clone() };
            diags.push(Diagnostic::new(
                kind,
                lp.nodes[name].span,
                "nothing routes here",
            ));
        }
    }
}

fn final_classes(lp: &Loop, stages: &BTreeMap<String, StageKind>, diags: &mut Diagnostics) {
    for node in lp.nodes.values() {
        let Some(stage) = stages.get(&node.kind) else {
            continue;
        };
        for (outcome, route) in &node.routes {
            let classes = stage
                .outcome(outcome)
                .map(|o| o.classes.clone())
                .unwrap_or_default();
            let mut allowed = classes;
            let mut source = format!("outcome `{outcome}`");
            let mut spent: Option<&str> = None;
            for step in route_chain(route) {
                if let Some(budget) = spent {
                    // A route taken because a budget ran out blocks the item.
                    if !allowed.contains(&ResultClass::Blocked) {
                        allowed.push(ResultClass::Blocked);
                    }
                    source = format!("outcome `{outcome}` with budget `{budget}` spent");
                }
                fits_final(lp, &step.to, &allowed, &source, step, diags);
                spent = step.budget.as_ref().map(|(b, _)| b.as_str());
            }
        }
        for effect in &node.effects {
            for (port, dest) in &effect.ports {
                let allowed = match port.as_str() {
                    "done" => vec![ResultClass::Success, ResultClass::NoOp],
                    _ => vec![ResultClass::Blocked],
                };
                let route_like = Route {
                    result_keys: Vec::new(),
                    to: dest.clone(),
                    except: Vec::new(),
                    budget: None,
                    from_catch: false,
                    span: effect.port_spans.get(port).copied().unwrap_or(effect.span),
                };
                let source = format!("the `{port}` port of effect `{}`", effect.id);
                fits_final(lp, dest, &allowed, &source, &route_like, diags);
            }
        }
    }
}

fn fits_final(
    lp: &Loop,
    dest: &Dest,
    allowed: &[ResultClass],
    source: &str,
    route: &Route,
    diags: &mut Diagnostics,
) {
    let Dest::Final(name) = dest else { return };
    let Some(fin) = lp.finals.get(name) else {
        return;
    };
    if allowed.contains(&fin.class) {
        return;
    }
    let kind = Kind::FinalClassMismatch {
        target: name.clone(),
        class: fin.class.to_string(),
        source: source.to_string(),
        allowed: allowed.iter().map(|c| format!("`{c}`")).collect(),
    };
    let note = format!("declared `{}` here", fin.class);
    diags.push(Diagnostic::new(kind, route.span, "routed here").with_note(fin.span, note));
}

fn unused(lp: &Loop, diags: &mut Diagnostics) {
    let mut spent = BTreeSet::new();
    let mut reached = BTreeSet::new();
    for node in lp.nodes.values() {
        for route in node.routes.values().flat_map(route_chain) {
            if let Some((budget, _)) = &route.budget {
                spent.insert(budget.as_str());
            }
            if let Dest::Final(f) = &route.to {
                reached.insert(f.as_str());
            }
        }
        for dest in node.effects.iter().flat_map(|e| e.ports.values()) {
            if let Dest::Final(f) = dest {
                reached.insert(f.as_str());
            }
        }
    }
    for (name, budget) in &lp.budgets {
        if !spent.contains(name.as_str()) {
            diags.push(Diagnostic::new(
                Kind::UnusedBudget { name: name.clone() },
                budget.span,
                "declared here",
            ));
        }
    }
    for (name, fin) in &lp.finals {
        if !reached.contains(name.as_str()) {
            diags.push(Diagnostic::new(
                Kind::UnusedFinal { name: name.clone() },
                fin.span,
                "declared here",
            ));
        }
    }
    let used_params: BTreeSet<&str> = lp
        .budgets
        .values()
        .flat_map(|b| [Some(&b.limit), b.cap.as_ref()])
        .flatten()
        .filter_map(|l| match l {
            Limit::Param(p) => Some(p.as_str()),
            Limit::Fixed(_) => None,
        })
        .collect();
    for (name, param) in &lp.params {
        if !used_params.contains(name.as_str()) {
            diags.push(Diagnostic::new(
                Kind::UnusedParam { name: name.clone() },
                param.span,
                "declared here",
            ));
        }
    }
}
