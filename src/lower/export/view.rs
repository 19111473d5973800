//! What the exports draw. A route whose target a stage's result may name
//! (`result.resume_stage or builder`) has an edge to every node it could
//! name; drawn that way it buries the graph, so the view draws it once, to
//! a "named by result" point listing the allowed targets. Finals that hand
//! work to another plane and learn rules become links between planes.

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use crate::check::{Plane, ResolvedMode};
use crate::lower::graph::{EdgeKind, GraphEdge, GraphNode, PlaneGraph};

/// The planes of a mode to draw, with the links between them.
pub struct ModeView<'a> {
    pub mode_id: String,
    pub planes: Vec<&'a PlaneGraph>,
    pub links: Vec<Link>,
}

/// An edge as drawn.
pub enum Drawn<'a> {
    /// A route (or effect port) to a node or final of the plane.
    Edge {
        from: NodeIndex,
        to: NodeIndex,
        weight: &'a GraphEdge,
    },
    /// The nodes a stage's result may name for one outcome, drawn once.
    Named {
        from: NodeIndex,
        weight: &'a GraphEdge,
        targets: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A final that creates a work item in the plane owning its family.
    Handoff,
    /// A learn rule starting a learning stage.
    Learn,
}

/// A link from a node (or final) of one plane to a node of another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub from: (Plane, String),
    pub to: (Plane, String),
    pub label: String,
    pub kind: LinkKind,
}

/// The view of `planes` (the mode's lowered graphs, or some of them).
pub fn mode_view<'a>(mode: &ResolvedMode, planes: Vec<&'a PlaneGraph>) -> ModeView<'a> {
    let drawn: Vec<Plane> = planes.iter().map(|g| g.plane).collect();
    let mut links = handoff_links(mode, &drawn);
    links.extend(learn_links(mode, &drawn));
    ModeView {
        mode_id: mode.name.clone(),
        planes,
        links,
    }
}

/// A final's key in exports: finals and nodes may share a name.
pub fn node_key(plane: &PlaneGraph, node: NodeIndex) -> String {
    match &plane.graph[node] {
        GraphNode::Stage { name, .. } => name.clone(),
        GraphNode::Final { name, .. } => format!("final:{name}"),
    }
}

/// The edges of a plane as drawn, in node order.
pub fn drawn_edges(plane: &PlaneGraph) -> Vec<Drawn<'_>> {
    let mut drawn = Vec::new();
    for node in plane.graph.node_indices() {
        let mut edges: Vec<_> = plane.graph.edges(node).collect();
        // petgraph lists a node's edges newest first.
        edges.reverse();
        for edge in &edges {
            let weight = edge.weight();
            if weight.kind != EdgeKind::Resume {
                drawn.push(Drawn::Edge {
                    from: node,
                    to: edge.target(),
                    weight,
                });
            } else if !drawn.iter().any(|d| same_named(d, node, weight)) {
                let targets = named_targets(plane, node, weight);
                drawn.push(Drawn::Named {
                    from: node,
                    weight,
                    targets,
                });
            }
        }
    }
    drawn
}

fn same_named(drawn: &Drawn<'_>, node: NodeIndex, weight: &GraphEdge) -> bool {
    matches!(drawn, Drawn::Named { from, weight: w, .. }
        if *from == node && w.outcome == weight.outcome && w.needs_spent == weight.needs_spent)
}

/// Every node a result may name for this outcome: the route's default (when
/// a node) and the targets of its resume edges, in node order.
fn named_targets(plane: &PlaneGraph, node: NodeIndex, weight: &GraphEdge) -> Vec<String> {
    let mut targets: Vec<NodeIndex> = plane
        .graph
        .edges(node)
        .filter(|e| {
            let w = e.weight();
            w.outcome == weight.outcome
                && w.needs_spent == weight.needs_spent
                && w.kind != EdgeKind::Effect
                && matches!(plane.graph[e.target()], GraphNode::Stage { .. })
        })
        .map(|e| e.target())
        .collect();
    targets.sort();
    targets.dedup();
    targets
        .into_iter()
        .map(|t| plane.graph[t].name().to_string())
        .collect()
}

/// `result.resume_stage or result.target_stage`
pub fn named_by(weight: &GraphEdge) -> String {
    let keys: Vec<String> = weight
        .result_keys
        .iter()
        .map(|k| format!("result.{k}"))
        .collect();
    keys.join(" or ")
}

/// A short annotation for an edge: `[spends b]`, `[b spent]`, `[effect]`.
pub fn annotation(edge: &GraphEdge) -> String {
    let mut parts = Vec::new();
    if let Some(b) = &edge.spends {
        parts.push(format!("spends {b}"));
    }
    if let Some(b) = &edge.needs_spent {
        parts.push(format!("{b} spent"));
    }
    if edge.kind == EdgeKind::Effect {
        parts.push("effect".into());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", parts.join(", "))
    }
}

/// Finals with `handoff F` to the entry of `F` in the plane that owns it.
fn handoff_links(mode: &ResolvedMode, drawn: &[Plane]) -> Vec<Link> {
    let mut links = Vec::new();
    for (&plane, lp) in mode.loops.iter().filter(|(p, _)| drawn.contains(p)) {
        for (name, fin) in &lp.source.finals {
            let Some(family) = fin.handoff else { continue };
            let Some(to) = entry_of(mode, drawn, family) else {
                continue;
            };
            links.push(Link {
                from: (plane, format!("final:{name}")),
                to,
                label: format!("handoff {family}"),
                kind: LinkKind::Handoff,
            });
        }
    }
    links
}

/// The first node of the entry for `family`, in the drawn plane owning it.
fn entry_of(
    mode: &ResolvedMode,
    drawn: &[Plane],
    family: crate::check::Family,
) -> Option<(Plane, String)> {
    mode.loops
        .iter()
        .filter(|(p, _)| drawn.contains(p))
        .find_map(|(&plane, lp)| {
            let entry = lp.source.entries.iter().find(|e| e.family == family)?;
            Some((plane, entry.nodes.first()?.clone()))
        })
}

/// Learn rules: the source stage (in its plane) to the learning stage.
fn learn_links(mode: &ResolvedMode, drawn: &[Plane]) -> Vec<Link> {
    if !drawn.contains(&Plane::Learning) {
        return Vec::new();
    }
    let plane_of = |node: &str| {
        mode.loops
            .iter()
            .find(|(p, lp)| **p != Plane::Learning && lp.source.nodes.contains_key(node))
            .map(|(p, _)| *p)
    };
    let rules = mode.learn.iter().filter_map(|rule| {
        let source = plane_of(&rule.source).filter(|p| drawn.contains(p))?;
        Some(Link {
            from: (source, rule.source.clone()),
            to: (Plane::Learning, rule.target.clone()),
            label: format!("{} ({})", rule.outcomes.join(", "), rule.action),
            kind: LinkKind::Learn,
        })
    });
    rules.collect()
}
