//! `millrace planning retry-active`: requeue the planning plane's active item
//! (a spec, probe, incident or blueprint draft) and clear the planning run.

use clap::{Args, Subcommand};

use super::control_cmd::retry_active;
use super::control_route::ControlTarget;
use super::output::CliResult;
use crate::workspace::mailbox::MailboxCommand;

#[derive(Debug, Subcommand)]
pub enum PlanningCommand {
    /// Requeue the planning plane's active item and clear its run
    #[command(
        long_about = "Requeue the planning plane's active item (spec, probe, incident or \
blueprint draft): its document goes back to its queue, with a line in the requeue log, and the \
planning run is cleared. Nothing active in planning: `applied: false`.\n\nWith a live daemon the \
command is written to its mailbox (`mode: mailbox`); otherwise it is applied now (`mode: direct`).\n\n\
Example:\n  millrace planning retry-active --reason \"planner stuck\""
    )]
    RetryActive(PlanningRetryArgs),
}

#[derive(Debug, Args)]
pub struct PlanningRetryArgs {
    #[command(flatten)]
    pub target: ControlTarget,
    /// Why, recorded in the requeue log and the journal
    #[arg(long, default_value = "operator requested planning retry")]
    pub reason: String,
}

pub fn run(command: PlanningCommand) -> CliResult {
    match command {
        PlanningCommand::RetryActive(args) => {
            let command = MailboxCommand::RetryActive {
                reason: args.reason,
                plane: Some("planning".to_string()),
                work_item: None,
            };
            retry_active(&args.target, command)
        }
    }
}
