//! `millrace queue repair-lineage [--root-spec-id ID] [--apply]`: finds
//! work of a closure target's idea that names another root spec, prints the
//! repair plan, and with `--apply` rewrites it as an intervention (through
//! the mailbox when a daemon is live).

use clap::Args;

use super::control_route::{ControlTarget, open, route_intervention};
use super::output::{CliResult, Out};
use crate::workspace::interventions::repair_plans;
use crate::workspace::lineage::RepairPlan;
use crate::workspace::mailbox::MailboxCommand;
use crate::workspace::queue::QueueStore;

#[derive(Debug, Args)]
pub struct RepairLineageArgs {
    /// The open closure target to inspect or repair [default: every open one]
    #[arg(long)]
    pub root_spec_id: Option<String>,
    /// Rewrite the queued and blocked documents the plan names (a dry run
    /// without it)
    #[arg(long)]
    pub apply: bool,
    /// Why, recorded in the audit logs and the journal with `--apply`
    #[arg(long, default_value = "repair closure lineage")]
    pub reason: String,
    #[command(flatten)]
    pub target: ControlTarget,
}

pub fn run(args: RepairLineageArgs) -> CliResult {
    let paths = open(&args.target.workspace)?;
    let queue = QueueStore::open_read_only(&paths)?;
    let plans = repair_plans(&queue, args.root_spec_id.as_deref())?;
    let mut out = Out::new();
    out.kv("apply", args.apply)?;
    out.kv("target_count", plans.len())?;
    for plan in &plans {
        print_plan(&mut out, plan)?;
    }
    if !args.apply {
        return Ok(());
    }
    let command = MailboxCommand::RepairLineage {
        root_spec_id: args.root_spec_id,
        reason: args.reason,
    };
    route_intervention(&args.target, command)
}

/// `root_spec_id:`, the counts, then one `change:` line per field and one
/// `skipped:` line per finding left alone.
fn print_plan(out: &mut Out, plan: &RepairPlan) -> CliResult {
    out.kv("root_spec_id", &plan.root_spec_id)?;
    out.kv("repair_count", plan.documents())?;
    out.kv("change_count", plan.changes.len())?;
    out.kv("skipped_count", plan.skipped.len())?;
    for change in &plan.changes {
        let old = change.old.as_deref().unwrap_or("none");
        out.kv(
            "change",
            format!(
                "{} {} {} {old} -> {}",
                change.family, change.id, change.field, change.new
            ),
        )?;
    }
    for finding in &plan.skipped {
        out.kv(
            "skipped",
            format!("{} {} state={}", finding.family, finding.id, finding.state),
        )?;
    }
    Ok(())
}
