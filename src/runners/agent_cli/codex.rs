//! The `codex_cli` runner: one `codex exec` per stage.
//!
//! ```text
//! <command> <args: exec> [--profile P] [--skip-git-repo-check] [--model M]
//!   [<permission flags>] [-c <extra_config>]... [<denial sandbox flags>]
//!   [-c model_reasoning_effort="<thinking>"]
//!   --cd <workspace> --json --output-last-message <run_dir>/last_message.<id>.txt <prompt>
//! ```
//!
//! with stdin closed (Codex waits for end of file on an open stdin). The
//! permission level is the stage's (`permission_by_stage`, by node then
//! stage kind), else the model's (`permission_by_model`), else
//! `permission_default`; the flags are those of Codex CLI 0.169:
//! `basic` = `-c approval_policy="never" --sandbox workspace-write`,
//! `elevated` = `-c approval_policy="never" --sandbox danger-full-access`,
//! `maximum` = `--dangerously-bypass-approvals-and-sandbox`. The stage's
//! thinking level (else `model_reasoning_effort`) becomes
//! `-c model_reasoning_effort="…"`. A stage denied `workspace.write` runs
//! in the `read-only` sandbox instead, one denied only `network.access` in
//! `workspace-write` with `sandbox_workspace_write.network_access=false`,
//! whatever the configured level, `extra_config` or profile (its flags
//! come after them, and Codex keeps the last `-c` of a key); a
//! `network.access` denial adds `-c web_search="disabled"`, as the model's
//! web search tool is outside the sandbox.
//!
//! The JSONL events (stdout) are read as they arrive and kept (capped) as
//! `events.<id>.jsonl`; see
//! [`codex_events`](super::codex_events) for how they are read, and
//! [`sequence`](super::sequence) for the run every agent CLI shares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::codex_events::CodexReport;
use super::events::FoldedEvents;
use super::sequence::AgentCli;
use crate::runners::grants::codex_sandbox;
use crate::runners::process::Launch;
use crate::runners::run_dir::plain_path;
use crate::runners::{StageRequest, last_message_path};
use crate::vocab::RunnerKind;
use crate::vocab::capability::{Capability, Decision, Enforcement};

/// Codex sandbox and approval levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodexPermission {
    /// Workspace-write sandbox, never ask.
    Basic,
    /// No sandbox, never ask.
    Elevated,
    /// No sandbox and no approvals at all.
    #[default]
    Maximum,
}

impl CodexPermission {
    /// The Codex CLI flags for this level.
    pub fn flags(self) -> Vec<String> {
        let never = ["-c", "approval_policy=\"never\"", "--sandbox"];
        let mut flags: Vec<String> = match self {
            CodexPermission::Maximum => {
                return vec!["--dangerously-bypass-approvals-and-sandbox".into()];
            }
            _ => never.iter().map(|s| s.to_string()).collect(),
        };
        flags.push(match self {
            CodexPermission::Basic => "workspace-write".into(),
            _ => "danger-full-access".into(),
        });
        flags
    }
}

/// `[runners.codex]`: the Codex CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CodexConfig {
    pub command: String,
    /// Arguments before millrace's own (default `exec`).
    pub args: Vec<String>,
    pub profile: Option<String>,
    pub permission_default: CodexPermission,
    /// By node name or stage kind.
    pub permission_by_stage: BTreeMap<String, CodexPermission>,
    pub permission_by_model: BTreeMap<String, CodexPermission>,
    /// Used when the stage binds no thinking level.
    pub model_reasoning_effort: Option<String>,
    pub skip_git_repo_check: bool,
    /// Each item becomes `-c ITEM`.
    pub extra_config: Vec<String>,
    pub env: BTreeMap<String, String>,
}

impl Default for CodexConfig {
    fn default() -> CodexConfig {
        CodexConfig {
            command: "codex".into(),
            args: vec!["exec".into()],
            profile: None,
            permission_default: CodexPermission::Maximum,
            permission_by_stage: BTreeMap::new(),
            permission_by_model: BTreeMap::new(),
            model_reasoning_effort: None,
            skip_git_repo_check: true,
            extra_config: Vec::new(),
            env: BTreeMap::new(),
        }
    }
}

