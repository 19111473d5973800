//! `millrace.toml`: the typed configuration, friendly errors for unknown keys, and the `init` text.

mod capabilities;
mod default_text;
mod error;
mod model;
mod reference;
mod reference_rules;
mod unknown;

use std::path::Path;

use crate::fs_error::at;
use crate::vocab::MAX_LANES;

pub use capabilities::{ExecutionCapabilitiesConfig, PolicyTable};
pub use default_text::default_toml;
pub use error::ConfigError;
pub use model::{
    AutoRecoveryConfig, ClaudeConfig, CodexConfig, CodexPermission, CommandConfig, Config,
    LanesConfig, PiConfig, RecoveryConfig, RunnersConfig, RunsConfig, RuntimeConfig, StageConfig,
    UsageGovernanceConfig, UsageRule, UsageWindow, WatchersConfig,
};

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(at("read", path))?;
        Config::parse(&text, path)
    }

    /// Reads `path`, or the defaults when it does not exist.
    pub fn load_or_default(path: &Path) -> Result<Config, ConfigError> {
        if path.exists() {
            Config::load(path)
        } else {
            Ok(Config::default())
        }
    }

    /// Parses and checks TOML text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config =
            toml::from_str(text).map_err(|error| unknown::to_config_error(&error, text, path))?;
        config.adopt_reference_keys(path, text)?;
        config.validate(path, text)?;
        config.execution_capabilities.validate(path, text)?;
        Ok(config)
    }

    /// The names of the stages configured under `[stages]` (for the checker to validate).
    pub fn stage_names(&self) -> impl Iterator<Item = &str> {
        self.stages.keys().map(String::as_str)
    }

    fn validate(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let checks: [(bool, &str, &str); 8] = [
            (
                self.runtime.run_style == "daemon",
                "run_style",
                "`runtime.run_style` must be `daemon`",
            ),
            (
                self.runtime.idle_sleep_seconds > 0.0,
                "idle_sleep_seconds",
                "`runtime.idle_sleep_seconds` must be > 0",
            ),
            (
                self.recovery.max_fix_cycles > 0,
                "max_fix_cycles",
                "`recovery.max_fix_cycles` must be > 0",
            ),
            (
                self.recovery.max_troubleshoot_attempts_before_consult > 0,
                "max_troubleshoot_attempts_before_consult",
                "`recovery.max_troubleshoot_attempts_before_consult` must be > 0",
            ),
            (
                self.recovery.max_mechanic_attempts > 0,
                "max_mechanic_attempts",
                "`recovery.max_mechanic_attempts` must be > 0",
            ),
            (
                !self.auto_recovery.cooldown_seconds.is_empty(),
                "cooldown_seconds",
                "`auto_recovery.cooldown_seconds` needs at least one value",
            ),
            (
                (0.0..=1.0).contains(&self.auto_recovery.backoff_jitter),
                "backoff_jitter",
                "`auto_recovery.backoff_jitter` must be between 0 and 1",
            ),
            (
                self.auto_recovery.backoff_base_seconds <= self.auto_recovery.backoff_max_seconds,
                "backoff_base_seconds",
                "`auto_recovery.backoff_base_seconds` must not exceed `backoff_max_seconds`",
            ),
        ];
        let failed = checks.iter().find(|(ok, _, _)| !ok);
        let failed = failed.map(|(_, key, message)| (*key, message.to_string()));
        match failed.or_else(|| self.lanes.problem()) {
            None => Ok(()),
            Some((key, message)) => Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: unknown::line_of_key(text, key),
                message,
            }),
        }
    }
}

impl LanesConfig {
    /// The first key of `[lanes]` out of range, with why: the same limits
    /// as a mode's `lanes execution`.
    fn problem(&self) -> Option<(&'static str, String)> {
        if self
            .execution
            .is_some_and(|n| !(1..=MAX_LANES).contains(&n))
        {
            let message = format!("`lanes.execution` must be from 1 to {MAX_LANES}");
            return Some(("execution", message));
        }
        if self
            .merge_check
            .as_ref()
            .is_some_and(|c| c.trim().is_empty())
        {
            let message = "`lanes.merge_check` must be a command; leave it out for no check";
            return Some(("merge_check", message.to_string()));
        }
        if self.merge_check_timeout == Some(0) {
            let message = "`lanes.merge_check_timeout` must be > 0";
            return Some(("merge_check_timeout", message.to_string()));
        }
        None
    }
}
