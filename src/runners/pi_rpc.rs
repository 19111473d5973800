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
//! only with the `full` policy).

use std::io::Write;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdin, ChildStdout};

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
    lines: Lines<BufReader<ChildStdout>>,
    log: Option<std::fs::File>,
    full_log: bool,
}

impl RpcSession {
    pub fn new(
        stdin: ChildStdin,
        stdout: ChildStdout,
        log: Option<std::fs::File>,
        full_log: bool,
    ) -> RpcSession {
        RpcSession {
            stdin: Some(stdin),
            lines: BufReader::new(stdout).lines(),
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

    /// Reads and logs the rest of pi's output.
    pub async fn drain(mut self) {
        while let Ok(Some(_)) = self.next_line().await {}
        if let Some(log) = self.log.as_mut() {
            let _ = log.flush();
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
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            self.record(&line, &value);
            return Ok(Some(value));
        }
    }

    async fn next(&mut self) -> Result<Value, RpcError> {
        self.next_line().await?.ok_or(RpcError::Closed)
    }

    fn record(&mut self, line: &str, value: &Value) {
        if value["type"] == "message_update" && !self.full_log {
            return;
        }
        if let Some(log) = self.log.as_mut() {
            let _ = writeln!(log, "{line}");
        }
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
