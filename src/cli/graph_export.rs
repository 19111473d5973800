//! The exports of `compile graph`: text, JSON, DOT and Mermaid come from
//! `lower`; SVG is Graphviz's drawing of the DOT export.
//!
//! SVG goes through the `dot` program. A pure-Rust layout (`layout-rs`
//! 0.1) was tried: it has no clusters, so a whole mode cannot be drawn as
//! one picture with its planes apart, and its edge labels land far from
//! their edges on graphs of this size. When `dot` is missing the export
//! says so and names the alternatives.

use std::io::Write;
use std::process::{Command, Stdio};

use clap::ValueEnum;

use crate::lower::{ModeView, to_dot, to_json, to_mermaid, to_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Json,
    Dot,
    Mermaid,
    /// Graphviz's drawing of the DOT export (needs `dot` on PATH)
    Svg,
}

impl GraphFormat {
    /// Whether the export is for a program (or a pipe): stdout carries it alone.
    pub fn is_machine(self) -> bool {
        self != GraphFormat::Text
    }
}

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "`--format svg` draws through Graphviz, and `dot` was not found on PATH; install Graphviz \
(apt-get install graphviz, brew install graphviz) or export `--format dot` or `--format mermaid`"
    )]
    NoGraphviz,
    #[error("Graphviz `dot` could not be run")]
    Run(#[source] std::io::Error),
    #[error("Graphviz `dot` failed: {stderr}")]
    Failed { stderr: String },
}

/// The export of `view` in `format`.
pub fn export(view: &ModeView<'_>, format: GraphFormat) -> Result<Vec<u8>, ExportError> {
    Ok(match format {
        GraphFormat::Text => to_text(view).into_bytes(),
        GraphFormat::Json => {
            let mut text = serde_json::to_string_pretty(&to_json(view)).unwrap_or_default();
            text.push('\n');
            text.into_bytes()
        }
        GraphFormat::Dot => to_dot(view).into_bytes(),
        GraphFormat::Mermaid => to_mermaid(view).into_bytes(),
        GraphFormat::Svg => render_svg(&to_dot(view))?,
    })
}

/// Draws a DOT document as SVG with Graphviz (`dot -Tsvg`).
pub fn render_svg(dot: &str) -> Result<Vec<u8>, ExportError> {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ExportError::NoGraphviz),
        Err(e) => return Err(ExportError::Run(e)),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(dot.as_bytes()).map_err(ExportError::Run)?;
    }
    let output = child.wait_with_output().map_err(ExportError::Run)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(ExportError::Failed { stderr });
    }
    Ok(output.stdout)
}