impl CodexConfig {
    /// The permission level of a stage.
    pub fn permission(&self, request: &StageRequest) -> CodexPermission {
        let by_stage = [&request.node, &request.stage_kind]
            .into_iter()
            .find_map(|name| self.permission_by_stage.get(name));
        let by_model = || {
            let model = request.model.as_ref()?;
            self.permission_by_model.get(model)
        };
        by_stage
            .or_else(by_model)
            .copied()
            .unwrap_or(self.permission_default)
    }

    /// The first of the operator's `args` that sets Codex's sandbox or
    /// approvals itself. Codex 0.169 lets `--dangerously-bypass-approvals-
    /// and-sandbox` (alias `--yolo`) win over a later `--sandbox read-only`,
    /// and refuses a second `--sandbox` or `--approve-for-me` beside it, so
    /// a stage whose denial the sandbox holds cannot run with one of these.
    /// (`-c sandbox_mode=...` is safe: the `--sandbox` flag beats it.)
    pub fn sandbox_override(&self) -> Option<&str> {
        const FLAGS: [&str; 5] = [
            "--dangerously-bypass-approvals-and-sandbox",
            "--yolo",
            "--sandbox",
            "--approve-for-me",
            "--full-auto",
        ];
        self.args.iter().map(String::as_str).find(|arg| {
            let name = arg.split('=').next().unwrap_or(arg);
            FLAGS.contains(&name) || (arg.starts_with("-s") && !arg.starts_with("--"))
        })
    }

    /// Why a stage cannot run as its plan says: a denial the plan says
    /// Codex holds (only its sandbox holds any) is undone by an operator
    /// argument that takes the sandbox over.
    pub fn denial_undone(&self, request: &StageRequest) -> Option<String> {
        let held = request.grants.iter().find(|g| {
            g.decision == Decision::Denied && g.enforcement == Enforcement::RunnerEnforced
        })?;
        self.undoes(held.capability)
    }

    /// What undoes a sandbox-held denial of `capability`, if anything does.
    pub fn undoes(&self, capability: Capability) -> Option<String> {
        let flag = self.sandbox_override()?;
        Some(format!(
            "`{flag}` in [runners.codex] args overrides the sandbox that holds the \
             denial of {capability}; remove it from args (set levels with \
             permission_default or permission_by_stage)"
        ))
    }

    /// The full argument list for a stage (the prompt last).
    pub fn argv(&self, request: &StageRequest, prompt: &str) -> Vec<String> {
        let mut argv = self.args.clone();
        if let Some(profile) = &self.profile {
            argv.extend(["--profile".into(), profile.clone()]);
        }
        if self.skip_git_repo_check {
            argv.push("--skip-git-repo-check".into());
        }
        if let Some(model) = &request.model {
            argv.extend(["--model".into(), model.clone()]);
        }
        // A denial the sandbox holds replaces the configured level, and
        // comes after `extra_config`: the last `-c` of a key wins, so that
        // neither it nor the profile can turn the network back on.
        let sandbox = codex_sandbox(request);
        if sandbox.is_none() {
            argv.extend(self.permission(request).flags());
        }
        for item in &self.extra_config {
            argv.extend(["-c".into(), item.clone()]);
        }
        argv.extend(sandbox.into_iter().flatten());
        let effort = request
            .thinking
            .as_ref()
            .or(self.model_reasoning_effort.as_ref());
        if let Some(effort) = effort {
            argv.extend(["-c".into(), format!("model_reasoning_effort={effort:?}")]);
        }
        let last = plain_path(&last_message_path(request));
        let root = request.workspace_root.display().to_string();
        argv.extend(["--cd".into(), root, "--json".into()]);
        argv.extend(["--output-last-message".into(), last.display().to_string()]);
        argv.push(prompt.to_string());
        argv
    }
}

/// Runs stages with the Codex CLI.
#[derive(Debug, Clone, Default)]
pub struct CodexRunner {
    config: CodexConfig,
}

impl CodexRunner {
    pub fn new(config: CodexConfig) -> CodexRunner {
        CodexRunner { config }
    }
}

impl AgentCli for CodexRunner {
    type Reader = FoldedEvents<CodexReport>;

    fn kind(&self) -> RunnerKind {
        RunnerKind::CodexCli
    }

    fn launch(&self, request: &StageRequest, prompt: &str) -> Launch {
        Launch {
            program: self.config.command.clone(),
            args: self.config.argv(request, prompt),
            env: self.config.env.clone().into_iter().collect(),
        }
    }

    fn reader(&self) -> Self::Reader {
        FoldedEvents::default()
    }

