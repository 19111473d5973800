//! Lowering: one petgraph stage graph per plane, the termination proof and
//! the bound it yields (`max_stage_runs`), and graph exports.

mod export;
mod graph;
mod termination;

pub use export::{
    Drawn, Link, LinkKind, ModeView, drawn_edges, mode_view, to_dot, to_json, to_mermaid, to_text,
};
pub use graph::{EdgeKind, GraphEdge, GraphNode, PlaneGraph, build};
pub use termination::{Bound, prove_termination};

use crate::check::{Diagnostics, Plane, ResolvedMode};

/// A mode lowered to graphs, with each plane's proven bound.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub mode: ResolvedMode,
    pub planes: Vec<(PlaneGraph, Bound)>,
}

impl Lowered {
    pub fn plane(&self, plane: Plane) -> Option<&(PlaneGraph, Bound)> {
        self.planes.iter().find(|(g, _)| g.plane == plane)
    }
}

/// Lowers every plane of a resolved mode and proves it terminates.
pub fn lower(mode: ResolvedMode) -> Result<Lowered, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let mut planes = Vec::new();
    for (plane, resolved) in &mode.loops {
        let extra = learn_targets(&mode, *plane);
        let graph = build(resolved, &extra);
        match prove_termination(&graph) {
            Ok(bound) => planes.push((graph, bound)),
            Err(d) => diagnostics.extend(d),
        }
    }
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok(Lowered { mode, planes })
}

/// Nodes of `plane` that learn rules start (they are entry points too).
fn learn_targets(mode: &ResolvedMode, plane: Plane) -> Vec<String> {
    if plane != Plane::Learning {
        return Vec::new();
    }
    mode.learn.iter().map(|rule| rule.target.clone()).collect()
}
