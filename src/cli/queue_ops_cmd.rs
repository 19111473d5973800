//! `millrace queue cancel|archive-blocked|supersede|retarget-dependency|retry-blocked|repair-lineage`:
//! operator interventions on queued and blocked work. Nothing is deleted:
//! documents move to `cancelled/` or `superseded/` folders, and every
//! intervention appends a line to `<family>/interventions.jsonl`.
//!
//! `QueueOpsCommand` holds only the interventions, so a `queue` command with
//! other subcommands can take them in with `#[command(flatten)]`.

use clap::{Args, Subcommand, ValueEnum};

use super::control_route::{ControlTarget, route_intervention};
use super::output::CliResult;
use crate::workspace::Family;
use crate::workspace::mailbox::MailboxCommand;

const ROUTING: &str = "With a live daemon the command is written to its mailbox and applied once \
no stage of the item runs (`mode: mailbox`); otherwise it is applied now (`mode: direct`), and \
refused (`applied: false`) while the runtime snapshot shows a run on the item.";

#[derive(Debug, Subcommand)]
pub enum QueueOpsCommand {
    /// Cancel a queued or blocked work item (archived under `<state>/cancelled/`)
    #[command(long_about = format!("Cancel a queued or blocked work item of any family. Its \
document moves to `<state dir>/cancelled/<id>.<UTC stamp>.<hex8>.<state>.md`. Active items are \
refused: requeue them first with `millrace retry-active`.\n\n{ROUTING}\n\nExamples:\n  \
millrace queue cancel t-42 --reason \"duplicate of t-40\"\n  \
millrace queue cancel inc-7 --family incident --reason \"not a real failure\""))]
    Cancel(CancelArgs),
    /// Archive a blocked task (into `tasks/blocked/cancelled/`)
    #[command(long_about = format!("Archive a blocked task: its document moves to \
`tasks/blocked/cancelled/`.\n\n{ROUTING}\n\nExample:\n  \
millrace queue archive-blocked t-42 --reason \"obsolete\""))]
    ArchiveBlocked(TaskReasonArgs),
    /// Replace a queued or blocked task by another one; optionally retarget or cancel its dependents
    #[command(long_about = format!("Supersede a queued or blocked task by a replacement that is \
queued, active or done. The old document moves to `<state dir>/superseded/`. Queued tasks that \
depend on it are left waiting (`--cascade none`), rewritten to depend on the replacement \
(`retarget`), or cancelled (`cancel`).\n\n{ROUTING}\n\nExample:\n  \
millrace queue supersede t-42 --replacement t-42b --cascade retarget --reason \"split differently\""))]
    Supersede(SupersedeArgs),
    /// Rewrite one `Depends-On` entry of a queued task
    #[command(long_about = format!("Rewrite one `Depends-On` entry of a queued task from one task \
id to another (which must exist); the document is re-rendered canonically.\n\n{ROUTING}\n\n\
Example:\n  millrace queue retarget-dependency t-50 --from t-42 --to t-42b --reason \"t-42 superseded\""))]
    RetargetDependency(RetargetArgs),
    /// Put a blocked task back in the queue (only transient failures, unless --force)
    #[command(long_about = format!("Put a blocked task back in its queue. Without `--force` this \
is allowed only when the task's blocked diagnostics (`diagnostics/blocked/task-<id>.json`) say \
the failure was transient and its automatic requeues have not spent the \
`[auto_recovery] max_auto_requeues_per_work_item` budget.\n\n{ROUTING}\n\nExamples:\n  \
millrace queue retry-blocked t-42 --reason \"network is back\"\n  \
millrace queue retry-blocked t-42 --force --reason \"fixed the fixture by hand\""))]
    RetryBlocked(RetryBlockedArgs),
    /// Find work of a closure target's idea that names another root spec; `--apply` repairs it
    #[command(long_about = format!("Find queued, active and blocked tasks, specs and incidents \
