//! Modes: which loop runs each plane, bindings, parameter settings, learn
//! rules and plane concurrency, after `extends` is applied.

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Diagnostics, Kind, MAX_LANES};
use super::loop_resolve::{bindings, refuse_builtin_bindings};
use super::model::*;
use super::stages::{parse_plane, relabel, unknown};
use crate::syntax::{self, ModeDef, Name};

/// Checks a mode given its `extends` chain, root first.
pub fn check_mode(chain: &[&ModeDef], program: &Program, diags: &mut Diagnostics) -> Option<Mode> {
    let def = *chain.last()?;
    let mut mode = Mode {
        name: def.name.text.clone(),
        loops: BTreeMap::new(),
        bindings: Bindings::default(),
        stage_bindings: BTreeMap::new(),
        grants: Policies::new(),
        stage_grants: BTreeMap::new(),
        sets: BTreeMap::new(),
        learn: Vec::new(),
        concurrency: BTreeMap::new(),
        lanes: BTreeMap::new(),
        span: def.name.span,
    };
    for link in chain {
        apply(&mut mode, link, program, diags);
    }
    validate(&mut mode, chain, program, diags);
    Some(mode)
}

fn apply(mode: &mut Mode, def: &ModeDef, program: &Program, diags: &mut Diagnostics) {
    let mut planes_here: BTreeMap<Plane, &Name> = BTreeMap::new();
    for name in &def.loops {
        let Some(lp) = program.loops.get(&name.text) else {
            let known: Vec<&str> = program.loops.keys().map(String::as_str).collect();
            diags.push(unknown("loop", name, &known));
            continue;
        };
        if let Some(first) = planes_here.insert(lp.plane, name) {
            let kind = Kind::ModePlaneConflict {
                plane: lp.plane.to_string(),
                first: first.text.clone(),
            };
            let d = Diagnostic::new(kind, name.span, "second loop for this plane");
            diags.push(d.with_note(first.span, "first selected here"));
        }
        mode.loops.insert(lp.plane, lp.name.clone());
    }
    mode.bindings.overlay(&bindings(&def.bindings, diags));
    for stage in &def.stage_bindings {
        let entry = mode
            .stage_bindings
            .entry(stage.stage.text.clone())
            .or_default();
        entry.overlay(&bindings(&stage.bindings, diags));
        let grants = super::grants::policies(&stage.grants, diags);
        let entry = mode
            .stage_grants
            .entry(stage.stage.text.clone())
            .or_default();
        super::grants::overlay(entry, &grants);
    }
    let grants = super::grants::policies(&def.grants, diags);
    super::grants::overlay(&mut mode.grants, &grants);
    for set in &def.sets {
        mode.sets.insert(set.name.text.clone(), set.value.value);
    }
    for rule in &def.learn {
        if let Some(rule) = learn_rule(rule, diags) {
            if !mode.learn.contains(&rule) {
                mode.learn.push(rule);
            }
        }
    }
    for decl in &def.concurrent {
        let Some(plane) = parse_plane(&decl.plane, diags) else {
            continue;
        };
        let with = decl
            .with
            .iter()
            .filter_map(|p| parse_plane(p, diags))
            .collect();
        mode.concurrency.insert(plane, with);
    }
    for decl in &def.lanes {
        if let Some((plane, count)) = lanes(decl, diags) {
            mode.lanes.insert(plane, count);
        }
    }
    // One lane is the default: saying so leaves the plan as it was.
    mode.lanes.retain(|_, count| *count != 1);
}

/// A valid `lanes <plane> <n>`: the execution plane, 1 to `MAX_LANES`.
fn lanes(decl: &syntax::LanesDecl, diags: &mut Diagnostics) -> Option<(Plane, u64)> {
    let plane = parse_plane(&decl.plane, diags)?;
    let count = decl.count.value;
    let (kind, span, label) = if plane != Plane::Execution {
        let kind = Kind::LanesPlane {
            plane: plane.to_string(),
        };
        (kind, decl.plane.span, "not the execution plane")
    } else if count == 0 {
        (Kind::LanesZero, decl.count.span, "no lane")
    } else if count > MAX_LANES {
        (Kind::LanesTooMany { count }, decl.count.span, "too many")
    } else {
        return Some((plane, count));
    };
    diags.push(Diagnostic::new(kind, span, label));
    None
}

fn learn_rule(rule: &syntax::LearnRule, diags: &mut Diagnostics) -> Option<LearnRule> {
    let Some(action) = LearnAction::parse(&rule.action.text) else {
        diags.push(unknown("learn action", &rule.action, &LearnAction::NAMES));
        return None;
    };
    Some(LearnRule {
        source: rule.source.text.clone(),
        outcomes: rule.outcomes.iter().map(|o| o.text.clone()).collect(),
        target: rule.target.text.clone(),
        action,
    })
}

