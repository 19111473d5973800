//! Queue store errors.

use std::path::PathBuf;

use thiserror::Error;

use crate::workspace::documents::DocumentError;
use crate::workspace::family::{Family, LifecycleState};

/// A queue operation failed.
#[derive(Debug, Error)]
pub enum QueueError {
    /// A file operation failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `move`).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Enqueue of an id that exists in some lifecycle state of the family.
    #[error("{family} `{id}` already exists ({state})")]
    Duplicate {
        /// The family.
        family: Family,
        /// The id.
        id: String,
        /// Where the existing item is.
        state: LifecycleState,
    },
    /// A move whose source is not where it should be.
    #[error("{family} `{id}` is not {state}")]
    NotFound {
        /// The family.
        family: Family,
        /// The id.
        id: String,
        /// Where it was expected.
        state: LifecycleState,
    },
    /// A move whose destination already holds the id.
    #[error("{family} `{id}` is already {state}")]
    DestinationExists {
        /// The family.
        family: Family,
        /// The id.
        id: String,
        /// The destination state.
        state: LifecycleState,
    },
    /// A state the family does not have (`canceled` for a task).
    #[error("{family} items have no `{state}` state")]
    NoSuchState {
        /// The family.
        family: Family,
        /// The state.
        state: LifecycleState,
    },
    /// A document that does not parse.
    #[error(transparent)]
    Document(#[from] DocumentError),
}

impl QueueError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> QueueError {
        let path = path.into();
        move |source| QueueError::Io {
            action,
            path,
            source,
        }
    }
}
