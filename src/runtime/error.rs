//! The failure that stops the daemon: state could not be persisted. Every
//! part that writes state returns it, the engine as much as the store.

/// A failure that stops the daemon (state could not be persisted).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Queue(#[from] crate::workspace::queue::QueueError),
    #[error("{0}")]
    State(#[from] crate::workspace::state::StateError),
    #[error("{0}")]
    Lock(#[from] crate::workspace::lock::LockError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Plan(String),
}

/// Wraps an I/O error with what was being done, for `map_err`.
pub fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RuntimeError {
    let what = what.into();
    move |source| RuntimeError::Io { what, source }
}
