//! What the daemon takes from `millrace.toml` besides the plan: automatic
//! recovery, usage governance, the runners' settings and run retention.
//! `reload-config` replaces them together with the plan.

use crate::plan::Plan;
use crate::runners::RunnerSettings;
use std::time::Duration;

use crate::workspace::config::{
    AutoRecoveryConfig, Config, LanesConfig, RunsConfig, UsageGovernanceConfig,
};
use crate::workspace::skills::RemoteSettings;
use crate::workspace::worktrees::MergeCheck;

/// The daemon's settings from `millrace.toml`.
#[derive(Debug, Clone, Default)]
pub struct RuntimeSettings {
    /// `[auto_recovery]`: transient retries and automatic requeues.
    pub auto_recovery: AutoRecoveryConfig,
    /// `[usage_governance]`: token rules that pause between stages.
    pub governance: UsageGovernanceConfig,
    /// `[runners]`, resolved for the workspace.
    pub runners: RunnerSettings,
    /// `[runs]`: how many run folders are kept.
    pub runs: RunsConfig,
    /// `[skills]`: the remote index installs read.
    pub skills: RemoteSettings,
    /// `[lanes] merge_check`: what a lane's work must pass to merge.
    pub merge_check: Option<MergeCheck>,
}

impl RuntimeSettings {
    /// The settings of a loaded config for the workspace whose agents
    /// folder is `agents`.
    pub fn from_config(config: &Config, agents: &std::path::Path) -> RuntimeSettings {
        RuntimeSettings {
            auto_recovery: config.auto_recovery.clone(),
            governance: config.usage_governance.clone(),
            runners: config.runners.resolve(agents),
            runs: config.runs.clone(),
            skills: config.skills.remote(),
            merge_check: merge_check(&config.lanes),
        }
    }
}

/// How long a merge check may run when `merge_check_timeout` says nothing.
const MERGE_CHECK_TIMEOUT: Duration = Duration::from_secs(3600);

fn merge_check(lanes: &LanesConfig) -> Option<MergeCheck> {
    let command = lanes.merge_check.clone()?;
    let timeout = lanes
        .merge_check_timeout
        .map_or(MERGE_CHECK_TIMEOUT, Duration::from_secs);
    Some(MergeCheck { command, timeout })
}

/// What recompiling the workspace gives: the plan and the settings read
/// with it, from the same `millrace.toml`.
pub struct Reloaded {
    pub plan: Plan,
    pub settings: RuntimeSettings,
}

/// Why a reload was refused (the compiler's diagnostics, a config that does
/// not load), with its cause.
pub type ReloadError = Box<dyn std::error::Error + Send + Sync>;

/// The compiler, as the daemon may call it; the runtime itself never reads
/// `.loop` files or `millrace.toml`.
pub type Recompile = Box<dyn Fn() -> Result<Reloaded, ReloadError>>;
