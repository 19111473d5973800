//! The JSON export, for scripts and the dashboard: every plane's nodes and
//! edges (a result-named route keeps one edge per target it may name, with
//! its keys) and the links between planes.

use petgraph::visit::EdgeRef;
use serde_json::{Value, json};

use super::view::{LinkKind, ModeView, node_key};
use crate::lower::graph::{EdgeKind, GraphNode, PlaneGraph};

pub fn to_json(view: &ModeView<'_>) -> Value {
    let planes: Vec<Value> = view.planes.iter().map(|g| plane_json(g)).collect();
    let links: Vec<Value> = view
        .links
        .iter()
        .map(|l| {
            json!({
                "from": {"plane": l.from.0, "node": l.from.1},
                "to": {"plane": l.to.0, "node": l.to.1},
                "kind": match l.kind { LinkKind::Handoff => "handoff", LinkKind::Learn => "learn" },
                "label": l.label,
            })
        })
        .collect();
    json!({"mode_id": view.mode_id, "planes": planes, "links": links})
}

fn plane_json(g: &PlaneGraph) -> Value {
    let nodes: Vec<Value> = g
        .graph
        .node_indices()
        .map(|i| match &g.graph[i] {
            GraphNode::Stage { name, kind } => {
                json!({"id": node_key(g, i), "name": name, "type": "stage", "stage_kind": kind})
            }
            GraphNode::Final { name, class } => {
                json!({"id": node_key(g, i), "name": name, "type": "final", "class": class})
            }
        })
        .collect();
    let edges: Vec<Value> = g
        .graph
        .edge_references()
        .map(|e| {
            let w = e.weight();
            json!({
                "from": node_key(g, e.source()), "to": node_key(g, e.target()),
                "outcome": w.outcome, "kind": kind(w.kind), "spends": w.spends,
                "needs_spent": w.needs_spent, "result_keys": w.result_keys,
            })
        })
        .collect();
    json!({"plane": g.plane, "loop_id": g.loop_name, "nodes": nodes, "edges": edges})
}

fn kind(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Direct => "direct",
        EdgeKind::Resume => "resume",
        EdgeKind::Exhausted => "exhausted",
        EdgeKind::Effect => "effect",
    }
}
