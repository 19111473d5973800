//! Selecting a mode for compilation: parameters and bindings resolved with
//! their precedence (loop < mode < operator config) and conventions applied.

use std::collections::{BTreeMap, BTreeSet};

use super::grants::{CapabilityOverrides, PolicyLevels, ResolvedGrant, resolve};
use super::model::*;
use super::suggest::closest;
use crate::vocab::capability::{Decision, Enforcement, enforcement};

/// What the operator's `millrace.toml` adds on top of the `.loop` files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Loop parameters by name (`[params]`, `[recovery]`).
    pub params: BTreeMap<String, u64>,
    /// Per-stage bindings (`[stages.<stage>]`), keyed by node name.
    pub stages: BTreeMap<String, StageOverride>,
    /// The runner used when neither loop nor mode names one.
    pub default_runner: Option<String>,
    /// `[execution_capabilities]`.
    pub capabilities: CapabilityOverrides,
    /// `[lanes] execution`: the execution plane's lanes, over the mode's.
    pub execution_lanes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageOverride {
    pub runner: Option<String>,
    pub model: Option<String>,
    pub thinking: Option<String>,
    pub timeout_s: Option<u64>,
}

/// The default stage timeout, as in the reference.
pub const DEFAULT_TIMEOUT_S: u64 = 3600;

/// A mode ready to lower: one resolved loop per plane.
#[derive(Debug, Clone)]
pub struct ResolvedMode {
    pub name: String,
    pub loops: BTreeMap<Plane, ResolvedLoop>,
    pub learn: Vec<LearnRule>,
    pub concurrency: BTreeMap<Plane, Vec<Plane>>,
    /// Planes with more than one lane.
    pub lanes: BTreeMap<Plane, u64>,
}

#[derive(Debug, Clone)]
pub struct ResolvedLoop {
    pub source: Loop,
    pub params: BTreeMap<String, u64>,
    /// Budget name -> (limit, per-failure-class cap).
    pub limits: BTreeMap<String, (u64, Option<u64>)>,
    pub nodes: BTreeMap<String, ResolvedNode>,
}

/// A node with its final bindings.
#[derive(Debug, Clone)]
pub struct ResolvedNode {
    pub runner: String,
    pub model: Option<String>,
    pub thinking: Option<String>,
    pub timeout_s: u64,
    pub entrypoint: String,
    pub skills: Vec<String>,
    /// Every requested or named capability and its decision.
    pub grants: Vec<ResolvedGrant>,
    /// Set when the runtime runs the node itself (`builtin merge_gate`).
    pub builtin: Option<Builtin>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("unknown mode `{name}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownMode {
        name: String,
        suggestion: Option<String>,
    },
    #[error("unknown runner `{runner}` configured for stage `{stage}`; known runners: {}", RunnerKind::NAMES.join(", "))]
    UnknownRunner { stage: String, runner: String },
    #[error(
        "stage `{stage}` denies `{capability}`, which runner `{runner}` cannot hold ({enforcement}); `execution_capabilities.fail_required_advisory` is true"
    )]
    UnheldDenial {
        stage: String,
        capability: String,
        runner: String,
        enforcement: String,
    },
    #[error(
        "stage `{stage}` denies `runner.invoke` (set by {level}), so it could never run; allow it, or `gate` it to have each start approved"
    )]
    NeverRuns { stage: String, level: &'static str },
    #[error(
        "`[stages.{stage}]` binds `{binding}`, but stage `{stage}` is run by the runtime (`builtin {builtin}`); remove it (only `timeout_seconds` applies)"
    )]
    BuiltinConfig {
        stage: String,
        builtin: String,
        binding: &'static str,
    },
    #[error("`{table}.{name}` names no stage of any loop{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownConfigStage {
        /// `stages` or `execution_capabilities.stages`.
        table: &'static str,
        name: String,
        suggestion: Option<String>,
    },
}

/// Resolves `name` (a mode or alias) against the operator's overrides.
pub fn select_mode(
    program: &Program,
    name: &str,
    overrides: &Overrides,
) -> Result<ResolvedMode, SelectError> {
    let Some(mode) = program.mode(name) else {
        let known = program
            .modes
            .keys()
            .chain(program.aliases.keys())
            .map(String::as_str);
        return Err(SelectError::UnknownMode {
            name: name.to_string(),
            suggestion: closest(name, known),
        });
    };
    refuse_unknown_stages(program, overrides)?;
    let mut loops = BTreeMap::new();
    for (plane, loop_name) in &mode.loops {
        let Some(lp) = program.loops.get(loop_name) else {
            continue;
        };
        loops.insert(*plane, resolve_loop(lp, mode, overrides, &program.stages)?);
    }
    Ok(ResolvedMode {
        name: mode.name.clone(),
        loops,
        learn: mode.learn.clone(),
        concurrency: mode.concurrency.clone(),
        lanes: lanes(mode, overrides),
    })
}

