//! Stage kinds: planes, outcomes with their result classes, families.

use super::diagnostic::{Diagnostic, Diagnostics, Kind};
use super::model::{BLOCKED, Builtin, Family, OutcomeSpec, Plane, ResultClass, StageKind};
use super::suggest::closest;
use crate::syntax::{Name, StageDef};

pub fn check_stage(def: &StageDef, diags: &mut Diagnostics) -> Option<StageKind> {
    let plane = parse_plane(&def.plane, diags)?;
    let mut outcomes: Vec<OutcomeSpec> = Vec::new();
    for (i, decl) in def.outcomes.iter().enumerate() {
        let earlier = def.outcomes[..i]
            .iter()
            .find(|d| d.outcome.text == decl.outcome.text);
        if let Some(first) = earlier {
            let d = duplicate("outcome", &decl.outcome);
            diags.push(d.with_note(first.outcome.span, "first declared here"));
            continue;
        }
        let classes = decl
            .classes
            .iter()
            .filter_map(|c| parse_class(c, diags))
            .collect();
        outcomes.push(OutcomeSpec {
            name: decl.outcome.text.clone(),
            classes,
        });
    }
    if !outcomes.iter().any(|o| o.name == BLOCKED) {
        let classes = vec![ResultClass::Blocked, ResultClass::RecoverableFailure];
        outcomes.push(OutcomeSpec {
            name: BLOCKED.to_string(),
            classes,
        });
    }
    let families = def
        .families
        .iter()
        .filter_map(|f| parse_family(f, diags))
        .collect();
    let writes = def.writes.iter().map(|w| w.text.clone()).collect();
    let name = def.name.text.clone();
    Some(StageKind {
        name,
        plane,
        outcomes,
        writes,
        families,
        // Resolved by `program.rs` (`grants::requests`).
        requests: Vec::new(),
        builtin: builtin(def, diags),
        span: def.name.span,
    })
}

/// The stage's `builtin` line: a known builtin, written once.
fn builtin(def: &StageDef, diags: &mut Diagnostics) -> Option<Builtin> {
    let (first, again) = def.builtins.split_first()?;
    for name in again {
        let kind = Kind::Duplicate {
            what: "builtin for stage",
            name: def.name.text.clone(),
        };
        let d = Diagnostic::new(kind, name.span, "declared again here");
        diags.push(d.with_note(first.span, "first declared here"));
    }
    let builtin = Builtin::parse(&first.text);
    if builtin.is_none() {
        diags.push(unknown("builtin", first, &Builtin::NAMES));
    }
    builtin
}

pub fn duplicate(what: &'static str, name: &Name) -> Diagnostic {
    let kind = Kind::Duplicate {
        what,
        name: name.text.clone(),
    };
    Diagnostic::new(kind, name.span, "defined again here")
}

pub fn unknown(what: &'static str, name: &Name, known: &[&str]) -> Diagnostic {
    let suggestion = closest(&name.text, known.iter().copied());
    let kind = Kind::Unknown {
        what,
        name: name.text.clone(),
        suggestion,
    };
    Diagnostic::new(kind, name.span, format!("no {what} has this name"))
}

/// The same diagnostic with another label on its primary span.
pub fn relabel(mut diagnostic: Diagnostic, label: &str) -> Diagnostic {
    diagnostic.label = label.to_string();
    diagnostic
}

pub fn parse_plane(name: &Name, diags: &mut Diagnostics) -> Option<Plane> {
    let plane = Plane::parse(&name.text);
    if plane.is_none() {
        diags.push(unknown("plane", name, &Plane::NAMES));
    }
    plane
}

pub fn parse_class(name: &Name, diags: &mut Diagnostics) -> Option<ResultClass> {
    let class = ResultClass::parse(&name.text);
    if class.is_none() {
        diags.push(unknown("result class", name, &ResultClass::NAMES));
    }
    class
}

pub fn parse_family(name: &Name, diags: &mut Diagnostics) -> Option<Family> {
    let family = Family::parse(&name.text);
    if family.is_none() {
        diags.push(unknown("family", name, &Family::NAMES));
    }
    family
}
