//! What the compiler takes from `millrace.toml`, read through the typed
//! [`Config`]: the default mode, loop parameters (`[recovery]`, `[params]`),
//! per-stage bindings (`[stages.<stage>]`), `runners.default_runner` and
//! the execution lanes (`[lanes] execution`).

use std::path::Path;

use super::output::{CliError, fail};
use crate::check::{CapabilityOverrides, Overrides, Policies, PolicyRule, StageOverride};
use crate::vocab::capability::{Capability, GateScope};
use crate::workspace::config::{Config, ExecutionCapabilitiesConfig, PolicyTable, StageConfig};

/// The `[recovery]` keys that are also loop parameters of the same name.
pub const RECOVERY_PARAMS: &[&str] = &[
    "max_fix_cycles",
    "max_troubleshoot_attempts_before_consult",
    "max_mechanic_attempts",
];

/// The config as the compiler needs it.
pub struct CompileSettings {
    pub config: Config,
    pub default_mode: Option<String>,
    pub overrides: Overrides,
}

/// Parses and checks the config text; an unknown key or bad value is an error
/// naming the file, the line and the dotted key.
pub fn compile_settings(path: &Path, bytes: &[u8]) -> Result<CompileSettings, CliError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return fail(format!("{}: the config is not UTF-8 text", path.display()));
    };
    let config = Config::parse(text, path)?;
    for warning in &config.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    let written = written_recovery_keys(text);
    let overrides = overrides(&config, &written, path)?;
    Ok(CompileSettings {
        default_mode: Some(config.runtime.default_mode.clone()),
        overrides,
        config,
    })
}

/// The compiler overrides of a loaded config. `[recovery]` values count only
/// when written in the file, so that loop and mode defaults otherwise stand.
fn overrides(config: &Config, written: &[String], path: &Path) -> Result<Overrides, CliError> {
    let mut overrides = Overrides::default();
    for key in written {
        if let Some(value) = recovery_value(config, key) {
            overrides.params.insert(key.clone(), u64::from(value));
        }
    }
    for (key, value) in &config.params {
        let Ok(value) = u64::try_from(*value) else {
            return fail(format!(
                "{}: `params.{key}` must be >= 0, not {value}",
                path.display()
            ));
        };
        overrides.params.insert(key.clone(), value);
    }
    for (stage, binding) in &config.stages {
        overrides
            .stages
            .insert(stage.clone(), stage_override(binding));
    }
    overrides.default_runner = Some(config.runners.default_runner.clone());
    overrides.capabilities = capability_overrides(&config.execution_capabilities);
    overrides.execution_lanes = config.lanes.execution;
    Ok(overrides)
}

/// `[execution_capabilities]` as the checker's policies (ids already
/// validated when the config was read).
fn capability_overrides(section: &ExecutionCapabilitiesConfig) -> CapabilityOverrides {
    let scope = section.approval_scope;
    let planes = section.planes.iter().map(|(p, t)| (*p, policies(t, scope)));
    let stages = section
        .stages
        .iter()
        .map(|(s, t)| (s.clone(), policies(t, scope)));
    CapabilityOverrides {
        enabled: section.enabled,
        defaults: policies(&section.defaults, scope),
        planes: planes.collect(),
        stages: stages.collect(),
        require_held_denials: section.fail_required_advisory,
    }
}

fn policies(table: &PolicyTable, scope: GateScope) -> Policies {
    table
        .iter()
        .filter_map(|(key, policy)| {
            let rule = PolicyRule {
                policy: *policy,
                scope,
            };
            Some((Capability::parse(key)?, rule))
        })
        .collect()
}

fn recovery_value(config: &Config, key: &str) -> Option<u32> {
    let recovery = &config.recovery;
    match key {
        "max_fix_cycles" => Some(recovery.max_fix_cycles),
        "max_troubleshoot_attempts_before_consult" => {
            Some(recovery.max_troubleshoot_attempts_before_consult)
        }
        "max_mechanic_attempts" => Some(recovery.max_mechanic_attempts),
        _ => None,
    }
}

/// The loop-parameter keys written under `[recovery]` (the text already parsed).
fn written_recovery_keys(text: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    let Some(recovery) = table.get("recovery").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    RECOVERY_PARAMS
        .iter()
        .filter(|key| recovery.contains_key(**key))
        .map(|key| key.to_string())
        .collect()
}

fn stage_override(binding: &StageConfig) -> StageOverride {
    StageOverride {
        runner: binding.runner.clone(),
        model: binding.model.clone(),
        thinking: binding.thinking_level.clone(),
        timeout_s: binding.timeout_seconds,
    }
}
