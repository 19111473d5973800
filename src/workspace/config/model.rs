//! The typed `millrace.toml`: every section, field, and default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::runners::{ClaudeConfig, CodexConfig, CodexPermission, CommandConfig, PiConfig};

/// The whole `millrace.toml`. Every section and field is optional; unknown keys are errors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[runtime]`: the daemon.
    pub runtime: RuntimeConfig,
    /// `[runners]`: how stages run.
    pub runners: RunnersConfig,
    /// `[recovery]`: recovery budgets, overriding loop params of the same meaning.
    pub recovery: RecoveryConfig,
    /// `[auto_recovery]`: automatic requeues of blocked work and transient runner retries.
    pub auto_recovery: AutoRecoveryConfig,
    /// `[watchers]`: file events on intake folders and the mailbox.
    pub watchers: WatchersConfig,
    /// `[usage_governance]`: pausing when token use passes a threshold.
    pub usage_governance: UsageGovernanceConfig,
    /// `[runs]`: how many run folders (`runs/<run_id>/`) are kept, and for how long.
    pub runs: RunsConfig,
    /// `[skills]`: where optional skills come from.
    pub skills: SkillsConfig,
    /// `[lanes]`: parallel execution lanes and their merge check.
    pub lanes: LanesConfig,
    /// `[params]`: loop parameters by name (`max_fix_cycles = 3`), overriding loops and modes.
    pub params: BTreeMap<String, i64>,
    /// `[stages.<stage>]`: per-stage bindings, overriding loops and modes.
    pub stages: BTreeMap<String, StageConfig>,
    /// `[execution_capabilities]`: what stages may do, and what waits for an operator.
    pub execution_capabilities: super::ExecutionCapabilitiesConfig,
    /// Keys read but without effect here, one sentence each naming the key.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `[runtime]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// The mode `run` uses when none is given.
    pub default_mode: String,
    /// Accepted for compatibility with reference workspaces; only `daemon`.
    pub run_style: String,
    /// How long an idle daemon sleeps when no event wakes it (seconds, > 0).
    pub idle_sleep_seconds: f64,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            default_mode: "default_codex".to_string(),
            run_style: "daemon".to_string(),
            idle_sleep_seconds: 1.0,
        }
    }
}

/// `[runners]` and its per-runner tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunnersConfig {
    /// The runner of stages that bind none.
    pub default_runner: String,
    /// `[runners.codex]`.
    pub codex: CodexConfig,
    /// `[runners.pi]`.
    pub pi: PiConfig,
    /// `[runners.claude]`.
    pub claude: ClaudeConfig,
    /// `[runners.command]`.
    pub command: CommandConfig,
    pub script: ScriptConfig,
}

impl RunnersConfig {
    /// The runners' settings for a workspace whose agents folder is `agents`
    /// (the script file is relative to it).
    pub fn resolve(&self, agents: &std::path::Path) -> crate::runners::RunnerSettings {
        crate::runners::RunnerSettings {
            script: Some(agents.join(&self.script.file)),
            command: self.command.clone(),
            codex: self.codex.clone(),
            pi: self.pi.clone(),
            claude: self.claude.clone(),
        }
    }
}

impl Default for RunnersConfig {
    fn default() -> RunnersConfig {
        RunnersConfig {
            default_runner: crate::vocab::RunnerKind::CodexCli.as_str().to_string(),
            codex: CodexConfig::default(),
            pi: PiConfig::default(),
            claude: ClaudeConfig::default(),
            command: CommandConfig::default(),
            script: ScriptConfig::default(),
        }
    }
}

/// `[runners.script]`: the built-in runner that answers from a script file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptConfig {
    /// The script file, relative to `millrace-agents/` (see `docs/script-runner.md`).
    pub file: String,
}

impl Default for ScriptConfig {
    fn default() -> ScriptConfig {
        ScriptConfig {
            file: "script.toml".to_string(),
        }
    }
}

