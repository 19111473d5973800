//! The shipped loops and modes: every mode compiles, its plan is pinned by a
//! snapshot, and its routing equals the reference system's facts except for
//! the differences documented in `docs/reference-differences.md`.

use std::collections::BTreeSet;

use millrace::plan::{
    self, CompileOptions, Plan, PlanePlan, RoutePlan, Target, shipped_reader, shipped_sources,
};
use millrace::syntax::SourceMap;

pub const SHIPPED_MODES: &[&str] = &[
    "default_codex",
    "default_pi",
    "default_codex_integrated",
    "blueprint_codex",
    "learning_codex",
    "learning_pi",
    "learning_codex_integrated",
    "blueprint_learning_codex",
    "default_codex_lanes",
    "demo",
];

pub fn compile_shipped(mode: &str) -> Plan {
    compile_sources(shipped_sources(), mode).0
}

/// Compiles `mode` from `sources` (with the shipped prompts and skills),
/// denying warnings; the plan and the sources it was compiled from.
pub fn compile_sources(sources: SourceMap, mode: &str) -> (Plan, SourceMap) {
    let options = CompileOptions {
        deny_warnings: true,
        ..CompileOptions::for_mode(mode)
    };
    let compilation = plan::compile(sources, options, &shipped_reader);
    let rendered = millrace::check::render(
        &compilation.sources,
        &compilation.diagnostics.sorted(),
        false,
    );
    match compilation.outcome {
        Ok((_, plan)) => (plan, compilation.sources),
        Err(_) => panic!("mode {mode} does not compile:\n{rendered}"),
    }
}

#[test]
fn every_shipped_mode_compiles_without_warnings() {
    for mode in SHIPPED_MODES {
        let plan = compile_shipped(mode);
        assert!(
            plan.planes.values().all(|p| p.max_stage_runs > 0),
            "{mode} has a plane with no bound"
        );
    }
    assert_eq!(compile_shipped("standard_plain").mode_id, "default_codex");
}

#[test]
fn plans_of_shipped_modes() {
    for mode in SHIPPED_MODES {
        let mut plan = compile_shipped(mode);
        // Inputs hash prompt texts; the routing structure is what is pinned here.
        plan.inputs.clear();
        plan.fingerprint.clear();
        insta::assert_json_snapshot!(format!("plan_{mode}"), plan);
    }
}

fn target(t: &Target) -> String {
    match t {
        Target::Node(n) => n.clone(),
        Target::Final(f) => format!("final:{f}"),
    }
}

/// The reference names its counters differently.
fn reference_budget_name(ours: &str) -> String {
    match ours {
        "fix_cycles" => "fix_cycle_count".into(),
        "troubleshoot_attempts" => "troubleshoot_attempt_count".into(),
        "mechanic_attempts" => "mechanic_attempt_count".into(),
        other => other.into(),
    }
}

fn route_facts(
    loop_id: &str,
    p: &PlanePlan,
    node: &str,
    outcome: &str,
    route: &RoutePlan,
    facts: &mut BTreeSet<String>,
) {
    facts.insert(format!(
        "{loop_id}\troute\t{node}\t{outcome}\t{}",
        target(&route.to)
    ));
    if !route.result_keys.is_empty() {
        facts.insert(format!(
            "{loop_id}\tresume\t{node}\t{outcome}\t{}\tkeys={}\texcept={}",
            target(&route.to),
            route.result_keys.join(","),
            route.except.join(",")
        ));
    }
    let mut step = route;
    while let (Some(budget), Some(exhausted)) = (&step.budget, &step.exhausted) {
        let limit = p.budgets.get(budget).map_or(0, |b| b.limit);
        let name = reference_budget_name(budget);
        facts.insert(format!(
            "{loop_id}\tbudget\t{node}\t{outcome}\t{name}\t{limit}\t{}",
            target(&exhausted.to)
        ));
        step = exhausted;
    }
}

/// Routing facts of a plane, in the reference's `routing-facts.tsv` shape.
pub fn plane_facts(p: &PlanePlan) -> BTreeSet<String> {
    let id = &p.loop_id;
    let mut facts = BTreeSet::new();
    for entry in &p.entries {
        for node in &entry.nodes {
            facts.insert(format!("{id}\tentry\t{}\t{node}", entry.family));
        }
    }
    if let Some(node) = &p.completion {
        facts.insert(format!("{id}\ton_drained\t{node}"));
    }
    for (name, fin) in &p.finals {
        facts.insert(format!(
            "{id}\tfinal\t{name}\t{}\t{}",
            fin.class, fin.status
        ));
    }
    for (name, node) in &p.nodes {
        for (outcome, route) in &node.routes {
            route_facts(id, p, name, outcome, route, &mut facts);
        }
    }
    facts
}

fn our_routing_facts() -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    for mode in [
        "default_codex",
        "default_codex_integrated",
        "blueprint_learning_codex",
    ] {
        for p in compile_shipped(mode).planes.values() {
            facts.extend(plane_facts(p));
        }
    }
    facts
}

fn our_mode_facts() -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    for mode in SHIPPED_MODES.iter().filter(|m| **m != "demo") {
        let plan = compile_shipped(mode);
        let mut loops: Vec<String> = plan
            .planes
            .iter()
            .map(|(p, l)| format!("{p}:{}", l.loop_id))
            .collect();
        loops.sort();
        let runners: BTreeSet<&str> = plan
            .planes
            .values()
            .flat_map(|p| p.nodes.values().map(|n| n.runner.as_str()))
            .collect();
        let concurrency = if plan.concurrency.is_empty() {
            "serial"
        } else {
            "yes"
        };
        facts.insert(format!(
            "{mode}\tloops={}\trunners={}\tlearning_rules={}\tconcurrency={concurrency}",
            loops.join(","),
            runners.into_iter().collect::<Vec<_>>().join(","),
            plan.learn.len()
        ));
        for rule in &plan.learn {
            facts.insert(format!(
                "{mode}\tlearn\t{}\t{}\t{}\t{}",
                rule.source,
                rule.outcomes.join("|"),
                rule.target,
                rule.action
            ));
        }
    }
    facts
}

fn reference(file: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(format!("tests/reference/{file}"))
        .expect("reference facts are readable");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The `-`/`+` lines of the fenced `facts-diff` block in the differences document.
fn documented_differences() -> BTreeSet<String> {
    let doc = std::fs::read_to_string("docs/reference-differences.md")
        .expect("differences document exists");
    let block = doc
        .split("```facts-diff\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_default();
    block
        .lines()
        .filter(|l| l.starts_with("- ") || l.starts_with("+ "))
        .map(|l| l.replace("  ", "\t"))
        .collect()
}

fn diff(reference: &BTreeSet<String>, ours: &BTreeSet<String>) -> BTreeSet<String> {
    let missing = reference.difference(ours).map(|f| format!("- {f}"));
    let added = ours.difference(reference).map(|f| format!("+ {f}"));
    missing.chain(added).collect()
}

#[test]
fn routing_equals_the_reference_except_documented_differences() {
    let mut actual = diff(&reference("routing-facts.tsv"), &our_routing_facts());
    actual.extend(diff(&reference("modes.tsv"), &our_mode_facts()));
    let documented = documented_differences();
    let undocumented: Vec<&String> = actual.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&actual).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "undocumented differences (fields separated by two spaces in the document):\n{}\n\ndocumented but not real:\n{}",
        undocumented
            .iter()
            .map(|s| s.replace('\t', "  "))
            .collect::<Vec<_>>()
            .join("\n"),
        stale
            .iter()
            .map(|s| s.replace('\t', "  "))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
