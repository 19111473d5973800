//! The termination proof: with budget-spending routes removed, a plane's
//! graph must be acyclic. Then the longest walk one work item can take is
//! finite, and we compute it (`max_stage_runs`).

use std::collections::{BTreeMap, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use super::graph::{EdgeKind, GraphEdge, GraphNode, PlaneGraph};
use crate::check::{Diagnostic, Diagnostics, Kind};

/// The most stage runs one work item can take in a plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub max_stage_runs: u64,
    /// True when computed over every budget state; false for the coarser
    /// bound used when the state space is too large to walk.
    pub exact: bool,
}

/// The largest budget state space walked exactly.
const EXACT_STATE_LIMIT: u64 = 4_000_000;

pub fn prove_termination(plane: &PlaneGraph) -> Result<Bound, Diagnostics> {
    let cycles = free_cycles(plane);
    if !cycles.is_empty() {
        let mut diags = Diagnostics::default();
        for cycle in cycles {
            diags.push(cycle_diagnostic(plane, &cycle));
        }
        return Err(diags);
    }
    Ok(bound(plane))
}

/// An edge the proof may count on to make progress.
fn spends_bounded(plane: &PlaneGraph, edge: &GraphEdge) -> bool {
    edge.spends
        .as_ref()
        .is_some_and(|b| plane.limits.get(b).copied().flatten().is_some())
}

fn is_stage(plane: &PlaneGraph, node: NodeIndex) -> bool {
    matches!(plane.graph[node], GraphNode::Stage { .. })
}

/// Cycles (as edge lists) of the graph without budget-spending edges.
fn free_cycles(plane: &PlaneGraph) -> Vec<Vec<EdgeIndex>> {
    let free = plane.graph.filter_map(
        |_, n| Some(n.clone()),
        |_, e| (!spends_bounded(plane, e)).then(|| e.clone()),
    );
    let mut cycles = Vec::new();
    for scc in tarjan_scc(&free) {
        let looped = scc.len() > 1 || free.find_edge(scc[0], scc[0]).is_some();
        if looped && is_stage(plane, scc[0]) {
            cycles.push(cycle_in(plane, &scc));
        }
    }
    cycles.sort();
    cycles
}

/// One concrete cycle through the first node of a strongly connected set,
/// as edges of the full graph.
fn cycle_in(plane: &PlaneGraph, scc: &[NodeIndex]) -> Vec<EdgeIndex> {
    let start = *scc.iter().min().unwrap_or(&scc[0]);
    let mut parent: HashMap<NodeIndex, EdgeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for edge in plane.graph.edges(node) {
            if spends_bounded(plane, edge.weight()) || !scc.contains(&edge.target()) {
                continue;
            }
            if edge.target() == start {
                return walk_back(plane, &parent, node, edge.id(), start);
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = parent.entry(edge.target()) {
                slot.insert(edge.id());
                queue.push_back(edge.target());
            }
        }
    }
    Vec::new()
}

fn walk_back(
    plane: &PlaneGraph,
    parent: &HashMap<NodeIndex, EdgeIndex>,
    mut node: NodeIndex,
    closing: EdgeIndex,
    start: NodeIndex,
) -> Vec<EdgeIndex> {
    let mut edges = vec![closing];
    while node != start {
        let Some(&edge) = parent.get(&node) else {
            break;
        };
        edges.push(edge);
        node = plane
            .graph
            .edge_endpoints(edge)
            .map_or(start, |(from, _)| from);
    }
    edges.reverse();
    edges
}

fn cycle_diagnostic(plane: &PlaneGraph, cycle: &[EdgeIndex]) -> Diagnostic {
    let mut names = Vec::new();
    for &edge in cycle {
        if let Some((from, _)) = plane.graph.edge_endpoints(edge) {
            let weight = &plane.graph[edge];
            let how = match (&weight.kind, &weight.needs_spent, &weight.spends) {
                (EdgeKind::Resume, _, _) => " (resumed by result key)".to_string(),
                (_, Some(budget), _) => format!(" ({budget} spent)"),
                (_, _, Some(budget)) => format!(" (spends uncapped {budget})"),
                _ => String::new(),
            };
            names.push(format!(
                "{} {}{how}",
                plane.graph[from].name(),
                weight.outcome
            ));
        }
    }
    if let Some(first) = names.first().cloned() {
        names.push(first.split(' ').next().unwrap_or_default().to_string());
    }
    let closing = cycle
        .last()
        .map(|&e| plane.graph[e].span)
        .unwrap_or(plane.loop_span);
    let mut uncapped = Vec::new();
    let mut resumes_to = Vec::new();
    for &edge in cycle {
        let weight = &plane.graph[edge];
        if let Some(budget) = &weight.spends {
            let unbounded = plane.limits.get(budget).is_some_and(Option::is_none);
            if unbounded && !uncapped.contains(budget) {
                uncapped.push(budget.clone());
            }
        }
        if weight.kind == EdgeKind::Resume {
            if let Some((_, to)) = plane.graph.edge_endpoints(edge) {
                resumes_to.push(plane.graph[to].name().to_string());
            }
        }
    }
    let kind = Kind::UnboundedCycle {
        cycle: names,
        uncapped,
        resumes_to,
    };
    let mut diagnostic = Diagnostic::new(kind, closing, "closes the cycle");
    for &edge in &cycle[..cycle.len().saturating_sub(1)] {
        let span = plane.graph[edge].span;
        if span != closing {
            diagnostic = diagnostic.with_note(span, "part of the cycle");
        }
    }
    diagnostic
}

