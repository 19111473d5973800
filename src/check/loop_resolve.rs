//! Resolving one loop: its flattened statements become the checked
//! [`Loop`], each name resolved (stage kinds, nodes, finals, budgets,
//! params, effects, families) and each outcome checked as legal for its
//! node, with a diagnostic for every name that does not resolve. Once the
//! names resolve, the rules over the whole loop's routing follow in
//! [`routing_rules`](super::routing_rules). Termination is proven later, on
//! the lowered graph.

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Diagnostics, Kind};
use super::effects::{EFFECTS, effect};
use super::flatten::{FlatLoop, FlatNode};
use super::model::*;
use super::stages::{duplicate, parse_class, parse_family, parse_plane, relabel, unknown};
use crate::syntax::{self, Binding, BindingKind, LoopDef, LoopStmt, Name, Span};

/// Duplicates inside one definition (overlays may redefine, a block may not).
/// Nodes and finals share one namespace; the rest have their own.
pub fn report_local_duplicates(def: &LoopDef, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<(&str, &str), (&'static str, Span)> = BTreeMap::new();
    for stmt in &def.stmts {
        let (space, what, name) = match stmt {
            LoopStmt::Param(p) => ("param", "param", &p.name),
            LoopStmt::Budget(b) => ("budget", "budget", &b.name),
            LoopStmt::Entry(e) => ("entry", "entry for family", &e.family),
            LoopStmt::Final(f) => ("name", "final", &f.name),
            LoopStmt::Node(n) => {
                report_duplicate_routes(n, diags);
                ("name", "node", &n.name)
            }
            _ => continue,
        };
        match seen.get(&(space, name.text.as_str())) {
            None => {
                seen.insert((space, &name.text), (what, name.span));
            }
            Some(&(first_what, first)) => {
                let (what, note) = if first_what == what {
                    (what, "first defined here".to_string())
                } else {
                    ("name", format!("first defined here as a {first_what}"))
                };
                diags.push(duplicate(what, name).with_note(first, note));
            }
        }
    }
}

fn report_duplicate_routes(node: &syntax::NodeDef, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for outcome in node.routes.iter().flat_map(|r| &r.outcomes) {
        match seen.get(outcome.text.as_str()) {
            None => {
                seen.insert(&outcome.text, outcome.span);
            }
            Some(&first) => diags.push(
                duplicate("route for outcome", outcome).with_note(first, "first routed here"),
            ),
        }
    }
}

struct LoopChecker<'a> {
    name: &'a str,
    plane: Plane,
    flat: &'a FlatLoop,
    stages: &'a BTreeMap<String, StageKind>,
    diags: &'a mut Diagnostics,
}

pub fn check_loop(
    def: &LoopDef,
    flat: &FlatLoop,
    stages: &BTreeMap<String, StageKind>,
    diags: &mut Diagnostics,
) -> Option<Loop> {
    let plane = loop_plane(&def.name, diags)?;
    let mut checker = LoopChecker {
        name: &def.name.text,
        plane,
        flat,
        stages,
        diags,
    };
    let before = checker.diags.errors().count();
    let params = checker.params();
    let budgets = checker.budgets(&params);
    let finals = checker.finals();
    let mut nodes = BTreeMap::new();
    let mut node_order = Vec::new();
    for flat_node in &flat.nodes {
        if let Some(node) = checker.node(flat_node) {
            node_order.push(node.name.clone());
            nodes.insert(node.name.clone(), node);
        }
    }
    checker.apply_catches(&mut nodes);
    let entries = checker.entries(&nodes, def.name.span);
    let drained = checker.drained(&nodes);
    let checked = Loop {
        name: def.name.text.clone(),
        plane,
        params,
        budgets,
        entries,
        drained,
        nodes,
        node_order,
        finals,
        grants: super::grants::chain(&flat.grants, checker.diags),
        span: def.name.span,
    };
    if checker.diags.errors().count() == before {
        super::routing_rules::check(&checked, stages, flat.recovered, checker.diags);
    }
    Some(checked)
}

fn loop_plane(name: &Name, diags: &mut Diagnostics) -> Option<Plane> {
    let first = name.text.split('.').next().unwrap_or_default();
    let span = Span {
        end: name.span.start + first.len() as u32,
        ..name.span
    };
    parse_plane(
        &Name {
            text: first.to_string(),
            span,
        },
        diags,
    )
}

