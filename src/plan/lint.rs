//! The stage-contract lint: an agent only does what its entrypoint says, so
//! each node's entrypoint must exist, name exactly its legal outcomes as
//! marker lines, name every artifact the runtime reads from it, and contain
//! no placeholder text; its skills must exist. These findings are warnings:
//! an operator's edited copies still compile. A prompt that names a
//! `millrace-agents/` path nobody writes is an error (`prompt_paths.rs`).

use std::collections::{BTreeSet, HashMap};

use super::compile::InputReader;
use super::model::{NodePlan, Plan};
use super::prompt_paths::{unwritten_paths, written_paths};

/// One problem in a stage's contract files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LintFinding {
    /// The file, relative to `millrace-agents/`.
    pub path: String,
    /// The node whose contract it is (`plane/node`).
    pub node: String,
    pub message: String,
    /// An error fails the compile; the other findings are warnings.
    pub error: bool,
}

/// Files the runtime reads after an effect, by effect id.
fn effect_artifacts(effect: &str) -> &'static [&'static str] {
    match effect {
        "planner_disposition" => &["planner_disposition.json"],
        "recon_handoff" => &["recon_packet.md", "generated_task", "generated_spec"],
        "blueprint_manifest" => &["blueprint_manifest.json", "blueprint_drafts.json"],
        "blueprint_candidate" => &["blueprint_packet.json", "blueprint.md"],
        "blueprint_evaluation" => &[
            "blueprint_evaluation.json",
            "generated_task.json",
            "blueprint_critique.json",
        ],
        _ => &[],
    }
}

/// Upper-case markers match as whole words; the others are written in lower
/// case and match in any case.
const PLACEHOLDERS: &[&str] = &["TODO", "TBD", "FIXME", "lorem ipsum", "XXX"];

/// Lints every node of the plan. A file shared by several nodes (a skill,
/// an entrypoint) is read and scanned for placeholders once.
pub fn lint(plan: &Plan, read: &InputReader<'_>) -> Vec<LintFinding> {
    let mut files = ScannedFiles {
        read,
        scanned: HashMap::new(),
    };
    let written = written_paths(plan);
    let mut findings = BTreeSet::new();
    for (plane, p) in &plan.planes {
        // A builtin node has no contract files: no agent runs it.
        for (name, node) in p.nodes.iter().filter(|(_, n)| n.builtin.is_none()) {
            let at = format!("{plane}/{name}");
            lint_node(&at, node, &mut files, &mut findings);
            prompt_path_findings(&at, node, &mut files, &written, &mut findings);
        }
    }
    findings.into_iter().collect()
}

/// A contract file's text and the placeholder lines found in it.
struct Scanned {
    text: String,
    placeholders: Vec<String>,
}

/// Contract files by path, each read at most once (`None`: missing).
struct ScannedFiles<'r> {
    read: &'r InputReader<'r>,
    scanned: HashMap<String, Option<Scanned>>,
}

impl ScannedFiles<'_> {
    fn get(&mut self, path: &str) -> Option<&Scanned> {
        if !self.scanned.contains_key(path) {
            let scanned = (self.read)(path).map(|bytes| {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let placeholders = placeholder_lines(&text);
                Scanned { text, placeholders }
            });
            self.scanned.insert(path.to_string(), scanned);
        }
        self.scanned.get(path).and_then(Option::as_ref)
    }
}

fn lint_node(at: &str, node: &NodePlan, files: &mut ScannedFiles, out: &mut BTreeSet<LintFinding>) {
    let finding = |path: &str, message: String| LintFinding {
        path: path.to_string(),
        node: at.to_string(),
        message,
        error: false,
    };
    for skill in &node.skills {
        match files.get(skill) {
            None => drop(out.insert(finding(skill, "the skill file is missing".into()))),
            Some(scanned) => placeholder_findings(skill, scanned, &finding, out),
        }
    }
    let Some(scanned) = files.get(&node.entrypoint) else {
        out.insert(finding(
            &node.entrypoint,
            "the entrypoint file is missing".into(),
        ));
        return;
    };
    marker_findings(&node.entrypoint, &scanned.text, node, &finding, out);
    artifact_findings(&node.entrypoint, &scanned.text, node, &finding, out);
    placeholder_findings(&node.entrypoint, scanned, &finding, out);
}

