//! The `pi_rpc` runner: one `pi --mode rpc` per stage, driven over JSONL.
//!
//! ```text
//! <command> <args> --mode rpc --no-session [--provider P] [--model M]
//!   [--thinking T] [--tools T,...] [--no-context-files] [--no-skills]
//! ```
//!
//! The provider is `[runners.pi] provider`, else the part before `/` of the
//! bound model (`model "anthropic/claude-x"`); the thinking level is the
//! stage's, else `[runners.pi] thinking`. A stage denied `shell.run` or
//! `workspace.write` gets `--tools` without `bash`, or without `edit` and
//! `write`. The conversation is in
//! [`pi_rpc`](super::pi_rpc). Success is judged from the last assistant
//! message's `stopReason` (`stop`, `length`, `toolUse`), never from partial
//! text: `error` is a failure classified by its `errorMessage`, `aborted` a
//! transport failure. pi's own exit code is never read: the runner closes
//! its stdin once the conversation is over, and a conversation broken off
//! by pi's exit is a transport failure. Tokens come from `get_session_stats` (input =
//! `input` + `cacheRead` + `cacheWrite`: pi reports input without cache).
//! On timeout or cancellation the client sends `abort`, closes stdin, and
//! the process tree is stopped. The rest of the run is the sequence every
//! agent CLI shares (see [`sequence`](super::sequence)).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinHandle;

use super::events::count;
use super::invocation::events_path;
use super::pi_rpc::{Conversation, RpcError, RpcSession};
use super::sequence::{AgentCli, EventReader, Stdin};
use super::verdict::Verdict;
use crate::fs_error::at;
use crate::runners::grants::pi_tools;
use crate::runners::output::{CappedLog, Captured, Style};
use crate::runners::process::{DEFAULT_GRACE, Launch, LaunchError, StageProcess, StdoutTo};
use crate::runners::{Cancel, FailureClass, RunnerExit, StageRequest};
use crate::runners::{TokenUsage, cancelled, classify};
use crate::vocab::RunnerKind;

/// `[runners.pi]`: the Pi agent in RPC mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PiConfig {
    pub command: String,
    /// Extra arguments, before millrace's own.
    pub args: Vec<String>,
    pub provider: Option<String>,
    /// Used when the stage binds no thinking level.
    pub thinking: Option<String>,
    pub disable_context_files: bool,
    pub disable_skills: bool,
    /// `full` keeps `message_update` events in the event log.
    pub event_log_policy: String,
    pub env: BTreeMap<String, String>,
}

impl Default for PiConfig {
    fn default() -> PiConfig {
        PiConfig {
            command: "pi".into(),
            args: Vec::new(),
            provider: None,
            thinking: None,
            disable_context_files: true,
            disable_skills: true,
            event_log_policy: "failure_full".into(),
            env: BTreeMap::new(),
        }
    }
}

impl PiConfig {
    /// The provider and model of a stage.
    pub fn provider_and_model(&self, request: &StageRequest) -> (Option<String>, Option<String>) {
        let model = request.model.clone();
        match (&self.provider, model) {
            (Some(p), model) => (Some(p.clone()), model),
            (None, Some(m)) => match m.split_once('/') {
                Some((p, m)) => (Some(p.into()), Some(m.into())),
                None => (None, Some(m)),
            },
            (None, None) => (None, None),
        }
    }

    /// The full argument list for a stage.
    pub fn argv(&self, request: &StageRequest) -> Vec<String> {
        let mut argv = self.args.clone();
        argv.extend(["--mode", "rpc", "--no-session"].map(String::from));
        let (provider, model) = self.provider_and_model(request);
        let thinking = request.thinking.clone().or_else(|| self.thinking.clone());
        for (flag, value) in [
            ("--provider", provider),
            ("--model", model),
            ("--thinking", thinking),
        ] {
            if let Some(value) = value {
                argv.extend([flag.to_string(), value]);
            }
        }
        if let Some(tools) = pi_tools(request) {
            argv.extend(["--tools".into(), tools]);
        }
        if self.disable_context_files {
            argv.push("--no-context-files".into());
        }
        if self.disable_skills {
            argv.push("--no-skills".into());
        }
        argv
    }
}

/// Runs stages with pi in RPC mode.
#[derive(Debug, Clone, Default)]
pub struct PiRunner {
    config: PiConfig,
}

