//! `millrace compile validate|show|graph`: compile the workspace's own
//! `.loop` files for a mode, persist the plan, and show or draw it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::context::{ConfigInput, Workspace, load_config, mode_name, workspace_sources};
use super::graph_export::{GraphFormat, export};
use super::output::{CliError, CliResult, Out, fail, report};
use crate::check::Plane;
use crate::fs_error::at;
use crate::lower::{Lowered, PlaneGraph, mode_view};
use crate::plan::{
    self, Compilation, CompileFailure, CompileOptions, Currentness, InputDigest, Plan,
    PlanLoadError, RoutePlan, currentness, inputs_now, plan_from_json, plan_to_json,
    workspace_reader,
};
use crate::workspace::config::Config;
use crate::workspace::lane_count::LaneCount;

#[derive(Debug, Subcommand)]
pub enum CompileCommand {
    /// Compile the selected mode and persist `state/compiled_plan.json`
    Validate(CompileArgs),
    /// Compile, persist, and print the plan: loops, budgets, bindings and routes of every node
    Show(CompileArgs),
    /// Compile, persist, and export the stage graphs (text, JSON, Graphviz DOT, Mermaid or SVG)
    Graph(GraphArgs),
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// The mode to compile [default: `runtime.default_mode` of the config]
    #[arg(long)]
    pub mode: Option<String>,
    /// A config file to use instead of `millrace-agents/millrace.toml`
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Treat warnings as errors: `--deny warnings`
    #[arg(long, value_name = "warnings")]
    pub deny: Option<Deny>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Deny {
    Warnings,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub compile: CompileArgs,
    /// Only this plane (execution, planning or learning)
    #[arg(long)]
    pub plane: Option<String>,
    /// The export; with any but `text`, stdout carries the export alone (pipe it)
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
    /// Write the export to this file instead of stdout (`-`: stdout)
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub fn run(command: CompileCommand) -> CliResult {
    match command {
        CompileCommand::Validate(args) => validate(&args).map(|_| ()),
        CompileCommand::Show(args) => show(&args),
        CompileCommand::Graph(args) => graph(&args),
    }
}

/// A successful compilation, persisted.
pub struct Compiled {
    pub lowered: Lowered,
    pub plan: Plan,
    pub before: Currentness,
    /// The `millrace.toml` the plan was compiled with.
    pub config: Config,
    /// `millrace-agents/` of the workspace.
    pub agents: std::path::PathBuf,
    /// The workspace root (where lanes would branch).
    pub workspace_root: std::path::PathBuf,
}

/// Compiles the workspace for the selected mode and persists the plan.
pub fn compile_and_persist(args: &CompileArgs, out: &mut Out) -> Result<Compiled, CliError> {
    let workspace = Workspace::open(&args.workspace)?;
    let config = load_config(&workspace, args.config.as_deref())?;
    let mode = mode_name(args.mode.as_deref(), &config);
    let saved = std::fs::read(workspace.plan_path()).ok();
    let compilation = compile_workspace(&workspace, &config, &mode, args.deny.is_some())?;
    report(&compilation.sources, &compilation.diagnostics);
    let warnings = compilation.diagnostics.warnings().count();
    let errors = compilation.diagnostics.errors().count();
    match compilation.outcome {
        Ok((lowered, plan)) => {
            let findings = plan::lint(&plan, &workspace_reader(&workspace.agents));
            report_lint(&findings);
            let lint_errors = findings.iter().filter(|f| f.error).count();
            if lint_errors > 0 {
                out.kv("ok", false)?;
                out.kv("errors", lint_errors)?;
                return fail(format!(
                    "mode `{mode}` does not compile ({lint_errors} prompt path error(s))"
                ));
            }
            let warnings = warnings + findings.len();
            if args.deny.is_some() && warnings > 0 {
                out.kv("ok", false)?;
                return fail(format!("{warnings} warning(s) denied by `--deny warnings`"));
            }
            let before = currentness_before(saved.as_deref(), &plan);
            persist_if_changed(&workspace, &plan, saved.as_deref())?;
            out.kv("ok", true)?;
            out.kv("mode_id", &plan.mode_id)?;
            out.kv("plan_id", &plan.plan_id)?;
            out.kv("fingerprint", &plan.fingerprint)?;
            out.kv("plan_path", workspace.plan_path().display())?;
            out.kv("warnings", warnings)?;
            Ok(Compiled {
                lowered,
                plan,
                before,
                config: config.config.clone(),
                agents: workspace.agents.clone(),
                workspace_root: workspace.root.clone(),
            })
        }
        Err(failure) => {
            out.kv("ok", false)?;
            out.kv("mode_id", &mode)?;
            out.kv("errors", errors)?;
            out.kv("warnings", warnings)?;
            match failure {
                CompileFailure::Select(e) => Err(e.into()),
                CompileFailure::Diagnostics if errors == 0 => {
                    fail(format!("{warnings} warning(s) denied by `--deny warnings`"))
                }
                _ => fail(format!(
                    "mode `{mode}` does not compile ({errors} error(s))"
                )),
            }
        }
    }
}

/// Prints the stage-contract findings: warnings, and prompt paths nobody
/// writes as errors.
fn report_lint(findings: &[plan::LintFinding]) {
    for f in findings {
        let (level, code) = if f.error {
            ("error", "prompt_artifact_path")
        } else {
            ("warning", "stage_contract")
        };
        eprintln!(
            "{level}: {}: {} ({}) [millrace::{code}]",
            f.path, f.message, f.node
        );
    }
}

/// Compiles the workspace for `mode` without persisting anything.
pub fn compile_workspace(
    workspace: &Workspace,
    config: &ConfigInput,
    mode: &str,
    deny_warnings: bool,
) -> Result<Compilation, CliError> {
    let sources = workspace_sources(workspace)?;
    let options = CompileOptions {
        mode,
        overrides: &config.overrides,
        deny_warnings,
        extra_inputs: vec![config.digest.clone()],
    };
    Ok(plan::compile(
        sources,
        options,
        &workspace_reader(&workspace.agents),
    ))
}

/// The persisted plan does not load.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
struct SavedPlanError {
    path: PathBuf,
    #[source]
    source: PlanLoadError,
}

/// Reads the persisted plan, if any.
pub fn load_plan(workspace: &Workspace) -> Result<Option<Plan>, CliError> {
    match std::fs::read(workspace.plan_path()) {
        Ok(bytes) => plan_from_json(&bytes).map(Some).map_err(|source| {
            let path = workspace.plan_path();
            CliError::caused(SavedPlanError { path, source })
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(at("read", workspace.plan_path())(e).into()),
    }
}

/// Whether the persisted plan matches the workspace's inputs right now.
pub fn persisted_currentness(
    workspace: &Workspace,
    config: &ConfigInput,
    mode: &str,
) -> Currentness {
    match saved_plan_inputs(workspace, config) {
        None => Currentness::Missing,
        Some((_, None)) => Currentness::Stale,
        Some((plan, Some(now))) => currentness(Some(&plan), mode, &now),
    }
}

/// The saved plan, and its inputs as they are now (`None` when the loop
/// sources cannot be read); `None` when no plan is saved.
pub fn saved_plan_inputs(
    workspace: &Workspace,
    config: &ConfigInput,
) -> Option<(Plan, Option<Vec<InputDigest>>)> {
    let plan = load_plan(workspace).ok().flatten()?;
    let Ok(sources) = workspace_sources(workspace) else {
        return Some((plan, None));
    };
    let now = inputs_now(
        &plan,
        &sources,
        &workspace_reader(&workspace.agents),
        vec![config.digest.clone()],
    );
    Some((plan, Some(now)))
}

/// How the saved plan compared with the inputs before this compilation (the
/// new plan's inputs are those inputs as they are now).
fn currentness_before(saved: Option<&[u8]>, plan: &Plan) -> Currentness {
    let old = saved.and_then(|bytes| plan_from_json(bytes).ok());
    currentness(old.as_ref(), &plan.mode_id, &plan.inputs)
}

/// Writes the plan unless the file already holds exactly it: a daemon start
/// on an unchanged workspace costs no durable write.
fn persist_if_changed(workspace: &Workspace, plan: &Plan, saved: Option<&[u8]>) -> CliResult {
    let json = plan_to_json(plan);
    if saved == Some(json.as_bytes()) {
        return Ok(());
    }
    let path = workspace.plan_path();
    let written = crate::workspace::atomic::write_atomic_creating_parent(&path, json.as_bytes());
    Ok(written.map_err(at("write", &path))?)
}

fn validate(args: &CompileArgs) -> Result<Compiled, CliError> {
    compile_and_persist(args, &mut Out::new())
}

fn show(args: &CompileArgs) -> CliResult {
    let mut out = Out::new();
    let compiled = compile_and_persist(args, &mut out)?;
    out.kv("currentness_before", compiled.before.as_str())?;
    out.kv("currentness", Currentness::Current.as_str())?;
    out.raw(&describe_plan(
        &compiled.plan,
        Some(&compiled.workspace_root),
    ))?;
    Ok(())
}

/// The plan in `key: value` lines: planes, budgets, entries, then each
/// node. With the workspace `root`, lanes are the count that runs there.
pub fn describe_plan(plan: &Plan, root: Option<&Path>) -> String {
    let mut s = String::new();
    for (plane, p) in &plan.planes {
        let _ = writeln!(s, "loop: {plane} {}", p.loop_id);
        let exact = if p.max_stage_runs_exact {
            ""
        } else {
            " (upper bound)"
        };
        let _ = writeln!(s, "max_stage_runs: {plane} {}{exact}", p.max_stage_runs);
        for entry in &p.entries {
            let _ = writeln!(
                s,
                "entry: {plane} {} -> {}",
                entry.family,
                entry.nodes.join(", ")
            );
        }
        if let Some(node) = &p.completion {
            let _ = writeln!(s, "completion: {plane} on drained -> {node}");
        }
        for (name, b) in &p.budgets {
            let per = if b.per_failure_class {
                " per failure_class"
            } else {
                ""
            };
            let _ = writeln!(s, "budget: {plane} {name} limit={}{per}", b.limit);
        }
    }
    for rule in &plan.learn {
        let outcomes = rule.outcomes.join("|");
        let _ = writeln!(
            s,
            "learn: {}/{} {outcomes} -> learning/{} ({})",
            rule.source_plane, rule.source, rule.target, rule.action
        );
    }
    for (plane, with) in &plan.concurrency {
        let with: Vec<&str> = with.iter().map(|p| p.as_str()).collect();
        let _ = writeln!(s, "concurrency: {plane} with {}", with.join(", "));
    }
    for (plane, count) in &plan.lanes {
        let count = match root {
            Some(root) => LaneCount::decide(root, *count).describe(),
            None => count.to_string(),
        };
        let _ = writeln!(s, "lanes: {plane} {count}");
    }
    for (plane, p) in &plan.planes {
        for name in &p.node_order {
            describe_node(&mut s, *plane, name, p);
        }
    }
    s
}

fn describe_node(s: &mut String, plane: Plane, name: &str, p: &plan::PlanePlan) {
    let Some(node) = p.nodes.get(name) else {
        return;
    };
    let _ = writeln!(s, "node: {plane}/{name}");
    let _ = writeln!(s, "  stage_kind: {}", node.stage_kind);
    match node.builtin {
        // No runner, model or prompt: the runtime runs it itself.
        Some(builtin) => {
            let _ = writeln!(s, "  runs: builtin {builtin}");
            let _ = writeln!(s, "  timeout_s: {}", node.timeout_s);
        }
        None => describe_agent(s, node),
    }
    for skill in &node.skills {
        let _ = writeln!(s, "  skill: {skill}");
    }
    let _ = writeln!(s, "  running_marker: {}", node.running_marker);
    for outcome in &node.outcomes {
        if let Some(route) = node.routes.get(&outcome.name) {
            let _ = writeln!(s, "  route: {} -> {}", outcome.name, describe_route(route));
        }
    }
    for effect in &node.effects {
        let ports: Vec<String> = effect
            .ports
            .iter()
            .map(|(p, t)| format!("{p} -> {t}"))
            .collect();
        let _ = writeln!(
            s,
            "  effect: {} on {} {}",
            effect.id,
            effect.on.join(", "),
            ports.join(" ")
        );
    }
    for grant in &node.grants {
        let _ = writeln!(s, "  grant: {}", describe_grant(grant));
    }
}

/// The lines of a node an agent runs: its runner, model and prompt.
fn describe_agent(s: &mut String, node: &plan::NodePlan) {
    let none = || "none".to_string();
    let _ = writeln!(s, "  runner: {}", node.runner);
    let _ = writeln!(s, "  model: {}", node.model.clone().unwrap_or_else(none));
    let _ = writeln!(
        s,
        "  thinking: {}",
        node.thinking.clone().unwrap_or_else(none)
    );
    let _ = writeln!(s, "  timeout_s: {}", node.timeout_s);
    let _ = writeln!(s, "  entrypoint: {}", node.entrypoint);
}

/// `workspace.write denied runner_enforced by config_stage`, with
/// `per <scope>` for a gate.
pub fn describe_grant(grant: &plan::GrantPlan) -> String {
    let scope = grant
        .gate_scope
        .map(|scope| format!(" per {scope}"))
        .unwrap_or_default();
    format!(
        "{} {} {}{scope} by {}",
        grant.capability, grant.decision, grant.enforcement, grant.resolved_by
    )
}

/// `fixer [spends fix_cycles] else troubleshooter ...`
pub fn describe_route(route: &RoutePlan) -> String {
    let mut text = String::new();
    for key in &route.result_keys {
        let _ = write!(text, "result.{key} or ");
    }
    let _ = write!(text, "{}", route.to);
    if !route.except.is_empty() {
        let _ = write!(text, " except {}", route.except.join(", "));
    }
    if let (Some(budget), Some(exhausted)) = (&route.budget, &route.exhausted) {
        let _ = write!(
            text,
            " [spends {budget}] else {}",
            describe_route(exhausted)
        );
    }
    text
}

fn graph(args: &GraphArgs) -> CliResult {
    let plane = match args.plane.as_deref().map(|p| (p, Plane::parse(p))) {
        Some((name, None)) => {
            return fail(format!(
                "unknown plane `{name}`; planes: execution, planning, learning"
            ));
        }
        Some((_, plane)) => plane,
        None => None,
    };
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    // A pipe gets the export alone; diagnostics and errors still go to stderr.
    let mut header = if to_stdout && args.format.is_machine() {
        Out::quiet()
    } else {
        Out::new()
    };
    let compiled = compile_and_persist(&args.compile, &mut header)?;
    let graphs: Vec<&PlaneGraph> = compiled
        .lowered
        .planes
        .iter()
        .map(|(g, _)| g)
        .filter(|g| plane.is_none_or(|p| g.plane == p))
        .collect();
    if graphs.is_empty() {
        return fail("the mode has no loop for that plane");
    }
    let view = mode_view(&compiled.lowered.mode, graphs);
    let bytes = export(&view, args.format).map_err(CliError::caused)?;
    match &args.output {
        Some(path) if !to_stdout => {
            std::fs::write(path, bytes).map_err(at("write", path))?;
            header.kv("output", path.display())?;
            Ok(())
        }
        _ => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            Ok(stdout.flush()?)
        }
    }
}
