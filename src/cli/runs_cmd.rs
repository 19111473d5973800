//! `millrace runs ls|show|tail|trace|prune`: what each run did, from its
//! evidence (`run_trace.json` and the stage results under `runs/<run_id>/`),
//! and removing the folders of old finished runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::context::Workspace;
use super::output::{CliError, CliResult, Out, fail};
use super::runs_prune_cmd::{PRUNE_HELP, PruneArgs, prune};
use super::workspace_arg::WorkspaceArg;
use crate::fs_error::at;
use crate::runtime::{RunTrace, StageResult};

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// One block per run: id, plane, status, work item, stage count, last outcome
    Ls(WorkspaceArg),
    /// A run's stages: outcome, class, failure, runner, model, duration, tokens, grants
    Show(ShowArgs),
    /// The final message of the run's last stage
    Tail(RunArg),
    /// The path the run took: each stage, its outcome and the edge it took, with why
    Trace(TraceArgs),
    /// Remove the folders of finished runs past the limits of `[runs]`; runs of unfinished work stay
    #[command(long_about = PRUNE_HELP)]
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct RunArg {
    /// A run id, or a unique prefix of one (as the monitor prints it)
    pub run_id: String,
    #[command(flatten)]
    pub ws: WorkspaceArg,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub run: RunArg,
    /// `json`: the trace and every stage result whole
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub run: RunArg,
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
    /// Write the trace to this file instead of stdout
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Text,
    Json,
}

pub fn run(command: RunsCommand) -> CliResult {
    match command {
        RunsCommand::Ls(args) => ls(&args),
        RunsCommand::Show(args) => show(&args),
        RunsCommand::Tail(args) => tail(&args),
        RunsCommand::Trace(args) => trace(&args),
        RunsCommand::Prune(args) => prune(&args),
    }
}

/// Run directories, oldest first.
pub fn run_dirs(workspace: &Workspace) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(workspace.agents.join("runs")) else {
        return Vec::new();
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        // Hidden names are not runs (`.removing-*`: a folder being pruned).
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.') && e.path().is_dir())
        .map(|e| {
            (
                e.metadata()
                    .and_then(|m| m.created().or_else(|_| m.modified()))
                    .unwrap_or(std::time::UNIX_EPOCH),
                e.path(),
            )
        })
        .collect();
    dirs.sort();
    dirs.into_iter().map(|(_, p)| p).collect()
}

fn find_run(workspace: &Workspace, id: &str) -> Result<PathBuf, CliError> {
    let wanted = id.strip_prefix("run-").unwrap_or(id);
    let matches: Vec<PathBuf> = run_dirs(workspace)
        .into_iter()
        .filter(|d| {
            d.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.strip_prefix("run-").unwrap_or(n).starts_with(wanted))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => fail(format!("run not found: {id}")),
        many => fail(format!(
            "run id `{id}` is ambiguous ({} runs match); give more of it",
            many.len()
        )),
    }
}

fn load_trace(dir: &Path) -> RunTrace {
    RunTrace::load(dir).unwrap_or_else(|| RunTrace {
        run_id: dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string(),
        status: "no_trace".into(),
        ..RunTrace::default()
    })
}

fn ls(args: &WorkspaceArg) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let mut out = Out::new();
    let dirs = run_dirs(&workspace);
    out.kv("runs", dirs.len())?;
    for dir in dirs {
        let trace = load_trace(&dir);
        out.line("")?;
        out.raw(&summary(&trace))?;
    }
    Ok(())
}

fn summary(trace: &RunTrace) -> String {
    let mut s = String::new();
    let none = "none".to_string();
    let work = match (&trace.work_item_family, &trace.work_item_id) {
        (Some(f), Some(id)) => format!("{f}:{id}"),
        _ => "closure_target".into(),
    };
    let _ = writeln!(s, "run_id: {}", trace.run_id);
    let _ = writeln!(s, "plane: {}", trace.plane);
    let _ = writeln!(s, "status: {}", trace.status);
    let _ = writeln!(s, "work_item: {work}");
    let _ = writeln!(s, "plan_id: {}", trace.plan_id);
    let _ = writeln!(s, "stages: {}", trace.nodes.len());
    let _ = writeln!(
        s,
        "last_outcome: {}",
        trace.nodes.last().map_or(&none, |n| &n.outcome)
    );
    s
}

