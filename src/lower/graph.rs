//! The stage graph of one plane: stage nodes and finals, one edge per way an
//! outcome can leave a node, marked with the budget it spends or needs spent.

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::check::{Dest, Plane, ResolvedLoop, ResultClass, Route, route_targets};
use crate::syntax::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphNode {
    Stage { name: String, kind: String },
    Final { name: String, class: ResultClass },
}

impl GraphNode {
    pub fn name(&self) -> &str {
        match self {
            GraphNode::Stage { name, .. } | GraphNode::Final { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// The outcome's own route.
    Direct,
    /// A target named by the stage's result metadata.
    Resume,
    /// The route taken because a budget is spent.
    Exhausted,
    /// A port of a runtime effect.
    Effect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEdge {
    pub outcome: String,
    pub kind: EdgeKind,
    /// The budget this edge spends.
    pub spends: Option<String>,
    /// The budget that must be spent for this edge to be taken.
    pub needs_spent: Option<String>,
    /// For a [`EdgeKind::Resume`] edge: the result keys that may name its target.
    pub result_keys: Vec<String>,
    pub span: Span,
}

/// One plane's graph with its budgets' limits.
#[derive(Debug, Clone)]
pub struct PlaneGraph {
    pub plane: Plane,
    pub loop_name: String,
    pub graph: DiGraph<GraphNode, GraphEdge>,
    pub index: BTreeMap<String, NodeIndex>,
    /// Budget -> the number of spends the proof may count on (`None`: unbounded).
    pub limits: BTreeMap<String, Option<u64>>,
    /// Where work starts: entry nodes, `on drained`, learn targets.
    pub starts: Vec<NodeIndex>,
    pub loop_span: Span,
}

/// Builds the graph of a resolved loop; `extra_starts` are learn targets.
pub fn build(lp: &ResolvedLoop, extra_starts: &[String]) -> PlaneGraph {
    let source = &lp.source;
    let mut graph = DiGraph::new();
    let mut index = BTreeMap::new();
    for name in &source.node_order {
        let kind = source.nodes[name].kind.clone();
        index.insert(
            name.clone(),
            graph.add_node(GraphNode::Stage {
                name: name.clone(),
                kind,
            }),
        );
    }
    for (name, fin) in &source.finals {
        index.insert(
            name.clone(),
            graph.add_node(GraphNode::Final {
                name: name.clone(),
                class: fin.class,
            }),
        );
    }
    let mut plane = PlaneGraph {
        plane: source.plane,
        loop_name: source.name.clone(),
        graph,
        index,
        limits: budget_limits(lp),
        starts: Vec::new(),
        loop_span: source.span,
    };
    add_edges(&mut plane, lp);
    plane.starts = starts(lp, extra_starts, &plane.index);
    plane
}

fn budget_limits(lp: &ResolvedLoop) -> BTreeMap<String, Option<u64>> {
    let budgets = &lp.source.budgets;
    let limit = |name: &String, (limit, cap): &(u64, Option<u64>)| {
        let per_class = budgets.get(name).is_some_and(|b| b.per_failure_class);
        if per_class { *cap } else { Some(*limit) }
    };
    lp.limits
        .iter()
        .map(|(name, l)| (name.clone(), limit(name, l)))
        .collect()
}

fn starts(
    lp: &ResolvedLoop,
    extra: &[String],
    index: &BTreeMap<String, NodeIndex>,
) -> Vec<NodeIndex> {
    let source = &lp.source;
    let entries = source.entries.iter().flat_map(|e| e.nodes.iter());
    let names = entries.chain(source.drained.iter()).chain(extra.iter());
    let mut starts: Vec<NodeIndex> = names.filter_map(|n| index.get(n).copied()).collect();
    starts.sort();
    starts.dedup();
    starts
}

fn add_edges(plane: &mut PlaneGraph, lp: &ResolvedLoop) {
    for name in &lp.source.node_order {
        let node = &lp.source.nodes[name];
        let from = plane.index[name];
        for (outcome, route) in &node.routes {
            add_route(plane, lp, from, outcome, route, None);
        }
        for effect in &node.effects {
            for (port, dest) in &effect.ports {
                let edge = GraphEdge {
                    outcome: format!("{}.{port}", effect.id),
                    kind: EdgeKind::Effect,
                    spends: None,
                    needs_spent: None,
                    result_keys: Vec::new(),
                    span: effect.port_spans.get(port).copied().unwrap_or(effect.span),
                };
                connect(plane, from, dest.name(), edge);
            }
        }
    }
}

/// Adds the edges of a route and, recursively, of the route its budget
/// falls back to.
fn add_route(
    plane: &mut PlaneGraph,
    lp: &ResolvedLoop,
    from: NodeIndex,
    outcome: &str,
    route: &Route,
    needs_spent: Option<&str>,
) {
    let spends = route.budget.as_ref().map(|(b, _)| b.clone());
    let base_kind = if needs_spent.is_some() {
        EdgeKind::Exhausted
    } else {
        EdgeKind::Direct
    };
    let edge = |kind| GraphEdge {
        outcome: outcome.to_string(),
        kind,
        spends: spends.clone(),
        needs_spent: needs_spent.map(str::to_string),
        result_keys: match kind {
            EdgeKind::Resume => route.result_keys.clone(),
            _ => Vec::new(),
        },
        span: route.span,
    };
    connect(plane, from, route.to.name(), edge(base_kind));
    if !route.result_keys.is_empty() {
        for target in route_targets(&lp.source, route) {
            if Dest::Node(target.to_string()) != route.to {
                connect(plane, from, target, edge(EdgeKind::Resume));
            }
        }
    }
    if let Some((budget, exhausted)) = &route.budget {
        add_route(plane, lp, from, outcome, exhausted, Some(budget));
    }
}

fn connect(plane: &mut PlaneGraph, from: NodeIndex, to: &str, edge: GraphEdge) {
    if let Some(&to) = plane.index.get(to) {
        plane.graph.add_edge(from, to, edge);
    }
}