/// The mode's lanes under the operator's `[lanes]`; one lane is the
/// default and left out, so overriding to 1 freezes the plan of no lanes.
fn lanes(mode: &Mode, overrides: &Overrides) -> BTreeMap<Plane, u64> {
    let mut lanes = mode.lanes.clone();
    if let Some(count) = overrides.execution_lanes {
        lanes.insert(Plane::Execution, count);
    }
    lanes.retain(|_, count| *count != 1);
    lanes
}

fn resolve_loop(
    lp: &Loop,
    mode: &Mode,
    overrides: &Overrides,
    stages: &BTreeMap<String, StageKind>,
) -> Result<ResolvedLoop, SelectError> {
    let mut params: BTreeMap<String, u64> = lp
        .params
        .iter()
        .map(|(k, p)| (k.clone(), p.value))
        .collect();
    for (name, value) in mode.sets.iter().chain(&overrides.params) {
        if let Some(slot) = params.get_mut(name) {
            *slot = *value;
        }
    }
    let limits = lp.budgets.iter().map(|(name, b)| {
        let cap = b.cap.as_ref().map(|c| limit_value(c, &params));
        (name.clone(), (limit_value(&b.limit, &params), cap))
    });
    let limits = limits.collect();
    let mut nodes = BTreeMap::new();
    for (name, node) in &lp.nodes {
        let mut resolved = resolve_node(lp.plane, node, mode, overrides)?;
        if let Some(builtin) = stages.get(&node.kind).and_then(|s| s.builtin) {
            refuse_builtin_config(name, builtin, overrides.stages.get(name))?;
            nodes.insert(name.clone(), builtin_node(builtin, resolved.timeout_s));
            continue;
        }
        let requests = stages.get(&node.kind).map_or(&[][..], |s| &s.requests);
        resolved.grants = node_grants(lp, node, mode, &overrides.capabilities, requests);
        refuse_never_running(name, &resolved.grants)?;
        if overrides.capabilities.require_held_denials {
            refuse_unheld_denials(name, &resolved)?;
        }
        nodes.insert(name.clone(), resolved);
    }
    Ok(ResolvedLoop {
        source: lp.clone(),
        params,
        limits,
        nodes,
    })
}

/// The operator's `[stages.<node>]` may set a builtin node's timeout only:
/// a runner, model or thinking level there would silently do nothing.
fn refuse_builtin_config(
    stage: &str,
    builtin: Builtin,
    config: Option<&StageOverride>,
) -> Result<(), SelectError> {
    let Some(config) = config else {
        return Ok(());
    };
    let named = [
        ("runner", config.runner.is_some()),
        ("model", config.model.is_some()),
        ("thinking_level", config.thinking.is_some()),
    ];
    match named.iter().find(|(_, set)| *set) {
        Some((binding, _)) => Err(SelectError::BuiltinConfig {
            stage: stage.to_string(),
            builtin: builtin.to_string(),
            binding,
        }),
        None => Ok(()),
    }
}

/// A node the runtime runs itself: no runner, prompt, skill or capability
/// grant applies to it (no agent runs); its timeout bounds what it runs.
fn builtin_node(builtin: Builtin, timeout_s: u64) -> ResolvedNode {
    ResolvedNode {
        runner: BUILTIN_RUNNER.to_string(),
        model: None,
        thinking: None,
        timeout_s,
        entrypoint: String::new(),
        skills: Vec::new(),
        grants: Vec::new(),
        builtin: Some(builtin),
    }
}

/// A limit's value under resolved parameters (unknown parameters were
/// reported by `check`; they count as zero here).
pub fn limit_value(limit: &Limit, params: &BTreeMap<String, u64>) -> u64 {
    match limit {
        Limit::Fixed(n) => *n,
        Limit::Param(p) => params.get(p).copied().unwrap_or(0),
    }
}

fn resolve_node(
    plane: Plane,
    node: &Node,
    mode: &Mode,
    overrides: &Overrides,
) -> Result<ResolvedNode, SelectError> {
    let mut b = node.bindings.clone();
    b.overlay(&mode.bindings);
    if let Some(stage) = mode.stage_bindings.get(&node.name) {
        b.overlay(stage);
    }
    if let Some(config) = overrides.stages.get(&node.name) {
        b.overlay(&Bindings {
            runner: config.runner.clone(),
            model: config.model.clone(),
            thinking: config.thinking.clone(),
            timeout_s: config.timeout_s,
            ..Bindings::default()
        });
    }
    let runner = b
        .runner
        .or_else(|| overrides.default_runner.clone())
        .unwrap_or_else(|| RunnerKind::CodexCli.as_str().into());
    if RunnerKind::parse(&runner).is_none() {
        return Err(SelectError::UnknownRunner {
            stage: node.name.clone(),
            runner,
        });
    }
    let own = !node.bindings.skills.is_empty()
        || mode
            .stage_bindings
            .get(&node.name)
            .is_some_and(|b| !b.skills.is_empty());
    let skills = node_skills(plane, node, own, b.skills);
    Ok(ResolvedNode {
        runner,
        model: b.model,
        thinking: b.thinking,
        timeout_s: b.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S),
        entrypoint: b
            .entrypoint
            .unwrap_or_else(|| format!("entrypoints/{plane}/{}.md", node.kind)),
        skills,
        grants: Vec::new(),
        builtin: None,
    })
}

