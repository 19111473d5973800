//! The built-in runners by name, as `.loop` files bind them (`runner script`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ClaudeConfig, ClaudeRunner, CodexConfig, CodexRunner, PiConfig, PiRunner};
use super::{CommandConfig, CommandRunner, Runner, ScriptRunner};

/// How the built-in runners are configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnersConfig {
    /// The `script` runner's script file (none: every stage succeeds).
    #[serde(default)]
    pub script: Option<PathBuf>,
    /// The `command` runner's program.
    #[serde(default)]
    pub command: CommandConfig,
    /// The `codex_cli` runner.
    #[serde(default)]
    pub codex: CodexConfig,
    /// The `pi_rpc` runner.
    #[serde(default)]
    pub pi: PiConfig,
    /// The `claude_code` runner.
    #[serde(default)]
    pub claude: ClaudeConfig,
}

/// The available runners, by name.
pub struct Runners {
    by_name: BTreeMap<&'static str, Box<dyn Runner>>,
}

impl Runners {
    /// The built-in runners (`script`, `command`, `codex_cli`, `pi_rpc`,
    /// `claude_code`) configured by `config`.
    pub fn new(config: RunnersConfig) -> Runners {
        let mut runners = Runners {
            by_name: BTreeMap::new(),
        };
        runners.insert(Box::new(ScriptRunner::new(config.script)));
        runners.insert(Box::new(CommandRunner::new(config.command)));
        runners.insert(Box::new(CodexRunner::new(config.codex)));
        runners.insert(Box::new(PiRunner::new(config.pi)));
        runners.insert(Box::new(ClaudeRunner::new(config.claude)));
        runners
    }

    /// Adds a runner, replacing one of the same name.
    pub fn insert(&mut self, runner: Box<dyn Runner>) {
        self.by_name.insert(runner.name(), runner);
    }

    /// The runner bound as `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&dyn Runner> {
        self.by_name.get(name).map(|r| r.as_ref())
    }

    /// The names of the available runners, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
    }
}

impl std::fmt::Debug for Runners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_by_name() {
        let runners = Runners::new(RunnersConfig::default());
        let names = ["claude_code", "codex_cli", "command", "pi_rpc", "script"];
        assert_eq!(runners.names().collect::<Vec<_>>(), names);
        for name in names {
            assert_eq!(runners.get(name).map(|r| r.name()), Some(name));
        }
        assert!(runners.get("nope").is_none());
    }
}
