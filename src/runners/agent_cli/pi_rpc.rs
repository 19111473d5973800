//! The pi JSONL RPC conversation of one stage.
//!
//! 1. send `{"id":"prompt-1","type":"prompt","message":…}` and read its
//!    `response` (`success: false` is a rejected prompt);
//! 2. read events until the run is over. An `agent_end` whose last
//!    assistant message has `stopReason: "error"` is not the end: pi may
//!    retry on its own, and announces it right after that `agent_end`
//!    (`auto_retry_start`, or `auto_retry_end` when its retries are spent).
//!    So the client sends a `get_state` probe: pi answers it only after the
//!    announcement, if there is one. A retry is followed to its next
//!    `agent_end`; an `auto_retry_end` with `success: false`, or a probe
//!    answered without an announcement, ends the run as failed;
//! 3. `get_last_assistant_text`, then `get_session_stats` for the tokens.
//!
//! Every line read is appended to the event log (`message_update` deltas
//! only with the `full` policy), which is capped (see
//! [`output`](crate::runners::output)). A line longer than
//! [`LINE_MAX_BYTES`](crate::runners::LINE_MAX_BYTES) is not read: an `agent_end`
//! that long (it carries every message of the run) still ends the run, and
//! the last assistant message is then the one of the last `message_end`.

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::process::{ChildStdin, ChildStdout};

use crate::runners::output::{CappedLog, Captured, Line, LineReader};

/// Why the conversation broke off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    #[error("pi closed its output before the run ended")]
    Closed,
    #[error("cannot write to pi: {0}")]
    Write(String),
    #[error("pi rejected the prompt: {0}")]
    Rejected(String),
}

/// How the agent run ended: the last assistant message of the final
/// `agent_end`, and the error pi gave up with, if it did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunEnd {
    pub last_assistant: Option<Value>,
    pub gave_up: Option<String>,
}

/// Everything the conversation produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    pub end: RunEnd,
    pub text: Option<String>,
    pub stats: Option<Value>,
}

/// Where the conversation stands while the agent runs.
#[derive(Debug, Default)]
struct Tracker {
    /// The id of the retry probe in flight, after an errored `agent_end`.
    probe: Option<String>,
    probes: u32,
    last_assistant: Option<Value>,
}

/// What one event means for the run.
enum Step {
    Continue,
    Probe(String),
    Done(RunEnd),
}

/// The client side of pi's stdin and stdout.
pub struct RpcSession {
    stdin: Option<ChildStdin>,
    lines: LineReader<ChildStdout>,
    log: Option<CappedLog>,
    full_log: bool,
}

/// The `type` of an event, read without building the rest of it.
#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// What one line of pi's output is to the client.
enum Read {
    Event(Value),
    /// Not JSON, or a streaming delta not kept: nothing to act on.
    Skip,
    /// A line too long to read; `agent_end` when it was one.
    TooLong {
        agent_end: bool,
    },
}

impl RpcSession {
    pub fn new(
        stdin: ChildStdin,
        stdout: ChildStdout,
        log: Option<CappedLog>,
        full_log: bool,
    ) -> RpcSession {
        RpcSession {
            stdin: Some(stdin),
            lines: LineReader::new(stdout),
            log,
            full_log,
        }
    }

    /// The whole conversation for one prompt.
    pub async fn converse(&mut self, prompt: &str) -> Result<Conversation, RpcError> {
        self.send(json!({"id": "prompt-1", "type": "prompt", "message": prompt}))
            .await?;
        let end = self.run_to_end().await?;
        let text = self.ask("last-text-1", "get_last_assistant_text").await?;
        let stats = self.ask("stats-1", "get_session_stats").await?;
        Ok(Conversation {
            end,
            text: text["data"]["text"].as_str().map(str::to_string),
            stats: Some(stats["data"].clone()),
        })
    }

    /// Asks pi to stop the run (on timeout or cancellation).
    pub async fn abort(&mut self) {
        let _ = self.send(json!({"id": "abort-1", "type": "abort"})).await;
    }

    /// Closes pi's stdin: pi exits at end of input.
    pub fn close(&mut self) {
        self.stdin = None;
    }