    fn refusal(&self, request: &StageRequest) -> Option<String> {
        self.config.denial_undone(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::fixture;

    fn request() -> StageRequest {
        let mut request = fixture::request(std::path::Path::new("/ws/run"));
        request.model = Some("gpt-x".into());
        request.thinking = Some("high".into());
        request
    }

    #[test]
    fn argv_has_every_part_in_order() {
        let config = CodexConfig {
            profile: Some("ci".into()),
            extra_config: vec!["a=1".into()],
            ..CodexConfig::default()
        };
        let argv = config.argv(&request(), "PROMPT");
        let expected = [
            "exec",
            "--profile",
            "ci",
            "--skip-git-repo-check",
            "--model",
            "gpt-x",
            "--dangerously-bypass-approvals-and-sandbox",
            "-c",
            "a=1",
            "-c",
            "model_reasoning_effort=\"high\"",
            "--cd",
            "/ws",
            "--json",
            "--output-last-message",
            "/ws/run/last_message.request-1.txt",
            "PROMPT",
        ];
        assert_eq!(argv, expected);
    }

    /// An operator's `extra_config` (or profile) setting the network on
    /// must not undo a stage's `network.access` denial.
    #[test]
    fn a_network_denial_comes_after_extra_config_that_would_undo_it() {
        use crate::runners::StageGrant;
        use crate::vocab::capability::{Capability, Decision, Enforcement};
        let config = CodexConfig {
            extra_config: vec!["sandbox_workspace_write.network_access=true".into()],
            ..CodexConfig::default()
        };
        let mut request = request();
        request.grants.push(StageGrant {
            grant_id: "grant-checker-network-access".into(),
            capability: Capability::NetworkAccess,
            decision: Decision::Denied,
            enforcement: Enforcement::RunnerEnforced,
        });
        let argv = config.argv(&request, "PROMPT");
        let network: Vec<&str> = argv
            .iter()
            .map(String::as_str)
            .filter(|a| a.starts_with("sandbox_workspace_write.network_access"))
            .collect();
        assert_eq!(
            network.last(),
            Some(&"sandbox_workspace_write.network_access=false"),
            "{argv:?}"
        );
    }

    #[test]
    fn operator_args_that_set_the_sandbox_are_found() {
        let with = |args: &[&str]| CodexConfig {
            args: args.iter().map(|a| a.to_string()).collect(),
            ..CodexConfig::default()
        };
        let found = |args: &[&str]| with(args).sandbox_override().map(str::to_string);
        assert_eq!(found(&["exec"]), None);
        assert_eq!(found(&["exec", "--json", "-c", "x=1"]), None);
        assert_eq!(found(&["--yolo", "exec"]).as_deref(), Some("--yolo"));
        assert_eq!(found(&["exec", "-s", "read-only"]).as_deref(), Some("-s"));
        assert_eq!(
            found(&["exec", "-sworkspace-write"]).as_deref(),
            Some("-sworkspace-write")
        );
        assert_eq!(
            found(&["exec", "--sandbox=danger-full-access"]).as_deref(),
            Some("--sandbox=danger-full-access")
        );
        assert_eq!(
            found(&["exec", "--approve-for-me"]).as_deref(),
            Some("--approve-for-me")
        );
    }

    #[test]
    fn permission_stage_beats_model_beats_default() {
        let mut config = CodexConfig {
            permission_default: CodexPermission::Basic,
            ..CodexConfig::default()
        };
        let request = request();
        assert_eq!(config.permission(&request), CodexPermission::Basic);
        config
            .permission_by_model
            .insert("gpt-x".into(), CodexPermission::Elevated);
        assert_eq!(config.permission(&request), CodexPermission::Elevated);
        config
            .permission_by_stage
            .insert("checker".into(), CodexPermission::Maximum);
        assert_eq!(config.permission(&request), CodexPermission::Maximum);
    }

    #[test]
    fn permission_flags_exist_in_current_codex() {
        assert_eq!(
            CodexPermission::Basic.flags(),
            [
                "-c",
                "approval_policy=\"never\"",
                "--sandbox",
                "workspace-write"
            ]
        );
        assert_eq!(
            CodexPermission::Elevated.flags(),
            [
                "-c",
                "approval_policy=\"never\"",
                "--sandbox",
                "danger-full-access"
            ]
        );
        assert_eq!(
            CodexPermission::Maximum.flags(),
            ["--dangerously-bypass-approvals-and-sandbox"]
        );
    }
}
