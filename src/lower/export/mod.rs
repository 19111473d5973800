//! Graph exports of a mode: plain text, Graphviz DOT, Mermaid and JSON.
//! Every export draws the same view: each plane once, a route named by a
//! stage's result as one edge, and the links between planes.

mod dot;
mod json;
mod mermaid;
mod text;
mod view;

pub use dot::to_dot;
pub use json::to_json;
pub use mermaid::to_mermaid;
pub use text::to_text;
pub use view::{Drawn, Link, LinkKind, ModeView, drawn_edges, mode_view};