    /// Reads and logs the rest of pi's output; says whether the event log
    /// was kept (a write that failed during the conversation included).
    pub async fn drain(mut self) -> Captured {
        while let Ok(Some(_)) = self.next_line().await {}
        match self.log.take() {
            Some(log) => log.finish(),
            None => Ok(()),
        }
    }

    async fn send(&mut self, command: Value) -> Result<(), RpcError> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(RpcError::Write("stdin is closed".into()));
        };
        let mut line = command.to_string();
        line.push('\n');
        let written = stdin.write_all(line.as_bytes()).await;
        let flushed = match written {
            Ok(()) => stdin.flush().await,
            Err(e) => Err(e),
        };
        flushed.map_err(|e| RpcError::Write(e.to_string()))
    }

    /// The next JSON line (logged); `None` at end of output.
    async fn next_line(&mut self) -> Result<Option<Value>, RpcError> {
        loop {
            let Ok(Some(line)) = self.lines.next_line().await else {
                return Ok(None);
            };
            let read = match line {
                Line::Whole(bytes) => read_line(bytes, self.full_log, self.log.as_mut()),
                Line::TooLong { bytes, head } => too_long(bytes, head, self.log.as_mut()),
            };
            match read {
                Read::Event(value) => return Ok(Some(value)),
                Read::TooLong { agent_end: true } => {
                    return Ok(Some(json!({"type": "agent_end", "messages": []})));
                }
                Read::Skip | Read::TooLong { .. } => {}
            }
        }
    }

    async fn next(&mut self) -> Result<Value, RpcError> {
        self.next_line().await?.ok_or(RpcError::Closed)
    }

    /// Sends a command and reads up to its response.
    async fn ask(&mut self, id: &str, kind: &str) -> Result<Value, RpcError> {
        self.send(json!({"id": id, "type": kind})).await?;
        loop {
            let value = self.next().await?;
            if is_response(&value, id) {
                return Ok(value);
            }
        }
    }

    /// Reads events until the agent run (with pi's own retries) is over.
    async fn run_to_end(&mut self) -> Result<RunEnd, RpcError> {
        let mut tracker = Tracker::default();
        loop {
            let value = self.next().await?;
            if is_response(&value, "prompt-1") && value["success"] == false {
                let error = value["error"].as_str().unwrap_or("no reason given");
                return Err(RpcError::Rejected(error.to_string()));
            }
            match tracker.step(&value) {
                Step::Continue => {}
                Step::Probe(id) => self.send(json!({"id": id, "type": "get_state"})).await?,
                Step::Done(end) => return Ok(end),
            }
        }
    }
}

/// Logs and parses one line; `message_update` deltas are neither built nor
/// logged unless the log is `full`.
fn read_line(bytes: &[u8], full_log: bool, log: Option<&mut CappedLog>) -> Read {
    let Ok(Kind { kind }) = serde_json::from_slice::<Kind>(bytes) else {
        return Read::Skip;
    };
    if kind.as_deref() == Some("message_update") && !full_log {
        return Read::Skip;
    }
    let Ok(value) = serde_json::from_slice(bytes) else {
        return Read::Skip;
    };
    if let Some(log) = log {
        log.write_line(bytes);
    }
    Read::Event(value)
}

