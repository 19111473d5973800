//! Reading a `codex exec --json` run: its JSONL events, folded one by one
//! as they arrive, and its `--output-last-message` file.
//!
//! - Tokens: the sum of every `turn.completed.usage` (`input_tokens`
//!   including `cached_input_tokens`, `output_tokens` including
//!   `reasoning_output_tokens`).
//! - Failure: `turn.failed.error.message`, classified by its text (a
//!   message nothing matches is a transport failure). Top-level `error`
//!   lines (`Reconnecting...`) and `item.type: "error"` items are progress
//!   notes, not failures.
//! - The final message: the last-message file, else the last
//!   `agent_message` item (the file is empty on failure or SIGTERM).
//! - Exit code: Codex writes the last-message file when its turn is over.
//!   A non-zero exit after a file that ends in its one legal marker keeps
//!   that answer (as the reference does); any other non-zero exit is a
//!   failure, an `agent_message` item with a marker included.

use serde_json::Value;

use super::events::{EventFold, count};
use super::verdict::{Verdict, exit_after};
use crate::runners::process::Ending;
use crate::runners::{FailureClass, RunnerExit, StageRequest, TokenUsage, classify};
use crate::runners::{MESSAGE_MAX_BYTES, last_message_path, read_tail};

/// What a Codex run left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodexReport {
    pub failed: Option<String>,
    pub agent_message: Option<String>,
    pub last_message_file: Option<String>,
    pub tokens: Option<TokenUsage>,
}

impl EventFold for CodexReport {
    fn fold(&mut self, event: &Value) {
        match event["type"].as_str().unwrap_or("") {
            "turn.completed" => self.add_usage(&event["usage"]),
            "turn.failed" => {
                let message = event["error"]["message"].as_str().unwrap_or("turn failed");
                self.failed = Some(message.to_string());
            }
            "item.completed" if event["item"]["type"] == "agent_message" => {
                let text = event["item"]["text"].as_str().unwrap_or("");
                self.agent_message = Some(text.to_string());
            }
            _ => {}
        }
    }

    fn exited(self, request: &StageRequest, code: i32) -> Verdict {
        let report = self.with_last_message_file(request);
        verdict(report, Ending::Exited(code), &request.legal_outcomes)
    }

    fn cut_short(self, request: &StageRequest, exit: RunnerExit) -> Verdict {
        self.with_last_message_file(request).stopped(exit)
    }
}

impl CodexReport {
    /// Adds the last-message file of `request` (at most its last
    /// [`MESSAGE_MAX_BYTES`]) to the folded events.
    pub fn with_last_message_file(mut self, request: &StageRequest) -> CodexReport {
        let path = last_message_path(request);
        self.last_message_file = path
            .exists()
            .then(|| read_tail(&path, MESSAGE_MAX_BYTES))
            .filter(|text| !text.trim().is_empty());
        self
    }

    fn add_usage(&mut self, usage: &Value) {
        let tokens = self.tokens.get_or_insert_with(TokenUsage::default);
        tokens.input += count(usage, "input_tokens");
        tokens.cached_input += count(usage, "cached_input_tokens");
        tokens.output += count(usage, "output_tokens");
        tokens.thinking += count(usage, "reasoning_output_tokens");
        tokens.total = tokens.input + tokens.output;
    }

    /// The final message: the file, else the last agent message.
    fn final_message(&self) -> Option<String> {
        self.last_message_file
            .clone()
            .or_else(|| self.agent_message.clone())
    }

    /// The verdict of a run stopped by the runner (timeout, cancel).
    pub fn stopped(self, exit: RunnerExit) -> Verdict {
        Verdict {
            exit,
            last_message: self.final_message(),
            tokens: self.tokens,
        }
    }
}

