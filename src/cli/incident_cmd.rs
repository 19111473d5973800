//! `millrace incident resolve|cancel|archive-invalid`: operator interventions
//! on incidents. Resolved incidents move to `incidents/resolved/operator/`,
//! cancelled ones to `<state>/cancelled/`, quarantined `*.invalid` files to
//! `incidents/invalid-archive/`; each leaves a line in `incidents/interventions.jsonl`.

use clap::{Args, Subcommand};

use super::control_route::{ControlTarget, route_intervention};
use super::output::CliResult;
use crate::workspace::mailbox::MailboxCommand;

const ROUTING: &str = "With a live daemon the command is written to its mailbox and applied once \
no stage of the incident runs (`mode: mailbox`); otherwise it is applied now (`mode: direct`).";

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Resolve an incoming, active or blocked incident by hand
    #[command(long_about = format!("Resolve an incident by hand: an incoming, active or blocked \
incident moves to `incidents/resolved/operator/`.\n\n{ROUTING}\n\nExample:\n  \
millrace incident resolve inc-7 --reason \"fixed upstream\""))]
    Resolve(IncidentArgs),
    /// Cancel an incoming, active or blocked incident
    #[command(long_about = format!("Cancel an incident: an incoming, active or blocked incident \
moves to `incidents/<state>/cancelled/`.\n\n{ROUTING}\n\nExample:\n  \
millrace incident cancel inc-7 --reason \"false alarm\""))]
    Cancel(IncidentArgs),
    /// Archive a quarantined incident file (`<name>.invalid`)
    #[command(long_about = format!("Archive a quarantined incident file: a document that did not \
parse was renamed `<name>.md.invalid` in its incident folder; this moves it to \
`incidents/invalid-archive/`. Pass the file name only.\n\n{ROUTING}\n\nExample:\n  \
millrace incident archive-invalid inc-7.md.invalid --reason \"hand-written, broken\""))]
    ArchiveInvalid(InvalidArgs),
}

#[derive(Debug, Args)]
pub struct IncidentArgs {
    /// The incident id
    pub incident_id: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// Why (required, recorded in the audit log and the journal)
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct InvalidArgs {
    /// The quarantined file's name (`inc-7.md.invalid`), without directories
    pub filename: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// Why (required, recorded in the audit log and the journal)
    #[arg(long)]
    pub reason: String,
}

pub fn run(command: IncidentCommand) -> CliResult {
    let (target, command) = match command {
        IncidentCommand::Resolve(args) => (
            args.target,
            MailboxCommand::ResolveIncident {
                incident_id: args.incident_id,
                reason: args.reason,
            },
        ),
        IncidentCommand::Cancel(args) => (
            args.target,
            MailboxCommand::CancelIncident {
                incident_id: args.incident_id,
                reason: args.reason,
            },
        ),
        IncidentCommand::ArchiveInvalid(args) => (
            args.target,
            MailboxCommand::ArchiveInvalidIncident {
                filename: args.filename,
                reason: args.reason,
            },
        ),
    };
    route_intervention(&target, command)
}
