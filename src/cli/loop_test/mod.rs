//! `millrace loop test`: walk a loop without an agent. Scenario files say
//! what each stage answers and what must come of it; `--explore` walks
//! every path instead. Both route through the runtime's own router.

mod explore;
mod loop_plan;
mod scenario;
mod simulate;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::loop_sources::build_sources;
use super::output::{CliError, CliResult, Out, fail, report};
use crate::plan::{PlanePlan, Target};
use crate::syntax::SourceMap;
use explore::{Exploration, explore};
use loop_plan::{LoopPlan, compile_loop};
use scenario::Scenario;
use simulate::{Answer, Step, Walked, walk};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Scenario files (`.toml`), and `.loop` files that replace the shipped items of the same name
    pub files: Vec<PathBuf>,
    /// Walk every path of this loop instead (`execution.standard`): each reachable final with a shortest path, and a longest path
    #[arg(long, value_name = "LOOP")]
    pub explore: Option<String>,
    /// A parameter override for `--explore`: `--set max_fix_cycles=1`
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, u64)>,
    /// Use a workspace's definitions instead of the shipped ones
    #[arg(long)]
    pub workspace: Option<PathBuf>,
}

fn parse_set(text: &str) -> Result<(String, u64), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    let value = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a whole number"))?;
    Ok((name.trim().to_string(), value))
}

pub fn run(args: &TestArgs) -> CliResult {
    let is_loop = |p: &&PathBuf| p.extension().is_some_and(|e| e == "loop");
    let loops: Vec<PathBuf> = args.files.iter().filter(is_loop).cloned().collect();
    let scenarios: Vec<&PathBuf> = args.files.iter().filter(|p| !is_loop(p)).collect();
    let (sources, _) = build_sources(&loops, args.workspace.as_deref())?;
    let mut out = Out::new();
    if let Some(name) = &args.explore {
        let params: BTreeMap<String, u64> = args.set.iter().cloned().collect();
        explore_loop(&sources, name, &params, &mut out)?;
    } else if scenarios.is_empty() {
        return fail("give scenario files (`.toml`) to run, or `--explore LOOP`");
    }
    let mut failed = 0;
    for path in &scenarios {
        if !run_scenario(&sources, path, &mut out)? {
            failed += 1;
        }
    }
    if scenarios.len() > 1 {
        out.kv("scenarios", scenarios.len())?;
        out.kv("passed", scenarios.len() - failed)?;
    }
    match failed {
        0 => Ok(()),
        n => fail(format!("{n} of {} scenario(s) failed", scenarios.len())),
    }
}

fn compile(
    sources: &SourceMap,
    name: &str,
    params: &BTreeMap<String, u64>,
) -> Result<LoopPlan, CliError> {
    compile_loop(sources.clone(), name, params, &report).map_err(CliError::caused)
}

fn plane_of(compiled: &LoopPlan) -> Result<&PlanePlan, CliError> {
    match compiled.plane_plan() {
        Some(plane) => Ok(plane),
        None => fail("the compiled plan has no plane for the loop"),
    }
}

/// Runs one scenario; `false` when it is broken or did not go as expected.
fn run_scenario(sources: &SourceMap, path: &Path, out: &mut Out) -> Result<bool, CliError> {
    let scenario = scenario::load(path).map_err(CliError::caused)?;
    out.kv("scenario", path.display())?;
    let compiled = compile(sources, &scenario.loop_name, &scenario.set)?;
    let plane = plane_of(&compiled)?;
    let problems = validate::problems(plane, &scenario);
    for problem in &problems {
        eprintln!("error: {}: {problem}", path.display());
    }
    if !problems.is_empty() {
        out.kv("result", "broken")?;
        return Ok(false);
    }
    let Some(start) = start_node(plane, &scenario) else {
        return fail(format!("{}: the loop has no entry", path.display()));
    };
    let mut answers = Answers::new(plane, &scenario);
    let walked = walk(plane, &start, plane.max_stage_runs, &mut |node| {
        answers.next(node)
    })
    .map_err(CliError::caused)?;
    print_walk(out, &scenario.loop_name, &walked, plane.max_stage_runs)?;
    let expect = scenario.expect.clone().unwrap_or_default();
    let mismatches = validate::mismatches(&expect, &walked);
    for mismatch in &mismatches {
        out.kv("mismatch", mismatch)?;
    }
    let ok = mismatches.is_empty();
    out.kv("result", if ok { "pass" } else { "fail" })?;
    Ok(ok)
}

/// `start`, else the first node of the `entry` family's entry (or of the
/// loop's first entry), else `on drained`.
fn start_node(plane: &PlanePlan, scenario: &Scenario) -> Option<String> {
    if let Some(start) = &scenario.start {
        return Some(start.clone());
    }
    let wanted = scenario.entry.as_deref();
    let entry = plane
        .entries
        .iter()
        .find(|e| wanted.is_none_or(|f| e.family.as_str() == f));
    let first = entry.and_then(|e| e.nodes.first().cloned());
    first.or_else(|| plane.completion.clone())
}

