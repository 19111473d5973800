//! What a stage program is started as ([`Launch`]) and why starting it can
//! fail ([`LaunchError`]), shared by the stage process and the cgroup that
//! holds it.

use crate::fs_error::FileError;
use crate::runners::{FailureClass, RunnerExit};

/// What to start: the program, its arguments and extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    /// Added to the daemon's environment; the stage's `MILLRACE_*`
    /// variables are added after these and win.
    pub env: Vec<(String, String)>,
}

/// Why a program could not be started or waited for.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("runner binary not found: {0}")]
    Missing(String),
    #[error("the workspace root {0} is not a directory")]
    NoWorkspace(String),
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] FileError),
    /// The runner's configuration would undo a denial the plan says the
    /// runner holds: the stage is not started.
    #[error("{0}")]
    DenialUndone(String),
}

impl LaunchError {
    /// The runner exit this error stands for. A file the runner could not
    /// write or read (the run directory, the request, an output log) is an
    /// I/O failure of the machine, retried, not a verdict on the stage.
    pub fn exit(&self) -> RunnerExit {
        let class = match self {
            LaunchError::Missing(_) => FailureClass::RunnerBinaryMissing,
            LaunchError::File(_) => FailureClass::RunnerIoFailure,
            LaunchError::DenialUndone(_) => FailureClass::CapabilityNotHeld,
            _ => FailureClass::RunnerTransportFailure,
        };
        let message = self.to_string();
        RunnerExit::Failed { class, message }
    }
}
