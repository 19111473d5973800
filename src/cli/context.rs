//! Resolving `--workspace`, `--config` and `--mode` into what a command needs.

use std::path::{Path, PathBuf};

use super::output::{CliError, fail};
use crate::check::Overrides;
use crate::fs_error::at;
use crate::plan::{self, InputDigest, digest};
use crate::workspace::WorkspacePaths;
use crate::workspace::config::Config;

/// The directory inside a workspace that Millrace owns.
pub const AGENTS_DIR: &str = "millrace-agents";
/// The operator's config file, relative to the agents directory.
pub const CONFIG_FILE: &str = "millrace.toml";
/// Where the compiled plan is persisted, relative to the agents directory.
pub const PLAN_FILE: &str = "state/compiled_plan.json";

/// An initialized workspace.
pub struct Workspace {
    pub root: PathBuf,
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
        Ok(Workspace { root, agents })
    }

    /// The workspace's paths, for the `workspace` module.
    pub fn paths(&self) -> WorkspacePaths {
        WorkspacePaths::new(&self.root)
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
    pub config: Config,
    pub path: PathBuf,
    pub default_mode: Option<String>,
    pub overrides: Overrides,
    pub digest: InputDigest,
}

/// Reads the config (`--config` or the workspace's `millrace.toml`).
pub fn load_config(workspace: &Workspace, config: Option<&Path>) -> Result<ConfigInput, CliError> {
    let path = config_path(workspace, config);
    let bytes = read_config(&path)?;
    let settings = super::config_bridge::compile_settings(&path, &bytes)?;
    Ok(ConfigInput {
        config: settings.config,
        path,
        default_mode: settings.default_mode,
        overrides: settings.overrides,
        digest: digest(CONFIG_FILE, Some(&bytes)),
    })
}

/// Like [`load_config`], but a config that does not load yields the defaults
/// (with the file's real digest, so currentness stays honest) and the error.
pub fn load_config_lenient(workspace: &Workspace) -> (ConfigInput, Option<String>) {
    match load_config(workspace, None) {
        Ok(config) => (config, None),
        Err(error) => {
            let path = config_path(workspace, None);
            let bytes = std::fs::read(&path).ok();
            let fallback = ConfigInput {
                config: Config::default(),
                path,
                default_mode: None,
                overrides: Overrides::default(),
                digest: digest(CONFIG_FILE, bytes.as_deref()),
            };
            (fallback, Some(error.message()))
        }
    }
}

/// `--config`, else the workspace's `millrace.toml`.
pub fn config_path(workspace: &Workspace, config: Option<&Path>) -> PathBuf {
    config.map_or_else(|| workspace.agents.join(CONFIG_FILE), Path::to_path_buf)
}

fn read_config(path: &Path) -> Result<Vec<u8>, CliError> {
    Ok(std::fs::read(path).map_err(at("read config", path))?)
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
    Ok(plan::load_sources(&workspace.agents)?)
}
