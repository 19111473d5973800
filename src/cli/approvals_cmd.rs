//! `millrace approvals ls|show|approve|deny`: the execution-capability
//! approvals gated stages wait for. An answer goes through the mailbox
//! when a daemon is live, and straight to the store otherwise.

use clap::{Args, Subcommand};

use super::control_route::{self, ControlTarget, journal_control, route};
use super::output::{CliResult, Out, fail};
use super::workspace_arg::WorkspaceArg;
use crate::workspace::approvals::{self, Approval, ApprovalError, ApprovalStatus, ApprovalStore};
use crate::workspace::interventions::InterventionError;
use crate::workspace::mailbox::MailboxCommand;

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Every approval, pending first: id, status, capability, grant, run, work item
    Ls(WorkspaceArg),
    /// One approval record as JSON
    Show(ShowArgs),
    /// Let the gated stage run with the capability
    Approve(AnswerArgs),
    /// Refuse it: the gated stage does not run and its work item is blocked with the reason
    Deny(AnswerArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The approval id (`approvals ls` lists them)
    pub approval_id: String,
    #[command(flatten)]
    pub ws: WorkspaceArg,
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The approval id (`approvals ls` lists them)
    pub approval_id: String,
    /// Why (kept in the record and, for a denial, in the stage result)
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub target: ControlTarget,
}

pub fn run(command: ApprovalsCommand) -> CliResult {
    match command {
        ApprovalsCommand::Ls(args) => ls(&args),
        ApprovalsCommand::Show(args) => show(&args),
        ApprovalsCommand::Approve(args) => {
            let reason = args.reason.clone().unwrap_or_else(|| "approved".into());
            let command = MailboxCommand::ApproveExecutionCapability {
                approval_id: args.approval_id.clone(),
                reason,
            };
            answer(&args.target, command, &args.approval_id)
        }
        ApprovalsCommand::Deny(args) => {
            let reason = args.reason.clone().unwrap_or_else(|| "denied".into());
            let command = MailboxCommand::DenyExecutionCapability {
                approval_id: args.approval_id.clone(),
                reason,
            };
            answer(&args.target, command, &args.approval_id)
        }
    }
}

fn store(ws: &WorkspaceArg) -> Result<ApprovalStore, super::output::CliError> {
    let paths = control_route::open(&ws.workspace)?;
    Ok(ApprovalStore::new(paths.agents_dir()))
}

fn ls(args: &WorkspaceArg) -> CliResult {
    let mut out = Out::new();
    for approval in store(args)?.list() {
        describe(&mut out, &approval)?;
        out.line("")?;
    }
    Ok(())
}

/// The reference's `approvals ls` block, plus the stage and scope.
fn describe(out: &mut Out, a: &Approval) -> CliResult {
    out.kv("approval_id", &a.approval_id)?;
    out.kv("status", a.status)?;
    out.kv("capability_id", a.capability_id)?;
    out.kv("grant_id", &a.grant_id)?;
    out.kv("run_id", &a.run_id)?;
    out.kv("work_item_id", a.work_item_id.as_deref().unwrap_or("none"))?;
    out.kv("stage", format!("{}/{}", a.plane, a.node_id))?;
    out.kv("gate_scope", a.gate_scope)?;
    Ok(())
}

fn show(args: &ShowArgs) -> CliResult {
    let Some(approval) = store(&args.ws)?.find(&args.approval_id) else {
        return fail(format!("approval not found: {}", args.approval_id));
    };
    let text = serde_json::to_string_pretty(&approval).unwrap_or_default();
    Ok(Out::new().line(&text)?)
}

/// Approve or deny: mailed to a live daemon, else recorded here. An id
/// that names no pending approval is refused here and now, not queued for
/// a daemon to refuse where the operator does not look.
fn answer(target: &ControlTarget, command: MailboxCommand, id: &str) -> CliResult {
    let paths = control_route::open(&target.workspace)?;
    match ApprovalStore::new(paths.agents_dir()).find(id) {
        None => return fail(ApprovalError::NotFound(id.to_string()).to_string()),
        Some(a) if a.status != ApprovalStatus::Pending => {
            let status = a.status;
            let id = id.to_string();
            return fail(ApprovalError::AlreadyResolved { id, status }.to_string());
        }
        Some(_) => {}
    }
    let applied = command.clone();
    route(target, command, move |ctx| {
        let answered = approvals::apply(ctx.paths.agents_dir(), &applied, "operator");
        let Some((result, _)) = answered else {
            return Err(InterventionError::Invalid(applied.name()));
        };
        let detail = result.map_err(|e| InterventionError::Invalid(e.to_string()))?;
        Ok(journal_control(ctx, &applied.name(), &detail))
    })
}
