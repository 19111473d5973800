//! Execution capabilities: the powers a stage may be granted (the
//! reference's 13 ids and their `snake_case` aliases), how a policy decides
//! them, and which runner can hold which decision.
//!
//! The table of what a runner holds lives here, beside the words, because
//! the compiler freezes it into the plan (so `compile show` can say it) and
//! the runners apply it (so what is said is what runs).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::RunnerKind;

/// One execution capability, named `area.action` as in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    WorkspaceRead,
    WorkspaceWrite,
    ArtifactRead,
    ArtifactWrite,
    RunnerInvoke,
    ShellRun,
    GitRead,
    GitMutate,
    PackageInstall,
    NetworkAccess,
    ApprovalRequest,
    EvidenceEmit,
    RuntimeControl,
}

impl Capability {
    /// Every capability, in the reference's order.
    pub const ALL: [Capability; 13] = [
        Capability::WorkspaceRead,
        Capability::WorkspaceWrite,
        Capability::ArtifactRead,
        Capability::ArtifactWrite,
        Capability::RunnerInvoke,
        Capability::ShellRun,
        Capability::GitRead,
        Capability::GitMutate,
        Capability::PackageInstall,
        Capability::NetworkAccess,
        Capability::ApprovalRequest,
        Capability::EvidenceEmit,
        Capability::RuntimeControl,
    ];

    /// The requests every stage makes, as in the reference: invoking its
    /// runner, reading the workspace, writing its artifacts.
    pub const DEFAULT_REQUESTS: [Capability; 3] = [
        Capability::RunnerInvoke,
        Capability::WorkspaceRead,
        Capability::ArtifactWrite,
    ];

