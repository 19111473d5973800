//! The `claude_code` runner: one `claude -p` per stage.
//!
//! ```text
//! <command> <args> -p <prompt> --output-format stream-json --verbose
//!   [--model M] --permission-mode <mode> [--allowedTools A,B,...]
//! ```
//!
//! with stdin closed (an open stdin costs Claude Code seconds). The prompt
//! comes right after `-p`: `--allowedTools` takes every following argument
//! as a tool name, so it is last. The permission mode defaults to
//! `acceptEdits` with the tools `Bash,Edit,Write,Read,Glob,Grep` allowed,
//! which works as root. `bypassPermissions` is refused by Claude Code as
//! root unless `IS_SANDBOX=1`, which the runner then sets. A thinking level
//! becomes `MAX_THINKING_TOKENS` (`low` 4000, `medium` 10000, `high`
//! 32000, `off`/`none` 0, or a number as is). The stage's denials become
//! `--disallowedTools` (`shell.run`: Bash; `workspace.write`: Edit,
//! MultiEdit, Write, NotebookEdit; `network.access`: WebFetch, WebSearch),
//! and those tools leave `--allowedTools`.
//!
//! The stream-json output is read as it arrives and kept (capped) as
//! `events.<id>.jsonl`; see
//! [`claude_events`](super::claude_events) for how it is read, and
//! [`sequence`](super::sequence) for the run every agent CLI shares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::claude_events::ClaudeReport;
use super::events::FoldedEvents;
use super::sequence::AgentCli;
use crate::runners::StageRequest;
use crate::runners::grants::claude_denied_tools;
use crate::runners::process::Launch;
use crate::vocab::RunnerKind;

/// The permission mode that needs `IS_SANDBOX=1` as root.
const BYPASS: &str = "bypassPermissions";

/// `[runners.claude]`: Claude Code in print mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaudeConfig {
    pub command: String,
    /// Arguments before millrace's own.
    pub args: Vec<String>,
    /// `--permission-mode` (default `acceptEdits`).
    pub permission_mode: Option<String>,
    /// `--allowedTools` (unset: `Bash, Edit, Write, Read, Glob, Grep`; empty: the flag is left out).
    pub allowed_tools: Vec<String>,
    pub env: BTreeMap<String, String>,
}

impl Default for ClaudeConfig {
    fn default() -> ClaudeConfig {
        let tools = ["Bash", "Edit", "Write", "Read", "Glob", "Grep"];
        ClaudeConfig {
            command: "claude".into(),
            args: Vec::new(),
            permission_mode: None,
            allowed_tools: tools.iter().map(|t| t.to_string()).collect(),
            env: BTreeMap::new(),
        }
    }
}

impl ClaudeConfig {
    fn mode(&self) -> &str {
        self.permission_mode.as_deref().unwrap_or("acceptEdits")
    }

    /// The full argument list for a stage.
    pub fn argv(&self, request: &StageRequest, prompt: &str) -> Vec<String> {
        let mut argv = self.args.clone();
        argv.extend(["-p".into(), prompt.to_string()]);
        argv.extend(["--output-format", "stream-json", "--verbose"].map(String::from));
        if let Some(model) = &request.model {
            argv.extend(["--model".into(), model.clone()]);
        }
        argv.extend(["--permission-mode".into(), self.mode().to_string()]);
        let denied = claude_denied_tools(request);
        if !denied.is_empty() {
            argv.extend(["--disallowedTools".into(), denied.join(",")]);
        }
        let allowed: Vec<&str> = self
            .allowed_tools
            .iter()
            .map(String::as_str)
            .filter(|t| !denied.contains(t))
            .collect();
        if !allowed.is_empty() {
            argv.extend(["--allowedTools".into(), allowed.join(",")]);
        }
        argv
    }

    /// The configured environment plus what the stage's bindings imply.
    pub fn env(&self, request: &StageRequest, root: bool) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        if let Some(tokens) = request.thinking.as_deref().and_then(thinking_tokens) {
            env.insert("MAX_THINKING_TOKENS".into(), tokens.to_string());
        }
        if root && self.mode() == BYPASS {
            env.entry("IS_SANDBOX".into()).or_insert_with(|| "1".into());
        }
        env.into_iter().collect()
    }
}

/// The thinking budget of a level; `None` for a level it does not know.
fn thinking_tokens(level: &str) -> Option<u64> {
    match level {
        "off" | "none" => Some(0),
        "low" | "minimal" => Some(4_000),
        "medium" => Some(10_000),
        "high" | "xhigh" => Some(32_000),
        other => other.parse().ok(),
    }
}

/// Runs stages with Claude Code.
#[derive(Debug, Clone, Default)]
pub struct ClaudeRunner {
    config: ClaudeConfig,
}

impl ClaudeRunner {
    pub fn new(config: ClaudeConfig) -> ClaudeRunner {
        ClaudeRunner { config }
    }
}

impl AgentCli for ClaudeRunner {
    type Reader = FoldedEvents<ClaudeReport>;

    fn kind(&self) -> RunnerKind {
        RunnerKind::ClaudeCode
    }

    fn launch(&self, request: &StageRequest, prompt: &str) -> Launch {
        let root = rustix::process::geteuid().is_root();
        Launch {
            program: self.config.command.clone(),
            args: self.config.argv(request, prompt),
            env: self.config.env(request, root),
        }
    }

    fn reader(&self) -> Self::Reader {
        FoldedEvents::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::fixture;

    #[test]
    fn the_prompt_precedes_the_variadic_tools_flag() {
        let mut request = fixture::request(std::path::Path::new("/ws/run"));
        request.model = Some("sonnet".into());
        let config = ClaudeConfig {
            args: vec!["--debug".into()],
            ..ClaudeConfig::default()
        };
        let argv = config.argv(&request, "PROMPT");
        let expected = [
            "--debug",
            "-p",
            "PROMPT",
            "--output-format",
            "stream-json",
            "--verbose",
            "--model",
            "sonnet",
            "--permission-mode",
            "acceptEdits",
            "--allowedTools",
            "Bash,Edit,Write,Read,Glob,Grep",
        ];
        assert_eq!(argv, expected);
    }

    #[test]
    fn bypass_as_root_sets_is_sandbox_and_thinking_sets_a_budget() {
        let mut request = fixture::request(std::path::Path::new("/ws/run"));
        request.thinking = Some("medium".into());
        let config = ClaudeConfig {
            permission_mode: Some(BYPASS.into()),
            ..ClaudeConfig::default()
        };
        let env = config.env(&request, true);
        assert!(env.contains(&("IS_SANDBOX".into(), "1".into())));
        assert!(env.contains(&("MAX_THINKING_TOKENS".into(), "10000".into())));
        assert!(
            !config
                .env(&request, false)
                .iter()
                .any(|(k, _)| k == "IS_SANDBOX")
        );
    }
}
