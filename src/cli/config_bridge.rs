//! What the compiler takes from `millrace.toml`: the default mode, loop
//! parameters (`[recovery]`, `[params]`) and per-stage bindings (`[stages]`).

use std::path::Path;

use super::output::{CliError, fail};
use crate::check::{Overrides, StageOverride};

pub struct CompileSettings {
    pub default_mode: Option<String>,
    pub overrides: Overrides,
}

pub fn compile_settings(path: &Path, bytes: &[u8]) -> Result<CompileSettings, CliError> {
    let text = String::from_utf8_lossy(bytes);
    let table: toml::Table = match toml::from_str(&text) {
        Ok(table) => table,
        Err(e) => return fail(format!("invalid config {}: {e}", path.display())),
    };
    let mut overrides = Overrides::default();
    for section in ["recovery", "params"] {
        for (key, value) in sub_table(&table, section).into_iter().flatten() {
            if let Some(n) = value.as_integer().and_then(|n| u64::try_from(n).ok()) {
                overrides.params.insert(key.clone(), n);
            }
        }
    }
    for (stage, value) in sub_table(&table, "stages").into_iter().flatten() {
        overrides
            .stages
            .insert(stage.clone(), stage_override(value));
    }
    overrides.default_runner =
        sub_table(&table, "runners").and_then(|r| text_of(r.get("default_runner")));
    let default_mode = sub_table(&table, "runtime").and_then(|r| text_of(r.get("default_mode")));
    Ok(CompileSettings {
        default_mode,
        overrides,
    })
}

fn sub_table<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Table> {
    table.get(key).and_then(toml::Value::as_table)
}

fn text_of(value: Option<&toml::Value>) -> Option<String> {
    value.and_then(toml::Value::as_str).map(str::to_string)
}

fn stage_override(value: &toml::Value) -> StageOverride {
    let get = |k: &str| text_of(value.get(k));
    StageOverride {
        runner: get("runner"),
        model: get("model"),
        thinking: get("thinking_level").or_else(|| get("model_reasoning_effort")),
        timeout_s: value
            .get("timeout_seconds")
            .and_then(toml::Value::as_integer)
            .and_then(|n| u64::try_from(n).ok()),
    }
}