impl LoopChecker<'_> {
    fn params(&mut self) -> BTreeMap<String, Param> {
        let params = self.flat.params.values();
        params
            .map(|p| {
                (
                    p.name.text.clone(),
                    Param {
                        value: p.value.value,
                        span: p.name.span,
                    },
                )
            })
            .collect()
    }

    fn limit(&mut self, value: &syntax::Value, params: &BTreeMap<String, Param>) -> Limit {
        match value {
            syntax::Value::Int(v) => Limit::Fixed(v.value),
            syntax::Value::Param(name) => {
                if !params.contains_key(&name.text) && !self.flat.broken.contains(&name.text) {
                    let known: Vec<&str> = params.keys().map(String::as_str).collect();
                    self.diags.push(unknown("param", name, &known));
                }
                Limit::Param(name.text.clone())
            }
        }
    }

    fn budgets(&mut self, params: &BTreeMap<String, Param>) -> BTreeMap<String, Budget> {
        let mut budgets = BTreeMap::new();
        for decl in self.flat.budgets.values() {
            let limit = self.limit(&decl.limit, params);
            let mut budget = Budget {
                limit,
                per_failure_class: false,
                cap: None,
                span: decl.name.span,
            };
            if let Some(per) = &decl.per {
                if per.key.text == "failure_class" {
                    budget.per_failure_class = true;
                } else {
                    let d = unknown("budget key", &per.key, &["failure_class"]);
                    self.diags
                        .push(relabel(d, "budgets are kept `per failure_class` only"));
                }
                budget.cap = per.cap.as_ref().map(|cap| self.limit(cap, params));
            }
            budgets.insert(decl.name.text.clone(), budget);
        }
        budgets
    }

    fn finals(&mut self) -> BTreeMap<String, Final> {
        let mut finals = BTreeMap::new();
        for decl in self.flat.finals.values() {
            let node = self
                .flat
                .nodes
                .iter()
                .find(|n| n.name.text == decl.name.text);
            if let Some(node) = node {
                let d = duplicate("name", &decl.name);
                self.diags
                    .push(d.with_note(node.name.span, "first defined here as a node"));
                continue;
            }
            let Some(class) = parse_class(&decl.class, self.diags) else {
                continue;
            };
            let handoff = decl
                .handoff
                .as_ref()
                .and_then(|f| parse_family(f, self.diags));
            let status = decl
                .status
                .as_ref()
                .map_or_else(|| decl.name.text.to_uppercase(), |s| s.text.clone());
            let emits = decl.emits.iter().map(|e| e.text.clone()).collect();
            finals.insert(
                decl.name.text.clone(),
                Final {
                    class,
                    status,
                    emits,
                    handoff,
                    span: decl.name.span,
                },
            );
        }
        finals
    }

    fn node(&mut self, flat: &FlatNode) -> Option<Node> {
        let kind_name = flat.kind.as_ref().unwrap_or(&flat.name);
        let Some(stage) = self.stages.get(&kind_name.text) else {
            let known: Vec<&str> = self.stages.keys().map(String::as_str).collect();
            self.diags.push(unknown("stage", kind_name, &known));
            return None;
        };
        if stage.plane != self.plane {
            let kind = Kind::PlaneMismatch {
                what: format!("stage `{}`", stage.name),
                expected: self.plane.to_string(),
                found: stage.plane.to_string(),
            };
            self.diags.push(Diagnostic::new(
                kind,
                kind_name.span,
                "used in a loop of another plane",
            ));
        }
        let mut routes = BTreeMap::new();
        for decl in &flat.routes {
            let Some(route) = self.route(&decl.route, false) else {
                continue;
            };
            for outcome in &decl.outcomes {
                if self.legal(stage, outcome) {
                    routes.insert(outcome.text.clone(), route.clone());
                }
            }
        }
        let effects = flat
            .effects
            .iter()
            .filter_map(|e| self.effect(stage, e))
            .collect();
        if let Some(builtin) = stage.builtin {
            refuse_builtin_bindings(&flat.name.text, builtin, &flat.bindings, self.diags);
        }
        let bindings = self.bindings(&flat.bindings);
        let name = flat.name.text.clone();
        Some(Node {
            name,
            kind: stage.name.clone(),
            routes,
            effects,
            bindings,
            grants: super::grants::chain(&flat.grants, self.diags),
            span: flat.name.span,
        })
    }

    fn legal(&mut self, stage: &StageKind, outcome: &Name) -> bool {
        if stage.outcome(&outcome.text).is_some() {
            return true;
        }
        let legal: Vec<String> = stage.outcomes.iter().map(|o| o.name.clone()).collect();
        let suggestion = super::closest(&outcome.text, legal.iter().map(String::as_str));
        let kind = Kind::IllegalOutcome {
            outcome: outcome.text.clone(),
            stage: stage.name.clone(),
            legal,
        };
        let label = match suggestion {
            Some(s) => format!("not legal here; did you mean `{s}`?"),
            None => "not legal for this stage".to_string(),
        };
        self.diags.push(Diagnostic::new(kind, outcome.span, label));
        false
    }

    fn dest(&mut self, name: &Name) -> Option<Dest> {
        if self.flat.has_node(&name.text) {
            return Some(Dest::Node(name.text.clone()));
        }
        if self.flat.finals.contains_key(&name.text) {
            return Some(Dest::Final(name.text.clone()));
        }
        let mut known: Vec<&str> = self
            .flat
            .nodes
            .iter()
            .map(|n| n.name.text.as_str())
            .collect();
        known.extend(self.flat.finals.keys().map(String::as_str));
        if !self.flat.broken.contains(&name.text) {
            self.diags.push(unknown("target", name, &known));
        }
        None
    }

    fn route(&mut self, route: &syntax::Route, from_catch: bool) -> Option<Route> {
        let to = self.dest(&route.target.to);
        let except = self.except(&route.target);
        let budget = match &route.budget {
            None => None,
            Some(clause) => {
                let exhausted = self.route(&clause.exhausted, from_catch);
                let budget = &clause.budget.text;
                if !self.flat.budgets.contains_key(budget) && !self.flat.broken.contains(budget) {
                    let known: Vec<&str> = self.flat.budgets.keys().map(String::as_str).collect();
                    self.diags.push(unknown("budget", &clause.budget, &known));
                }
                Some((clause.budget.text.clone(), Box::new(exhausted?)))
            }
        };
        let result_keys = route
            .target
            .result_keys
            .iter()
            .map(|k| k.text.clone())
            .collect();
        Some(Route {
            result_keys,
            to: to?,
            except,
            budget,
            from_catch,
            span: route.span,
        })
    }

    fn except(&mut self, target: &syntax::Target) -> Vec<String> {
        let mut except = Vec::new();
        for name in &target.except {
            if name.text == target.to.text {
                let kind = Kind::ExceptExcludesDefault {
                    node: name.text.clone(),
                };
                self.diags.push(Diagnostic::new(
                    kind,
                    name.span,
                    "the default cannot be excluded",
                ));
            } else if self.dest(name).is_some() {
                except.push(name.text.clone());
            }
        }
        except
    }

    fn effect(&mut self, stage: &StageKind, decl: &syntax::EffectDecl) -> Option<Effect> {
        let Some(spec) = effect(&decl.id.text) else {
            let known: Vec<&str> = EFFECTS.iter().map(|e| e.id).collect();
            self.diags.push(unknown("effect", &decl.id, &known));
            return None;
        };
        let on = decl
            .on
            .iter()
            .filter(|o| self.legal(stage, o))
            .map(|o| o.text.clone())
            .collect();
        let (mut ports, mut port_spans) = (BTreeMap::new(), BTreeMap::new());
        for (port, target) in &decl.ports {
            if !spec.ports.contains(&port.text.as_str()) {
                self.diags.push(unknown("effect port", port, spec.ports));
            } else if let Some(dest) = self.dest(target) {
                ports.insert(port.text.clone(), dest);
                port_spans.insert(port.text.clone(), port.span.to(target.span));
            }
        }
        Some(Effect {
            id: spec.id.to_string(),
            on,
            ports,
            port_spans,
            span: decl.id.span,
        })
    }

    fn bindings(&mut self, list: &[Binding]) -> Bindings {
        bindings(list, self.diags)
    }

    /// A loop-wide `catch` routes its outcomes for every node that does not.
    fn apply_catches(&mut self, nodes: &mut BTreeMap<String, Node>) {
        for catch in &self.flat.catches {
            let Some(route) = self.route(&catch.route, true) else {
                continue;
            };
            for outcome in &catch.outcomes {
                let mut used = false;
                for node in nodes.values_mut() {
                    let legal = self
                        .stages
                        .get(&node.kind)
                        .is_some_and(|s| s.outcome(&outcome.text).is_some());
                    if legal && !node.routes.contains_key(&outcome.text) {
                        node.routes.insert(outcome.text.clone(), route.clone());
                        used = true;
                    }
                }
                if !used && !self.flat.recovered {
                    let kind = Kind::UnusedCatch {
                        outcome: outcome.text.clone(),
                    };
                    self.diags.push(Diagnostic::new(
                        kind,
                        outcome.span,
                        "every node routes it itself",
                    ));
                }
            }
        }
    }

    fn entries(&mut self, nodes: &BTreeMap<String, Node>, loop_span: Span) -> Vec<Entry> {
        let mut entries = Vec::new();
        for decl in &self.flat.entries {
            let Some(family) = parse_family(&decl.family, self.diags) else {
                continue;
            };
            let mut names = Vec::new();
            for node_name in &decl.nodes {
                let text = &node_name.text;
                if self.flat.nodes.iter().any(|n| n.name.text == *text) {
                    self.accepts(nodes.get(text), family, node_name);
                    names.push(text.clone());
                } else if self.flat.finals.contains_key(text) {
                    self.diags.push(not_a_node(node_name, "an entry"));
                } else if !self.flat.broken.contains(text) {
                    let known: Vec<&str> = self
                        .flat
                        .nodes
                        .iter()
                        .map(|n| n.name.text.as_str())
                        .collect();
                    self.diags.push(unknown("node", node_name, &known));
                }
            }
            if !names.is_empty() {
                entries.push(Entry {
                    family,
                    nodes: names,
                });
            }
        }
        if self.flat.entries.is_empty() && !self.flat.recovered {
            let kind = Kind::MissingEntry {
                name: self.name.to_string(),
            };
            self.diags.push(Diagnostic::new(
                kind,
                loop_span,
                "no work can enter this loop",
            ));
        }
        entries
    }

    fn accepts(&mut self, node: Option<&Node>, family: Family, at: &Name) {
        let Some(node) = node else { return };
        let Some(stage) = self.stages.get(&node.kind) else {
            return;
        };
        if !stage.families.is_empty() && !stage.families.contains(&family) {
            let kind = Kind::FamilyNotAccepted {
                family: family.to_string(),
                node: node.name.clone(),
                stage: stage.name.clone(),
            };
            let accepted: Vec<&str> = stage.families.iter().map(|f| f.as_str()).collect();
            let label = format!("accepts only {}", accepted.join(", "));
            self.diags.push(Diagnostic::new(kind, at.span, label));
        }
    }

    fn drained(&mut self, nodes: &BTreeMap<String, Node>) -> Option<String> {
        let decl = self.flat.drained.as_ref()?;
        if nodes.contains_key(&decl.node.text) {
            return Some(decl.node.text.clone());
        }
        if self.flat.finals.contains_key(&decl.node.text) {
            self.diags.push(not_a_node(&decl.node, "`on drained`"));
            return None;
        }
        let defined = self
            .flat
            .nodes
            .iter()
            .any(|n| n.name.text == decl.node.text);
        if defined || self.flat.broken.contains(&decl.node.text) {
            return None;
        }
        let known: Vec<&str> = nodes.keys().map(String::as_str).collect();
        self.diags.push(unknown("node", &decl.node, &known));
        None
    }
}

