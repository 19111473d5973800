//! Routing over the shipped default plan, without I/O.

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use crate::plan::{self, CompileOptions, Plan, shipped_reader, shipped_sources};
use crate::vocab::Plane;

fn default_plan() -> Plan {
    let options = CompileOptions::for_mode("default_codex");
    match plan::compile(shipped_sources(), options, &shipped_reader).outcome {
        Ok((_, plan)) => plan,
        Err(_) => panic!("the default mode compiles"),
    }
}

#[derive(Default)]
struct Counts(BTreeMap<String, u64>);

impl BudgetCounts for Counts {
    fn used(&self, budget: &str, _class: Option<&str>) -> u64 {
        self.0.get(budget).copied().unwrap_or(0)
    }
    fn total(&self, budget: &str) -> u64 {
        self.used(budget, None)
    }
}

fn go(counts: &Counts, node: &str, outcome: &str, metadata: &[(&str, &str)]) -> Decision {
    let plan = default_plan();
    let metadata: BTreeMap<String, Value> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let finished = Finished {
        node,
        outcome,
        failure_class: None,
        metadata: &metadata,
    };
    route(
        plan.plane(Plane::Execution).expect("execution"),
        counts,
        &finished,
    )
    .expect("routes")
}

#[test]
fn a_plain_outcome_follows_its_route() {
    let d = go(&Counts::default(), "checker", "CHECKER_PASS", &[]);
    assert_eq!(d.to, Target::Node("updater".into()));
    assert!(d.spends.is_empty());
}

#[test]
fn a_budgeted_route_spends_until_exhausted_then_falls_through() {
    let mut counts = Counts::default();
    let d = go(&counts, "checker", "FIX_NEEDED", &[]);
    assert_eq!((d.to, d.spends.len()), (Target::Node("fixer".into()), 1));
    counts.0.insert("fix_cycles".into(), 2);
    let d = go(&counts, "checker", "FIX_NEEDED", &[]);
    assert_eq!(d.to, Target::Node("troubleshooter".into()));
    assert_eq!(d.spends[0].budget, "troubleshoot_attempts");
    counts.0.insert("troubleshoot_attempts".into(), 2);
    let d = go(&counts, "checker", "FIX_NEEDED", &[]);
    assert_eq!(d.to, Target::Node("consultant".into()));
    assert!(
        d.reason.contains("fix_cycles exhausted")
            && d.reason.contains("troubleshoot_attempts exhausted")
    );
}

#[test]
fn result_keys_pick_the_resume_node_except_excluded_ones() {
    let counts = Counts::default();
    let d = go(
        &counts,
        "troubleshooter",
        "TROUBLESHOOT_COMPLETE",
        &[("resume_stage", "fixer")],
    );
    assert_eq!(d.to, Target::Node("fixer".into()));
    let d = go(
        &counts,
        "troubleshooter",
        "TROUBLESHOOT_COMPLETE",
        &[("resume_stage", "consultant")],
    );
    assert_eq!(d.to, Target::Node("builder".into()));
    let d = go(
        &counts,
        "troubleshooter",
        "TROUBLESHOOT_COMPLETE",
        &[("resume_stage", "nowhere")],
    );
    assert_eq!(d.to, Target::Node("builder".into()));
}

#[test]
fn finals_are_targets_too() {
    let d = go(&Counts::default(), "consultant", "NEEDS_PLANNING", &[]);
    assert_eq!(d.to, Target::Final("needs_planning".into()));
}
