//! The script file of the [`ScriptRunner`](super::ScriptRunner): its TOML
//! model, loading, step selection and placeholder expansion. The format is
//! described in the `script` module and in `docs/script-runner.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::StageRequest;
use super::tokens::TokenCounts;
use crate::fs_error::{FileError, at};

/// A script file or one of its side effects failed.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The script file exists but could not be read, or a file the step
    /// writes (or the runner's own state) could not be written.
    #[error(transparent)]
    File(#[from] FileError),
    /// The script file is not valid TOML or not a valid script.
    #[error("{}: {}", path.display(), source.to_string().trim_end())]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    /// The progress counters file is not valid.
    #[error("{path}: {message}")]
    Progress { path: String, message: String },
}

/// A whole script: its steps in file order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    #[serde(default)]
    step: Vec<Step>,
}

/// What one node answers (for one work item, or for any).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The node this step answers for.
    pub node: String,
    /// Only for this work item id (or closure root spec id); absent = any.
    pub work_item: Option<String>,
    /// Outcomes consumed in order; the last one repeats.
    #[serde(default)]
    pub outcomes: Vec<String>,
    /// The answer's body, before the marker line.
    pub message: Option<String>,
    /// Files written before answering.
    #[serde(default)]
    pub writes: Vec<StepWrite>,
    /// Written as `<run_dir>/stage_result_metadata.json`.
    pub metadata: Option<toml::Table>,
    /// Milliseconds to wait before answering (cancellable).
    pub delay_ms: Option<u64>,
    /// Token usage to report.
    pub tokens: Option<TokenCounts>,
}

/// One file a step writes; both fields take placeholders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepWrite {
    pub path: String,
    pub content: String,
    /// Written only on this turn of the step (1 = its first answer), so
    /// one step can write a different file on each round of a loop.
    pub turn: Option<u64>,
}

impl StepWrite {
    /// Whether this write happens on `turn` (1-based; a step without
    /// `outcomes` is always on its first turn).
    pub fn is_due(&self, turn: u64) -> bool {
        self.turn.is_none_or(|t| t == turn)
    }
}

impl Script {
    /// Reads a script; a missing file is an empty script.
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Script::default()),
            Err(error) => return Err(at("read", path)(error).into()),
        };
        Script::parse(&text).map_err(|source| ScriptError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Parses script text; the error names the line.
    pub fn parse(text: &str) -> Result<Script, toml::de::Error> {
        toml::from_str(text)
    }

    /// The step for this node and subject: a step naming the subject wins
    /// over one for any work item; among equals the first in the file.
    pub fn step_for(&self, node: &str, subject: &str) -> Option<&Step> {
        let for_node = || self.step.iter().filter(move |s| s.node == node);
        let exact = for_node().find(|s| s.work_item.as_deref() == Some(subject));
        exact.or_else(|| for_node().find(|s| s.work_item.is_none()))
    }
}

/// What a step's counters and `work_item` match: the work item id, else the
/// closure target's root spec id, else empty.
pub fn subject_id(request: &StageRequest) -> &str {
    if let Some(item) = &request.work_item {
        return &item.id;
    }
    match &request.closure_target {
        Some(target) => &target.root_spec_id,
        None => "",
    }
}

/// The placeholder values of a request.
fn placeholders(request: &StageRequest) -> BTreeMap<&'static str, String> {
    let item = request.work_item.as_ref();
    let root_spec = request
        .closure_target
        .as_ref()
        .map(|t| t.root_spec_id.clone());
    BTreeMap::from([
        ("run_dir", request.run_dir.display().to_string()),
        ("agents_dir", request.agents_dir.display().to_string()),
        ("workspace", request.workspace_root.display().to_string()),
        (
            "work_item_id",
            item.map(|i| i.id.clone()).unwrap_or_default(),
        ),
        (
            "work_item_path",
            item.map(|i| i.path.display().to_string())
                .unwrap_or_default(),
        ),
        ("request_id", request.request_id.clone()),
        ("run_id", request.run_id.clone()),
        ("root_spec_id", root_spec.unwrap_or_default()),
    ])
}

/// Replaces `{name}` placeholders in one pass; unknown names stay as written.
pub fn expand(template: &str, request: &StageRequest) -> String {
    let values = placeholders(request);
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}');
        match close.and_then(|c| values.get(&after[..c]).map(|v| (c, v))) {
            Some((c, value)) => {
                out.push_str(value);
                rest = &after[c + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where an expanded write path points: relative paths are under the workspace.
pub fn write_target(expanded: &str, request: &StageRequest) -> PathBuf {
    request.workspace_root.join(expanded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::fixture;

    #[test]
    fn expands_known_placeholders_once() {
        let request = fixture::request(Path::new("/ws/run"));
        let text = expand("{run_dir}/x-{work_item_id}{root_spec_id}{nope}{", &request);
        assert_eq!(text, "/ws/run/x-task-1{nope}{");
    }

    #[test]
    fn exact_step_wins_over_any() {
        let script = Script::parse(
            "[[step]]\nnode = \"checker\"\noutcomes = [\"A\"]\n\
             [[step]]\nnode = \"checker\"\nwork_item = \"task-2\"\noutcomes = [\"B\"]\n",
        )
        .expect("valid");
        let outcome = |subject| script.step_for("checker", subject).map(|s| &s.outcomes[0]);
        assert_eq!(outcome("task-2").map(String::as_str), Some("B"));
        assert_eq!(outcome("task-1").map(String::as_str), Some("A"));
        assert!(script.step_for("builder", "task-1").is_none());
    }

    #[test]
    fn parse_error_names_the_line() {
        let error = Script::parse("[[step]]\nnode = \"a\"\nbogus = 1\n").expect_err("invalid");
        assert!(error.to_string().contains("line 3"), "{error}");
        let error = Script::parse("[[step]]\noutcomes = []\n").expect_err("invalid");
        assert!(error.to_string().contains("node"), "{error}");
    }

    #[test]
    fn absolute_write_paths_stay_absolute() {
        let request = fixture::request(Path::new("/ws/run"));
        assert_eq!(write_target("/tmp/x", &request), Path::new("/tmp/x"));
        assert_eq!(
            write_target("notes.md", &request),
            Path::new("/ws/notes.md")
        );
    }
}
