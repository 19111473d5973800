//! A scenario checked against the plan it runs on, before it runs: every
//! name it uses exists, every answer is legal for its stage; then the
//! walk compared with what the scenario expects.

use crate::check::closest;
use crate::plan::PlanePlan;

use super::scenario::{Expect, Scenario};
use super::simulate::Walked;

/// A name or an answer that does not fit the loop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{field}: `{name}` is not a node of the loop{}", hint(suggestion))]
    UnknownNode {
        field: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    #[error("answers.{node}: `{outcome}` is not an outcome of `{node}`; it has {legal}")]
    IllegalOutcome {
        node: String,
        outcome: String,
        legal: String,
    },
    #[error(
        "expect.final: `{name}` is not a final of the loop{}",
        hint(suggestion)
    )]
    UnknownFinal {
        name: String,
        suggestion: Option<String>,
    },
    #[error("{field}: `{name}` is not a {what} of the loop{}", hint(suggestion))]
    Unknown {
        field: &'static str,
        what: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    #[error("entry: the loop has no entry for family `{family}`")]
    NoEntry { family: String },
}

fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// Every problem of the scenario's names and answers.
pub fn problems(plane: &PlanePlan, scenario: &Scenario) -> Vec<Problem> {
    let mut found = Vec::new();
    let nodes = || plane.node_order.iter().map(String::as_str);
    let node = |field, name: &String| {
        let known = plane.nodes.contains_key(name);
        (!known).then(|| Problem::UnknownNode {
            field,
            name: name.clone(),
            suggestion: closest(name, nodes()),
        })
    };
    found.extend(scenario.start.iter().filter_map(|s| node("start", s)));
    for (name, answers) in &scenario.answers {
        match plane.nodes.get(name) {
            None => found.extend(node("answers", name)),
            Some(plan) => {
                let legal: Vec<&str> = plan.outcomes.iter().map(|o| o.name.as_str()).collect();
                let illegal = answers
                    .iter()
                    .map(|a| a.answer().outcome)
                    .filter(|o| !legal.contains(&o.as_str()));
                found.extend(illegal.map(|outcome| Problem::IllegalOutcome {
                    node: name.clone(),
                    outcome,
                    legal: legal.join(", "),
                }));
            }
        }
    }
    found.extend(unknown_params(plane, scenario));
    found.extend(entry_problem(plane, scenario));
    if let Some(expect) = &scenario.expect {
        found.extend(expect_problems(plane, expect));
    }
    found
}

fn unknown_params(plane: &PlanePlan, scenario: &Scenario) -> Vec<Problem> {
    let known = || plane.params.keys().map(String::as_str);
    let unknown = scenario
        .set
        .keys()
        .filter(|p| !plane.params.contains_key(*p));
    unknown
        .map(|name| Problem::Unknown {
            field: "set",
            what: "parameter",
            name: name.clone(),
            suggestion: closest(name, known()),
        })
        .collect()
}

fn entry_problem(plane: &PlanePlan, scenario: &Scenario) -> Option<Problem> {
    let family = scenario.entry.as_ref()?;
    let found = plane.entries.iter().any(|e| e.family.as_str() == family);
    (!found).then(|| Problem::NoEntry {
        family: family.clone(),
    })
}

fn expect_problems(plane: &PlanePlan, expect: &Expect) -> Vec<Problem> {
    let mut found = Vec::new();
    if let Some(name) = &expect.final_name {
        if !plane.finals.contains_key(name) {
            found.push(Problem::UnknownFinal {
                name: name.clone(),
                suggestion: closest(name, plane.finals.keys().map(String::as_str)),
            });
        }
    }
    let path = expect.path.iter().flatten();
    for name in path.filter(|n| !plane.nodes.contains_key(*n)) {
        found.push(Problem::UnknownNode {
            field: "expect.path",
            name: name.clone(),
            suggestion: closest(name, plane.node_order.iter().map(String::as_str)),
        });
    }
    for name in expect
        .spent
        .keys()
        .filter(|b| !plane.budgets.contains_key(*b))
    {
        found.push(Problem::Unknown {
            field: "expect.spent",
            what: "budget",
            name: name.clone(),
            suggestion: closest(name, plane.budgets.keys().map(String::as_str)),
        });
    }
    found
}

/// Where the walk differs from what was expected, one line each.
pub fn mismatches(expect: &Expect, walked: &Walked) -> Vec<String> {
    let mut found = Vec::new();
    let reached = walked.final_name.as_deref().unwrap_or("none");
    if let Some(name) = &expect.final_name {
        if name != reached {
            found.push(format!("final: expected `{name}`, got `{reached}`"));
        }
    }
    let path: Vec<&str> = walked.steps.iter().map(|s| s.node.as_str()).collect();
    if let Some(expected) = &expect.path {
        if *expected != path {
            found.push(format!(
                "path: expected {}, got {}",
                expected.join(" -> "),
                path.join(" -> ")
            ));
        }
    }
    let runs = walked.steps.len() as u64;
    if expect.stage_runs.is_some_and(|n| n != runs) {
        let n = expect.stage_runs.unwrap_or_default();
        found.push(format!("stage_runs: expected {n}, got {runs}"));
    }
    let totals = walked.spent.totals();
    for (budget, want) in &expect.spent {
        let got = totals.get(budget).copied().unwrap_or(0);
        if got != *want {
            found.push(format!("spent.{budget}: expected {want}, got {got}"));
        }
    }
    found
}
