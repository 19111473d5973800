//! Name resolution, `extends`, defaults and every semantic rule of `.loop`
//! files. The output is a [`Program`] that later stages can trust, plus the
//! [`Diagnostics`] collected on the way (never stopping at the first).

mod diagnostic;
mod effects;
mod flatten;
mod grants;
mod lanes;
mod loop_resolve;
mod model;
mod modes;
mod program;
mod routing_rules;
mod select;
mod stages;
mod suggest;

pub use diagnostic::{Diagnostic, Diagnostics, Kind, Severity, render, render_short};
pub use effects::{EFFECTS, EffectSpec};
pub use grants::{CapabilityOverrides, ResolvedGrant, verb};
pub use model::*;
pub use routing_rules::{reachable, route_chain, route_targets};
pub use select::{
    DEFAULT_TIMEOUT_S, Overrides, ResolvedLoop, ResolvedMode, ResolvedNode, SelectError,
    StageOverride, limit_value, select_mode, standalone,
};
pub use suggest::closest;

use crate::syntax::{self, SourceMap};

/// The result of checking a set of sources.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub program: Program,
    pub diagnostics: Diagnostics,
}

/// Parses and checks every file of `sources` as one program.
pub fn check(sources: &SourceMap) -> Checked {
    let mut diagnostics = Diagnostics::default();
    let mut modules = Vec::new();
    for (id, file) in sources.files() {
        let (module, errors) = syntax::parse(id, &file.text);
        for error in errors {
            let kind = Kind::Syntax {
                message: error.message(),
                help: error.help.clone(),
            };
            diagnostics.push(Diagnostic::new(kind, error.span, error.label()));
        }
        modules.push(module);
    }
    let program = program::check_modules(&modules, &mut diagnostics);
    Checked {
        program,
        diagnostics,
    }
}
