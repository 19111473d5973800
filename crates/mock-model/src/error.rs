//! Errors reported by the mock model server and its script loader.

use std::path::PathBuf;

/// Everything that can go wrong while loading a script or running the server.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The loopback listener could not be bound.
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port (0 means "any free port").
        port: u16,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The server's runtime or thread could not be started.
    #[error("cannot start the server runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The server thread ended without reporting (it panicked).
    #[error("the server thread stopped unexpectedly")]
    ThreadLost,
    /// A script file could not be read.
    #[error("cannot read script {path}: {source}")]
    ReadScript {
        /// The script file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A script is not valid JSON for the script format.
    #[error("invalid script{}: {source}", origin(.path))]
    ParseScript {
        /// The script file, when the script came from a file.
        path: Option<PathBuf>,
        /// The JSON error, with line and column.
        source: serde_json::Error,
    },
    /// The JSONL request log file could not be opened.
    #[error("cannot open request log {path}: {source}")]
    LogFile {
        /// The log file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

fn origin(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!(" {}", p.display()))
        .unwrap_or_default()
}