/// How the conversation ended.
enum Talk {
    Done(Result<Conversation, RpcError>),
    TimedOut,
    Cancelled,
}

impl PiRunner {
    pub fn new(config: PiConfig) -> PiRunner {
        PiRunner { config }
    }
}

impl AgentCli for PiRunner {
    type Reader = PiConversation;

    fn kind(&self) -> RunnerKind {
        RunnerKind::PiRpc
    }

    fn launch(&self, request: &StageRequest, _prompt: &str) -> Launch {
        Launch {
            program: self.config.command.clone(),
            args: self.config.argv(request),
            env: self.config.env.clone().into_iter().collect(),
        }
    }

    fn reader(&self) -> PiConversation {
        PiConversation {
            full_log: self.config.event_log_policy == "full",
            log: None,
            talk: None,
            drain: None,
        }
    }
}

/// pi's side of a stage: the conversation over its stdin and stdout, each
/// line it prints kept (capped) in the event log.
pub struct PiConversation {
    /// Whether `message_update` events are logged too.
    full_log: bool,
    log: Option<CappedLog>,
    /// How the conversation ended; `None` until it is held.
    talk: Option<Talk>,
    /// Copies what pi prints after the conversation into the event log,
    /// then says whether the log was kept.
    drain: Option<JoinHandle<Captured>>,
}

impl EventReader for PiConversation {
    const STDIN: Stdin = Stdin::Conversation;

    fn stdout<'a>(&mut self, events: &'a Path) -> Result<StdoutTo<'a>, LaunchError> {
        let log = CappedLog::create(events, Style::Json).map_err(at("create", events))?;
        self.log = Some(log);
        Ok(StdoutTo::Piped)
    }

    /// Holds the conversation, then closes pi's stdin and gives pi the
    /// grace period to exit (one that does not is stopped with its tree).
    async fn read(
        &mut self,
        process: &mut StageProcess,
        prompt: &str,
        request: &StageRequest,
        cancel: &mut Cancel,
    ) -> Result<(), LaunchError> {
        let (Some(stdin), Some(stdout)) = (process.take_stdin(), process.take_stdout()) else {
            let missing = std::io::Error::other("pi's pipes are missing");
            return Err(at("connect pi's pipes for", &events_path(request))(missing).into());
        };
        let mut session = RpcSession::new(stdin, stdout, self.log.take(), self.full_log);
        let talk = converse(&mut session, prompt, request.timeout_s, cancel).await;
        if !matches!(talk, Talk::Done(_)) {
            session.abort().await;
        }
        session.close();
        self.drain = Some(tokio::spawn(session.drain()));
        self.talk = Some(talk);
        process.exited_within(DEFAULT_GRACE).await;
        Ok(())
    }

    /// The conversation decides, unless the event log was lost.
    async fn verdict(self, _request: &StageRequest) -> Verdict {
        let captured = match self.drain {
            Some(drain) => drained(drain).await,
            None => Ok(()),
        };
        // A conversation is always held before it is judged.
        judge(self.talk.unwrap_or(Talk::Cancelled)).unless_lost(&captured)
    }
}

/// Whether the event log was kept, once the drain is over (a drain that
/// does not end within the grace period is left; what it wrote stands).
async fn drained(drain: JoinHandle<Captured>) -> Captured {
    match tokio::time::timeout(DEFAULT_GRACE, drain).await {
        Ok(Ok(captured)) => captured,
        _ => Ok(()),
    }
}

/// The conversation, bounded by the timeout (`0`: none) and cancellation.
async fn converse(
    session: &mut RpcSession,
    prompt: &str,
    timeout_s: u64,
    cancel: &mut Cancel,
) -> Talk {
    let limit = async {
        match timeout_s {
            0 => std::future::pending().await,
            secs => tokio::time::sleep(std::time::Duration::from_secs(secs)).await,
        }
    };
    tokio::select! {
        result = session.converse(prompt) => Talk::Done(result),
        _ = limit => Talk::TimedOut,
        _ = cancelled(cancel) => Talk::Cancelled,
    }
}

