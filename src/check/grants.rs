//! Capability requests and policies: names resolved (ids or aliases, with
//! "did you mean"), verbs read, and two different policies for one
//! capability in one block refused as a contradiction.

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Diagnostics, Kind};
use super::stages::unknown;
use crate::syntax::{GrantDecl, Name, Span};
use crate::vocab::Plane;
use crate::vocab::capability::{Capability, Decision, GateScope, Policy};

pub use super::model::{Policies, PolicyRule};

/// Applies `over` on top of `base`: the later level wins per capability.
pub fn overlay(base: &mut Policies, over: &Policies) {
    base.extend(over.iter().map(|(c, r)| (*c, *r)));
}

/// Every capability id and alias, for suggestions.
fn known_names() -> Vec<String> {
    Capability::ALL
        .iter()
        .flat_map(|c| [c.as_str().to_string(), c.as_str().replace('.', "_")])
        .collect()
}

/// A capability by its written name, or a diagnostic with a suggestion.
pub fn capability(name: &Name, diags: &mut Diagnostics) -> Option<Capability> {
    let found = Capability::parse(&name.text);
    if found.is_none() {
        let known = known_names();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        diags.push(unknown("capability", name, &known));
    }
    found
}

/// The capabilities a stage kind's `requests` lines name.
pub fn requests(names: &[Name], diags: &mut Diagnostics) -> Vec<Capability> {
    let mut out: Vec<Capability> = Vec::new();
    for capability in names.iter().filter_map(|n| capability(n, diags)) {
        if !out.contains(&capability) {
            out.push(capability);
        }
    }
    out
}

/// The policies of one block; a capability given two different policies
/// in the block is a contradiction, reported where it is said again.
pub fn policies(decls: &[GrantDecl], diags: &mut Diagnostics) -> Policies {
    let mut out = Policies::new();
    let mut said: BTreeMap<Capability, (Policy, Span)> = BTreeMap::new();
    for decl in decls {
        let Some(rule) = rule(decl, diags) else {
            continue;
        };
        for name in &decl.capabilities {
            let Some(capability) = capability(name, diags) else {
                continue;
            };
            if let Some((first, span)) = said.get(&capability) {
                if *first != rule.policy {
                    diags.push(contradiction(capability, *first, rule.policy, name, *span));
                }
                continue;
            }
            said.insert(capability, (rule.policy, name.span));
            out.insert(capability, rule);
        }
    }
    out
}

fn rule(decl: &GrantDecl, diags: &mut Diagnostics) -> Option<PolicyRule> {
    let policy = match decl.verb.text.as_str() {
        "allow" => Policy::Allow,
        "deny" => Policy::Deny,
        "gate" => Policy::ApprovalRequired,
        _ => return None,
    };
    let scope = match &decl.scope {
        None => GateScope::Stage,
        Some(name) => match GateScope::parse(&name.text) {
            Some(scope) => scope,
            None => {
                diags.push(unknown("gate scope", name, &GateScope::NAMES));
                return None;
            }
        },
    };
    Some(PolicyRule { policy, scope })
}

/// The `.loop` word of a policy.
pub fn verb(policy: Policy) -> &'static str {
    match policy {
        Policy::Allow => "allow",
        Policy::Deny => "deny",
        Policy::ApprovalRequired => "gate",
    }
}

fn contradiction(
    capability: Capability,
    first: Policy,
    second: Policy,
    name: &Name,
    first_span: Span,
) -> Diagnostic {
    let kind = Kind::CapabilityContradiction {
        capability: capability.to_string(),
        first: verb(first),
        second: verb(second),
    };
    Diagnostic::new(kind, name.span, format!("`{}` here", verb(second)))
        .with_note(first_span, format!("`{}` here", verb(first)))
}

