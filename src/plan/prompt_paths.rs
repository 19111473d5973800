//! The prompt-path lint: a prompt that sends its agent to read a folder
//! nobody writes (say `millrace-agents/blueprints/manifests/` in a mode whose
//! effects keep no manifest) makes the agent search an empty folder and
//! guess. Every `millrace-agents/...` path an entrypoint names must be
//! written by the runtime, by a stage that owns it, or by an effect of the
//! plan; a path nobody writes fails the compile.

use std::collections::BTreeSet;

use super::model::Plan;
use crate::check::EFFECTS;

/// What the runtime and the stages write, whatever the mode: the work-item
/// queues (the runtime moves items between their lifecycle folders; a test
/// holds this list to the workspace's family folders), the run folders and
/// state, the closure records, the installed prompts and skills, and the
/// updater's project notes.
pub const ALWAYS_WRITTEN: &[&str] = &[
    "tasks/",
    "specs/",
    "probes/",
    "incidents/",
    "learning/requests/",
    "blueprints/drafts/",
    "runs/",
    "state/",
    "arbiter/targets/",
    "arbiter/contracts/",
    "arbiter/rubrics/",
    "arbiter/verdicts/",
    "arbiter/reports/",
    "entrypoints/",
    "skills/",
    "historylog.md",
    "outline.md",
];

/// Every path written when `plan` runs: the above and its effects' folders.
pub fn written_paths(plan: &Plan) -> BTreeSet<&'static str> {
    let used: BTreeSet<&str> = plan
        .planes
        .values()
        .flat_map(|p| p.nodes.values())
        .flat_map(|n| n.effects.iter().map(|e| e.id.as_str()))
        .collect();
    let effects = EFFECTS
        .iter()
        .filter(|e| used.contains(e.id))
        .flat_map(|e| e.writes.iter().copied());
    ALWAYS_WRITTEN.iter().copied().chain(effects).collect()
}

/// The `millrace-agents/...` paths `text` names that nothing in `written`
/// writes, relative to `millrace-agents/`.
pub fn unwritten_paths(text: &str, written: &BTreeSet<&str>) -> BTreeSet<String> {
    named_paths(text)
        .into_iter()
        .filter(|path| !written.iter().any(|w| covers(w, path)))
        .collect()
}

/// The paths after each `millrace-agents/`, cut before the first
/// placeholder (`<run_id>`, `*`, `{id}`) and without a sentence's full stop.
fn named_paths(text: &str) -> BTreeSet<String> {
    const PREFIX: &str = "millrace-agents/";
    let mut paths = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        rest = &rest[at + PREFIX.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-')))
            .unwrap_or(rest.len());
        paths.insert(rest[..end].trim_end_matches('.').to_string());
    }
    paths
}

/// Whether writing `written` (a folder ending in `/`, or a file) makes
/// `path` something an agent can find: the path is in the folder, is the
/// file, or is a folder above it.
fn covers(written: &str, path: &str) -> bool {
    if path.starts_with(written) {
        return true;
    }
    let folder = path.trim_end_matches('/');
    folder.is_empty() || written.starts_with(&format!("{folder}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unwritten(text: &str) -> Vec<String> {
        let written: BTreeSet<&str> = ["blueprints/manifests/", "runs/", "historylog.md"]
            .into_iter()
            .collect();
        unwritten_paths(text, &written).into_iter().collect()
    }

    #[test]
    fn paths_under_above_or_equal_to_a_written_one_pass() {
        let text = "Read `millrace-agents/blueprints/manifests/` and millrace-agents/runs/<run_id>/x.md, \
                    then millrace-agents/historylog.md. See millrace-agents/ and millrace-agents/blueprints/.";
        assert!(unwritten(text).is_empty(), "{:?}", unwritten(text));
    }

    #[test]
    fn a_path_nobody_writes_is_named() {
        let text =
            "Read millrace-agents/blueprints/reviews/<id>.json and millrace-agents/historylog.txt.";
        assert_eq!(
            unwritten(text),
            ["blueprints/reviews/", "historylog.txt"],
            "cut before the placeholder, full stop dropped"
        );
    }
}