/// What each stage answers, visit by visit.
struct Answers<'a> {
    plane: &'a PlanePlan,
    given: BTreeMap<String, Vec<Answer>>,
    visits: BTreeMap<String, usize>,
}

impl<'a> Answers<'a> {
    fn new(plane: &'a PlanePlan, scenario: &Scenario) -> Self {
        let given = scenario
            .answers
            .iter()
            .map(|(node, list)| (node.clone(), list.iter().map(|a| a.answer()).collect()))
            .collect();
        Answers {
            plane,
            given,
            visits: BTreeMap::new(),
        }
    }

    /// The answer of `node`'s next visit: its next listed answer (the last
    /// repeats), or its first declared outcome when none is listed.
    fn next(&mut self, node: &str) -> Answer {
        let visit = self.visits.get(node).copied().unwrap_or(0);
        self.visits.insert(node.to_string(), visit + 1);
        let listed = self.given.get(node).filter(|l| !l.is_empty());
        match listed {
            Some(list) => list[visit.min(list.len() - 1)].clone(),
            None => self.first_outcome(node),
        }
    }

    fn first_outcome(&self, node: &str) -> Answer {
        let plan = self.plane.nodes.get(node);
        let first = plan.and_then(|n| n.outcomes.first());
        Answer::outcome(first.map_or("", |o| o.name.as_str()))
    }
}

fn print_walk(out: &mut Out, loop_name: &str, walked: &Walked, limit: u64) -> CliResult {
    out.kv("loop", loop_name)?;
    for step in &walked.steps {
        out.kv(
            "step",
            format!("{} ({})", step.describe(), step.decision.reason),
        )?;
    }
    match &walked.final_name {
        Some(name) => out.kv("final", name)?,
        None => out.kv("final", format!("none (stopped after {limit} stage runs)"))?,
    }
    out.kv("stage_runs", walked.steps.len())?;
    out.kv("spent", describe_spent(&walked.spent.totals()))?;
    Ok(())
}

fn describe_spent(totals: &BTreeMap<String, u64>) -> String {
    if totals.is_empty() {
        return "nothing".to_string();
    }
    let parts: Vec<String> = totals.iter().map(|(b, n)| format!("{b}={n}")).collect();
    parts.join(" ")
}

fn explore_loop(
    sources: &SourceMap,
    name: &str,
    params: &BTreeMap<String, u64>,
    out: &mut Out,
) -> CliResult {
    let compiled = compile(sources, name, params)?;
    let plane = plane_of(&compiled)?;
    let mut starts: Vec<String> = plane
        .entries
        .iter()
        .flat_map(|e| e.nodes.iter().cloned())
        .collect();
    starts.extend(plane.completion.iter().cloned());
    starts.dedup();
    let began = Instant::now();
    let found = explore(plane, &starts).map_err(CliError::caused)?;
    let elapsed = began.elapsed();
    out.kv("loop", name)?;
    out.kv("starts", starts.join(", "))?;
    out.kv("max_stage_runs", plane.max_stage_runs)?;
    print_exploration(out, plane, &found)?;
    out.kv(
        "elapsed_ms",
        format!("{:.1}", elapsed.as_secs_f64() * 1000.0),
    )?;
    Ok(())
}

fn print_exploration(out: &mut Out, plane: &PlanePlan, found: &Exploration) -> CliResult {
    out.kv("states", found.states)?;
    if found.paths == u128::MAX {
        out.kv(
            "paths",
            format!("at least {} (the count saturated)", u128::MAX),
        )?;
    } else {
        out.kv("paths", found.paths)?;
    }
    for (name, witness) in &found.finals {
        let class = plane.finals.get(name).map(|f| f.class.as_str());
        out.kv(
            "final",
            format!(
                "{name} ({}) shortest={}",
                class.unwrap_or("?"),
                witness.len()
            ),
        )?;
        print_steps(out, witness)?;
    }
    for name in plane
        .finals
        .keys()
        .filter(|f| !found.finals.contains_key(*f))
    {
        out.kv("unreached_final", name)?;
    }
    out.kv("longest", found.longest.len())?;
    print_steps(out, &found.longest)
}

fn print_steps(out: &mut Out, steps: &[Step]) -> CliResult {
    for step in steps {
        let to = match &step.decision.to {
            Target::Final(name) => format!("final:{name}"),
            Target::Node(name) => name.clone(),
        };
        out.line(format!(
            "  {} {} -> {to}",
            step.node,
            step.answer.describe()
        ))?;
    }
    Ok(())
}
