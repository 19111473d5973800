//! `millrace modes list|show`: the modes a workspace (or the binary) defines.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::context::Workspace;
use super::output::{CliError, CliResult, Out, fail, report};
use crate::check::Program;
use crate::plan::{self, CompileOptions, shipped_reader, shipped_sources, workspace_reader};
use crate::syntax::SourceMap;

#[derive(Debug, Subcommand)]
pub enum ModesCommand {
    /// One line per mode: the loop it selects for each plane; then the aliases
    List(ModesArgs),
    /// A mode's loops, bindings, learn rules, concurrency and stage-run bounds
    Show {
        /// The mode (or alias) to show
        mode_id: String,
        #[command(flatten)]
        args: ModesArgs,
    },
}

#[derive(Debug, Args)]
pub struct ModesArgs {
    /// Read the workspace's own `.loop` files instead of the shipped ones
    #[arg(long)]
    pub workspace: Option<PathBuf>,
}

pub fn run(command: ModesCommand) -> CliResult {
    match command {
        ModesCommand::List(args) => list(&args),
        ModesCommand::Show { mode_id, args } => show(&mode_id, &args),
    }
}

fn sources(args: &ModesArgs) -> Result<(SourceMap, Option<Workspace>), CliError> {
    match &args.workspace {
        Some(path) => {
            let workspace = Workspace::open(path)?;
            Ok((
                super::context::workspace_sources(&workspace)?,
                Some(workspace),
            ))
        }
        None => Ok((shipped_sources(), None)),
    }
}

fn checked_program(sources: &SourceMap) -> Result<Program, CliError> {
    let checked = crate::check::check(sources);
    if checked.diagnostics.has_errors() {
        report(sources, &checked.diagnostics);
        return Err(CliError::Reported);
    }
    Ok(checked.program)
}

fn list(args: &ModesArgs) -> CliResult {
    let (sources, _) = sources(args)?;
    let program = checked_program(&sources)?;
    let mut out = Out::new();
    for (name, mode) in &program.modes {
        let loops: Vec<String> = mode
            .loops
            .iter()
            .map(|(p, l)| format!("{p}_loop={l}"))
            .collect();
        out.line(format!("{name}: {}", loops.join(" ")))?;
    }
    for (alias, target) in &program.aliases {
        out.line(format!("{alias} -> {target} (alias)"))?;
    }
    Ok(())
}

fn show(mode_id: &str, args: &ModesArgs) -> CliResult {
    let (sources, workspace) = sources(args)?;
    let options = CompileOptions::for_mode(mode_id);
    let compilation = match &workspace {
        Some(ws) => plan::compile(sources, options, &workspace_reader(&ws.agents)),
        None => plan::compile(sources, options, &shipped_reader),
    };
    report(&compilation.sources, &compilation.diagnostics);
    let (_, plan) = match compilation.outcome {
        Ok(done) => done,
        Err(plan::CompileFailure::Select(e)) => return Err(e.into()),
        Err(_) => return fail(format!("mode `{mode_id}` does not compile")),
    };
    let mut out = Out::new();
    out.kv("mode_id", &plan.mode_id)?;
    out.kv("plan_id", &plan.plan_id)?;
    let root = workspace.as_ref().map(|ws| ws.root.as_path());
    out.raw(&super::compile_cmd::describe_plan(&plan, root))?;
    Ok(())
}
