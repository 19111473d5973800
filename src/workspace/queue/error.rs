//! Queue store errors.

use thiserror::Error;

use crate::fs_error::FileError;
use crate::workspace::documents::DocumentError;
use crate::workspace::family::{Family, LifecycleState};

/// A queue operation failed.
#[derive(Debug, Error)]
pub enum QueueError {
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FileError),
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
