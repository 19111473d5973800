//! `millrace config show|validate`: the effective configuration (every key,
//! defaults included, as dotted `key: value` lines) and a full check (load the
//! config, then compile the mode as `compile validate` does).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::compile_cmd::{CompileArgs, compile_and_persist};
use super::context::{Workspace, load_config};
use super::output::{CliResult, Out};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective config: every section's keys with defaults filled
    /// in, as dotted lines (`runners.codex.command: codex`); lists of tables
    /// are indexed (`usage_governance.rules[0].threshold: 750000`)
    Show(ShowArgs),
    /// Load the config (unknown keys and bad values are errors with a line
    /// and a suggestion), then compile the mode and persist the plan, exactly
    /// as `millrace compile validate`
    Validate(ValidateArgs),
    /// Recompile after editing `millrace.toml`, exactly as `millrace reload-config`
    /// (with a live daemon, mails it `reload_config`)
    Reload(super::control_cmd::WorkspaceArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// A config file to read instead of `millrace-agents/millrace.toml`
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// A config file to check instead of `millrace-agents/millrace.toml`
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The mode to compile [default: `runtime.default_mode` of the config]
    #[arg(long)]
    pub mode: Option<String>,
}

pub fn run(command: ConfigCommand) -> CliResult {
    match command {
        ConfigCommand::Show(args) => show(&args),
        ConfigCommand::Validate(args) => validate(args),
        ConfigCommand::Reload(args) => super::control_cmd::reload_config(&args),
    }
}

fn show(args: &ShowArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let config = load_config(&workspace, args.config.as_deref())?;
    let mut out = Out::new();
    out.kv("config_path", config.path.display())?;
    let value = serde_json::to_value(&config.config).unwrap_or(Value::Null);
    let mut lines = Vec::new();
    flatten("", &value, &mut lines);
    for (key, value) in lines {
        out.kv(&key, value)?;
    }
    Ok(())
}

/// Dotted `(key, value)` pairs of a JSON value: scalars and lists of scalars
/// are leaves; tables recurse; lists of tables are indexed.
fn flatten(prefix: &str, value: &Value, lines: &mut Vec<(String, String)>) {
    let join = |key: &str| match prefix {
        "" => key.to_string(),
        _ => format!("{prefix}.{key}"),
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                flatten(&join(key), inner, lines);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            for (index, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{index}]"), item, lines);
            }
        }
        Value::Null => lines.push((prefix.to_string(), "none".to_string())),
        Value::String(text) => lines.push((prefix.to_string(), text.clone())),
        other => lines.push((prefix.to_string(), other.to_string())),
    }
}

fn validate(args: ValidateArgs) -> CliResult {
    let compile = CompileArgs {
        workspace: args.workspace,
        mode: args.mode,
        config: args.config,
        deny: None,
    };
    compile_and_persist(&compile, &mut Out::new()).map(|_| ())
}
