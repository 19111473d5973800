//! Mermaid flowchart: one subgraph per plane, the same distinctions as DOT.

use std::fmt::Write;

use petgraph::graph::NodeIndex;

use super::view::{Drawn, ModeView, annotation, drawn_edges, named_by};
use crate::check::{Plane, ResultClass};
use crate::lower::graph::{EdgeKind, GraphEdge, GraphNode, PlaneGraph};

/// A Mermaid id: the plane and the node's index (names may clash across planes).
fn id(plane: Plane, node: NodeIndex) -> String {
    format!("{plane}_n{}", node.index())
}

fn text(label: &str) -> String {
    label.replace('"', "'")
}

pub fn to_mermaid(view: &ModeView<'_>) -> String {
    let mut out = String::from("flowchart LR\n");
    for plane in &view.planes {
        subgraph(&mut out, plane);
    }
    for link in &view.links {
        let end = |(plane, key): &(Plane, String)| {
            let graph = view.planes.iter().find(|g| g.plane == *plane)?;
            let name = key.strip_prefix("final:").unwrap_or(key);
            graph.index.get(name).map(|&n| id(*plane, n))
        };
        if let (Some(from), Some(to)) = (end(&link.from), end(&link.to)) {
            let _ = writeln!(out, "  {from} ==>|\"{}\"| {to}", text(&link.label));
        }
    }
    out
}

fn subgraph(out: &mut String, plane: &PlaneGraph) {
    let p = plane.plane;
    let _ = writeln!(out, "  subgraph {p}[\"{}\"]", text(&plane.loop_name));
    for node in plane.graph.node_indices() {
        let _ = match &plane.graph[node] {
            GraphNode::Stage { name, .. } => writeln!(out, "    {}[\"{name}\"]", id(p, node)),
            GraphNode::Final { name, class } => {
                writeln!(out, "    {}([\"{name} ({class})\"])", id(p, node))
            }
        };
    }
    for drawn in drawn_edges(plane) {
        let _ = match drawn {
            Drawn::Edge { from, to, weight } => {
                let label = text(&format!("{}{}", weight.outcome, annotation(weight)));
                let arrow = arrow(weight);
                writeln!(
                    out,
                    "    {} {arrow}|\"{label}\"| {}",
                    id(p, from),
                    id(p, to)
                )
            }
            Drawn::Named {
                from,
                weight,
                targets,
            } => named(out, plane, from, weight, &targets),
        };
    }
    out.push_str("  end\n");
    for node in plane.graph.node_indices() {
        if let GraphNode::Final { class, .. } = &plane.graph[node] {
            let _ = writeln!(out, "  style {} fill:{}", id(p, node), fill(*class));
        }
    }
}

fn arrow(weight: &GraphEdge) -> &'static str {
    match (weight.kind, &weight.spends) {
        (EdgeKind::Exhausted | EdgeKind::Resume | EdgeKind::Effect, _) => "-.->",
        (_, Some(_)) => "==>",
        _ => "-->",
    }
}

fn named(
    out: &mut String,
    plane: &PlaneGraph,
    from: NodeIndex,
    weight: &GraphEdge,
    targets: &[String],
) -> std::fmt::Result {
    let source = id(plane.plane, from);
    let spent = weight.needs_spent.as_deref().unwrap_or("any");
    let note = format!("{source}_{}_{spent}_named", weight.outcome);
    let label = text(&format!(
        "{} {}{}",
        weight.outcome,
        named_by(weight),
        annotation(weight)
    ));
    writeln!(
        out,
        "    {note}>\"named by result: {}\"]",
        text(&targets.join(", "))
    )?;
    writeln!(out, "    {source} -.->|\"{label}\"| {note}")
}

fn fill(class: ResultClass) -> &'static str {
    match class {
        ResultClass::Success | ResultClass::NoOp => "#c8f7c5",
        ResultClass::Blocked | ResultClass::RecoverableFailure => "#f7c5c5",
        ResultClass::FollowupNeeded | ResultClass::EscalatePlanning => "#f7efc5",
    }
}
