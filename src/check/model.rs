//! The checked model: names resolved, overlays flattened, every rule proven.
//!
//! Nothing after `check` sees the AST; spans are kept only where a later
//! analysis (termination) may still need to point at the source.

use std::collections::BTreeMap;

use crate::syntax::Span;

use serde::{Deserialize, Serialize};

pub use crate::vocab::capability::{Capability, GateScope, Policy};
pub use crate::vocab::{
    BLOCKED, BUILTIN_RUNNER, Builtin, Family, LearnAction, Plane, ResultClass, RunnerKind,
};

/// What one level says of a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyRule {
    pub policy: Policy,
    /// What an approval covers (meaningful for `gate` only).
    pub scope: GateScope,
}

/// The policies of one level (a loop, a node, a mode, a mode's stage block).
pub type Policies = BTreeMap<Capability, PolicyRule>;

/// A stage kind: its plane, legal outcomes and what it writes.
#[derive(Debug, Clone)]
pub struct StageKind {
    pub name: String,
    pub plane: Plane,
    /// Legal outcomes in declaration order (`BLOCKED` last unless declared).
    pub outcomes: Vec<OutcomeSpec>,
    pub writes: Vec<String>,
    pub families: Vec<Family>,
    /// Capabilities the stage asks for beyond every stage's defaults.
    pub requests: Vec<Capability>,
    /// `builtin merge_gate`: run by the runtime itself, never by a runner.
    pub builtin: Option<Builtin>,
    pub span: Span,
}

impl StageKind {
    pub fn outcome(&self, name: &str) -> Option<&OutcomeSpec> {
        self.outcomes.iter().find(|o| o.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct OutcomeSpec {
    pub name: String,
    pub classes: Vec<ResultClass>,
}

/// A loop after `extends` overlays are applied.
#[derive(Debug, Clone)]
pub struct Loop {
    pub name: String,
    pub plane: Plane,
    pub params: BTreeMap<String, Param>,
    pub budgets: BTreeMap<String, Budget>,
    pub entries: Vec<Entry>,
    pub drained: Option<String>,
    pub nodes: BTreeMap<String, Node>,
    /// Node names in source order (the order `compile show` prints them).
    pub node_order: Vec<String>,
    pub finals: BTreeMap<String, Final>,
    /// Capability policies for every node of the loop (its plane).
    pub grants: Policies,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub value: u64,
    pub span: Span,
}

/// A number or a reference to a loop parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    Fixed(u64),
    Param(String),
}

/// A counter with a limit, kept per work item (and per failure class with `per`).
#[derive(Debug, Clone)]
pub struct Budget {
    pub limit: Limit,
    /// `per failure_class`: one counter per class, with an optional overall cap.
    pub per_failure_class: bool,
    pub cap: Option<Limit>,
    pub span: Span,
}

/// `entry family -> node[, more]`: the first node is the default.
#[derive(Debug, Clone)]
pub struct Entry {
    pub family: Family,
    pub nodes: Vec<String>,
}

/// One node of a loop: a stage kind with routes, effects and default bindings.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: String,
    pub routes: BTreeMap<String, Route>,
    pub effects: Vec<Effect>,
    pub bindings: Bindings,
    /// Capability policies of this node (over the loop's).
    pub grants: Policies,
    pub span: Span,
}

/// Where a route goes: a node or a final.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dest {
    Node(String),
    Final(String),
}

impl Dest {
    pub fn name(&self) -> &str {
        match self {
            Dest::Node(n) | Dest::Final(n) => n,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    /// Result metadata keys that may name the next node, tried in order.
    pub result_keys: Vec<String>,
    pub to: Dest,
    /// Nodes a result key may not name.
    pub except: Vec<String>,
    pub budget: Option<(String, Box<Route>)>,
    /// True when the route came from a loop-wide `catch`.
    pub from_catch: bool,
    pub span: Span,
}

/// A runtime effect attached to a node: a handler id, the outcomes it runs on,
/// and where its named ports lead (`fault -> blocked`).
#[derive(Debug, Clone)]
pub struct Effect {
    pub id: String,
    pub on: Vec<String>,
    pub ports: BTreeMap<String, Dest>,
    /// Where each port is routed (`fault -> blocked`), for diagnostics.
    pub port_spans: BTreeMap<String, Span>,
    pub span: Span,
}

/// `final name: class ...`
#[derive(Debug, Clone)]
pub struct Final {
    pub class: ResultClass,
    pub status: String,
    pub emits: Vec<String>,
    pub handoff: Option<Family>,
    pub span: Span,
}

/// Runner bindings; `None` means "not set at this level".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bindings {
    pub runner: Option<String>,
    pub model: Option<String>,
    pub thinking: Option<String>,
    pub timeout_s: Option<u64>,
    pub entrypoint: Option<String>,
    pub skills: Vec<String>,
}

impl Bindings {
    /// Fields set in `over` win; skills accumulate.
    pub fn overlay(&mut self, over: &Bindings) {
        if over.runner.is_some() {
            self.runner.clone_from(&over.runner);
        }
        if over.model.is_some() {
            self.model.clone_from(&over.model);
        }
        if over.thinking.is_some() {
            self.thinking.clone_from(&over.thinking);
        }
        if over.timeout_s.is_some() {
            self.timeout_s = over.timeout_s;
        }
        if over.entrypoint.is_some() {
            self.entrypoint.clone_from(&over.entrypoint);
        }
        for skill in &over.skills {
            if !self.skills.contains(skill) {
                self.skills.push(skill.clone());
            }
        }
    }
}

/// A mode after `extends` is applied.
#[derive(Debug, Clone)]
pub struct Mode {
    pub name: String,
    pub loops: BTreeMap<Plane, String>,
    pub bindings: Bindings,
    pub stage_bindings: BTreeMap<String, Bindings>,
    /// Capability policies for every stage, then per stage (node name).
    pub grants: Policies,
    pub stage_grants: BTreeMap<String, Policies>,
    pub sets: BTreeMap<String, u64>,
    pub learn: Vec<LearnRule>,
    /// `concurrent learning with execution, planning`
    pub concurrency: BTreeMap<Plane, Vec<Plane>>,
    /// `lanes execution 4`: planes with more than one lane (one is the default).
    pub lanes: BTreeMap<Plane, u64>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnRule {
    pub source: String,
    pub outcomes: Vec<String>,
    pub target: String,
    pub action: LearnAction,
}

/// Every checked item of a compilation.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub stages: BTreeMap<String, StageKind>,
    pub loops: BTreeMap<String, Loop>,
    pub modes: BTreeMap<String, Mode>,
    pub aliases: BTreeMap<String, String>,
}

impl Program {
    /// A mode by name or alias.
    pub fn mode(&self, name: &str) -> Option<&Mode> {
        let name = self.aliases.get(name).map_or(name, String::as_str);
        self.modes.get(name)
    }
}