/// `[recovery]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoveryConfig {
    /// Checker → fixer rounds per task (> 0).
    pub max_fix_cycles: u32,
    /// Troubleshooter attempts before the consultant (> 0).
    pub max_troubleshoot_attempts_before_consult: u32,
    /// Mechanic attempts in planning (> 0).
    pub max_mechanic_attempts: u32,
    /// Recover stale active state at startup.
    pub stale_state_recovery_enabled: bool,
}

impl Default for RecoveryConfig {
    fn default() -> RecoveryConfig {
        RecoveryConfig {
            max_fix_cycles: 2,
            max_troubleshoot_attempts_before_consult: 2,
            max_mechanic_attempts: 2,
            stale_state_recovery_enabled: true,
        }
    }
}

/// `[auto_recovery]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoRecoveryConfig {
    /// Requeue blocked work whose failure was transient.
    pub enabled: bool,
    /// Only requeue blocked tasks that queued work depends on.
    pub blocked_dependency_retry_enabled: bool,
    /// Automatic requeues per work item.
    pub max_auto_requeues_per_work_item: u32,
    /// Wait before the n-th automatic requeue (seconds; the last value repeats).
    pub cooldown_seconds: Vec<u64>,
    /// First delay of a transient runner retry (seconds).
    pub backoff_base_seconds: f64,
    /// Longest delay of a transient runner retry (seconds).
    pub backoff_max_seconds: f64,
    /// Random spread of a retry delay, as a fraction in 0..=1.
    pub backoff_jitter: f64,
    /// Retries of a transient runner failure within one stage.
    pub max_transient_retries: u32,
}

impl Default for AutoRecoveryConfig {
    fn default() -> AutoRecoveryConfig {
        AutoRecoveryConfig {
            enabled: true,
            blocked_dependency_retry_enabled: true,
            max_auto_requeues_per_work_item: 3,
            cooldown_seconds: vec![300, 900, 3600],
            backoff_base_seconds: 2.0,
            backoff_max_seconds: 60.0,
            backoff_jitter: 0.2,
            max_transient_retries: 2,
        }
    }
}

/// `[watchers]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchersConfig {
    /// Use file events; off means timer polling only.
    pub enabled: bool,
    /// Coalesce events arriving within this many milliseconds.
    pub debounce_ms: u64,
    /// Turn files dropped in `ideas/inbox/` into specs.
    pub watch_ideas_inbox: bool,
    /// Index specs written straight into `specs/queue/`.
    pub watch_specs_queue: bool,
}

impl Default for WatchersConfig {
    fn default() -> WatchersConfig {
        WatchersConfig {
            enabled: true,
            debounce_ms: 250,
            watch_ideas_inbox: true,
            watch_specs_queue: true,
        }
    }
}

/// The window a usage rule sums tokens over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageWindow {
    /// The last five hours.
    #[serde(rename = "rolling_5h")]
    Rolling5h,
    /// The current calendar week.
    CalendarWeek,
    /// Since the daemon started.
    DaemonSession,
    /// One run.
    PerRun,
}

/// One usage rule: pause when the window's total tokens reach the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageRule {
    /// A name for messages and events.
    pub rule_id: String,
    /// The window.
    pub window: UsageWindow,
    /// Total tokens at which new stages stop starting.
    pub threshold: u64,
}

/// `[usage_governance]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageGovernanceConfig {
    /// Evaluate rules between stages.
    pub enabled: bool,
    /// Resume by itself when no rule blocks any more.
    pub auto_resume: bool,
    /// `[[usage_governance.rules]]`.
    pub rules: Vec<UsageRule>,
    /// The reference's rules table, moved into `rules` on load.
    #[serde(skip_serializing)]
    pub runtime_token_rules: Option<super::reference_rules::ReferenceTokenRules>,
    /// The reference's `between_stages` (the only boundary), checked on load.
    #[serde(skip_serializing)]
    pub evaluation_boundary: Option<String>,
    /// The reference's week time zone; only `UTC` is supported.
    #[serde(skip_serializing)]
    pub calendar_timezone: Option<String>,
    /// The reference's subscription quota rules: read with a warning.
    #[serde(skip_serializing)]
    pub subscription_quota_rules: Option<toml::Value>,
}

