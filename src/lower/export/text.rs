//! The plain-text export: one line per drawn edge, a plane at a time.

use std::fmt::Write;

use super::view::{Drawn, ModeView, annotation, drawn_edges, named_by, node_key};

/// `node OUTCOME -> target [annotations]`, one line per edge, in node order;
/// links between planes follow the planes.
pub fn to_text(view: &ModeView<'_>) -> String {
    let mut out = String::new();
    for (i, plane) in view.planes.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "plane: {}\nloop: {}", plane.plane, plane.loop_name);
        for drawn in drawn_edges(plane) {
            let _ = match drawn {
                Drawn::Edge { from, to, weight } => writeln!(
                    out,
                    "{} {} -> {}{}",
                    plane.graph[from].name(),
                    weight.outcome,
                    node_key(plane, to),
                    annotation(weight)
                ),
                Drawn::Named {
                    from,
                    weight,
                    targets,
                } => writeln!(
                    out,
                    "{} {} -> named by {}: {}{}",
                    plane.graph[from].name(),
                    weight.outcome,
                    named_by(weight),
                    targets.join(", "),
                    annotation(weight)
                ),
            };
        }
    }
    for link in &view.links {
        let _ = writeln!(
            out,
            "link: {}/{} -> {}/{} [{}]",
            link.from.0, link.from.1, link.to.0, link.to.1, link.label
        );
    }
    out
}
