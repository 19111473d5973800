//! Graph exports: plain text, Graphviz DOT and Mermaid. Budgeted routes,
//! routes taken when a budget is spent, and finals are drawn distinctly.

use std::fmt::Write;

use petgraph::visit::EdgeRef;

use super::graph::{EdgeKind, GraphEdge, GraphNode, PlaneGraph};
use crate::check::ResultClass;

/// A short annotation for an edge: `[spends b]`, `[b spent]`, `[result key]`.
fn annotation(edge: &GraphEdge) -> String {
    let mut parts = Vec::new();
    if let Some(b) = &edge.spends {
        parts.push(format!("spends {b}"));
    }
    if let Some(b) = &edge.needs_spent {
        parts.push(format!("{b} spent"));
    }
    match edge.kind {
        EdgeKind::Resume => parts.push("named by result".into()),
        EdgeKind::Effect => parts.push("effect".into()),
        _ => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", parts.join(", "))
    }
}

/// `node OUTCOME -> target [annotations]`, one line per edge, in node order.
pub fn to_text(plane: &PlaneGraph) -> String {
    let mut out = format!("plane: {}\nloop: {}\n", plane.plane, plane.loop_name);
    for node in plane.graph.node_indices() {
        for edge in plane.graph.edges(node) {
            let target = &plane.graph[edge.target()];
            let arrow = match target {
                GraphNode::Final { .. } => format!("final:{}", target.name()),
                GraphNode::Stage { .. } => target.name().to_string(),
            };
            let w = edge.weight();
            let _ = writeln!(
                out,
                "{} {} -> {arrow}{}",
                plane.graph[node].name(),
                w.outcome,
                annotation(w)
            );
        }
    }
    out
}

fn dot_id(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "'"))
}

fn final_color(class: ResultClass) -> &'static str {
    match class {
        ResultClass::Success | ResultClass::NoOp => "palegreen",
        ResultClass::Blocked | ResultClass::RecoverableFailure => "lightpink",
        ResultClass::FollowupNeeded | ResultClass::EscalatePlanning => "lightgoldenrod",
    }
}

/// Graphviz DOT: stages are boxes, finals are filled ovals coloured by class,
/// budget-spending routes are bold blue, exhausted routes dashed red.
pub fn to_dot(plane: &PlaneGraph) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  label={};\n",
        dot_id(&plane.loop_name),
        dot_id(&plane.loop_name)
    );
    out.push_str(
        "  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for node in plane.graph.node_indices() {
        let _ = match &plane.graph[node] {
            GraphNode::Stage { name, kind } if name != kind => {
                writeln!(
                    out,
                    "  {} [shape=box, label=\"{name}\\n({kind})\"];",
                    dot_id(name)
                )
            }
            GraphNode::Stage { name, .. } => writeln!(out, "  {} [shape=box];", dot_id(name)),
            GraphNode::Final { name, class } => writeln!(
                out,
                "  {} [shape=doubleoctagon, style=filled, fillcolor={}, label=\"{name}\\n{class}\"];",
                dot_id(&format!("final:{name}")),
                final_color(*class)
            ),
        };
    }
    for edge in plane.graph.edge_references() {
        let w = edge.weight();
        let style = match (w.kind, &w.spends) {
            (EdgeKind::Exhausted, _) => "style=dashed, color=red",
            (_, Some(_)) => "style=bold, color=blue",
            (EdgeKind::Resume, _) => "style=dotted",
            (EdgeKind::Effect, _) => "style=dashed, color=gray40",
            _ => "",
        };
        let sep = if style.is_empty() { "" } else { ", " };
        let label = format!("{}{}", w.outcome, annotation(w)).replace('"', "'");
        let _ = writeln!(
            out,
            "  {} -> {} [label=\"{label}\"{sep}{style}];",
            dot_id(&node_key(plane, edge.source())),
            dot_id(&node_key(plane, edge.target())),
        );
    }
    out.push_str("}\n");
    out
}

fn node_key(plane: &PlaneGraph, node: petgraph::graph::NodeIndex) -> String {
    match &plane.graph[node] {
        GraphNode::Stage { name, .. } => name.clone(),
        GraphNode::Final { name, .. } => format!("final:{name}"),
    }
}

/// Mermaid flowchart with the same distinctions as the DOT output.
pub fn to_mermaid(plane: &PlaneGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    let id = |node: petgraph::graph::NodeIndex| format!("n{}", node.index());
    for node in plane.graph.node_indices() {
        let _ = match &plane.graph[node] {
            GraphNode::Stage { name, .. } => writeln!(out, "  {}[\"{name}\"]", id(node)),
            GraphNode::Final { name, class } => {
                writeln!(out, "  {}([\"{name} ({class})\"])", id(node))
            }
        };
    }
    for edge in plane.graph.edge_references() {
        let w = edge.weight();
        let arrow = match (w.kind, &w.spends) {
            (EdgeKind::Exhausted, _) | (EdgeKind::Resume, _) | (EdgeKind::Effect, _) => "-.->",
            (_, Some(_)) => "==>",
            _ => "-->",
        };
        let label = format!("{}{}", w.outcome, annotation(w)).replace('"', "'");
        let _ = writeln!(
            out,
            "  {} {arrow}|\"{label}\"| {}",
            id(edge.source()),
            id(edge.target())
        );
    }
    for node in plane.graph.node_indices() {
        if let GraphNode::Final { class, .. } = &plane.graph[node] {
            let _ = writeln!(out, "  style {} fill:{}", id(node), mermaid_fill(*class));
        }
    }
    out
}

fn mermaid_fill(class: ResultClass) -> &'static str {
    match class {
        ResultClass::Success | ResultClass::NoOp => "#c8f7c5",
        ResultClass::Blocked | ResultClass::RecoverableFailure => "#f7c5c5",
        ResultClass::FollowupNeeded | ResultClass::EscalatePlanning => "#f7efc5",
    }
}
