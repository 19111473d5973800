//! Output that could not be kept fails the stage as the runner's I/O
//! failure, whatever the program answered: its answer may be in what was
//! lost, and an empty output read as "no marker" would make a full disk
//! look like the agent's `BLOCKED`. The class is transient, so the stage
//! runs again (and a daemon that finds the disk full pauses first).

use super::pump::Captured;
use crate::fs_error::FileError;
use crate::runners::{FailureClass, RunnerExit};

/// The exit of a stage whose output or records could not be written.
fn io_failure(error: &FileError) -> RunnerExit {
    RunnerExit::Failed {
        class: FailureClass::RunnerIoFailure,
        message: format!("the stage's output could not be kept: {error}"),
    }
}

/// `exit`, unless the stage's output was lost: then the runner's I/O
/// failure. A cancelled stage stays cancelled: it runs again anyway.
pub fn unless_lost(exit: RunnerExit, captured: &Captured) -> RunnerExit {
    match captured {
        Err(error) if exit != RunnerExit::Cancelled => io_failure(error),
        _ => exit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs_error::at;

    fn lost() -> Captured {
        let full = std::io::Error::from_raw_os_error(28);
        Err(at("write", "stdout.txt")(full))
    }

    #[test]
    fn a_lost_output_overrides_any_answer_but_a_cancellation() {
        let answered = RunnerExit::Completed { code: 0 };
        let RunnerExit::Failed { class, message } = unless_lost(answered, &lost()) else {
            panic!("not a failure");
        };
        assert_eq!(class, FailureClass::RunnerIoFailure);
        assert!(message.contains("stdout.txt"), "{message}");
        assert!(class.is_transient());
        assert_eq!(
            unless_lost(RunnerExit::Cancelled, &lost()),
            RunnerExit::Cancelled
        );
        assert_eq!(
            unless_lost(RunnerExit::TimedOut, &Ok(())),
            RunnerExit::TimedOut
        );
    }
}