/// The verdict of a run that exited: a failed turn is a classified
/// failure; otherwise the exit code and the final message decide (through
/// normalization).
pub fn verdict(report: CodexReport, ending: Ending, legal: &[String]) -> Verdict {
    let code = match ending {
        Ending::Exited(code) => code,
        _ => -1,
    };
    let exit = match &report.failed {
        Some(message) => RunnerExit::Failed {
            class: classify(message).unwrap_or(FailureClass::RunnerTransportFailure),
            message: format!("codex turn failed: {message}"),
        },
        None => exit_after(code, report.last_message_file.as_deref(), legal),
    };
    let last_message = report.failed.is_none().then(|| report.final_message());
    Verdict {
        exit,
        last_message: last_message.flatten(),
        tokens: report.tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(lines: &str) -> Vec<Value> {
        lines
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    }

    #[test]
    fn usage_is_summed_over_turns_and_message_kept() {
        let report = CodexReport::from_events(&events(concat!(
            r#"{"type":"item.completed","item":{"type":"error","message":"metadata"}}"#,
            "\n",
            r#"{"type":"turn.completed","usage":{"input_tokens":200,"cached_input_tokens":40,"output_tokens":20,"reasoning_output_tokens":5}}"#,
            "\n",
            r####"{"type":"item.completed","item":{"type":"agent_message","text":"### DONE"}}"####,
            "\n",
            r#"{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":0,"output_tokens":10}}"#,
        )));
        let tokens = report.tokens.expect("tokens");
        assert_eq!(
            (
                tokens.input,
                tokens.cached_input,
                tokens.output,
                tokens.thinking
            ),
            (300, 40, 30, 5)
        );
        assert_eq!(tokens.total, 330);
        let v = verdict(report, Ending::Exited(0), &legal());
        assert_eq!(v.exit, RunnerExit::Completed { code: 0 });
        assert_eq!(v.last_message.as_deref(), Some("### DONE"));
    }

    fn legal() -> Vec<String> {
        vec!["DONE".into(), "BLOCKED".into()]
    }

    const ANSWER: &str =
        r####"{"type":"item.completed","item":{"type":"agent_message","text":"ok\n### DONE"}}"####;

    #[test]
    fn a_nonzero_exit_keeps_an_answer_in_the_last_message_file() {
        let mut report = CodexReport::from_events(&events(ANSWER));
        report.last_message_file = Some("ok\n\n### DONE\n".into());
        let v = verdict(report, Ending::Exited(1), &legal());
        assert_eq!(v.exit, RunnerExit::AnsweredThenExited { code: 1 });
        assert_eq!(v.last_message.as_deref(), Some("ok\n\n### DONE\n"));
    }

    #[test]
    fn a_nonzero_exit_without_the_file_is_judged_by_its_code() {
        let report = CodexReport::from_events(&events(ANSWER));
        let v = verdict(report.clone(), Ending::Exited(1), &legal());
        assert_eq!(v.exit, RunnerExit::Completed { code: 1 });
        let mut trailing = report;
        trailing.last_message_file = Some("### DONE\nbut then more".into());
        let v = verdict(trailing, Ending::Exited(2), &legal());
        assert_eq!(v.exit, RunnerExit::Completed { code: 2 });
    }

    #[test]
    fn a_failed_turn_is_classified() {
        let report = CodexReport::from_events(&events(concat!(
            r#"{"type":"error","message":"Reconnecting... 1/1 (unexpected status 503)"}"#,
            "\n",
            r#"{"type":"turn.failed","error":{"message":"unexpected status 503 Service Unavailable: busy"}}"#,
        )));
        let v = verdict(report, Ending::Exited(1), &legal());
        let RunnerExit::Failed { class, message } = v.exit else {
            panic!("not a failure: {:?}", v.exit);
        };
        assert_eq!(class, FailureClass::ProviderUnavailable);
        assert!(message.contains("503"), "{message}");
        assert_eq!(v.last_message, None);
    }

    #[test]
    fn a_dropped_stream_is_a_network_failure() {
        let report = CodexReport::from_events(&events(
            r#"{"type":"turn.failed","error":{"message":"stream disconnected before completion: error sending request"}}"#,
        ));
        let v = verdict(report, Ending::Exited(1), &legal());
        assert!(matches!(
            v.exit,
            RunnerExit::Failed {
                class: FailureClass::NetworkUnavailable,
                ..
            }
        ));
    }
}
