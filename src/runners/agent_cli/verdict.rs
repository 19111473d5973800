//! What an agent CLI's run came to ([`Verdict`]), and how it becomes the
//! runner's result: the final message is kept as `last_message.<id>.txt`
//! and the run directory's artifacts are listed. A run whose output or
//! records could not be written is the runner's I/O failure (see
//! [`unless_lost`]).

use std::time::Instant;

use super::invocation::{events_path, invocation_path, stderr_path};
use crate::fs_error::at;
use crate::runners::markers::ends_in_one_legal_marker;
use crate::runners::output::{Captured, unless_lost};
use crate::runners::{RunnerExit, RunnerResult, StageRequest, TokenUsage};
use crate::runners::{last_message_path, request_path};

/// What an agent-CLI runner found out, before it becomes a [`RunnerResult`].
pub struct Verdict {
    pub exit: RunnerExit,
    pub last_message: Option<String>,
    pub tokens: Option<TokenUsage>,
}

impl Verdict {
    /// A verdict with only an exit.
    pub fn exit(exit: RunnerExit) -> Verdict {
        Verdict {
            exit,
            last_message: None,
            tokens: None,
        }
    }

    /// The same verdict, unless the run's output was lost: then the
    /// runner's I/O failure, whatever the CLI answered.
    pub fn unless_lost(mut self, captured: &Captured) -> Verdict {
        self.exit = unless_lost(self.exit, captured);
        self
    }

    /// The runner result: the last message is written to
    /// `last_message.<id>.txt` (a write that fails makes the result an I/O
    /// failure), and the artifacts that exist are listed.
    pub fn into_result(mut self, request: &StageRequest, started: Instant) -> RunnerResult {
        if let Some(text) = &self.last_message {
            let path = last_message_path(request);
            let written = std::fs::write(&path, text).map_err(at("write", &path));
            self = self.unless_lost(&written);
        }
        let candidates = [
            request_path(request),
            invocation_path(request),
            events_path(request),
            stderr_path(request),
            last_message_path(request),
        ];
        RunnerResult {
            exit: self.exit,
            last_message: self.last_message,
            tokens: self.tokens,
            duration_ms: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
            artifacts: candidates.into_iter().filter(|p| p.exists()).collect(),
        }
    }
}

/// The exit of a CLI that exited with `code` after recording `answer` (its
/// own record of the final answer, written when its run was over): a
/// non-zero code does not take back an answer that ends in its one legal
/// marker; anything else is judged by the code.
pub fn exit_after(code: i32, answer: Option<&str>, legal: &[String]) -> RunnerExit {
    match answer {
        Some(text) if code != 0 && ends_in_one_legal_marker(text, legal) => {
            RunnerExit::AnsweredThenExited { code }
        }
        _ => RunnerExit::Completed { code },
    }
}