that came from a closure target's idea but name another root spec, so the target would be judged \
without them. Prints the repair plan (`change:` lines: queued and blocked tasks and incidents get \
the target's `Root-Spec-ID`, and a task's `Spec-ID` when it named the old root; `skipped:` lines: \
items a repair leaves alone). Nothing changes without `--apply`; with it every rewritten document \
is audited and a report is kept under `arbiter/diagnostics/lineage-repairs/`.\n\n{ROUTING}\n\n\
Examples:\n  millrace queue repair-lineage\n  \
millrace queue repair-lineage --root-spec-id idea-greeting --apply"))]
    RepairLineage(super::repair_lineage_cmd::RepairLineageArgs),
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The work item id (the document's file stem)
    pub work_item_id: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// The family, when the id exists in several
    #[arg(long, visible_alias = "kind", value_parser = ["task", "spec", "probe", "incident", "learning_request", "blueprint_draft"])]
    pub family: Option<String>,
    /// Why (required, recorded in the audit log and the journal)
    #[arg(long)]
    pub reason: String,
    /// Accepted for the reference's scripts; as there, it overrides nothing yet
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct TaskReasonArgs {
    /// The task id
    pub task_id: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// Why (required, recorded in the audit log and the journal)
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct SupersedeArgs {
    /// The task to supersede (queued or blocked)
    pub old_task_id: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// The task that replaces it (queued, active or done)
    #[arg(long, value_name = "ID")]
    pub replacement: String,
    /// Why (required, recorded in the audit log and the journal)
    #[arg(long)]
    pub reason: String,
    /// What happens to queued tasks that depend on the old one
    #[arg(long, value_enum, default_value_t = CascadeArg::None)]
    pub cascade: CascadeArg,
}

/// `--cascade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CascadeArg {
    /// Leave them waiting
    None,
    /// Make them depend on the replacement
    Retarget,
    /// Cancel them too
    Cancel,
}

impl CascadeArg {
    fn as_str(self) -> &'static str {
        match self {
            CascadeArg::None => "none",
            CascadeArg::Retarget => "retarget",
            CascadeArg::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Args)]
pub struct RetargetArgs {
    /// The queued task whose `Depends-On` to rewrite
    pub task_id: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// The dependency to replace
    #[arg(long = "from", visible_alias = "old-dependency", value_name = "ID")]
    pub from: String,
    /// The task to depend on instead (must exist)
    #[arg(long = "to", visible_alias = "new-dependency", value_name = "ID")]
    pub to: String,
    /// Why (required, recorded in the audit log and the journal)
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct RetryBlockedArgs {
    /// The blocked task id
    pub task_id: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// Why (required, recorded in the requeue log and the journal)
    #[arg(long)]
    pub reason: String,
    /// Requeue even when the failure was not transient or the auto-retry budget is spent
    #[arg(long)]
    pub force: bool,
    /// Refuse unless the task belongs to this root spec (a guard for scripts)
    #[arg(long, value_name = "ID")]
    pub root_spec_id: Option<String>,
}

pub fn run(command: QueueOpsCommand) -> CliResult {
    let (target, command) = match command {
        QueueOpsCommand::RepairLineage(args) => return super::repair_lineage_cmd::run(args),
        QueueOpsCommand::Cancel(args) => (
            args.target,
            MailboxCommand::CancelWorkItem {
                work_item_id: args.work_item_id,
                family: args.family,
                reason: args.reason,
            },
        ),
        QueueOpsCommand::ArchiveBlocked(args) => (
            args.target,
            MailboxCommand::ArchiveBlockedTask {
                task_id: args.task_id,
                reason: args.reason,
            },
        ),
        QueueOpsCommand::Supersede(args) => (
            args.target,
            MailboxCommand::SupersedeTask {
                old_task_id: args.old_task_id,
                replacement_task_id: args.replacement,
                reason: args.reason,
                cascade: args.cascade.as_str().to_string(),
            },
        ),
        QueueOpsCommand::RetargetDependency(args) => (
            args.target,
            MailboxCommand::RetargetDependency {
                task_id: args.task_id,
                old_dependency_id: args.from,
                new_dependency_id: args.to,
                reason: args.reason,
            },
        ),
        QueueOpsCommand::RetryBlocked(args) => (
            {
                check_root_spec(&args)?;
                args.target
            },
            MailboxCommand::RetryBlocked {
                task_id: args.task_id,
                reason: args.reason,
                force: args.force,
            },
        ),
    };
    route_intervention(&target, command)
}

/// `--root-spec-id`: the blocked task must carry that root spec.
fn check_root_spec(args: &RetryBlockedArgs) -> CliResult {
    let Some(wanted) = &args.root_spec_id else {
        return Ok(());
    };
    let paths = super::control_route::open(&args.target.workspace)?;
    let path = paths
        .agents_dir()
        .join("tasks/blocked")
        .join(format!("{}.md", args.task_id));
    let Ok(document) = crate::workspace::documents::read_document(Family::Task, &path) else {
        return Ok(());
    };
    match document.root_spec_id() {
        Some(root) if root == wanted => Ok(()),
        found => super::output::fail(format!(
            "task `{}` belongs to root spec `{}`, not `{wanted}`",
            args.task_id,
            found.unwrap_or("none")
        )),
    }
}
