//! Freezing a lowered mode into a [`Plan`].

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::fingerprint::{fingerprint, hex};
use super::model::*;
use crate::check::{Dest, Plane, Program, ResolvedGrant, ResolvedLoop, Route, limit_value};
use crate::lower::{Bound, Lowered};
use crate::vocab::RunnerKind;
use crate::vocab::capability::{Capability, Decision, enforcement};

/// Builds the plan; `inputs` are the digests of every compile input.
pub fn freeze(program: &Program, lowered: &Lowered, inputs: Vec<InputDigest>) -> Plan {
    let mut planes = BTreeMap::new();
    for (plane, resolved) in &lowered.mode.loops {
        let bound = lowered.plane(*plane).map(|(_, b)| *b).unwrap_or(Bound {
            max_stage_runs: 0,
            exact: false,
        });
        planes.insert(*plane, plane_plan(program, resolved, bound));
    }
    let learn = learn_rules(lowered);
    let concurrency = lowered.mode.concurrency.clone();
    let mode_id = lowered.mode.name.clone();
    let lanes = lowered.mode.lanes.clone();
    let plan_id = plan_id(&mode_id, &planes, &learn, &concurrency, &lanes);
    let fingerprint = fingerprint(&mode_id, &inputs);
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        kind: "compiled_plan".into(),
        plan_id,
        mode_id,
        fingerprint,
        inputs,
        planes,
        learn,
        concurrency,
        lanes,
    }
}

fn plan_id(
    mode: &str,
    planes: &BTreeMap<Plane, PlanePlan>,
    learn: &[LearnRulePlan],
    concurrency: &BTreeMap<Plane, Vec<Plane>>,
    lanes: &BTreeMap<Plane, u64>,
) -> String {
    let mut structure =
        serde_json::json!({ "planes": planes, "learn": learn, "concurrency": concurrency });
    // Only when declared, so a one-lane plan keeps the id it always had.
    if !lanes.is_empty() {
        structure["lanes"] = serde_json::json!(lanes);
    }
    let digest = Sha256::digest(structure.to_string().as_bytes());
    format!("plan-{mode}-{}", &hex(&digest)[..12])
}

fn plane_plan(program: &Program, lp: &ResolvedLoop, bound: Bound) -> PlanePlan {
    let source = &lp.source;
    let budgets = source.budgets.iter().map(|(name, b)| {
        let plan = BudgetPlan {
            limit: limit_value(&b.limit, &lp.params),
            per_failure_class: b.per_failure_class,
            cap: b.cap.as_ref().map(|c| limit_value(c, &lp.params)),
        };
        (name.clone(), plan)
    });
    let finals = source.finals.iter().map(|(name, f)| {
        let plan = FinalPlan {
            class: f.class,
            status: f.status.clone(),
            emits: f.emits.clone(),
            handoff: f.handoff,
        };
        (name.clone(), plan)
    });
    PlanePlan {
        loop_id: source.name.clone(),
        entries: source
            .entries
            .iter()
            .map(|e| EntryPlan {
                family: e.family,
                nodes: e.nodes.clone(),
            })
            .collect(),
        completion: source.drained.clone(),
        params: lp.params.clone(),
        budgets: budgets.collect(),
        node_order: source.node_order.clone(),
        nodes: source
            .node_order
            .iter()
            .filter_map(|n| Some((n.clone(), node_plan(program, lp, n)?)))
            .collect(),
        finals: finals.collect(),
        max_stage_runs: bound.max_stage_runs,
        max_stage_runs_exact: bound.exact,
    }
}

fn node_plan(program: &Program, lp: &ResolvedLoop, name: &str) -> Option<NodePlan> {
    let node = lp.source.nodes.get(name)?;
    let stage = program.stages.get(&node.kind)?;
    let binding = lp.nodes.get(name)?;
    let outcomes = stage.outcomes.iter().map(|o| OutcomePlan {
        name: o.name.clone(),
        classes: o.classes.clone(),
    });
    let effects = node.effects.iter().map(|e| EffectPlan {
        id: e.id.clone(),
        on: e.on.clone(),
        ports: e
            .ports
            .iter()
            .map(|(p, d)| (p.clone(), target(d)))
            .collect(),
    });
    Some(NodePlan {
        stage_kind: node.kind.clone(),
        runner: binding.runner.clone(),
        builtin: binding.builtin,
        model: binding.model.clone(),
        thinking: binding.thinking.clone(),
        timeout_s: binding.timeout_s,
        entrypoint: binding.entrypoint.clone(),
        skills: binding.skills.clone(),
        running_marker: format!("{}_RUNNING", node.kind.to_uppercase()),
        outcomes: outcomes.collect(),
        routes: node
            .routes
            .iter()
            .map(|(o, r)| (o.clone(), route_plan(r)))
            .collect(),
        effects: effects.collect(),
        writes: stage.writes.clone(),
        families: stage.families.clone(),
        grants: grant_plans(name, &binding.runner, &binding.grants),
    })
}

/// The frozen grants of a node: who holds each decision depends on the
/// runner and on everything else denied to the node.
fn grant_plans(node: &str, runner: &str, grants: &[ResolvedGrant]) -> Vec<GrantPlan> {
    let runner = RunnerKind::parse(runner).unwrap_or(RunnerKind::Command);
    let denied: BTreeSet<Capability> = grants
        .iter()
        .filter(|g| g.decision == Decision::Denied)
        .map(|g| g.capability)
        .collect();
    let plan = |g: &ResolvedGrant| GrantPlan {
        grant_id: format!("grant-{node}-{}", g.capability.as_str().replace('.', "-")),
        capability: g.capability,
        decision: g.decision,
        enforcement: enforcement(runner, g.capability, g.decision, &denied),
        gate_scope: g.scope,
        requested: g.requested,
        resolved_by: g.resolved_by.to_string(),
    };
    grants.iter().map(plan).collect()
}

fn target(dest: &Dest) -> Target {
    match dest {
        Dest::Node(n) => Target::Node(n.clone()),
        Dest::Final(n) => Target::Final(n.clone()),
    }
}

fn route_plan(route: &Route) -> RoutePlan {
    RoutePlan {
        to: target(&route.to),
        result_keys: route.result_keys.clone(),
        except: route.except.clone(),
        budget: route.budget.as_ref().map(|(b, _)| b.clone()),
        exhausted: route.budget.as_ref().map(|(_, r)| Box::new(route_plan(r))),
    }
}

fn learn_rules(lowered: &Lowered) -> Vec<LearnRulePlan> {
    let plane_of = |node: &str| {
        lowered
            .mode
            .loops
            .iter()
            .find(|(p, l)| **p != Plane::Learning && l.source.nodes.contains_key(node))
            .map(|(p, _)| *p)
    };
    let rules = lowered.mode.learn.iter().filter_map(|rule| {
        Some(LearnRulePlan {
            source_plane: plane_of(&rule.source)?,
            source: rule.source.clone(),
            outcomes: rule.outcomes.clone(),
            target: rule.target.clone(),
            action: rule.action,
        })
    });
    rules.collect()
}
