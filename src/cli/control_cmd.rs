//! `millrace pause|resume|stop|reload-config|retry-active|clear-stale-state`,
//! also as `millrace control ...`: runtime controls. Each goes to the live
//! daemon's mailbox when one owns the workspace, and is applied directly to
//! the snapshot and queues otherwise.

use clap::{Args, Subcommand};

use super::compile_cmd::{CompileArgs, compile_and_persist};
use super::control_route::{self, ControlTarget, Direct, journal_control, route};
use super::output::{CliError, CliResult, Out};
use crate::workspace::control;
use crate::workspace::interventions::InterventionError;
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::mailbox::MailboxCommand;

const ROUTING: &str = "With a live daemon (the ownership lock names a running process) the \
command is written to `state/mailbox/incoming/` and the daemon applies it at its next safe \
boundary (`mode: mailbox`); otherwise it is applied now (`mode: direct`).";

#[derive(Debug, Subcommand)]
pub enum ControlCommand {
    /// Pause the runtime: no new stage starts until `resume` (stages in flight finish)
    #[command(long_about = format!("Pause the runtime: no new stage starts until `resume`; \
stages in flight finish. Adds the `operator` pause source.\n\n{ROUTING}\n\nExample:\n  millrace pause"))]
    Pause(WorkspaceArgs),
    /// Resume after `pause` (refused while usage governance pauses the runtime)
    #[command(long_about = format!("Resume after `pause`: removes the `operator` pause source. \
While usage governance also pauses the runtime, the resume is refused (`applied: false`).\n\n\
{ROUTING}\n\nExample:\n  millrace resume"))]
    Resume(WorkspaceArgs),
    /// Stop the daemon after the stages in flight; with no daemon, mark the runtime stopped
    #[command(long_about = format!("Stop the daemon: it finishes the stages in flight, keeps \
the next stage of each run pending (the next daemon resumes it) and exits. With no live daemon, \
the snapshot is marked stopped (`process_running: false`).\n\n{ROUTING}\n\nExample:\n  millrace stop"))]
    Stop(WorkspaceArgs),
    /// Recompile the workspace after editing `millrace.toml` or `.loop` files; prints the new plan id
    #[command(long_about = format!("Reload the configuration: recompile the workspace's `.loop` \
files with `millrace.toml` and persist the plan. A plan that does not compile is refused and the \
previous plan is kept (`applied: false`, exit 1, diagnostics on stderr).\n\n{ROUTING}\n\n\
Example:\n  millrace reload-config"))]
    ReloadConfig(WorkspaceArgs),
    /// Requeue the active work item (active -> queue) and clear its plane's run
    #[command(long_about = format!("Requeue the active work item: its document goes back to \
the queue (with a line in `<queue>/<id>.requeue.jsonl`) and its plane's run is cleared, so it \
starts again from the plane's entry stage. With several busy planes, name one with `--plane`. \
Nothing active: `applied: false`.\n\n{ROUTING}\n\nExamples:\n  millrace retry-active\n  \
millrace retry-active --plane execution --reason \"builder hung\""))]
    RetryActive(RetryActiveArgs),
    /// After a crash: requeue every active item, remove a stale lock, reset the snapshot
    #[command(long_about = format!("Clear stale runtime state after a crash (a daemon killed \
mid-stage): every active item of every family goes back to its queue, a stale or invalid \
ownership lock is removed (never a live one), and the snapshot is reset (no runs, not paused, \
no stop). Prints `requeued=N; runtime_ownership_lock=missing|cleared_stale|cleared_invalid|active_owner`.\
\n\n{ROUTING}\n\nExample:\n  millrace clear-stale-state --reason \"daemon was killed\""))]
    ClearStaleState(ClearArgs),
}

#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    #[command(flatten)]
    pub target: ControlTarget,
}

#[derive(Debug, Args)]
pub struct RetryActiveArgs {
    #[command(flatten)]
    pub target: ControlTarget,
    /// Why, recorded in the requeue log and the journal
    #[arg(long, default_value = "operator requested retry")]
    pub reason: String,
    /// The plane whose active item to requeue [default: the one busy plane]
    #[arg(long, value_parser = ["execution", "planning", "learning"], conflicts_with = "work_item")]
    pub plane: Option<String>,
    /// Requeue only this active work item, whichever execution lane runs
    /// it; the other lanes go on
    #[arg(long, value_name = "ID")]
    pub work_item: Option<String>,
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    #[command(flatten)]
    pub target: ControlTarget,
    /// Why, recorded in the requeue logs and the journal
    #[arg(long, default_value = "operator requested stale-state clear")]
    pub reason: String,
}

