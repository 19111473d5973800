//! Routing: a pure function from (plan, budget counters, node, outcome, the
//! stage's result metadata) to the next node or final, with the budgets the
//! route spends. No I/O; everything it needs is passed in.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::{EffectPlan, PlanePlan, RoutePlan, Target};

/// The failure class of a stage routed as `BLOCKED` because an effect took
/// a port that has no target.
pub const EFFECT_FAULT: &str = "effect_fault";

/// How much of each budget one work item has spent.
pub trait BudgetCounts {
    /// Units of `budget` spent (for `per failure_class` budgets: of this class).
    fn used(&self, budget: &str, class: Option<&str>) -> u64;
    /// Units of `budget` spent over all classes.
    fn total(&self, budget: &str) -> u64;
}

/// One budget unit a decision spends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    pub budget: String,
    /// The failure class, for `per failure_class` budgets.
    pub class: Option<String>,
}

/// Where a routed stage leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub to: Target,
    pub spends: Vec<Spend>,
    /// Why, for traces and the monitor (`outcome FIX_NEEDED; fix_cycles 1/2`).
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("node `{node}` is not in the plan")]
    UnknownNode { node: String },
    #[error("node `{node}` has no route for outcome `{outcome}`")]
    NoRoute { node: String, outcome: String },
}

/// The facts of one finished stage that routing reads.
pub struct Finished<'a> {
    pub node: &'a str,
    pub outcome: &'a str,
    pub failure_class: Option<&'a str>,
    pub metadata: &'a BTreeMap<String, Value>,
}

/// Routes a finished stage through its plane's plan.
pub fn route(
    plane: &PlanePlan,
    counts: &dyn BudgetCounts,
    finished: &Finished<'_>,
) -> Result<Decision, RouteError> {
    let node = plane
        .nodes
        .get(finished.node)
        .ok_or_else(|| RouteError::UnknownNode {
            node: finished.node.into(),
        })?;
    let route = node
        .routes
        .get(finished.outcome)
        .ok_or_else(|| RouteError::NoRoute {
            node: finished.node.into(),
            outcome: finished.outcome.into(),
        })?;
    let mut walk = Walk {
        plane,
        counts,
        finished,
        spends: Vec::new(),
        reasons: vec![format!("outcome {}", finished.outcome)],
    };
    let to = walk.follow(route);
    Ok(Decision {
        to,
        spends: walk.spends,
        reason: walk.reasons.join("; "),
    })
}

/// Where a port an effect took leads: its target, spending no budget.
/// `None` when the effect names no target for the port; the stage is then
/// routed as `BLOCKED` with failure class [`EFFECT_FAULT`].
pub fn route_port(effect: &EffectPlan, port: &str, reason: &str) -> Option<Decision> {
    let to = effect.ports.get(port)?.clone();
    Some(Decision {
        to,
        spends: Vec::new(),
        reason: format!("effect {} {port}: {reason}", effect.id),
    })
}

struct Walk<'a> {
    plane: &'a PlanePlan,
    counts: &'a dyn BudgetCounts,
    finished: &'a Finished<'a>,
    spends: Vec<Spend>,
    reasons: Vec<String>,
}

impl Walk<'_> {
    fn follow(&mut self, route: &RoutePlan) -> Target {
        let (Some(budget), Some(exhausted)) = (&route.budget, &route.exhausted) else {
            return self.resolve(route);
        };
        let class = self.class_for(budget);
        let (used, limit) = self.usage(budget, class.as_deref());
        if used < limit {
            self.reasons.push(format!("{budget} {}/{limit}", used + 1));
            self.spends.push(Spend {
                budget: budget.clone(),
                class,
            });
            self.resolve(route)
        } else {
            self.reasons
                .push(format!("{budget} exhausted ({used}/{limit})"));
            self.follow(exhausted)
        }
    }

    /// The failure class a `per failure_class` budget is counted under.
    fn class_for(&self, budget: &str) -> Option<String> {
        let per_class = self
            .plane
            .budgets
            .get(budget)
            .is_some_and(|b| b.per_failure_class);
        per_class.then(|| {
            self.finished
                .failure_class
                .unwrap_or("stage_declared")
                .to_string()
        })
    }

    /// (used, effective limit): a cap over all classes can lower the limit.
    fn usage(&self, budget: &str, class: Option<&str>) -> (u64, u64) {
        let Some(plan) = self.plane.budgets.get(budget) else {
            return (0, 0);
        };
        let used = self.counts.used(budget, class);
        match plan.cap {
            Some(cap) if self.counts.total(budget) >= cap => (used.max(plan.limit), plan.limit),
            _ => (used, plan.limit),
        }
    }

    /// A result key may name the next node (not one listed after `except`).
    fn resolve(&mut self, route: &RoutePlan) -> Target {
        for key in &route.result_keys {
            let Some(Value::String(name)) = self.finished.metadata.get(key) else {
                continue;
            };
            if self.plane.nodes.contains_key(name) && !route.except.contains(name) {
                self.reasons.push(format!("result.{key}={name}"));
                return Target::Node(name.clone());
            }
            self.reasons.push(format!("result.{key}={name} ignored"));
        }
        route.to.clone()
    }
}

#[cfg(test)]
mod tests;