/// Errors: the `millrace-agents/` paths the entrypoint names that nothing
/// the plan runs writes.
fn prompt_path_findings(
    at: &str,
    node: &NodePlan,
    files: &mut ScannedFiles,
    written: &BTreeSet<&'static str>,
    out: &mut BTreeSet<LintFinding>,
) {
    let Some(scanned) = files.get(&node.entrypoint) else {
        return;
    };
    for path in unwritten_paths(&scanned.text, written) {
        out.insert(LintFinding {
            path: node.entrypoint.clone(),
            node: at.to_string(),
            message: format!(
                "names `millrace-agents/{path}`, which no stage or effect of this mode writes"
            ),
            error: true,
        });
    }
}

/// `### NAME` lines: every legal outcome, and nothing else.
fn marker_findings(
    path: &str,
    text: &str,
    node: &NodePlan,
    finding: &dyn Fn(&str, String) -> LintFinding,
    out: &mut BTreeSet<LintFinding>,
) {
    let markers: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("### "))
        .map(str::trim)
        .collect();
    for outcome in &node.outcomes {
        if !markers.contains(outcome.name.as_str()) {
            out.insert(finding(
                path,
                format!("does not name the legal outcome `### {}`", outcome.name),
            ));
        }
    }
    for marker in markers {
        if node.outcome(marker).is_none() {
            out.insert(finding(
                path,
                format!(
                    "names `### {marker}`, which is not an outcome of stage `{}`",
                    node.stage_kind
                ),
            ));
        }
    }
}

/// Every artifact the runtime reads from this node, and every result key.
fn artifact_findings(
    path: &str,
    text: &str,
    node: &NodePlan,
    finding: &dyn Fn(&str, String) -> LintFinding,
    out: &mut BTreeSet<LintFinding>,
) {
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for effect in &node.effects {
        needed.extend(effect_artifacts(&effect.id).iter().map(|s| s.to_string()));
    }
    let keys: BTreeSet<&String> = node
        .routes
        .values()
        .flat_map(|r| r.result_keys.iter())
        .collect();
    if !keys.is_empty() {
        needed.insert("stage_result_metadata.json".into());
        needed.extend(keys.into_iter().cloned());
    }
    for name in needed {
        if !text.contains(&name) {
            out.insert(finding(
                path,
                format!("does not name `{name}`, which the runtime reads from this stage"),
            ));
        }
    }
}

fn placeholder_findings(
    path: &str,
    scanned: &Scanned,
    finding: &dyn Fn(&str, String) -> LintFinding,
    out: &mut BTreeSet<LintFinding>,
) {
    for message in &scanned.placeholders {
        out.insert(finding(path, message.clone()));
    }
}

/// The placeholder findings of a file: per line, the first placeholder it
/// holds (an upper-case marker as a whole word, other placeholders in any
/// case), and a line that is only an ellipsis.
fn placeholder_lines(text: &str) -> Vec<String> {
    // ASCII lower-casing keeps byte offsets, so the lines stay aligned.
    let lowered = text.to_ascii_lowercase();
    let mut messages = Vec::new();
    for (n, (line, lower)) in text.lines().zip(lowered.lines()).enumerate() {
        if let Some(word) = PLACEHOLDERS
            .iter()
            .find(|p| line_has_placeholder(line, lower, p))
        {
            messages.push(format!("line {}: placeholder text `{word}`", n + 1));
        }
        if line.trim() == "..." || line.trim() == "…" {
            messages.push(format!("line {}: placeholder text `...`", n + 1));
        }
    }
    messages
}

fn line_has_placeholder(line: &str, lower: &str, placeholder: &str) -> bool {
    if placeholder.chars().all(|c| c.is_ascii_uppercase()) {
        line.contains(placeholder)
            && line
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w == placeholder)
    } else {
        lower.contains(placeholder)
    }
}

#[cfg(test)]
mod tests {
    use super::placeholder_lines;

    #[test]
    fn placeholders_are_whole_upper_case_words_or_any_case_phrases() {
        let text = "TODO: write this\nTODOS and todo are words\nLorem IPSUM dolor\n  ...\n…\nfine\nA TBD, then XXX\n";
        assert_eq!(
            placeholder_lines(text),
            [
                "line 1: placeholder text `TODO`",
                "line 3: placeholder text `lorem ipsum`",
                "line 4: placeholder text `...`",
                "line 5: placeholder text `...`",
                "line 7: placeholder text `TBD`",
            ]
        );
    }

    #[test]
    fn line_numbers_survive_non_ascii_text() {
        let text = "Größe ÄÖÜ\r\nnothing\r\nstill FIXME\r\n";
        assert_eq!(
            placeholder_lines(text),
            ["line 3: placeholder text `FIXME`"]
        );
    }
}
