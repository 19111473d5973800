//! Scenario files: a TOML description of one work item's walk through a
//! loop (what each stage answers, visit by visit) and what must come of it.
//!
//! ```toml
//! loop = "execution.standard"
//! [set]                                   # parameter overrides
//! max_fix_cycles = 1
//! [answers]                               # visit by visit; the last answer repeats
//! checker = ["FIX_NEEDED", "CHECKER_PASS"]
//! troubleshooter = [{ outcome = "TROUBLESHOOT_COMPLETE", result = { resume_stage = "checker" } }]
//! [expect]
//! final = "update_complete"
//! spent = { fix_cycles = 1 }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::simulate::Answer;

/// A scenario file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The loop under test (`execution.standard`).
    #[serde(rename = "loop")]
    pub loop_name: String,
    /// The work family whose entry the item starts at [default: the loop's first entry].
    pub entry: Option<String>,
    /// Start at this node instead of an entry.
    pub start: Option<String>,
    /// Loop parameter overrides, as a mode's `set`.
    #[serde(default)]
    pub set: BTreeMap<String, u64>,
    /// What each stage answers, visit by visit. A stage not listed answers
    /// its first declared outcome; a stage's last answer repeats.
    #[serde(default)]
    pub answers: BTreeMap<String, Vec<AnswerSpec>>,
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// An answer: just an outcome, or a table with the stage's result.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "an outcome (\"FIX_NEEDED\") or a table with `outcome` and optionally `result`, `failure_class`, `effect_port`"
)]
pub enum AnswerSpec {
    Outcome(String),
    Full(FullAnswer),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullAnswer {
    pub outcome: String,
    /// Result metadata (`resume_stage = "checker"`).
    #[serde(default)]
    pub result: BTreeMap<String, toml::Value>,
    pub failure_class: Option<String>,
    /// A port the stage's effect takes (`fault`).
    pub effect_port: Option<String>,
}

impl AnswerSpec {
    pub fn answer(&self) -> Answer {
        match self {
            AnswerSpec::Outcome(outcome) => Answer::outcome(outcome),
            AnswerSpec::Full(full) => Answer {
                outcome: full.outcome.clone(),
                result: full
                    .result
                    .iter()
                    .map(|(k, v)| (k.clone(), json_value(v)))
                    .collect(),
                failure_class: full.failure_class.clone(),
                effect_port: full.effect_port.clone(),
            },
        }
    }
}

fn json_value(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        other => serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
    }
}

/// What must come of the walk; every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The final reached.
    #[serde(rename = "final")]
    pub final_name: Option<String>,
    /// The nodes visited, in order.
    pub path: Option<Vec<String>>,
    pub stage_runs: Option<u64>,
    /// Units spent per budget (a budget not listed is not checked).
    #[serde(default)]
    pub spent: BTreeMap<String, u64>,
}

/// A scenario file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    File(#[from] crate::fs_error::FileError),
    #[error("{}: {message}", path.display())]
    Toml { path: PathBuf, message: String },
}

/// Reads and parses a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(crate::fs_error::at("read", path))?;
    toml::from_str(&text).map_err(|e| ScenarioError::Toml {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })
}
