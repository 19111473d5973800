//! The frozen plan's serde model: everything the runtime needs, nothing it
//! must interpret further. Routing tables are total: every legal outcome of
//! every node has a route.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::check::{Builtin, Family, LearnAction, Plane, ResultClass};
use crate::vocab::capability::{Capability, Decision, Enforcement, GateScope};

/// The plan file's schema version; a newer one is refused on load.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub schema_version: u32,
    pub kind: String,
    /// `plan-<mode>-<hash of the routing structure>`.
    pub plan_id: String,
    pub mode_id: String,
    /// A hash over every input: loop sources, prompts, skills, config.
    pub fingerprint: String,
    pub inputs: Vec<InputDigest>,
    pub planes: BTreeMap<Plane, PlanePlan>,
    pub learn: Vec<LearnRulePlan>,
    /// A plane that may run beside the listed planes (all others run alone).
    pub concurrency: BTreeMap<Plane, Vec<Plane>>,
    /// Planes that run several items at once (`lanes execution 4`); a
    /// plane not listed has one lane, and a plan with none lists nothing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lanes: BTreeMap<Plane, u64>,
}

impl Plan {
    pub fn plane(&self, plane: Plane) -> Option<&PlanePlan> {
        self.planes.get(&plane)
    }

    /// The node and its plane, by node name.
    pub fn node(&self, plane: Plane, name: &str) -> Option<&NodePlan> {
        self.planes.get(&plane)?.nodes.get(name)
    }

    /// How many items of `plane` may run at once.
    pub fn lanes(&self, plane: Plane) -> u64 {
        self.lanes.get(&plane).copied().unwrap_or(1)
    }

    /// Whether the mode lets planes `a` and `b` run at the same time
    /// (`concurrent a with b`, in either direction).
    pub fn may_run_together(&self, a: Plane, b: Plane) -> bool {
        let allows = |x: Plane, y: Plane| self.concurrency.get(&x).is_some_and(|w| w.contains(&y));
        allows(a, b) || allows(b, a)
    }
}

/// One input file and its content hash (`missing` when absent).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InputDigest {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanePlan {
    pub loop_id: String,
    /// In claim order of families.
    pub entries: Vec<EntryPlan>,
    /// The stage that runs when a closure target's lineage has drained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<String>,
    pub params: BTreeMap<String, u64>,
    pub budgets: BTreeMap<String, BudgetPlan>,
    /// Node names in the loop's source order.
    pub node_order: Vec<String>,
    pub nodes: BTreeMap<String, NodePlan>,
    pub finals: BTreeMap<String, FinalPlan>,
    /// The most stage runs one work item can take in this plane.
    pub max_stage_runs: u64,
    pub max_stage_runs_exact: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPlan {
    pub family: Family,
    /// The first node is the default; others may be chosen by the work item.
    pub nodes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetPlan {
    pub limit: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_failure_class: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePlan {
    pub stage_kind: String,
    /// The runner's name; `builtin` for a node the runtime runs itself.
    pub runner: String,
    /// Set when the runtime runs the node itself instead of a runner
    /// (`builtin merge_gate`); its entrypoint is empty and it has no skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<Builtin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    pub timeout_s: u64,
    pub entrypoint: String,
    pub skills: Vec<String>,
    pub running_marker: String,
    /// Legal outcomes in declaration order, with their result classes.
    pub outcomes: Vec<OutcomePlan>,
    pub routes: BTreeMap<String, RoutePlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<EffectPlan>,
    pub writes: Vec<String>,
    pub families: Vec<Family>,
    /// The node's execution capabilities: decision and who holds it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantPlan>,
}

impl NodePlan {
    pub fn outcome(&self, name: &str) -> Option<&OutcomePlan> {
        self.outcomes.iter().find(|o| o.name == name)
    }

    /// The grants that wait for an operator before the stage starts.
    pub fn gated(&self) -> impl Iterator<Item = &GrantPlan> {
        self.grants
            .iter()
            .filter(|g| g.decision == Decision::ApprovalRequired)
    }

    /// The capabilities the stage runs without.
    pub fn denied(&self) -> Vec<Capability> {
        let denied = self
            .grants
            .iter()
            .filter(|g| g.decision == Decision::Denied);
        denied.map(|g| g.capability).collect()
    }
}

/// One capability of one node, frozen: what was decided, at which level,
/// and who holds the decision with the node's runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantPlan {
    /// `grant-<node>-<capability>`: what an approval names.
    pub grant_id: String,
    pub capability: Capability,
    pub decision: Decision,
    pub enforcement: Enforcement,
    /// What one approval covers, for `approval_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_scope: Option<GateScope>,
    /// The stage asked for it (rather than a policy naming it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requested: bool,
    /// The level that decided: `default_policy`, `loop`, `node`, `mode`,
    /// `mode_stage`, `config`, `config_plane`, `config_stage`.
    pub resolved_by: String,
}

impl GrantPlan {
    /// `workspace.write=denied/runner_enforced`: the compact form of a
    /// stage result and `runs show`.
    pub fn summary(&self) -> String {
        format!("{}={}/{}", self.capability, self.decision, self.enforcement)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomePlan {
    pub name: String,
    pub classes: Vec<ResultClass>,
}

/// A node or a final of the same plane.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Node(String),
    Final(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Node(n) => f.write_str(n),
            Target::Final(n) => write!(f, "final:{n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutePlan {
    pub to: Target,
    /// Result metadata keys that may name the next node, tried in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub result_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    /// Taking this route spends one unit of this budget...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<String>,
    /// ...and when it is spent, this route is taken instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted: Option<Box<RoutePlan>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectPlan {
    pub id: String,
    pub on: Vec<String>,
    pub ports: BTreeMap<String, Target>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalPlan {
    pub class: ResultClass,
    /// The status marker written when an item ends here.
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emits: Vec<String>,
    /// A work item of this family is created in the plane that owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Family>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnRulePlan {
    pub source_plane: Plane,
    pub source: String,
    pub outcomes: Vec<String>,
    pub target: String,
    pub action: LearnAction,
}
