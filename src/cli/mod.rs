//! The operator's command line: clap commands, output conventions and exit
//! codes (0 ok, 1 failure, 2 usage). Each command lives in its own file.

mod add_cmd;
mod approvals_cmd;
mod chain;
mod compile_cmd;
mod config_bridge;
mod config_cmd;
mod context;
mod control_cmd;
mod control_route;
mod demo_cmd;
mod demo_skills;
mod doctor_cmd;
mod graph_export;
mod incident_cmd;
mod init_cmd;
mod loop_cmd;
mod loop_sources;
mod loop_test;
mod modes_cmd;
mod new_stage_cmd;
mod output;
mod planning_cmd;
mod queue_cmd;
mod queue_ops_cmd;
mod repair_lineage_cmd;
mod run_cmd;
mod runs_cmd;
mod runs_prune_cmd;
mod serve;
mod skills_change_cmd;
mod skills_cmd;
mod status_closure;
mod status_cmd;
mod status_details;
mod upgrade_cmd;
mod workspace_arg;

use clap::{CommandFactory, Parser, Subcommand};

use crate::workspace::Family;
use output::{CliResult, Out, finish};

/// Millrace runs coding agents through long, multi-stage work: a durable
/// queue, compiled stage graphs, crash-safe state and a closure gate.
#[derive(Debug, Parser)]
#[command(name = "millrace", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a whole demo with no agent installed: a temporary workspace, sample work, the daemon, the traces
    Demo(demo_cmd::DemoArgs),
    /// Create or repair a workspace: `millrace-agents/` with config, loops, modes, prompts and queues
    Init(init_cmd::InitArgs),
    /// Import a task (`.md` or `.json`) into `tasks/queue/`: `millrace add-task fix-login.md`
    AddTask(add_cmd::DocumentArgs),
    /// Import a spec (`.md` or `.json`) into `specs/queue/`
    AddSpec(add_cmd::DocumentArgs),
    /// Import a probe (`.md` or `.json`) into `probes/queue/`
    AddProbe(add_cmd::DocumentArgs),
    /// Copy an idea (`.md`) into `<workspace>/ideas/inbox/`; the daemon turns it into a spec
    AddIdea(add_cmd::IdeaArgs),
    /// Inspect the queues, add work, and intervene: `queue ls`, `queue show ID`,
    /// `queue add-task PATH`, `queue cancel ID --reason R`, `queue retry-blocked ID`
    #[command(subcommand)]
    Queue(queue_cmd::QueueCommand),
    /// What the runtime is doing: mode, plan, lock, pauses, active runs, queue
    /// depths, status markers and the latest events (`status watch` to follow)
    Status(status_cmd::StatusArgs),
    /// Check the workspace: layout, config, mode, plan, documents, state files,
    /// lock and baseline; exits 1 when any error is found
    Doctor(doctor_cmd::DoctorArgs),
    /// Preview (or `--apply`) updates of the shipped files this build brings,
    /// keeping every file the operator edited
    Upgrade(upgrade_cmd::UpgradeArgs),
    /// Show the effective `millrace.toml`, or validate it by compiling the mode
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Compile the workspace's `.loop` files into the frozen plan the daemon runs
    #[command(subcommand)]
    Compile(compile_cmd::CompileCommand),
    /// List and inspect the modes the workspace (or the binary) defines
    #[command(subcommand)]
    Modes(modes_cmd::ModesCommand),
    /// Check, format and test `.loop` files; scaffold a stage kind
    #[command(subcommand, name = "loop")]
    Loop(loop_cmd::LoopCommand),
    /// Run the daemon
    #[command(subcommand)]
    Run(run_cmd::RunCommand),
    /// Inspect runs (what each stage answered and where the work went) and prune old ones
    #[command(subcommand)]
    Runs(runs_cmd::RunsCommand),
    /// Answer the execution-capability approvals gated stages wait for
    #[command(subcommand)]
    Approvals(approvals_cmd::ApprovalsCommand),
    #[command(flatten)]
    Controls(control_cmd::ControlCommand),
    /// Runtime controls: pause, resume, stop, reload-config, retry-active, clear-stale-state
    #[command(subcommand)]
    Control(control_cmd::ControlCommand),
    /// Planning-plane controls: `planning retry-active`
    #[command(subcommand)]
    Planning(planning_cmd::PlanningCommand),
    /// Resolve, cancel or archive incidents by hand
    #[command(subcommand)]
    Incident(incident_cmd::IncidentCommand),
    /// The workspace's skills: list, show, search, install, export, promote, and
    /// ask the learning plane to create or improve one
    #[command(subcommand)]
    Skills(skills_cmd::SkillsCommand),
    /// A live, read-only dashboard of the workspace in the browser:
    /// `millrace serve --workspace W` then open http://127.0.0.1:8080/
    Serve(serve::ServeArgs),
    /// Print the version
    Version,
    /// Print shell completions: `millrace completions bash > /etc/bash_completion.d/millrace`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Runs the command line and returns the process exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return error.exit_code();
        }
    };
    finish(dispatch(cli.command))
}

/// Prints the completion script. It is made in memory first: clap_complete
/// panics when its writer fails, and a closed pipe is no error.
fn completions(shell: clap_complete::Shell) -> CliResult {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "millrace", &mut script);
    Ok(Out::new().raw(&String::from_utf8_lossy(&script))?)
}

fn dispatch(command: Command) -> CliResult {
    match command {
        Command::Demo(args) => demo_cmd::run(&args),
        Command::Init(args) => init_cmd::run(&args),
        Command::Run(command) => run_cmd::run(command),
        Command::Runs(command) => runs_cmd::run(command),
        Command::Approvals(command) => approvals_cmd::run(command),
        Command::AddTask(args) => add_cmd::add_document(Family::Task, &args),
        Command::AddSpec(args) => add_cmd::add_document(Family::Spec, &args),
        Command::AddProbe(args) => add_cmd::add_document(Family::Probe, &args),
        Command::AddIdea(args) => add_cmd::add_idea(&args),
        Command::Queue(command) => queue_cmd::run(command),
        Command::Status(args) => status_cmd::run(args),
        Command::Doctor(args) => doctor_cmd::run(&args),
        Command::Upgrade(args) => upgrade_cmd::run(&args),
        Command::Config(command) => config_cmd::run(command),
        Command::Compile(command) => compile_cmd::run(command),
        Command::Modes(command) => modes_cmd::run(command),
        Command::Loop(command) => loop_cmd::run(command),
        Command::Controls(command) | Command::Control(command) => control_cmd::run(command),
        Command::Planning(command) => planning_cmd::run(command),
        Command::Incident(command) => incident_cmd::run(command),
        Command::Skills(command) => skills_cmd::run(command),
        Command::Serve(args) => serve::run(&args),
        Command::Version => Ok(Out::new().line(format!("millrace {}", env!("CARGO_PKG_VERSION")))?),
        Command::Completions { shell } => completions(shell),
    }
}