fn show(args: &ShowArgs) -> CliResult {
    let workspace = Workspace::open(&args.run.ws.workspace)?;
    let dir = find_run(&workspace, &args.run.run_id)?;
    let trace = load_trace(&dir);
    let results = trace
        .nodes
        .iter()
        .filter_map(|n| read_result(&n.result_path));
    let mut out = Out::new();
    if args.format == TraceFormat::Json {
        let record = serde_json::json!({
            "trace": &trace,
            "stage_results": results.collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&record).unwrap_or_default();
        out.line(&text)?;
        return Ok(());
    }
    out.raw(&summary(&trace))?;
    for result in results {
        out.line("")?;
        out.raw(&describe_result(&result))?;
    }
    Ok(())
}

fn read_result(path: &Path) -> Option<StageResult> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn describe_result(r: &StageResult) -> String {
    let mut s = String::new();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    let _ = writeln!(s, "stage: {}", r.node);
    let _ = writeln!(s, "  request_id: {}", r.request_id);
    let _ = writeln!(s, "  stage_kind: {}", r.stage_kind);
    let _ = writeln!(s, "  outcome: {}", r.outcome);
    let _ = writeln!(s, "  result_class: {}", r.result_class);
    let _ = writeln!(s, "  failure_class: {}", opt(&r.failure_class));
    let _ = writeln!(s, "  runner: {}", r.runner);
    let _ = writeln!(s, "  model: {}", opt(&r.model));
    let _ = writeln!(s, "  thinking: {}", opt(&r.thinking));
    let _ = writeln!(s, "  duration_seconds: {:.3}", r.duration_seconds);
    let tokens = r.tokens.map_or_else(
        || "none".into(),
        |t| {
            format!(
                "input={} cached={} output={} thinking={} total={}",
                t.input, t.cached_input, t.output, t.thinking, t.total
            )
        },
    );
    let _ = writeln!(s, "  tokens: {tokens}");
    let _ = writeln!(s, "  prompt: {}", r.prompt_path.display());
    if !r.capability_grants.is_empty() {
        let _ = writeln!(s, "  grants: {}", r.capability_grants.join(" "));
    }
    s
}

fn tail(args: &RunArg) -> CliResult {
    let workspace = Workspace::open(&args.ws.workspace)?;
    let dir = find_run(&workspace, &args.run_id)?;
    let trace = load_trace(&dir);
    let Some(last) = trace.nodes.last() else {
        return fail(format!("run {} has no finished stage yet", trace.run_id));
    };
    let message = dir.join(format!("last_message.{}.txt", last.request_id));
    let stdout = dir.join(format!("stdout.{}.txt", last.request_id));
    let text = std::fs::read_to_string(&message).or_else(|_| std::fs::read_to_string(&stdout));
    match text {
        Ok(text) => Ok(Out::new().raw(&text)?),
        Err(_) => fail(format!(
            "run {} kept no final message for its last stage",
            trace.run_id
        )),
    }
}

fn trace(args: &TraceArgs) -> CliResult {
    let workspace = Workspace::open(&args.run.ws.workspace)?;
    let dir = find_run(&workspace, &args.run.run_id)?;
    let trace = load_trace(&dir);
    let text = match args.format {
        TraceFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&trace).unwrap_or_default()
        ),
        TraceFormat::Text => trace_text(&trace),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(at("write", path))?;
            Ok(Out::new().kv("output", path.display())?)
        }
        None => Ok(Out::new().raw(&text)?),
    }
}

/// The trace as text: a header, then `node OUTCOME -> next (reason)` lines.
pub fn trace_text(trace: &RunTrace) -> String {
    let mut s = summary(trace);
    for edge in &trace.edges {
        let _ = writeln!(
            s,
            "{} {} -> {} ({})",
            edge.from, edge.outcome, edge.to, edge.reason
        );
    }
    s
}