fn not_a_node(name: &Name, place: &'static str) -> Diagnostic {
    let kind = Kind::NotANode {
        name: name.text.clone(),
        place,
    };
    Diagnostic::new(kind, name.span, "a final, not a node")
}

/// A builtin node has no runner: a binding that names what a runner would
/// use (all but `timeout`) given to that node explicitly is an error.
pub fn refuse_builtin_bindings(
    node: &str,
    builtin: Builtin,
    list: &[Binding],
    diags: &mut Diagnostics,
) {
    for binding in list {
        if matches!(binding.kind, BindingKind::Timeout(_)) {
            continue;
        }
        let kind = Kind::BuiltinBinding {
            node: node.to_string(),
            builtin: builtin.to_string(),
            binding: binding.kind.keyword(),
        };
        diags.push(Diagnostic::new(
            kind,
            binding.span,
            "no runner runs this node",
        ));
    }
}

/// Bindings as written, checked (known runner, positive timeout).
pub fn bindings(list: &[Binding], diags: &mut Diagnostics) -> Bindings {
    let mut out = Bindings::default();
    for binding in list {
        match &binding.kind {
            BindingKind::Runner(name) => {
                if RunnerKind::parse(&name.text).is_some() {
                    out.runner = Some(name.text.clone());
                } else {
                    diags.push(unknown("runner", name, &RunnerKind::NAMES));
                }
            }
            BindingKind::Model(m) => out.model = Some(m.value.clone()),
            BindingKind::Thinking(t) => out.thinking = Some(t.value.clone()),
            BindingKind::Timeout(t) if t.value == 0 => {
                let kind = Kind::InvalidValue {
                    what: "timeout",
                    reason: "it must be at least 1 second".into(),
                };
                diags.push(Diagnostic::new(kind, t.span, "zero seconds"));
            }
            BindingKind::Timeout(t) => out.timeout_s = Some(t.value),
            BindingKind::Entrypoint(e) => out.entrypoint = Some(e.value.clone()),
            BindingKind::Skill(s) => out.skills.push(s.value.clone()),
        }
    }
    out
}
