//! The operator's command line: clap commands, output conventions and exit
//! codes (0 ok, 1 failure, 2 usage). Each command lives in its own file.

mod compile_cmd;
mod config_bridge;
mod context;
mod control_cmd;
mod control_route;
mod demo_cmd;
mod fsutil;
mod incident_cmd;
mod init_cmd;
mod loop_cmd;
mod modes_cmd;
mod output;
mod planning_cmd;
mod queue_ops_cmd;
mod run_cmd;
mod runs_cmd;

use clap::{CommandFactory, Parser, Subcommand};

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
    /// Compile the workspace's `.loop` files into the frozen plan the daemon runs
    #[command(subcommand)]
    Compile(compile_cmd::CompileCommand),
    /// List and inspect the modes the workspace (or the binary) defines
    #[command(subcommand)]
    Modes(modes_cmd::ModesCommand),
    /// Check and format `.loop` files
    #[command(subcommand, name = "loop")]
    Loop(loop_cmd::LoopCommand),
    /// Run the daemon
    #[command(subcommand)]
    Run(run_cmd::RunCommand),
    /// Inspect runs: what each stage answered and where the work went
    #[command(subcommand)]
    Runs(runs_cmd::RunsCommand),
    #[command(flatten)]
    Controls(control_cmd::ControlCommand),
    /// Runtime controls: pause, resume, stop, reload-config, retry-active, clear-stale-state
    #[command(subcommand)]
    Control(control_cmd::ControlCommand),
    /// Planning-plane controls: `planning retry-active`
    #[command(subcommand)]
    Planning(planning_cmd::PlanningCommand),
    /// Operator interventions on queued and blocked work: cancel, supersede, retarget, retry
    #[command(subcommand)]
    Queue(queue_ops_cmd::QueueOpsCommand),
    /// Resolve, cancel or archive incidents by hand
    #[command(subcommand)]
    Incident(incident_cmd::IncidentCommand),
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

fn dispatch(command: Command) -> CliResult {
    match command {
        Command::Demo(args) => demo_cmd::run(&args),
        Command::Init(args) => init_cmd::run(&args),
        Command::Run(command) => run_cmd::run(command),
        Command::Runs(command) => runs_cmd::run(command),
        Command::Compile(command) => compile_cmd::run(command),
        Command::Modes(command) => modes_cmd::run(command),
        Command::Loop(command) => loop_cmd::run(command),
        Command::Controls(command) | Command::Control(command) => control_cmd::run(command),
        Command::Planning(command) => planning_cmd::run(command),
        Command::Queue(command) => queue_ops_cmd::run(command),
        Command::Incident(command) => incident_cmd::run(command),
        Command::Version => Ok(Out::new().line(format!("millrace {}", env!("CARGO_PKG_VERSION")))?),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "millrace", &mut std::io::stdout());
            Ok(())
        }
    }
}
