//! Each plane's graph drawn as SVG by Graphviz from the DOT export of
//! `compile graph`, once per mode and plan (drawing takes tens of
//! milliseconds; a request only marks up the cached text).

use crate::cli::compile_cmd::compile_workspace;
use crate::cli::context::{Workspace, load_config};
use crate::cli::graph_export::{ExportError, render_svg};
use crate::lower::{mode_view, to_dot, to_text};
use crate::vocab::Plane;

/// One plane's drawing.
#[derive(Debug, Clone)]
pub struct PlaneDrawing {
    pub plane: Plane,
    pub loop_name: String,
    /// The SVG, or why there is none (with the text export instead).
    pub svg: Result<String, (String, String)>,
}

/// The drawings of the last mode and plan drawn.
#[derive(Debug)]
pub struct GraphCache {
    key: Option<(String, String)>,
    drawings: Result<Vec<PlaneDrawing>, String>,
}

impl Default for GraphCache {
    fn default() -> GraphCache {
        GraphCache {
            key: None,
            drawings: Ok(Vec::new()),
        }
    }
}

/// The cached drawings for `key`, drawn again when the mode or plan changed.
impl GraphCache {
    pub fn drawings(
        &mut self,
        workspace: &Workspace,
        key: (String, String),
    ) -> Result<Vec<PlaneDrawing>, String> {
        if self.key.as_ref() != Some(&key) {
            self.drawings = draw(workspace, &key.0);
            self.key = Some(key);
        }
        self.drawings.clone()
    }
}

fn draw(workspace: &Workspace, mode: &str) -> Result<Vec<PlaneDrawing>, String> {
    let config = load_config(workspace, None).map_err(|e| e.to_string())?;
    let compilation =
        compile_workspace(workspace, &config, mode, false).map_err(|e| e.to_string())?;
    let (lowered, _) = compilation.outcome.map_err(|_| {
        let errors = compilation
            .diagnostics
            .errors()
            .map(|d| format!("{}: {}", d.code(), d.kind.message()));
        errors.collect::<Vec<_>>().join("\n")
    })?;
    let drawings = lowered.planes.iter().map(|(graph, _)| {
        let view = mode_view(&lowered.mode, vec![graph]);
        let svg = render_svg(&to_dot(&view)).map_err(|e| (why_no_svg(&e), to_text(&view)));
        let svg = svg.and_then(|bytes| {
            String::from_utf8(bytes).map_err(|e| (e.to_string(), to_text(&view)))
        });
        PlaneDrawing {
            plane: graph.plane,
            loop_name: graph.loop_name.clone(),
            svg: svg.map(|s| inline(&s)),
        }
    });
    Ok(drawings.collect())
}

fn why_no_svg(error: &ExportError) -> String {
    match error {
        ExportError::NoGraphviz => "Graphviz (`dot`) is not installed here, so the graph is shown as text; install it to see the drawing.".into(),
        other => other.to_string(),
    }
}

/// The `<svg>` element alone (no XML prolog or doctype), for inlining.
fn inline(svg: &str) -> String {
    svg.find("<svg")
        .map_or_else(String::new, |at| svg[at..].to_string())
}