pub fn run(command: ControlCommand) -> CliResult {
    match command {
        ControlCommand::Pause(args) => route(&args.target, MailboxCommand::Pause, |ctx| {
            Ok(snapshot_control(ctx, "pause", control::pause))
        }),
        ControlCommand::Resume(args) => route(&args.target, MailboxCommand::Resume, resume),
        ControlCommand::Stop(args) => route(&args.target, MailboxCommand::Stop, |ctx| {
            Ok(snapshot_control(ctx, "stop", control::mark_stopped))
        }),
        ControlCommand::ReloadConfig(args) => reload_config(&args),
        ControlCommand::RetryActive(args) => {
            let command = MailboxCommand::RetryActive {
                reason: args.reason,
                plane: args.plane,
                work_item: args.work_item,
            };
            retry_active(&args.target, command)
        }
        ControlCommand::ClearStaleState(args) => {
            let command = MailboxCommand::ClearStaleState {
                reason: args.reason.clone(),
            };
            route(&args.target, command, |ctx| {
                ctx.save_snapshot = true;
                let detail = control::clear_stale_state(
                    &mut ctx.queue,
                    &ctx.journal,
                    &mut ctx.snapshot,
                    &args.reason,
                )?;
                Ok(detail)
            })
        }
    }
}

/// A control that only changes the snapshot; journaled.
fn snapshot_control(
    ctx: &mut Direct,
    action: &str,
    apply: fn(&mut crate::workspace::state::RuntimeSnapshot) -> String,
) -> String {
    ctx.save_snapshot = true;
    let detail = apply(&mut ctx.snapshot);
    journal_control(ctx, action, &detail)
}

fn resume(ctx: &mut Direct) -> Result<String, InterventionError> {
    ctx.save_snapshot = true;
    let detail = control::resume(&mut ctx.snapshot)?;
    Ok(journal_control(ctx, "resume", &detail))
}

/// `retry-active` and `planning retry-active`: the command names the plane.
pub fn retry_active(target: &ControlTarget, command: MailboxCommand) -> CliResult {
    let MailboxCommand::RetryActive {
        reason,
        plane,
        work_item,
    } = command.clone()
    else {
        return Err(CliError::Failed("not a retry-active command".into()));
    };
    route(target, command, move |ctx| {
        let plane = control::parse_plane(plane.as_deref())?;
        ctx.save_snapshot = true;
        let (queue, journal, snapshot) = (&mut ctx.queue, &ctx.journal, &mut ctx.snapshot);
        let detail = match &work_item {
            Some(id) => control::retry_active_item(queue, journal, snapshot, id, &reason)?,
            None => control::retry_active(queue, journal, snapshot, plane, &reason)?,
        };
        Ok(journal_control(ctx, "retry_active", &detail))
    })
}

/// Recompiles and persists the plan (no daemon), or mails `reload_config`.
pub fn reload_config(args: &WorkspaceArgs) -> CliResult {
    let paths = control_route::open(&args.target.workspace)?;
    if control_route::daemon_owns(&paths) {
        return control_route::send(&paths, MailboxCommand::ReloadConfig, &args.target);
    }
    let compile = CompileArgs {
        workspace: args.target.workspace.clone(),
        mode: None,
        config: None,
        deny: None,
    };
    match compile_and_persist(&compile, &mut Out::quiet()) {
        Ok(compiled) => {
            let plan_id = compiled.plan.plan_id;
            let event = RuntimeEvent::RuntimeConfigReloaded {
                plan_id: plan_id.clone(),
            };
            let detail = match Journal::new(&paths).append(event) {
                Ok(()) => format!("reload applied plan {plan_id}"),
                Err(e) => format!("reload applied plan {plan_id}; journal not written: {e}"),
            };
            control_route::print_direct("reload_config", true, &detail)
        }
        Err(error) => {
            let message = match &error {
                CliError::Reported => "the workspace does not compile".to_string(),
                other => other.message(),
            };
            let detail = format!("reload failed: {message}; the previous plan is kept");
            control_route::print_direct("reload_config", false, &detail)?;
            Err(error)
        }
    }
}