/// A line too long to read: noted in the log; its head says whether it was
/// the `agent_end` that ends the run.
fn too_long(bytes: u64, head: &[u8], log: Option<&mut CappedLog>) -> Read {
    if let Some(log) = log {
        log.write_too_long(bytes, head);
    }
    let head = String::from_utf8_lossy(head);
    let agent_end = head.contains(r#""type":"agent_end""#);
    Read::TooLong { agent_end }
}

fn is_response(value: &Value, id: &str) -> bool {
    value["type"] == "response" && value["id"] == id
}

impl Tracker {
    fn step(&mut self, event: &Value) -> Step {
        match event["type"].as_str().unwrap_or("") {
            "agent_end" => self.agent_end(event),
            "auto_retry_start" => {
                self.probe = None;
                Step::Continue
            }
            "auto_retry_end" if event["success"] == false => Step::Done(RunEnd {
                last_assistant: self.last_assistant.take(),
                gave_up: Some(
                    event["finalError"]
                        .as_str()
                        .unwrap_or("retries spent")
                        .into(),
                ),
            }),
            "response" if self.probe.as_deref().is_some_and(|p| event["id"] == p) => {
                Step::Done(self.finished())
            }
            // Kept in case the `agent_end` is too long to read.
            "message_end" if event["message"]["role"] == "assistant" => {
                self.last_assistant = Some(event["message"].clone());
                Step::Continue
            }
            _ => Step::Continue,
        }
    }

    fn agent_end(&mut self, event: &Value) -> Step {
        let empty = Vec::new();
        let messages = event["messages"].as_array().unwrap_or(&empty);
        let last = messages.iter().rev().find(|m| m["role"] == "assistant");
        if let Some(last) = last {
            self.last_assistant = Some(last.clone());
        }
        let last = self.last_assistant.as_ref();
        if last.is_some_and(|m| m["stopReason"] == "error") {
            self.probes += 1;
            let id = format!("retry-probe-{}", self.probes);
            self.probe = Some(id.clone());
            return Step::Probe(id);
        }
        Step::Done(self.finished())
    }

    fn finished(&mut self) -> RunEnd {
        RunEnd {
            last_assistant: self.last_assistant.take(),
            gave_up: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(events: &[Value]) -> (Vec<String>, Option<RunEnd>) {
        let mut tracker = Tracker::default();
        let mut probes = Vec::new();
        for event in events {
            match tracker.step(event) {
                Step::Continue => {}
                Step::Probe(id) => probes.push(id),
                Step::Done(end) => return (probes, Some(end)),
            }
        }
        (probes, None)
    }

    fn agent_end(stop: &str) -> Value {
        json!({"type": "agent_end", "messages": [{"role": "user"}, {"role": "assistant", "stopReason": stop}]})
    }

    #[test]
    fn a_clean_agent_end_ends_the_run() {
        let (probes, end) = steps(&[json!({"type": "agent_start"}), agent_end("stop")]);
        assert!(probes.is_empty());
        let end = end.expect("ended");
        assert_eq!(end.last_assistant.expect("message")["stopReason"], "stop");
        assert_eq!(end.gave_up, None);
    }

    #[test]
    fn an_errored_agent_end_followed_by_a_retry_is_followed() {
        let events = [
            agent_end("error"),
            json!({"type": "auto_retry_start", "attempt": 1}),
            json!({"type": "response", "id": "retry-probe-1", "command": "get_state"}),
            json!({"type": "auto_retry_end", "success": true}),
            agent_end("stop"),
        ];
        let (probes, end) = steps(&events);
        assert_eq!(probes, ["retry-probe-1"]);
        assert_eq!(
            end.expect("ended").last_assistant.expect("m")["stopReason"],
            "stop"
        );
    }

    #[test]
    fn spent_retries_end_the_run_as_given_up() {
        let events = [
            agent_end("error"),
            json!({"type": "auto_retry_start", "attempt": 1}),
            agent_end("error"),
            json!({"type": "auto_retry_end", "success": false, "finalError": "503 busy"}),
        ];
        let (_, end) = steps(&events);
        assert_eq!(end.expect("ended").gave_up.as_deref(), Some("503 busy"));
    }

    #[test]
    fn an_agent_end_too_long_to_read_ends_with_the_last_message_end() {
        let last = json!({"role": "assistant", "stopReason": "stop", "content": []});
        let events = [
            json!({"type": "message_end", "message": {"role": "user"}}),
            json!({"type": "message_end", "message": last}),
            json!({"type": "message_end", "message": {"role": "toolResult"}}),
            json!({"type": "agent_end", "messages": []}),
        ];
        let (_, end) = steps(&events);
        assert_eq!(end.expect("ended").last_assistant, Some(last));
    }

    #[test]
    fn a_probe_answered_without_a_retry_ends_the_run() {
        let events = [
            agent_end("error"),
            json!({"type": "response", "id": "retry-probe-1", "command": "get_state"}),
        ];
        let (_, end) = steps(&events);
        let end = end.expect("ended");
        assert_eq!(end.last_assistant.expect("m")["stopReason"], "error");
    }
}
