//! Reading a `claude -p --output-format stream-json` run, event by event as
//! it arrives.
//!
//! The final `result` event decides: `is_error` (its `subtype` says
//! "success" even then) is a failure classified by `api_error_status`
//! (429 rate limited, 401/403 auth, 5xx and 529 provider unavailable),
//! else by the `result` text. Otherwise `result` is the final message.
//! Denied tool uses (`permission_denials`) are written to
//! `permission_denials.<id>.json` (a record that cannot be written makes
//! the run the runner's I/O failure); a final message without a marker
//! after denials is a failure naming the denied tools. Tokens come from the
//! result's `usage` (input = `input_tokens` + cache reads + cache writes).
//! A `result` that ends in its one legal marker is Claude Code's record of
//! the final answer: a non-zero exit after it keeps the answer. Without a
//! `result` event the run is judged by its exit and its last assistant
//! text, so a non-zero exit is a failure.

use serde_json::Value;

use super::events::{EventFold, count};
use super::verdict::{Verdict, exit_after};
use crate::fs_error::at;
use crate::runners::output::Captured;
use crate::runners::process::Ending;
use crate::runners::{FailureClass, RunnerExit, StageRequest, TokenUsage, classify, markers};

/// What a Claude Code run printed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaudeReport {
    pub result: Option<Value>,
    pub assistant_text: Option<String>,
}

impl EventFold for ClaudeReport {
    /// Keeps the last `result` and the last assistant text.
    fn fold(&mut self, event: &Value) {
        match event["type"].as_str() {
            Some("result") => self.result = Some(event.clone()),
            Some("assistant") => {
                if let Some(text) = assistant_text(event) {
                    self.assistant_text = Some(text);
                }
            }
            _ => {}
        }
    }

    fn exited(self, request: &StageRequest, code: i32) -> Verdict {
        self.verdict(request, Ending::Exited(code))
    }

    fn cut_short(self, _request: &StageRequest, exit: RunnerExit) -> Verdict {
        self.stopped(exit)
    }
}

impl ClaudeReport {
    fn tokens(&self) -> Option<TokenUsage> {
        let usage = self.result.as_ref()?.get("usage")?;
        let cached = count(usage, "cache_read_input_tokens");
        let input =
            count(usage, "input_tokens") + cached + count(usage, "cache_creation_input_tokens");
        let output = count(usage, "output_tokens");
        Some(TokenUsage {
            input,
            cached_input: cached,
            output,
            thinking: 0,
            total: input + output,
        })
    }

    /// The verdict of a run stopped by the runner (timeout, cancel).
    pub fn stopped(self, exit: RunnerExit) -> Verdict {
        Verdict {
            exit,
            last_message: self.assistant_text.clone(),
            tokens: self.tokens(),
        }
    }

    /// The verdict of a run that exited on its own.
    pub fn verdict(self, request: &StageRequest, ending: Ending) -> Verdict {
        let code = match ending {
            Ending::Exited(code) => code,
            _ => -1,
        };
        let tokens = self.tokens();
        let Some(result) = &self.result else {
            let exit = RunnerExit::Completed { code };
            let last_message = self.assistant_text.clone();
            return Verdict {
                exit,
                last_message,
                tokens,
            };
        };
        let text = result["result"].as_str().unwrap_or("").to_string();
        if result["is_error"].as_bool().unwrap_or(false) {
            return Verdict {
                exit: api_failure(result, &text),
                last_message: None,
                tokens,
            };
        }
        let (denied, recorded) = denials(request, result);
        let exit = match denied {
            Some(tools) if markers(&text).is_empty() => RunnerExit::Failed {
                class: FailureClass::MissingTerminalResult,
                message: format!("no outcome marker; Claude Code was denied: {tools}"),
            },
            _ => exit_after(code, Some(&text), &request.legal_outcomes),
        };
        let verdict = Verdict {
            exit,
            last_message: Some(text),
            tokens,
        };
        verdict.unless_lost(&recorded)
    }
}

/// The text blocks of an `assistant` event, joined.
fn assistant_text(event: &Value) -> Option<String> {
    let blocks = event["message"]["content"].as_array()?;
    let text: Vec<&str> = blocks
        .iter()
        .filter(|b| b["type"] == "text")
        .filter_map(|b| b["text"].as_str())
        .collect();
    (!text.is_empty()).then(|| text.join("\n"))
}

/// A failed result, classified by its HTTP status, else its text.
fn api_failure(result: &Value, text: &str) -> RunnerExit {
    let status = result["api_error_status"].as_u64();
    let class = status
        .and_then(status_class)
        .or_else(|| classify(text))
        .unwrap_or(FailureClass::RunnerTransportFailure);
    let status = status.map_or_else(String::new, |s| format!(" (HTTP {s})"));
    RunnerExit::Failed {
        class,
        message: format!("claude failed{status}: {text}"),
    }
}

