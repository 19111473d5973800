//! The built-in runners by name, as `.loop` files bind them (`runner script`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ClaudeConfig, ClaudeRunner, CodexConfig, CodexRunner, PiConfig, PiRunner};
use super::{CommandConfig, CommandRunner, Runner, ScriptRunner};
use crate::vocab::RunnerKind;

/// How the built-in runners are configured, resolved for one workspace
/// (`[runners]` of `millrace.toml`, with the script file's path made absolute).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerSettings {
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

/// The available runners: one of each [`RunnerKind`].
pub struct Runners {
    by_kind: BTreeMap<RunnerKind, Box<dyn Runner>>,
}

impl Runners {
    /// Every built-in runner, configured by `settings`.
    pub fn new(settings: RunnerSettings) -> Runners {
        let by_kind = RunnerKind::ALL
            .into_iter()
            .map(|kind| (kind, build(kind, &settings)))
            .collect();
        Runners { by_kind }
    }

    /// The runner bound as `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&dyn Runner> {
        let kind = RunnerKind::parse(name)?;
        self.by_kind.get(&kind).map(|r| r.as_ref())
    }

    /// The names of the available runners.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_kind.keys().map(|kind| kind.as_str())
    }
}

/// The runner of `kind`; the match makes a new kind fail to compile until
/// it has a runner.
fn build(kind: RunnerKind, settings: &RunnerSettings) -> Box<dyn Runner> {
    match kind {
        RunnerKind::Script => Box::new(ScriptRunner::new(settings.script.clone())),
        RunnerKind::Command => Box::new(CommandRunner::new(settings.command.clone())),
        RunnerKind::CodexCli => Box::new(CodexRunner::new(settings.codex.clone())),
        RunnerKind::PiRpc => Box::new(PiRunner::new(settings.pi.clone())),
        RunnerKind::ClaudeCode => Box::new(ClaudeRunner::new(settings.claude.clone())),
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
        let runners = Runners::new(RunnerSettings::default());
        let names = ["codex_cli", "pi_rpc", "claude_code", "command", "script"];
        assert_eq!(runners.names().collect::<Vec<_>>(), names);
        for name in names {
            assert_eq!(runners.get(name).map(|r| r.name()), Some(name));
        }
        assert!(runners.get("nope").is_none());
    }
}
