//! Resolving `--workspace`, `--config` and `--mode` into what a command needs.

use std::path::{Path, PathBuf};

use super::output::{CliError, fail};
use crate::check::Overrides;
use crate::plan::{self, InputDigest, digest};

/// The directory inside a workspace that Millrace owns.
pub const AGENTS_DIR: &str = "millrace-agents";
/// The operator's config file, relative to the agents directory.
pub const CONFIG_FILE: &str = "millrace.toml";
/// Where the compiled plan is persisted, relative to the agents directory.
pub const PLAN_FILE: &str = "state/compiled_plan.json";

/// An initialized workspace.
pub struct Workspace {
    pub agents: PathBuf,
}

impl Workspace {
    /// Resolves `--workspace` and refuses one that was never initialized.
    pub fn open(path: &Path) -> Result<Workspace, CliError> {
        let root = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let agents = root.join(AGENTS_DIR);
        if !agents.join(CONFIG_FILE).is_file() {
            return fail(format!(
                "workspace is not initialized: {}. Run `millrace init --workspace {}` first.",
                root.display(),
                root.display()
            ));
        }
        Ok(Workspace { agents })
    }

    /// The workspace root (the directory holding `millrace-agents/`).
    pub fn root(&self) -> PathBuf {
        self.agents
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    pub fn plan_path(&self) -> PathBuf {
        self.agents.join(PLAN_FILE)
    }
}

/// The operator's configuration as the compiler needs it.
pub struct ConfigInput {
    pub default_mode: Option<String>,
    pub overrides: Overrides,
    pub digest: InputDigest,
}

/// Reads the config (`--config` or the workspace's `millrace.toml`).
pub fn load_config(workspace: &Workspace, config: Option<&Path>) -> Result<ConfigInput, CliError> {
    let path = config.map_or_else(|| workspace.agents.join(CONFIG_FILE), Path::to_path_buf);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return fail(format!("cannot read config {}: {e}", path.display())),
    };
    let settings = super::config_bridge::compile_settings(&path, &bytes)?;
    Ok(ConfigInput {
        default_mode: settings.default_mode,
        overrides: settings.overrides,
        digest: digest(CONFIG_FILE, Some(&bytes)),
    })
}

/// The mode to compile: `--mode`, else the config's default, else `default_codex`.
pub fn mode_name(explicit: Option<&str>, config: &ConfigInput) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| config.default_mode.clone())
        .unwrap_or_else(|| "default_codex".into())
}

/// Loads the workspace's own `.loop` files.
pub fn workspace_sources(workspace: &Workspace) -> Result<crate::syntax::SourceMap, CliError> {
    plan::load_sources(&workspace.agents).map_err(|e| CliError::Failed(e.to_string()))
}