    /// The dotted id (`workspace.write`).
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::WorkspaceRead => "workspace.read",
            Capability::WorkspaceWrite => "workspace.write",
            Capability::ArtifactRead => "artifact.read",
            Capability::ArtifactWrite => "artifact.write",
            Capability::RunnerInvoke => "runner.invoke",
            Capability::ShellRun => "shell.run",
            Capability::GitRead => "git.read",
            Capability::GitMutate => "git.mutate",
            Capability::PackageInstall => "package.install",
            Capability::NetworkAccess => "network.access",
            Capability::ApprovalRequest => "approval.request",
            Capability::EvidenceEmit => "evidence.emit",
            Capability::RuntimeControl => "runtime.control",
        }
    }

    /// The id or its alias (`workspace_write`), trimmed as the reference does.
    pub fn parse(text: &str) -> Option<Capability> {
        let text = text.trim();
        Capability::ALL
            .into_iter()
            .find(|c| c.as_str() == text || c.as_str().replace('.', "_") == text)
    }

    /// The capabilities Millrace itself provides to a stage (it starts the
    /// runner, keeps the artifacts and evidence): held by the runtime.
    pub fn runtime_owned(self) -> bool {
        matches!(
            self,
            Capability::RunnerInvoke
                | Capability::ArtifactRead
                | Capability::ArtifactWrite
                | Capability::EvidenceEmit
                | Capability::RuntimeControl
                | Capability::ApprovalRequest
        )
    }

    /// The environment-variable spelling (`WORKSPACE_WRITE`).
    pub fn env_name(self) -> String {
        self.as_str().replace('.', "_").to_uppercase()
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Capability {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Capability, D::Error> {
        let text = String::deserialize(deserializer)?;
        Capability::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown capability `{text}`")))
    }
}

closed_set! {
    /// What a policy says of a capability (`millrace.toml` and `.loop`).
    Policy {
        /// `allow`: granted.
        Allow = "allow",
        /// `deny`: the stage runs without it.
        Deny = "deny",
        /// `approval_required` (`gate` in `.loop`): the stage waits for an operator.
        ApprovalRequired = "approval_required",
    }
}

closed_set! {
    /// A capability's resolved decision for one node.
    Decision {
        Granted = "granted",
        Denied = "denied",
        ApprovalRequired = "approval_required",
    }
}

impl Policy {
    /// The decision a policy resolves to.
    pub fn decision(self) -> Decision {
        match self {
            Policy::Allow => Decision::Granted,
            Policy::Deny => Decision::Denied,
            Policy::ApprovalRequired => Decision::ApprovalRequired,
        }
    }
}

closed_set! {
    /// Who holds a decision.
    Enforcement {
        /// The runner's own sandbox, tool list or permission mode holds it.
        RunnerEnforced = "runner_enforced",
        /// Millrace holds it (an approval gate, the runner it starts).
        RuntimeEnforced = "runtime_enforced",
        /// The stage is told (its request and environment); nothing stops it.
        AdvisoryOnly = "advisory_only",
        /// The runner can neither hold it nor pass it on.
        Unsupported = "unsupported",
    }
}

closed_set! {
    /// What one operator approval covers, as in the reference.
    GateScope {
        /// One start of the stage.
        Stage = "stage",
        /// Every stage of the same run that asks for the capability.
        Run = "run",
        /// Every stage of the same work item that asks for it.
        WorkItem = "work_item",
    }
}

closed_set! {
    /// Where an operator approval stands, as in the reference.
    ApprovalStatus {
        Pending = "pending",
        Approved = "approved",
        Denied = "denied",
        Expired = "expired",
        Cancelled = "cancelled",
    }
}

/// The denials `runner` holds itself, given every capability denied to a
/// node. A shell reaches the network, git and the files, so the agent CLIs
/// hold those denials only when the shell is denied too; and a file-writing
/// tool reaches `.git/` and installed packages, so git and installs are
/// held only when writes are denied as well. Codex's sandbox holds them
/// even with a shell.
pub fn runner_holds(runner: RunnerKind, denied: &BTreeSet<Capability>) -> BTreeSet<Capability> {
    use Capability::*;
    let no_shell = denied.contains(&ShellRun);
    let no_write = denied.contains(&WorkspaceWrite);
    let held: &[Capability] = match runner {
        RunnerKind::CodexCli if no_write => {
            &[WorkspaceWrite, GitMutate, PackageInstall, NetworkAccess]
        }
        RunnerKind::CodexCli => &[NetworkAccess],
        RunnerKind::ClaudeCode | RunnerKind::PiRpc if no_shell && no_write => &[
            ShellRun,
            WorkspaceWrite,
            GitMutate,
            PackageInstall,
            NetworkAccess,
        ],
        RunnerKind::ClaudeCode | RunnerKind::PiRpc if no_shell => &[ShellRun, NetworkAccess],
        _ => &[],
    };
    held.iter()
        .copied()
        .filter(|c| denied.contains(c))
        .collect()
}

/// Whether `runner` passes grants on to the program it starts (the
/// `command` runner: request JSON and environment).
pub fn runner_passes_grants(runner: RunnerKind) -> bool {
    matches!(runner, RunnerKind::Command | RunnerKind::Script)
}

/// Who holds `decision` of `capability` for a node whose denials are `denied`.
pub fn enforcement(
    runner: RunnerKind,
    capability: Capability,
    decision: Decision,
    denied: &BTreeSet<Capability>,
) -> Enforcement {
    match decision {
        Decision::ApprovalRequired => Enforcement::RuntimeEnforced,
        Decision::Denied if capability == Capability::RunnerInvoke => Enforcement::RuntimeEnforced,
        Decision::Denied if runner_holds(runner, denied).contains(&capability) => {
            Enforcement::RunnerEnforced
        }
        Decision::Denied if runner_passes_grants(runner) => Enforcement::AdvisoryOnly,
        Decision::Denied => Enforcement::Unsupported,
        Decision::Granted if capability.runtime_owned() => Enforcement::RuntimeEnforced,
        Decision::Granted => {
            let mut with = denied.clone();
            with.insert(capability);
            if runner_holds(runner, &with).contains(&capability) {
                Enforcement::RunnerEnforced
            } else {
                Enforcement::AdvisoryOnly
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_aliases_parse() {
        assert_eq!(
            Capability::parse("workspace_write"),
            Some(Capability::WorkspaceWrite)
        );
        assert_eq!(
            Capability::parse(" git.mutate "),
            Some(Capability::GitMutate)
        );
        assert_eq!(Capability::parse("git.push"), None);
        assert_eq!(Capability::WorkspaceWrite.env_name(), "WORKSPACE_WRITE");
    }

    #[test]
    fn a_shell_keeps_agent_cli_denials_from_holding() {
        let write = BTreeSet::from([Capability::WorkspaceWrite]);
        let deny = |r| enforcement(r, Capability::WorkspaceWrite, Decision::Denied, &write);
        assert_eq!(deny(RunnerKind::CodexCli), Enforcement::RunnerEnforced);
        assert_eq!(deny(RunnerKind::ClaudeCode), Enforcement::Unsupported);
        assert_eq!(deny(RunnerKind::Command), Enforcement::AdvisoryOnly);
        let both = BTreeSet::from([Capability::WorkspaceWrite, Capability::ShellRun]);
        let held = enforcement(
            RunnerKind::ClaudeCode,
            Capability::WorkspaceWrite,
            Decision::Denied,
            &both,
        );
        assert_eq!(held, Enforcement::RunnerEnforced);
    }

    /// Without a shell but with its Write tool, Claude Code can still
    /// rewrite `.git/refs/heads/main`: `git.mutate` is not held.
    #[test]
    fn a_write_tool_keeps_git_and_install_denials_from_holding() {
        let denied = BTreeSet::from([Capability::ShellRun, Capability::GitMutate]);
        let git = |r| enforcement(r, Capability::GitMutate, Decision::Denied, &denied);
        assert_eq!(git(RunnerKind::ClaudeCode), Enforcement::Unsupported);
        assert_eq!(git(RunnerKind::PiRpc), Enforcement::Unsupported);
        let mut no_write = denied.clone();
        no_write.insert(Capability::WorkspaceWrite);
        let held = enforcement(
            RunnerKind::ClaudeCode,
            Capability::GitMutate,
            Decision::Denied,
            &no_write,
        );
        assert_eq!(held, Enforcement::RunnerEnforced);
    }
}
