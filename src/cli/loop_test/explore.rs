//! Every path one work item can take through a plane: every outcome of
//! every stage, every node a result may name, every port an effect may
//! take, each routed by the runtime's router. Paths are not listed one by
//! one (there are millions); the walk is over states (node, budgets spent),
//! which the termination proof makes a finite acyclic graph. That graph
//! grows as the product of the budgets, so the walk stops, saying so, past
//! [`MAX_STATES`], and it keeps its own stack: a budget of thousands makes
//! paths thousands of steps deep.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use serde_json::Value;

use super::simulate::{Answer, Spent, Step, StepError, decide};
use crate::plan::{PlanePlan, RoutePlan, Target};

/// A work item between two stages: the node it is at and what it spent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    node: String,
    spent: Spent,
}

/// A step and the state it leads to (`None`: a final).
type Move = (Step, Option<State>);

/// What a plane can do.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// Distinct states (node, budgets spent) reachable.
    pub states: usize,
    /// Distinct paths from a start to a final (saturating).
    pub paths: u128,
    /// Each reachable final with a shortest path to it.
    pub finals: BTreeMap<String, Vec<Step>>,
    /// A longest path.
    pub longest: Vec<Step>,
}

/// The most states the walk visits (some 3 KB each, a few seconds), far
/// more than a loop with budgets of a few dozen reaches.
pub const MAX_STATES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExploreError {
    #[error(
        "the walk reaches more than {limit} states (node, budgets spent), too many to explore; \
lower the budgets' parameters with --set (e.g. --set max_fix_cycles=2)"
    )]
    TooLarge { limit: usize },
    #[error(transparent)]
    Step(#[from] StepError),
    #[error("the walk returned to `{node}` without spending a budget; the plan does not terminate")]
    Cycle { node: String },
}

/// Explores every path from `starts`.
pub fn explore(plane: &PlanePlan, starts: &[String]) -> Result<Exploration, ExploreError> {
    let mut explorer = Explorer {
        plane,
        memo: HashMap::new(),
        open: HashSet::new(),
    };
    let starts: Vec<State> = starts
        .iter()
        .map(|node| State {
            node: node.clone(),
            spent: Spent::default(),
        })
        .collect();
    let finals = shortest_witnesses(plane, &starts, MAX_STATES)?;
    let mut paths = 0u128;
    let mut best: Option<&State> = None;
    for start in &starts {
        let summary = explorer.summary(start)?;
        paths = paths.saturating_add(summary.paths);
        if best.is_none_or(|b| explorer.memo[b].length < summary.length) {
            best = Some(start);
        }
    }
    let longest = best.map(|b| explorer.longest_from(b)).unwrap_or_default();
    Ok(Exploration {
        states: explorer.memo.len(),
        paths,
        finals,
        longest,
    })
}

/// Every answer a node can give that routing can tell apart.
fn answers(plane: &PlanePlan, node: &str) -> Vec<Answer> {
    let Some(plan) = plane.nodes.get(node) else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for outcome in &plan.outcomes {
        all.push(Answer::outcome(&outcome.name));
        for key in plan
            .routes
            .get(&outcome.name)
            .map(result_keys)
            .unwrap_or_default()
        {
            for target in &plane.node_order {
                let mut answer = Answer::outcome(&outcome.name);
                answer
                    .result
                    .insert(key.clone(), Value::String(target.clone()));
                all.push(answer);
            }
        }
        let effects = plan.effects.iter().filter(|e| e.on.contains(&outcome.name));
        for port in effects.flat_map(|e| e.ports.keys()) {
            let mut answer = Answer::outcome(&outcome.name);
            answer.effect_port = Some(port.clone());
            all.push(answer);
        }
    }
    all
}

/// The result keys of a route and of the routes its budgets fall back to.
fn result_keys(route: &RoutePlan) -> Vec<String> {
    let mut keys = route.result_keys.clone();
    if let Some(exhausted) = &route.exhausted {
        keys.extend(result_keys(exhausted));
    }
    keys
}

/// The moves from a state, one per distinct (outcome, decision).
fn moves(plane: &PlanePlan, state: &State) -> Result<Vec<Move>, StepError> {
    let mut seen = BTreeSet::new();
    let mut moves = Vec::new();
    for answer in answers(plane, &state.node) {
        let decision = decide(plane, &state.spent, &state.node, &answer)?;
        let key = (
            answer.outcome.clone(),
            decision.to.clone(),
            decision.spends.clone(),
        );
        if !seen.insert(format!("{key:?}")) {
            continue;
        }
        let next = match &decision.to {
            Target::Final(_) => None,
            Target::Node(node) => {
                let mut spent = state.spent.clone();
                spent.add(&decision.spends);
                Some(State {
                    node: node.clone(),
                    spent,
                })
            }
        };
        let step = Step {
            node: state.node.clone(),
            answer,
            decision,
        };
        moves.push((step, next));
    }
    Ok(moves)
}

