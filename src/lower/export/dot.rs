//! Graphviz DOT: one document per export, one cluster per plane. Stages are
//! boxes, finals filled octagons coloured by class, budget-spending routes
//! bold blue, routes taken when a budget is spent dashed red, the targets a
//! result may name one note per route, links between planes bold purple.

use std::fmt::Write;

use petgraph::graph::NodeIndex;

use super::view::{Drawn, LinkKind, ModeView, annotation, drawn_edges, named_by, node_key};
use crate::check::{Plane, ResultClass};
use crate::lower::graph::{EdgeKind, GraphEdge, GraphNode, PlaneGraph};

/// A quoted DOT id or label (a newline becomes a line break); `"` and `\`
/// cannot break out of it.
fn quoted(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "'");
    format!("\"{}\"", escaped.replace('\n', "\\n"))
}

/// A node's id: node names are unique only within a plane.
fn id(plane: Plane, key: &str) -> String {
    quoted(&format!("{plane}/{key}"))
}

fn final_color(class: ResultClass) -> &'static str {
    match class {
        ResultClass::Success | ResultClass::NoOp => "palegreen",
        ResultClass::Blocked | ResultClass::RecoverableFailure => "lightpink",
        ResultClass::FollowupNeeded | ResultClass::EscalatePlanning => "lightgoldenrod",
    }
}

/// The whole view as one `digraph`.
pub fn to_dot(view: &ModeView<'_>) -> String {
    let mut out = format!("digraph {} {{\n", quoted(&view.mode_id));
    out.push_str("  rankdir=LR;\n  compound=true;\n  fontname=\"Helvetica\";\n");
    out.push_str(
        "  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for plane in &view.planes {
        cluster(&mut out, plane);
    }
    for link in &view.links {
        let style = match link.kind {
            LinkKind::Handoff => "style=bold, color=purple",
            LinkKind::Learn => "style=dashed, color=purple",
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, {style}];",
            id(link.from.0, &link.from.1),
            id(link.to.0, &link.to.1),
            quoted(&link.label)
        );
    }
    out.push_str("}\n");
    out
}

fn cluster(out: &mut String, plane: &PlaneGraph) {
    let p = plane.plane;
    let _ = writeln!(out, "  subgraph {} {{", quoted(&format!("cluster_{p}")));
    let _ = writeln!(out, "    label={};", quoted(&plane.loop_name));
    for node in plane.graph.node_indices() {
        node_line(out, plane, node);
    }
    for drawn in drawn_edges(plane) {
        match drawn {
            Drawn::Edge { from, to, weight } => edge_line(out, plane, from, to, weight),
            Drawn::Named {
                from,
                weight,
                targets,
            } => named_lines(out, plane, from, weight, &targets),
        }
    }
    out.push_str("  }\n");
}

fn node_line(out: &mut String, plane: &PlaneGraph, node: NodeIndex) {
    let key = id(plane.plane, &node_key(plane, node));
    let _ = match &plane.graph[node] {
        GraphNode::Stage { name, kind } if name != kind => writeln!(
            out,
            "    {key} [shape=box, label={}];",
            quoted(&format!("{name}\n({kind})"))
        ),
        GraphNode::Stage { name, .. } => {
            writeln!(out, "    {key} [shape=box, label={}];", quoted(name))
        }
        GraphNode::Final { name, class } => writeln!(
            out,
            "    {key} [shape=doubleoctagon, style=filled, fillcolor={}, label={}];",
            final_color(*class),
            quoted(&format!("{name}\n{class}"))
        ),
    };
}

fn edge_style(weight: &GraphEdge) -> &'static str {
    match (weight.kind, &weight.spends) {
        (EdgeKind::Exhausted, _) => ", style=dashed, color=red",
        (_, Some(_)) => ", style=bold, color=blue",
        (EdgeKind::Effect, _) => ", style=dashed, color=gray40",
        _ => "",
    }
}

fn edge_line(out: &mut String, plane: &PlaneGraph, from: NodeIndex, to: NodeIndex, w: &GraphEdge) {
    let _ = writeln!(
        out,
        "    {} -> {} [label={}{}];",
        id(plane.plane, &node_key(plane, from)),
        id(plane.plane, &node_key(plane, to)),
        quoted(&format!("{}{}", w.outcome, annotation(w))),
        edge_style(w)
    );
}

/// One note listing the nodes a result may name, and one dotted edge to it.
fn named_lines(
    out: &mut String,
    plane: &PlaneGraph,
    from: NodeIndex,
    w: &GraphEdge,
    targets: &[String],
) {
    let source = node_key(plane, from);
    let spent = w.needs_spent.as_deref().unwrap_or("");
    let note = id(
        plane.plane,
        &format!("{source}:{}:{spent}:named", w.outcome),
    );
    let label = format!("named by result\n{}", targets.join(", "));
    let _ = writeln!(
        out,
        "    {note} [shape=note, fontsize=10, style=filled, fillcolor=lightyellow, label={}];",
        quoted(&label)
    );
    let _ = writeln!(
        out,
        "    {} -> {note} [label={}, style=dotted{}];",
        id(plane.plane, &source),
        quoted(&format!("{} {}{}", w.outcome, named_by(w), annotation(w))),
        if w.spends.is_some() {
            ", color=blue"
        } else {
            ""
        }
    );
}