impl Default for UsageGovernanceConfig {
    fn default() -> UsageGovernanceConfig {
        UsageGovernanceConfig {
            enabled: false,
            auto_resume: true,
            rules: vec![
                UsageRule {
                    rule_id: "rolling-5h-default".to_string(),
                    window: UsageWindow::Rolling5h,
                    threshold: 750_000,
                },
                UsageRule {
                    rule_id: "calendar-week-default".to_string(),
                    window: UsageWindow::CalendarWeek,
                    threshold: 5_000_000,
                },
            ],
            runtime_token_rules: None,
            evaluation_boundary: None,
            calendar_timezone: None,
            subscription_quota_rules: None,
        }
    }
}

/// `[runs]`: the retention of run folders. A finished run's folder is removed
/// once it is past either limit; runs of unfinished or blocked work are kept
/// whatever the limits say (see `workspace::runs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunsConfig {
    /// Keep at most this many run folders, newest first (0: no count limit).
    pub keep_last: u64,
    /// Remove run folders untouched for more than this many days (0: no age limit).
    pub keep_days: u64,
}

impl Default for RunsConfig {
    /// A thousand runs and a month: enough to inspect recent work after a
    /// long unattended run, about 80 MB at the usual 82 KB per run.
    fn default() -> RunsConfig {
        RunsConfig {
            keep_last: 1000,
            keep_days: 30,
        }
    }
}

/// `[skills]`: the remote skills index `skills install ID`, `skills search`
/// and the librarian's installs read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkillsConfig {
    /// The index: an `https://` or `http://` URL, a `file://` URL or a path.
    pub remote_index_url: String,
    /// How long one fetch may take (seconds, > 0).
    pub fetch_timeout_seconds: u64,
}

impl Default for SkillsConfig {
    /// The reference's public index and its ten-second timeout.
    fn default() -> SkillsConfig {
        SkillsConfig {
            remote_index_url: crate::workspace::skills::remote::DEFAULT_INDEX_URL.to_string(),
            fetch_timeout_seconds: crate::workspace::skills::remote::DEFAULT_TIMEOUT_SECONDS,
        }
    }
}

impl SkillsConfig {
    /// The settings the skills store fetches with.
    pub fn remote(&self) -> crate::workspace::skills::RemoteSettings {
        crate::workspace::skills::RemoteSettings {
            index_url: self.remote_index_url.clone(),
            timeout: std::time::Duration::from_secs(self.fetch_timeout_seconds.max(1)),
        }
    }
}

/// `[lanes]`: how many tasks the execution plane runs at once, and the
/// check a lane's work must pass before it enters the target branch
/// (docs/lanes.md). Every key is optional: unset, the mode decides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LanesConfig {
    /// Execution lanes, overriding the mode's `lanes execution` (1 to `MAX_LANES`).
    pub execution: Option<u64>,
    /// A shell command run in a lane's worktree on the rebased commit
    /// before it merges (`cargo test`); none means every merge passes.
    pub merge_check: Option<String>,
    /// How long the merge check may run (seconds, > 0).
    pub merge_check_timeout: Option<u64>,
}

/// `[stages.<stage>]`: bindings of one stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StageConfig {
    /// The runner (`codex_cli`, `pi_rpc`, `claude_code`, `command`, `script`).
    pub runner: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// The thinking level, passed to the runner as is.
    pub thinking_level: Option<String>,
    /// The reference's older name of `thinking_level`, moved there on load.
    #[serde(skip_serializing)]
    pub model_reasoning_effort: Option<String>,
    /// Stage timeout in seconds.
    pub timeout_seconds: Option<u64>,
}