/// Cross-references that need the whole flattened mode.
fn validate(mode: &mut Mode, chain: &[&ModeDef], program: &Program, diags: &mut Diagnostics) {
    let def = chain.last().copied();
    let span = def.map_or(mode.span, |d| d.name.span);
    // A loop that is unknown or a line that did not parse may be the
    // execution loop: those are reported already.
    let attempted = chain.iter().any(|d| {
        d.recovered
            || d.loops
                .iter()
                .any(|l| l.text.split('.').next() == Some(Plane::Execution.as_str()))
    });
    if !mode.loops.contains_key(&Plane::Execution) && !attempted {
        let kind = Kind::ModeMissingLoop {
            mode: mode.name.clone(),
            plane: "execution".into(),
        };
        diags.push(Diagnostic::new(kind, span, "this mode cannot run tasks"));
    }
    let selected: Vec<&Loop> = mode
        .loops
        .values()
        .filter_map(|n| program.loops.get(n))
        .collect();
    for link in chain {
        check_stage_names(link, &selected, diags);
        check_sets(link, &selected, diags);
        check_learn(mode, link, &selected, program, diags);
        check_concurrency(mode, link, diags);
        check_builtin_bindings(link, &selected, program, diags);
    }
    super::lanes::check_merged(mode, chain, program, diags);
}

/// A mode's block for a builtin node may not bind what a runner would use
/// (mode-wide bindings simply do not apply to it).
fn check_builtin_bindings(
    def: &ModeDef,
    selected: &[&Loop],
    program: &Program,
    diags: &mut Diagnostics,
) {
    for block in &def.stage_bindings {
        let name = &block.stage.text;
        let node = selected.iter().find_map(|l| l.nodes.get(name));
        let stage = node.and_then(|n| program.stages.get(&n.kind));
        if let Some(builtin) = stage.and_then(|s| s.builtin) {
            refuse_builtin_bindings(name, builtin, &block.bindings, diags);
        }
    }
}

fn node_names<'a>(selected: &[&'a Loop]) -> Vec<&'a str> {
    selected
        .iter()
        .flat_map(|l| l.node_order.iter().map(String::as_str))
        .collect()
}

fn check_stage_names(def: &ModeDef, selected: &[&Loop], diags: &mut Diagnostics) {
    let known = node_names(selected);
    for stage in &def.stage_bindings {
        if !known.contains(&stage.stage.text.as_str()) {
            diags.push(unknown("node", &stage.stage, &known));
        }
    }
}

fn check_sets(def: &ModeDef, selected: &[&Loop], diags: &mut Diagnostics) {
    let known: Vec<&str> = selected
        .iter()
        .flat_map(|l| l.params.keys().map(String::as_str))
        .collect();
    for set in &def.sets {
        if !known.contains(&set.name.text.as_str()) {
            diags.push(unknown("param", &set.name, &known));
        }
    }
}

fn check_learn(
    mode: &Mode,
    def: &ModeDef,
    selected: &[&Loop],
    program: &Program,
    diags: &mut Diagnostics,
) {
    if def.learn.is_empty() {
        return;
    }
    let Some(learning) = selected.iter().find(|l| l.plane == Plane::Learning) else {
        let kind = Kind::LearnWithoutLearningLoop {
            mode: mode.name.clone(),
        };
        diags.push(Diagnostic::new(
            kind,
            def.learn[0].span,
            "no learning loop to receive this",
        ));
        return;
    };
    let sources: Vec<&Loop> = selected
        .iter()
        .copied()
        .filter(|l| l.plane != Plane::Learning)
        .collect();
    for rule in &def.learn {
        check_learn_source(rule, &sources, program, diags);
        let entries: Vec<&str> = learning
            .entries
            .iter()
            .flat_map(|e| e.nodes.iter().map(String::as_str))
            .collect();
        if !entries.contains(&rule.target.text.as_str()) {
            let d = unknown("learning entry node", &rule.target, &entries);
            diags.push(relabel(d, "not an entry node of the learning loop"));
        }
    }
}

fn check_learn_source(
    rule: &syntax::LearnRule,
    sources: &[&Loop],
    program: &Program,
    diags: &mut Diagnostics,
) {
    let node = sources.iter().find_map(|l| l.nodes.get(&rule.source.text));
    let Some(node) = node else {
        diags.push(unknown("node", &rule.source, &node_names(sources)));
        return;
    };
    let Some(stage) = program.stages.get(&node.kind) else {
        return;
    };
    for outcome in &rule.outcomes {
        if stage.outcome(&outcome.text).is_none() {
            let legal: Vec<String> = stage.outcomes.iter().map(|o| o.name.clone()).collect();
            let kind = Kind::IllegalOutcome {
                outcome: outcome.text.clone(),
                stage: stage.name.clone(),
                legal,
            };
            let suggestion = super::closest(
                &outcome.text,
                stage.outcomes.iter().map(|o| o.name.as_str()),
            );
            let label = match suggestion {
                Some(s) => format!("not legal here; did you mean `{s}`?"),
                None => "not legal for this stage".to_string(),
            };
            diags.push(Diagnostic::new(kind, outcome.span, label));
        }
    }
}

fn check_concurrency(mode: &Mode, def: &ModeDef, diags: &mut Diagnostics) {
    for decl in &def.concurrent {
        for name in std::iter::once(&decl.plane).chain(&decl.with) {
            let Some(plane) = Plane::parse(&name.text) else {
                continue;
            };
            if !mode.loops.contains_key(&plane) {
                let kind = Kind::ModeMissingLoop {
                    mode: mode.name.clone(),
                    plane: plane.to_string(),
                };
                diags.push(Diagnostic::new(
                    kind,
                    name.span,
                    "this plane has no loop in the mode",
                ));
            }
        }
    }
}