/// Breadth first from the starts: the first path reaching a final is a
/// shortest one.
/// Fails past `limit` states: the later walks visit the same states.
fn shortest_witnesses(
    plane: &PlanePlan,
    starts: &[State],
    limit: usize,
) -> Result<BTreeMap<String, Vec<Step>>, ExploreError> {
    let mut parent: HashMap<State, Option<(State, Step)>> = HashMap::new();
    let mut queue: VecDeque<State> = VecDeque::new();
    for start in starts {
        if !parent.contains_key(start) {
            parent.insert(start.clone(), None);
            queue.push_back(start.clone());
        }
    }
    let mut finals = BTreeMap::new();
    while let Some(state) = queue.pop_front() {
        for (step, next) in moves(plane, &state)? {
            match next {
                None => {
                    if let Target::Final(name) = &step.decision.to {
                        if !finals.contains_key(name) {
                            let mut path = path_to(&parent, &state);
                            path.push(step.clone());
                            finals.insert(name.clone(), path);
                        }
                    }
                }
                Some(next) if !parent.contains_key(&next) => {
                    if parent.len() >= limit {
                        return Err(ExploreError::TooLarge { limit });
                    }
                    parent.insert(next.clone(), Some((state.clone(), step)));
                    queue.push_back(next);
                }
                Some(_) => {}
            }
        }
    }
    Ok(finals)
}

fn path_to(parent: &HashMap<State, Option<(State, Step)>>, state: &State) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut at = state;
    while let Some(Some((previous, step))) = parent.get(at) {
        steps.push(step.clone());
        at = previous;
    }
    steps.reverse();
    steps
}

/// The longest path and the number of paths from one state.
#[derive(Debug, Clone)]
struct Summary {
    length: u64,
    paths: u128,
    /// The first move of a longest path.
    best: Option<Move>,
}

struct Explorer<'a> {
    plane: &'a PlanePlan,
    memo: HashMap<State, Summary>,
    /// States on the current walk, to catch a cycle that spends nothing.
    open: HashSet<State>,
}

impl Explorer<'_> {
    /// The summary of `start`, walking depth first with an explicit stack:
    /// a state is summed up once every state it moves to is.
    fn summary(&mut self, start: &State) -> Result<Summary, ExploreError> {
        let mut stack: Vec<(State, Option<Vec<Move>>)> = vec![(start.clone(), None)];
        while let Some((state, expanded)) = stack.pop() {
            if let Some(moves) = expanded {
                self.open.remove(&state);
                let summary = self.sum_up(moves);
                self.memo.insert(state, summary);
                continue;
            }
            if self.memo.contains_key(&state) {
                continue;
            }
            // Still open: reached again from its own walk.
            if !self.open.insert(state.clone()) {
                return Err(ExploreError::Cycle { node: state.node });
            }
            let moves = moves(self.plane, &state)?;
            let pending: Vec<State> = moves
                .iter()
                .filter_map(|(_, next)| next.clone())
                .filter(|next| !self.memo.contains_key(next))
                .collect();
            stack.push((state, Some(moves)));
            stack.extend(pending.into_iter().map(|next| (next, None)));
        }
        Ok(self.memo.get(start).cloned().unwrap_or(Summary {
            length: 0,
            paths: 0,
            best: None,
        }))
    }

    /// A state's summary from the summaries of the states it moves to.
    fn sum_up(&self, moves: Vec<Move>) -> Summary {
        let mut summary = Summary {
            length: 0,
            paths: 0,
            best: None,
        };
        for (step, next) in moves {
            let (length, paths) = match next.as_ref().and_then(|n| self.memo.get(n)) {
                Some(after) => (after.length + 1, after.paths),
                None => (1, 1),
            };
            summary.paths = summary.paths.saturating_add(paths);
            if summary.best.is_none() || length > summary.length {
                summary.length = length;
                summary.best = Some((step, next));
            }
        }
        summary
    }

    /// Follows the best moves from `state` to a final.
    fn longest_from(&self, state: &State) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut at = self.memo.get(state);
        while let Some(Summary {
            best: Some((step, next)),
            ..
        }) = at
        {
            steps.push(step.clone());
            at = next.as_ref().and_then(|n| self.memo.get(n));
        }
        steps
    }
}
