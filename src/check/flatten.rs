//! `extends` overlays: a child item is its parent's statements with its own
//! applied on top (same name replaces, `drop` removes, node blocks merge).

use std::collections::{BTreeMap, BTreeSet};

use crate::syntax::{
    Binding, BudgetDecl, CatchDecl, DrainedDecl, EffectDecl, EntryDecl, FinalDecl, GrantDecl,
    LoopDef, LoopStmt, Name, NodeDef, ParamDecl, RouteDecl,
};

/// A loop's statements after overlays, still as written (with spans).
#[derive(Debug, Clone, Default)]
pub struct FlatLoop {
    pub params: BTreeMap<String, ParamDecl>,
    pub budgets: BTreeMap<String, BudgetDecl>,
    pub entries: Vec<EntryDecl>,
    pub drained: Option<DrainedDecl>,
    pub catches: Vec<CatchDecl>,
    pub finals: BTreeMap<String, FinalDecl>,
    pub nodes: Vec<FlatNode>,
    /// Capability policies, one block per definition of the chain, root first.
    pub grants: Vec<Vec<GrantDecl>>,
    /// Node name -> position in `nodes`, so lookups stay O(log n).
    index: BTreeMap<String, usize>,
    /// True when a statement anywhere in the chain did not parse.
    pub recovered: bool,
    /// Names declared by statements that did not parse.
    pub broken: BTreeSet<String>,
}

/// A node block after overlays: later routes for an outcome replace earlier ones.
#[derive(Debug, Clone)]
pub struct FlatNode {
    pub name: Name,
    pub kind: Option<Name>,
    pub routes: Vec<RouteDecl>,
    pub effects: Vec<EffectDecl>,
    pub bindings: Vec<Binding>,
    /// Capability policies, one block per definition of the chain, root first.
    pub grants: Vec<Vec<GrantDecl>>,
}

impl FlatLoop {
    /// Applies one loop definition's statements on top of what is here.
    ///
    /// Within one definition the first of two same-named statements wins
    /// (the second is reported as a duplicate), so a duplicate does not also
    /// change what the loop means.
    pub fn apply(&mut self, def: &LoopDef) {
        self.recovered |= def.recovered;
        self.broken
            .extend(def.broken.iter().map(|n| n.text.clone()));
        let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        let grants = def.stmts.iter().filter_map(|s| match s {
            LoopStmt::Grant(g) => Some(g.clone()),
            _ => None,
        });
        self.grants.push(grants.collect());
        for stmt in &def.stmts {
            let key = match stmt {
                LoopStmt::Param(p) => Some(("param", p.name.text.as_str())),
                LoopStmt::Budget(b) => Some(("budget", b.name.text.as_str())),
                LoopStmt::Entry(e) => Some(("entry", e.family.text.as_str())),
                LoopStmt::Final(f) => Some(("name", f.name.text.as_str())),
                LoopStmt::Node(n) => Some(("name", n.name.text.as_str())),
                _ => None,
            };
            if key.is_none_or(|key| seen.insert(key)) {
                self.apply_stmt(stmt);
            }
        }
    }

    fn apply_stmt(&mut self, stmt: &LoopStmt) {
        match stmt {
            LoopStmt::Param(p) => {
                self.params.insert(p.name.text.clone(), p.clone());
            }
            LoopStmt::Budget(b) => {
                self.budgets.insert(b.name.text.clone(), b.clone());
            }
            LoopStmt::Entry(e) => {
                self.entries.retain(|old| old.family.text != e.family.text);
                self.entries.push(e.clone());
            }
            LoopStmt::Drained(d) => self.drained = Some(d.clone()),
            LoopStmt::Catch(c) => self.apply_catch(c),
            LoopStmt::Final(f) => {
                self.finals.insert(f.name.text.clone(), f.clone());
            }
            LoopStmt::Drop(d) => d.names.iter().for_each(|n| self.drop(&n.text)),
            LoopStmt::Node(n) => self.apply_node(n),
            LoopStmt::Grant(_) => {}
        }
    }

    fn apply_catch(&mut self, catch: &CatchDecl) {
        for outcome in &catch.outcomes {
            for old in &mut self.catches {
                old.outcomes.retain(|o| o.text != outcome.text);
            }
        }
        self.catches.retain(|c| !c.outcomes.is_empty());
        self.catches.push(catch.clone());
    }

    fn drop(&mut self, name: &str) {
        self.nodes.retain(|n| n.name.text != name);
        self.index = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.text.clone(), i))
            .collect();
        self.finals.remove(name);
        self.budgets.remove(name);
        self.params.remove(name);
    }

    /// True when `drop` could remove `name`.
    pub fn defines(&self, name: &str) -> bool {
        self.has_node(name)
            || self.finals.contains_key(name)
            || self.budgets.contains_key(name)
            || self.params.contains_key(name)
    }

    /// True when a node of this name exists.
    pub fn has_node(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn apply_node(&mut self, def: &NodeDef) {
        let Some(node) = self
            .index
            .get(&def.name.text)
            .and_then(|&i| self.nodes.get_mut(i))
        else {
            self.index.insert(def.name.text.clone(), self.nodes.len());
            self.nodes.push(FlatNode {
                name: def.name.clone(),
                kind: def.kind.clone(),
                routes: first_routes(&def.routes),
                effects: def.effects.clone(),
                bindings: def.bindings.clone(),
                grants: vec![def.grants.clone()],
            });
            return;
        };
        node.merge(def);
    }
}

impl FlatNode {
    fn merge(&mut self, def: &NodeDef) {
        if def.kind.is_some() {
            self.kind.clone_from(&def.kind);
        }
        for route in &first_routes(&def.routes) {
            for outcome in &route.outcomes {
                for old in &mut self.routes {
                    old.outcomes.retain(|o| o.text != outcome.text);
                }
            }
            self.routes.retain(|r| !r.outcomes.is_empty());
            self.routes.push(route.clone());
        }
        for effect in &def.effects {
            self.effects.retain(|e| e.id.text != effect.id.text);
            self.effects.push(effect.clone());
        }
        self.bindings.extend(def.bindings.iter().cloned());
        self.grants.push(def.grants.clone());
    }
}

/// The routes of one block with a repeated outcome kept only where it is
/// first routed.
fn first_routes(routes: &[RouteDecl]) -> Vec<RouteDecl> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for route in routes {
        let mut route = route.clone();
        route.outcomes.retain(|o| seen.insert(o.text.clone()));
        if !route.outcomes.is_empty() {
            out.push(route);
        }
    }
    out
}
