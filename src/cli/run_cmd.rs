//! `millrace run daemon`: compile the workspace (refusing a plan that no
//! longer compiles), take the ownership lock, and run the daemon.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::compile_cmd::{CompileArgs, compile_and_persist};
use super::context::Workspace;
use super::output::{CliResult, Out};
use crate::runtime::{DaemonOptions, ReloadError, Reloaded, RuntimeSettings, run_daemon};
use crate::workspace::WorkspacePaths;

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Run the daemon: claim work, run stages, route by the compiled plan, persist every step
    #[command(
        long_about = "Run the daemon: claim work, run each stage through its runner, route its \
outcome by the compiled plan, and persist every step. The workspace's .loop files are compiled first; \
a plan that no longer compiles is refused with its diagnostics. Stops on Ctrl-C or SIGTERM after \
finishing the stage in flight (a second signal cancels it; it runs again next time).\n\n\
Examples:\n  millrace run daemon --monitor basic\n  millrace run daemon --mode demo --until-idle\n  \
millrace run daemon --max-ticks 3"
    )]
    Daemon(DaemonArgs),
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// The mode to run [default: `runtime.default_mode` of the config]
    #[arg(long)]
    pub mode: Option<String>,
    /// A config file to use instead of `millrace-agents/millrace.toml`
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Stop after N ticks (a tick applies finished stages, takes intake and dispatches); the stage in flight finishes first
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_ticks: Option<u64>,
    /// Exit as soon as nothing is claimable or running
    #[arg(long)]
    pub until_idle: bool,
    /// Print one line per runtime event
    #[arg(long, value_enum, default_value_t = MonitorMode::None)]
    pub monitor: MonitorMode,
    /// Also write monitor lines to this file
    #[arg(long, value_name = "FILE")]
    pub monitor_log: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MonitorMode {
    None,
    Basic,
}

pub fn run(command: RunCommand) -> CliResult {
    match command {
        RunCommand::Daemon(args) => daemon(&args),
    }
}

/// How a running daemon recompiles on `reload-config`: the plan and the
/// settings, both from the `millrace.toml` of this moment.
pub fn recompiler(args: CompileArgs) -> crate::runtime::Recompile {
    Box::new(move || {
        let compiled = compile_and_persist(&args, &mut Out::quiet())
            .map_err(|error| Box::new(error) as ReloadError)?;
        Ok(Reloaded {
            settings: RuntimeSettings::from_config(&compiled.config, &compiled.agents),
            plan: compiled.plan,
        })
    })
}

pub fn daemon(args: &DaemonArgs) -> CliResult {
    let mut out = Out::new();
    let compile = CompileArgs {
        workspace: args.workspace.clone(),
        mode: args.mode.clone(),
        config: args.config.clone(),
        deny: None,
    };
    let compiled = compile_and_persist(&compile, &mut Out::quiet())?;
    let compile = CompileArgs {
        deny: None,
        ..compile
    };
    let workspace = Workspace::open(&args.workspace)?;
    let options = DaemonOptions {
        max_ticks: args.max_ticks,
        until_idle: args.until_idle,
        monitor_stdout: args.monitor == MonitorMode::Basic,
        monitor_log: args.monitor_log.clone(),
        heartbeat: Duration::from_secs(30),
        settings: RuntimeSettings::from_config(&compiled.config, &compiled.agents),
        recompile: Some(recompiler(compile)),
    };
    let plan_id = compiled.plan.plan_id.clone();
    let mode_id = compiled.plan.mode_id.clone();
    let summary = run_daemon(
        WorkspacePaths::new(workspace.root()),
        compiled.plan,
        options,
    )?;
    out.kv("run_mode", "daemon")?;
    out.kv("active_mode_id", mode_id)?;
    out.kv("mode_override", args.mode.as_deref().unwrap_or("none"))?;
    out.kv("compiled_plan_id", plan_id)?;
    out.kv("ticks", summary.ticks)?;
    if summary.interrupted {
        out.kv("interrupted", true)?;
    }
    if let Some(note) = summary.idle_with_work_queued {
        out.kv("idle_with_work_queued", note)?;
    }
    Ok(())
}