fn status_class(status: u64) -> Option<FailureClass> {
    match status {
        401 | 403 => Some(FailureClass::AuthMissingOrInvalid),
        429 => Some(FailureClass::ProviderRateLimited),
        500..=599 => Some(FailureClass::ProviderUnavailable),
        _ => None,
    }
}

/// Writes the denials to `permission_denials.<id>.json`; the denied tool
/// names, if there were any, and whether their record was written.
fn denials(request: &StageRequest, result: &Value) -> (Option<String>, Captured) {
    let Some(list) = result["permission_denials"]
        .as_array()
        .filter(|l| !l.is_empty())
    else {
        return (None, Ok(()));
    };
    let path = request.artifact("permission_denials", "json");
    let json = serde_json::to_string_pretty(list).unwrap_or_default();
    let recorded = std::fs::write(&path, json).map_err(at("write", &path));
    let names: Vec<&str> = list
        .iter()
        .filter_map(|d| d["tool_name"].as_str())
        .collect();
    (Some(names.join(", ")), recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::fixture;
    use serde_json::json;

    fn request(dir: &tempfile::TempDir) -> StageRequest {
        fixture::request(dir.path())
    }

    fn report(result: Value) -> ClaudeReport {
        ClaudeReport::from_events(&[json!({"type": "system", "subtype": "init"}), result])
    }

    #[test]
    fn success_reads_text_and_tokens() {
        let dir = tempfile::tempdir().expect("dir");
        let r = report(
            json!({"type": "result", "subtype": "success", "is_error": false,
            "result": "ok\n### CHECKER_PASS", "usage": {"input_tokens": 160,
            "cache_read_input_tokens": 40, "cache_creation_input_tokens": 0, "output_tokens": 20}}),
        );
        let v = r.verdict(&request(&dir), Ending::Exited(0));
        assert_eq!(v.exit, RunnerExit::Completed { code: 0 });
        assert_eq!(v.last_message.as_deref(), Some("ok\n### CHECKER_PASS"));
        let t = v.tokens.expect("tokens");
        assert_eq!(
            (t.input, t.cached_input, t.output, t.total),
            (200, 40, 20, 220)
        );
    }

    #[test]
    fn a_nonzero_exit_after_a_final_result_keeps_its_answer() {
        let dir = tempfile::tempdir().expect("dir");
        let r = report(json!({"type": "result", "is_error": false,
            "result": "ok\n### CHECKER_PASS"}));
        let v = r.verdict(&request(&dir), Ending::Exited(1));
        assert_eq!(v.exit, RunnerExit::AnsweredThenExited { code: 1 });
    }

    #[test]
    fn a_nonzero_exit_without_a_final_result_is_judged_by_its_code() {
        let dir = tempfile::tempdir().expect("dir");
        let assistant = json!({"type": "assistant", "message": {"content": [
            {"type": "text", "text": "### CHECKER_PASS"}]}});
        let r = ClaudeReport::from_events(&[assistant]);
        let v = r.verdict(&request(&dir), Ending::Exited(1));
        assert_eq!(v.exit, RunnerExit::Completed { code: 1 });
        assert_eq!(v.last_message.as_deref(), Some("### CHECKER_PASS"));
    }

    #[test]
    fn is_error_is_classified_by_status() {
        let dir = tempfile::tempdir().expect("dir");
        let r = report(
            json!({"type": "result", "subtype": "success", "is_error": true,
            "api_error_status": 429, "result": "API Error: slow down"}),
        );
        let v = r.verdict(&request(&dir), Ending::Exited(1));
        assert!(matches!(
            v.exit,
            RunnerExit::Failed {
                class: FailureClass::ProviderRateLimited,
                ..
            }
        ));
        assert_eq!(v.last_message, None);
    }

    #[test]
    fn denials_without_a_marker_fail_and_are_written() {
        let dir = tempfile::tempdir().expect("dir");
        let request = request(&dir);
        let r = report(
            json!({"type": "result", "is_error": false, "result": "I could not.",
            "permission_denials": [{"tool_name": "Bash", "tool_input": {"command": "ls"}}]}),
        );
        let v = r.verdict(&request, Ending::Exited(0));
        let RunnerExit::Failed { message, .. } = v.exit else {
            panic!("not failed: {:?}", v.exit);
        };
        assert!(message.contains("Bash"), "{message}");
        assert!(request.artifact("permission_denials", "json").is_file());
    }
}
