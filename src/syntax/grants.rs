//! Capability requests and policies in the AST: `requests a.b` in a stage
//! kind, `allow`/`deny`/`gate` in a loop, a node or a mode.

use pest::iterators::Pair;

use super::ast::{GrantDecl, Name};
use super::builder::Builder;
use super::grammar::Rule;
use super::recovery::placeholder;

impl Builder<'_> {
    /// The capability names of a `requests` line or a policy, as written.
    pub(super) fn capabilities(&self, pair: Pair<'_, Rule>) -> Vec<Name> {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::capability_list)
            .flat_map(|list| list.into_inner())
            .filter(|p| p.as_rule() == Rule::capability)
            .map(|p| self.name(p))
            .collect()
    }

    pub(super) fn grant(&self, pair: Pair<'_, Rule>) -> GrantDecl {
        let span = self.span(&pair);
        let mut verb = None;
        let mut scope = None;
        for inner in pair.clone().into_inner() {
            match inner.as_rule() {
                Rule::kw_allow | Rule::kw_deny | Rule::kw_gate => verb = Some(self.name(inner)),
                Rule::gate_scope => scope = self.first_word(inner),
                _ => {}
            }
        }
        GrantDecl {
            verb: verb.unwrap_or_else(|| placeholder(span)),
            capabilities: self.capabilities(pair),
            scope,
            span,
        }
    }
}