/// The policies of an `extends` chain of blocks, root first: each block is
/// checked on its own, and a later block overrides an earlier one.
pub fn chain(blocks: &[Vec<GrantDecl>], diags: &mut Diagnostics) -> Policies {
    let mut out = Policies::new();
    for block in blocks {
        overlay(&mut out, &policies(block, diags));
    }
    out
}

/// `[execution_capabilities]` of `millrace.toml`, as the compiler needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityOverrides {
    /// `enabled = false`: no grants at all (every stage as without the section).
    pub enabled: bool,
    /// `[execution_capabilities.defaults]`: every stage.
    pub defaults: Policies,
    /// `[execution_capabilities.planes.<plane>]`.
    pub planes: BTreeMap<Plane, Policies>,
    /// `[execution_capabilities.stages.<node>]`.
    pub stages: BTreeMap<String, Policies>,
    /// `fail_required_advisory`: a denial the runner cannot hold is an error.
    pub require_held_denials: bool,
}

impl CapabilityOverrides {
    /// No section: capabilities on, no operator policies.
    pub const NONE: CapabilityOverrides = CapabilityOverrides {
        enabled: true,
        defaults: Policies::new(),
        planes: BTreeMap::new(),
        stages: BTreeMap::new(),
        require_held_denials: false,
    };
}

impl Default for CapabilityOverrides {
    fn default() -> CapabilityOverrides {
        CapabilityOverrides::NONE
    }
}

/// One capability's resolved decision for a node, and the level that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGrant {
    pub capability: Capability,
    pub decision: Decision,
    /// What an approval covers, for `approval_required`.
    pub scope: Option<GateScope>,
    /// The stage asked for it (every stage asks for the defaults).
    pub requested: bool,
    /// `default_policy`, `loop`, `node`, `mode`, `mode_stage`,
    /// `config`, `config_plane` or `config_stage`.
    pub resolved_by: &'static str,
}

/// The reference's default decisions for capabilities a stage requests.
const BUILT_IN: [(Capability, Policy); 5] = [
    (Capability::NetworkAccess, Policy::Deny),
    (Capability::PackageInstall, Policy::ApprovalRequired),
    (Capability::GitMutate, Policy::ApprovalRequired),
    (Capability::ShellRun, Policy::Allow),
    (Capability::WorkspaceWrite, Policy::Allow),
];

/// Every level that may decide for one node, widest first.
pub struct PolicyLevels<'a> {
    pub requests: &'a [Capability],
    pub levels: Vec<(&'static str, Option<&'a Policies>)>,
}

/// The grants of one node: each requested or named capability, decided by
/// the last level that names it (loop < node < mode < mode stage block <
/// config < config plane < config stage); requested capabilities no level
/// names take the reference's defaults.
pub fn resolve(levels: &PolicyLevels<'_>) -> Vec<ResolvedGrant> {
    let mut named: Vec<Capability> = Capability::DEFAULT_REQUESTS.to_vec();
    named.extend(levels.requests);
    for (_, policies) in &levels.levels {
        named.extend(policies.iter().flat_map(|p| p.keys()));
    }
    named.sort();
    named.dedup();
    named.into_iter().map(|c| decide(c, levels)).collect()
}

fn decide(capability: Capability, levels: &PolicyLevels<'_>) -> ResolvedGrant {
    let built_in = BUILT_IN.iter().find(|(c, _)| *c == capability);
    let mut rule = PolicyRule {
        policy: built_in.map_or(Policy::Allow, |(_, p)| *p),
        scope: GateScope::Stage,
    };
    let mut resolved_by = "default_policy";
    for (level, policies) in &levels.levels {
        if let Some(found) = policies.and_then(|p| p.get(&capability)) {
            rule = *found;
            resolved_by = level;
        }
    }
    let decision = rule.policy.decision();
    ResolvedGrant {
        capability,
        decision,
        scope: (decision == Decision::ApprovalRequired).then_some(rule.scope),
        requested: Capability::DEFAULT_REQUESTS.contains(&capability)
            || levels.requests.contains(&capability),
        resolved_by,
    }
}