/// The longest walk: exact over budget states when they are few enough.
fn bound(plane: &PlaneGraph) -> Bound {
    let budgets: Vec<(&String, u64)> = plane
        .limits
        .iter()
        .filter_map(|(name, limit)| limit.map(|l| (name, l)))
        .collect();
    let states = budgets
        .iter()
        .try_fold(1u64, |acc, (_, l)| acc.checked_mul(l + 1));
    let nodes = plane.graph.node_count() as u64;
    let small_limits = budgets.iter().all(|(_, l)| *l < u64::from(u8::MAX));
    match states
        .and_then(|s| s.checked_mul(nodes))
        .filter(|_| small_limits)
    {
        Some(total) if total <= EXACT_STATE_LIMIT => Bound {
            max_stage_runs: exact(plane, &budgets),
            exact: true,
        },
        _ => Bound {
            max_stage_runs: coarse(plane, &budgets),
            exact: false,
        },
    }
}

/// Budget counters of a walk, one slot per bounded budget.
type Counts = Vec<u8>;

struct Walker<'a> {
    plane: &'a PlaneGraph,
    slots: BTreeMap<&'a str, (usize, u64)>,
    memo: HashMap<(NodeIndex, Counts), u64>,
}

fn exact(plane: &PlaneGraph, budgets: &[(&String, u64)]) -> u64 {
    let slots = budgets
        .iter()
        .enumerate()
        .map(|(i, (name, l))| (name.as_str(), (i, *l)))
        .collect();
    let mut walker = Walker {
        plane,
        slots,
        memo: HashMap::new(),
    };
    let zero: Counts = vec![0; budgets.len()];
    plane
        .starts
        .iter()
        .map(|&s| walker.longest(s, zero.clone()))
        .max()
        .unwrap_or(0)
}

impl Walker<'_> {
    /// Stage runs of the longest walk from `node` with `counts` spent,
    /// computed with an explicit stack (graphs may be deep).
    fn longest(&mut self, start: NodeIndex, counts: Counts) -> u64 {
        let mut stack = vec![(start, counts, false)];
        while let Some((node, counts, expanded)) = stack.pop() {
            if self.memo.contains_key(&(node, counts.clone())) {
                continue;
            }
            let next = self.successors(node, &counts);
            if expanded {
                let best = next
                    .iter()
                    .filter_map(|s| self.memo.get(s))
                    .max()
                    .copied()
                    .unwrap_or(0);
                self.memo
                    .insert((node, counts), best + u64::from(is_stage(self.plane, node)));
                continue;
            }
            stack.push((node, counts, true));
            for (n, c) in next {
                if !self.memo.contains_key(&(n, c.clone())) {
                    stack.push((n, c, false));
                }
            }
        }
        self.memo
            .get(&(start, vec![0; self.slots.len()]))
            .copied()
            .unwrap_or(0)
    }

    fn successors(&self, node: NodeIndex, counts: &Counts) -> Vec<(NodeIndex, Counts)> {
        if !is_stage(self.plane, node) {
            return Vec::new();
        }
        let mut next = Vec::new();
        for edge in self.plane.graph.edges(node) {
            let e = edge.weight();
            if let Some(needed) = e.needs_spent.as_deref().and_then(|b| self.slots.get(b)) {
                if u64::from(counts[needed.0]) < needed.1 {
                    continue;
                }
            }
            let mut counts = counts.clone();
            if let Some(&(slot, limit)) = e.spends.as_deref().and_then(|b| self.slots.get(b)) {
                if u64::from(counts[slot]) >= limit {
                    continue;
                }
                counts[slot] += 1;
            }
            next.push((edge.target(), counts));
        }
        next
    }
}

/// `(1 + total spends) * longest budget-free path`: sound but loose.
fn coarse(plane: &PlaneGraph, budgets: &[(&String, u64)]) -> u64 {
    let spends: u64 = budgets.iter().map(|(_, l)| l).sum();
    let order = petgraph::algo::toposort(
        &plane.graph.filter_map(
            |_, n| Some(n.clone()),
            |_, e| (!spends_bounded(plane, e)).then_some(()),
        ),
        None,
    );
    let Ok(order) = order else { return u64::MAX };
    let mut depth: HashMap<NodeIndex, u64> = HashMap::new();
    for &node in order.iter().rev() {
        let here = u64::from(is_stage(plane, node));
        let tail = plane
            .graph
            .edges(node)
            .filter(|e| !spends_bounded(plane, e.weight()));
        let best = tail
            .filter_map(|e| depth.get(&e.target()))
            .max()
            .copied()
            .unwrap_or(0);
        depth.insert(node, here + best);
    }
    let longest = depth.values().max().copied().unwrap_or(0);
    (1 + spends).saturating_mul(longest)
}