/// The verdict: the last assistant message's `stopReason` decides.
fn judge(talk: Talk) -> Verdict {
    let conversation = match talk {
        Talk::TimedOut => return Verdict::exit(RunnerExit::TimedOut),
        Talk::Cancelled => return Verdict::exit(RunnerExit::Cancelled),
        Talk::Done(Err(error)) => return Verdict::exit(transport(error.to_string())),
        Talk::Done(Ok(conversation)) => conversation,
    };
    let tokens = conversation.stats.as_ref().and_then(tokens);
    let last = conversation
        .end
        .last_assistant
        .clone()
        .unwrap_or(Value::Null);
    let stop = last["stopReason"].as_str().unwrap_or("");
    let exit = match (stop, &conversation.end.gave_up) {
        ("stop" | "length" | "toolUse", None) => RunnerExit::Completed { code: 0 },
        ("aborted", _) => transport("pi aborted the run".into()),
        _ => provider_failure(&last, conversation.end.gave_up.as_deref()),
    };
    let last_message = matches!(exit, RunnerExit::Completed { .. })
        .then(|| conversation.text.clone().or_else(|| message_text(&last)))
        .flatten();
    Verdict {
        exit,
        last_message,
        tokens,
    }
}

fn transport(message: String) -> RunnerExit {
    RunnerExit::Failed {
        class: FailureClass::RunnerTransportFailure,
        message,
    }
}

/// An errored run, classified by pi's error message.
fn provider_failure(last: &Value, gave_up: Option<&str>) -> RunnerExit {
    let error = gave_up
        .or_else(|| last["errorMessage"].as_str())
        .unwrap_or("the model call failed");
    RunnerExit::Failed {
        class: classify(error).unwrap_or(FailureClass::RunnerTransportFailure),
        message: format!("pi run failed: {error}"),
    }
}

/// The text blocks of an assistant message, joined.
fn message_text(message: &Value) -> Option<String> {
    let blocks = message["content"].as_array()?;
    let text: Vec<&str> = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
    (!text.is_empty()).then(|| text.join("\n"))
}

/// `get_session_stats` tokens as token usage.
fn tokens(stats: &Value) -> Option<TokenUsage> {
    let t = stats.get("tokens")?;
    let cached = count(t, "cacheRead");
    let input = count(t, "input") + cached + count(t, "cacheWrite");
    let output = count(t, "output");
    Some(TokenUsage {
        input,
        cached_input: cached,
        output,
        thinking: 0,
        total: input + output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::agent_cli::pi_rpc::RunEnd;
    use crate::runners::fixture;
    use serde_json::json;

    #[test]
    fn argv_takes_provider_from_the_model_binding() {
        let mut request = fixture::request(std::path::Path::new("/ws/run"));
        request.model = Some("mock/mock-model".into());
        request.thinking = Some("low".into());
        let argv = PiConfig::default().argv(&request);
        let expected = [
            "--mode",
            "rpc",
            "--no-session",
            "--provider",
            "mock",
            "--model",
            "mock-model",
            "--thinking",
            "low",
            "--no-context-files",
            "--no-skills",
        ];
        assert_eq!(argv, expected);
    }

    fn done(last: Value, gave_up: Option<&str>, text: Option<&str>) -> Talk {
        Talk::Done(Ok(Conversation {
            end: RunEnd {
                last_assistant: Some(last),
                gave_up: gave_up.map(str::to_string),
            },
            text: text.map(str::to_string),
            stats: Some(
                json!({"tokens": {"input": 160, "output": 20, "cacheRead": 40, "cacheWrite": 0, "total": 220}}),
            ),
        }))
    }

    #[test]
    fn stop_is_success_with_the_assistant_text_and_tokens() {
        let v = judge(done(
            json!({"stopReason": "stop"}),
            None,
            Some("ok\n### BUILDER_COMPLETE"),
        ));
        assert_eq!(v.exit, RunnerExit::Completed { code: 0 });
        assert_eq!(v.last_message.as_deref(), Some("ok\n### BUILDER_COMPLETE"));
        let t = v.tokens.expect("tokens");
        assert_eq!(
            (t.input, t.cached_input, t.output, t.total),
            (200, 40, 20, 220)
        );
    }

    #[test]
    fn an_error_is_never_judged_from_partial_text() {
        let last = json!({"stopReason": "error", "errorMessage": "503 overloaded"});
        let v = judge(done(last, None, Some("Partial ### BUILDER_COMPLETE")));
        assert!(matches!(
            v.exit,
            RunnerExit::Failed {
                class: FailureClass::ProviderUnavailable,
                ..
            }
        ));
        assert_eq!(v.last_message, None);
    }
}
