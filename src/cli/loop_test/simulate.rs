//! One work item walked through a plane's plan, without an agent: each
//! stage's answer is given, and the runtime's own router decides where it
//! leads and which budgets it spends.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::{PlanePlan, Target};
use crate::runtime::route::{
    BudgetCounts, Decision, EFFECT_FAULT, Finished, RouteError, Spend, route, route_port,
};
use crate::vocab::BLOCKED;

/// What a stage answers on one visit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub outcome: String,
    /// The stage's result metadata (`resume_stage = "checker"`).
    pub result: BTreeMap<String, Value>,
    pub failure_class: Option<String>,
    /// A port the stage's effect takes instead of the outcome's route.
    pub effect_port: Option<String>,
}

impl Answer {
    pub fn outcome(outcome: &str) -> Answer {
        Answer {
            outcome: outcome.to_string(),
            ..Answer::default()
        }
    }

    /// `FIX_NEEDED`, `TROUBLESHOOT_COMPLETE {resume_stage=checker}`, `... port fault`.
    pub fn describe(&self) -> String {
        let mut text = self.outcome.clone();
        let fields: Vec<String> = self
            .result
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        if !fields.is_empty() {
            text.push_str(&format!(" {{{}}}", fields.join(", ")));
        }
        if let Some(class) = &self.failure_class {
            text.push_str(&format!(" class {class}"));
        }
        if let Some(port) = &self.effect_port {
            text.push_str(&format!(" port {port}"));
        }
        text
    }
}

/// Budget units one work item has spent, per budget and failure class.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Spent(BTreeMap<(String, Option<String>), u64>);

impl Spent {
    pub fn add(&mut self, spends: &[Spend]) {
        for spend in spends {
            *self
                .0
                .entry((spend.budget.clone(), spend.class.clone()))
                .or_default() += 1;
        }
    }

    /// Units spent per budget, over all classes.
    pub fn totals(&self) -> BTreeMap<String, u64> {
        let mut totals = BTreeMap::new();
        for ((budget, _), n) in &self.0 {
            *totals.entry(budget.clone()).or_default() += n;
        }
        totals
    }
}

impl BudgetCounts for Spent {
    fn used(&self, budget: &str, class: Option<&str>) -> u64 {
        let key = (budget.to_string(), class.map(str::to_string));
        self.0.get(&key).copied().unwrap_or(0)
    }

    fn total(&self, budget: &str) -> u64 {
        let of_budget = self.0.iter().filter(|((b, _), _)| b == budget);
        of_budget.map(|(_, n)| n).sum()
    }
}

/// A step that cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error(
        "node `{node}` has no effect that runs on `{outcome}`, so no effect can take port `{port}`"
    )]
    NoEffect {
        node: String,
        outcome: String,
        port: String,
    },
}

/// Routes one answer of `node` as the runtime does: an effect's port when
/// the answer takes one, else the outcome's route.
pub fn decide(
    plane: &PlanePlan,
    spent: &Spent,
    node: &str,
    answer: &Answer,
) -> Result<Decision, StepError> {
    let Some(port) = &answer.effect_port else {
        let class = answer.failure_class.as_deref();
        return Ok(routed(
            plane,
            spent,
            node,
            &answer.outcome,
            class,
            &answer.result,
        )?);
    };
    let effects = plane.nodes.get(node).map(|n| n.effects.as_slice());
    let effect = effects
        .unwrap_or_default()
        .iter()
        .find(|e| e.on.contains(&answer.outcome))
        .ok_or_else(|| StepError::NoEffect {
            node: node.to_string(),
            outcome: answer.outcome.clone(),
            port: port.clone(),
        })?;
    match route_port(effect, port, "taken by the scenario") {
        Some(decision) => Ok(decision),
        None => Ok(routed(
            plane,
            spent,
            node,
            BLOCKED,
            Some(EFFECT_FAULT),
            &answer.result,
        )?),
    }
}

fn routed(
    plane: &PlanePlan,
    spent: &Spent,
    node: &str,
    outcome: &str,
    failure_class: Option<&str>,
    metadata: &BTreeMap<String, Value>,
) -> Result<Decision, RouteError> {
    let finished = Finished {
        node,
        outcome,
        failure_class,
        metadata,
    };
    route(plane, spent, &finished)
}

/// One stage run and where it led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub node: String,
    pub answer: Answer,
    pub decision: Decision,
}

impl Step {
    /// `checker FIX_NEEDED -> fixer`
    pub fn describe(&self) -> String {
        format!(
            "{} {} -> {}",
            self.node,
            self.answer.describe(),
            self.decision.to
        )
    }
}

/// A walk from a start node until a final.
#[derive(Debug, Clone)]
pub struct Walked {
    pub steps: Vec<Step>,
    pub spent: Spent,
    /// The final reached; `None` when the walk was cut at `limit` stage runs.
    pub final_name: Option<String>,
}

/// Walks from `start`, asking `answer` what each visited stage answers,
/// for at most `limit` stage runs.
pub fn walk(
    plane: &PlanePlan,
    start: &str,
    limit: u64,
    answer: &mut dyn FnMut(&str) -> Answer,
) -> Result<Walked, StepError> {
    let mut walked = Walked {
        steps: Vec::new(),
        spent: Spent::default(),
        final_name: None,
    };
    let mut node = start.to_string();
    while (walked.steps.len() as u64) < limit {
        let given = answer(&node);
        let decision = decide(plane, &walked.spent, &node, &given)?;
        walked.spent.add(&decision.spends);
        let next = decision.to.clone();
        walked.steps.push(Step {
            node,
            answer: given,
            decision,
        });
        match next {
            Target::Final(name) => {
                walked.final_name = Some(name);
                break;
            }
            Target::Node(name) => node = name,
        }
    }
    Ok(walked)
}
