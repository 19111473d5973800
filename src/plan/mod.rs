//! The frozen plan: its serde model, how a lowered mode is frozen, the
//! fingerprint over every input, currentness, and the compile pipeline.

mod compile;
mod fingerprint;
mod freeze;
mod lint;
mod model;
mod prompt_paths;

pub use compile::{
    Compilation, CompileFailure, CompileOptions, InputReader, SOURCE_DIRS, compile, inputs_now,
    load_sources, shipped_reader, shipped_sources, workspace_reader,
};
pub use fingerprint::{Currentness, MISSING, currentness, digest, fingerprint, hex};
pub use freeze::freeze;
pub use lint::{LintFinding, lint};
pub use model::*;
pub use prompt_paths::ALWAYS_WRITTEN;

/// Loading a saved plan failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanLoadError {
    #[error("the plan is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "the plan has schema version {found}, newer than this millrace understands ({supported}); upgrade millrace or recompile"
    )]
    FutureVersion { found: u32, supported: u32 },
}

/// Parses a saved plan, refusing schema versions from the future.
pub fn plan_from_json(bytes: &[u8]) -> Result<Plan, PlanLoadError> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let version: Version = serde_json::from_slice(bytes)?;
    if version.schema_version > PLAN_SCHEMA_VERSION {
        return Err(PlanLoadError::FutureVersion {
            found: version.schema_version,
            supported: PLAN_SCHEMA_VERSION,
        });
    }
    Ok(serde_json::from_slice(bytes)?)
}

/// The plan as pretty JSON with a trailing newline.
pub fn plan_to_json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}
