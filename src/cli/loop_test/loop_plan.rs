//! A loop compiled on its own into a frozen plan, through the real
//! pipeline: a mode that selects this loop (and the built-in `script`
//! runner) is added to the sources and compiled.

use std::collections::BTreeMap;

use crate::check::{Overrides, Plane, Program, closest};
use crate::plan::{self, CompileFailure, CompileOptions, Plan, PlanePlan, shipped_reader};
use crate::syntax::SourceMap;

/// The name of the mode that selects the loop under test.
const MODE: &str = "loop_test_mode";

/// A loop that cannot be compiled on its own.
#[derive(Debug, thiserror::Error)]
pub enum LoopPlanError {
    #[error("unknown loop `{name}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownLoop {
        name: String,
        suggestion: Option<String>,
    },
    #[error("loop `{name}` does not compile (see the diagnostics above)")]
    Diagnostics { name: String },
    #[error(transparent)]
    Select(#[from] crate::check::SelectError),
}

/// The compiled loop: its plane's plan.
pub struct LoopPlan {
    pub plan: Plan,
    pub plane: Plane,
}

impl LoopPlan {
    pub fn plane_plan(&self) -> Option<&PlanePlan> {
        self.plan.plane(self.plane)
    }
}

/// Compiles `loop_name` from `sources` with parameter overrides; on
/// diagnostics, calls `report` with them before failing.
pub fn compile_loop(
    mut sources: SourceMap,
    loop_name: &str,
    params: &BTreeMap<String, u64>,
    report: &dyn Fn(&SourceMap, &crate::check::Diagnostics),
) -> Result<LoopPlan, LoopPlanError> {
    let plane = loop_name
        .split('.')
        .next()
        .and_then(Plane::parse)
        .ok_or_else(|| unknown(loop_name, []))?;
    let program = crate::check::check(&sources).program;
    if !program.loops.contains_key(loop_name) {
        return Err(unknown(loop_name, program.loops.keys().map(String::as_str)));
    }
    sources.add(
        "<loop test>".to_string(),
        mode_text(&program, loop_name, plane),
    );
    let overrides = Overrides {
        params: params.clone(),
        ..Overrides::default()
    };
    let options = CompileOptions {
        mode: MODE,
        overrides: &overrides,
        deny_warnings: false,
        extra_inputs: Vec::new(),
    };
    let compilation = plan::compile(sources, options, &shipped_reader);
    match compilation.outcome {
        Ok((_, plan)) => Ok(LoopPlan { plan, plane }),
        Err(CompileFailure::Select(e)) => Err(e.into()),
        Err(_) => {
            report(&compilation.sources, &compilation.diagnostics);
            Err(LoopPlanError::Diagnostics {
                name: loop_name.to_string(),
            })
        }
    }
}

/// A mode selecting the loop; every mode needs an execution loop, so a
/// loop of another plane comes with one (`execution.standard` if present).
fn mode_text(program: &Program, loop_name: &str, plane: Plane) -> String {
    let mut text = format!("mode {MODE} {{\n  loop {loop_name}\n  runner script\n");
    if plane != Plane::Execution {
        let execution = program
            .loops
            .values()
            .filter(|l| l.plane == Plane::Execution)
            .min_by_key(|l| (l.name != "execution.standard", l.name.clone()));
        if let Some(execution) = execution {
            text.push_str(&format!("  loop {}\n", execution.name));
        }
    }
    text.push_str("}\n");
    text
}

fn unknown<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> LoopPlanError {
    LoopPlanError::UnknownLoop {
        name: name.to_string(),
        suggestion: closest(name, known),
    }
}
