//! What the daemon takes from `millrace.toml` besides the plan: automatic
//! recovery, usage governance, the runners' settings and run retention.
//! `reload-config` replaces them together with the plan.

use crate::plan::Plan;
use crate::runners::RunnerSettings;
use crate::workspace::config::{AutoRecoveryConfig, Config, RunsConfig, UsageGovernanceConfig};
use crate::workspace::skills::RemoteSettings;

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
        }
    }
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
