//! The execution capabilities a stage runs with, as its request carries
//! them, and how each agent CLI holds the denials it can (the table of
//! which it can is `vocab::capability::runner_holds`, frozen in the plan).

use super::StageRequest;
use crate::vocab::capability::{Capability, Decision};

impl StageRequest {
    /// Whether the stage runs without `capability`.
    pub fn denies(&self, capability: Capability) -> bool {
        self.grants
            .iter()
            .any(|g| g.capability == capability && g.decision == Decision::Denied)
    }

    /// The capabilities of `decision`, comma-separated, for the environment.
    fn listed(&self, decision: Decision) -> String {
        let names: Vec<&str> = self
            .grants
            .iter()
            .filter(|g| g.decision == decision)
            .map(|g| g.capability.as_str())
            .collect();
        names.join(",")
    }
}

/// `MILLRACE_CAPABILITIES_GRANTED` and `..._DENIED`: what the `command`
/// runner's program is told (it holds them only if it chooses to).
pub fn grant_env(request: &StageRequest) -> Vec<(&'static str, String)> {
    vec![
        (
            "MILLRACE_CAPABILITIES_GRANTED",
            request.listed(Decision::Granted),
        ),
        (
            "MILLRACE_CAPABILITIES_DENIED",
            request.listed(Decision::Denied),
        ),
    ]
}

/// Codex CLI's sandbox for the stage's denials, replacing the configured
/// permission level: no writes (and so no network, git or installs), or
/// writes in the workspace without network. `None`: no denial it holds.
/// A `network.access` denial also turns off the model's `web_search` tool,
/// which the sandbox does not cover (an operator's `web_search="live"`
/// reached the web from a stage denied the network), as Claude Code loses
/// WebSearch.
pub fn codex_sandbox(request: &StageRequest) -> Option<Vec<String>> {
    let never = ["-c", "approval_policy=\"never\"", "--sandbox"].map(String::from);
    let mut flags = never.to_vec();
    if request.denies(Capability::WorkspaceWrite) {
        flags.push("read-only".into());
    } else if request.denies(Capability::NetworkAccess) {
        flags.push("workspace-write".into());
        flags.extend(["-c", "sandbox_workspace_write.network_access=false"].map(String::from));
    } else {
        return None;
    }
    if request.denies(Capability::NetworkAccess) {
        flags.extend(["-c", "web_search=\"disabled\""].map(String::from));
    }
    Some(flags)
}

/// The tools of Claude Code a denial removes.
pub fn claude_denied_tools(request: &StageRequest) -> Vec<&'static str> {
    let table: [(Capability, &[&'static str]); 3] = [
        (Capability::ShellRun, &["Bash"]),
        (
            Capability::WorkspaceWrite,
            &["Edit", "MultiEdit", "Write", "NotebookEdit"],
        ),
        (Capability::NetworkAccess, &["WebFetch", "WebSearch"]),
    ];
    table
        .iter()
        .filter(|(c, _)| request.denies(*c))
        .flat_map(|(_, tools)| tools.iter().copied())
        .collect()
}

/// pi's tool list without what the denials remove (`None`: pi's default).
pub fn pi_tools(request: &StageRequest) -> Option<String> {
    let shell = request.denies(Capability::ShellRun);
    let write = request.denies(Capability::WorkspaceWrite);
    if !shell && !write {
        return None;
    }
    let mut tools = vec!["read"];
    if !shell {
        tools.push("bash");
    }
    if !write {
        tools.extend(["edit", "write"]);
    }
    Some(tools.join(","))
}