/// A node's grants: nothing when the operator turned capabilities off.
fn node_grants(
    lp: &Loop,
    node: &Node,
    mode: &Mode,
    config: &CapabilityOverrides,
    requests: &[Capability],
) -> Vec<ResolvedGrant> {
    if !config.enabled {
        return Vec::new();
    }
    let levels = PolicyLevels {
        requests,
        levels: vec![
            ("loop", Some(&lp.grants)),
            ("node", Some(&node.grants)),
            ("mode", Some(&mode.grants)),
            ("mode_stage", mode.stage_grants.get(&node.name)),
            ("config", Some(&config.defaults)),
            ("config_plane", config.planes.get(&lp.plane)),
            ("config_stage", config.stages.get(&node.name)),
        ],
    };
    resolve(&levels)
}

/// A stage denied `runner.invoke` would sit in its loop never started: the
/// runtime holds that denial by refusing the plan.
fn refuse_never_running(stage: &str, grants: &[ResolvedGrant]) -> Result<(), SelectError> {
    let denied = grants
        .iter()
        .find(|g| g.capability == Capability::RunnerInvoke && g.decision == Decision::Denied);
    match denied {
        Some(grant) => Err(SelectError::NeverRuns {
            stage: stage.to_string(),
            level: grant.resolved_by,
        }),
        None => Ok(()),
    }
}

/// A binding (`[stages.<x>]`) or a policy (`[execution_capabilities.stages.<x>]`)
/// for a stage no loop has would silently decide nothing (a misspelt denial
/// grants what it meant to deny; a misspelt runner binding runs the default
/// runner): refused, with the closest node name. Any loop's nodes count, so one config serves every mode.
fn refuse_unknown_stages(program: &Program, overrides: &Overrides) -> Result<(), SelectError> {
    let nodes: BTreeSet<&str> = program
        .loops
        .values()
        .flat_map(|lp| lp.nodes.keys().map(String::as_str))
        .collect();
    let tables: [(&'static str, Vec<&String>); 2] = [
        ("stages", overrides.stages.keys().collect()),
        (
            "execution_capabilities.stages",
            overrides.capabilities.stages.keys().collect(),
        ),
    ];
    for (table, names) in tables {
        if let Some(name) = names.into_iter().find(|s| !nodes.contains(s.as_str())) {
            return Err(SelectError::UnknownConfigStage {
                table,
                name: name.clone(),
                suggestion: closest(name, nodes),
            });
        }
    }
    Ok(())
}

/// With `fail_required_advisory`, a denial only advisory or unsupported
/// with the node's runner fails the compile.
fn refuse_unheld_denials(stage: &str, node: &ResolvedNode) -> Result<(), SelectError> {
    let runner = RunnerKind::parse(&node.runner).unwrap_or(RunnerKind::Command);
    let denied: BTreeSet<Capability> = node
        .grants
        .iter()
        .filter(|g| g.decision == Decision::Denied)
        .map(|g| g.capability)
        .collect();
    for capability in &denied {
        let held = enforcement(runner, *capability, Decision::Denied, &denied);
        if matches!(held, Enforcement::AdvisoryOnly | Enforcement::Unsupported) {
            return Err(SelectError::UnheldDenial {
                stage: stage.to_string(),
                capability: capability.to_string(),
                runner: node.runner.clone(),
                enforcement: held.to_string(),
            });
        }
    }
    Ok(())
}

/// A node's skills: the conventional core skill of its stage kind, unless
/// the node binds skills of its own (in its loop or its mode's block for
/// it), which replace it; a mode-wide `skill` adds to every node.
fn node_skills(plane: Plane, node: &Node, own: bool, bound: Vec<String>) -> Vec<String> {
    let mut skills = Vec::new();
    if !own {
        skills.push(format!("skills/stage/{plane}/{}-core/SKILL.md", node.kind));
    }
    skills.extend(bound.into_iter().filter(|s| !s.is_empty()));
    skills.dedup();
    skills
}

/// A loop on its own, with its default parameters: what `loop check` analyses.
pub fn standalone(lp: &Loop) -> ResolvedLoop {
    let mode = Mode {
        name: String::new(),
        loops: BTreeMap::new(),
        bindings: Bindings {
            runner: Some("script".into()),
            ..Bindings::default()
        },
        stage_bindings: BTreeMap::new(),
        grants: Policies::new(),
        stage_grants: BTreeMap::new(),
        sets: BTreeMap::new(),
        learn: Vec::new(),
        concurrency: BTreeMap::new(),
        lanes: BTreeMap::new(),
        span: lp.span,
    };
    match resolve_loop(lp, &mode, &Overrides::default(), &BTreeMap::new()) {
        Ok(resolved) => resolved,
        Err(_) => ResolvedLoop {
            source: lp.clone(),
            params: BTreeMap::new(),
            limits: BTreeMap::new(),
            nodes: BTreeMap::new(),
        },
    }
}
