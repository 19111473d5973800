//! `millrace runs prune`: remove the folders of finished runs past the
//! retention limits of `[runs]` (or the flags), keeping unfinished work's runs.

use clap::Args;

use super::context::Workspace;
use super::output::{CliError, CliResult, Out, fail};
use super::queue_cmd::Format;
use super::workspace_arg::WorkspaceArg;
use crate::workspace::WorkspacePaths;
use crate::workspace::config::Config;
use crate::workspace::journal::Journal;
use crate::workspace::runs::{PruneMode, PruneReport, RetentionPolicy, prune_runs};
use crate::workspace::state::{RuntimeSnapshot, StateStore};

/// The long help of `runs prune`: what goes, what always stays, where the limits come from.
pub const PRUNE_HELP: &str = "Remove the folders of finished runs (runs/<run_id>/) past the \
retention limits. A run folder is past the limits when `keep_last` newer run folders exist, or \
when it was last touched more than `keep_days` days ago. The limits come from `[runs]` in \
millrace.toml (defaults: keep_last = 1000, keep_days = 30); --keep-last and --keep-days replace \
them for this prune; 0 means no limit.\n\n\
Always kept, whatever the limits:\n  \
- runs the daemon is executing (the active runs of state/runtime_snapshot.json)\n  \
- runs of queued, active or blocked work items\n  \
- runs an open incident or learning request names as evidence\n  \
- run folders that name no work item and changed in the last day\n\n\
Safe beside a running daemon, which applies the same policy by itself at start and as runs \
finish. A folder is renamed to `.removing-<run_id>` before it is deleted, so a prune that is \
interrupted is finished by the next one; symbolic links are never followed.\n\n\
Prints `key: value` lines (or one JSON object): runs found, removed, kept, bytes_freed, then a \
`removed_run:` line per removed run and a `kept_anyway:` line per run kept past the limits.\n\n\
Examples:\n  millrace runs prune --dry-run\n  millrace runs prune --keep-last 200\n  \
millrace runs prune --keep-days 7 --format json";

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Keep at most N run folders, newest first; 0: no count limit [default: `runs.keep_last` of millrace.toml, 1000]
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u64>,
    /// Remove run folders untouched for more than D days; 0: no age limit [default: `runs.keep_days` of millrace.toml, 30]
    #[arg(long, value_name = "D")]
    pub keep_days: Option<u64>,
    /// Print what would be removed, and remove nothing
    #[arg(long)]
    pub dry_run: bool,
    /// `text` prints `key: value` lines; `json` one object with the same keys
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub ws: WorkspaceArg,
}

pub fn prune(args: &PruneArgs) -> CliResult {
    let workspace = Workspace::open(&args.ws.workspace)?;
    let paths = workspace.paths();
    let policy = policy(&paths, args)?;
    let report = prune_runs(&paths, &policy, &live_snapshot(&paths)?, mode(args))?;
    if !report.dry_run && !report.removed.is_empty() {
        // The removal happened; a journal that cannot be written does not undo it.
        let _ = Journal::new(&paths).append(report.event("operator"));
    }
    print(&report, args.format)?;
    match report.failed.len() {
        0 => Ok(()),
        n => fail(format!(
            "{n} run folder(s) could not be removed (see the `failed:` lines)"
        )),
    }
}

/// `[runs]` of the workspace's config, with the flags given in place of its limits.
fn policy(paths: &WorkspacePaths, args: &PruneArgs) -> Result<RetentionPolicy, CliError> {
    let config = Config::load(&paths.config_file())?;
    Ok(RetentionPolicy::from_config(&config.runs).overridden(args.keep_last, args.keep_days))
}

/// The snapshot naming a live daemon's active runs. One that cannot be read
/// stops the prune rather than risk removing the run being written.
fn live_snapshot(paths: &WorkspacePaths) -> Result<RuntimeSnapshot, CliError> {
    Ok(StateStore::new(paths).load_snapshot()?)
}

fn mode(args: &PruneArgs) -> PruneMode {
    if args.dry_run {
        PruneMode::DryRun
    } else {
        PruneMode::Apply
    }
}

fn print(report: &PruneReport, format: Format) -> CliResult {
    let mut out = Out::new();
    if format == Format::Json {
        let json = serde_json::to_string_pretty(report).unwrap_or_default();
        return Ok(out.line(json)?);
    }
    let limit = |value: Option<u64>| value.map_or_else(|| "none".to_string(), |n| n.to_string());
    out.kv("dry_run", report.dry_run)?;
    out.kv("keep_last", limit(report.keep_last))?;
    out.kv("keep_days", limit(report.keep_days))?;
    out.kv("runs", report.runs)?;
    out.kv("removed", report.removed.len())?;
    out.kv("kept", report.kept)?;
    out.kv("bytes_freed", report.bytes_freed)?;
    out.kv("leftovers_finished", report.leftovers_finished)?;
    print_lists(&mut out, report)
}

fn print_lists(out: &mut Out, report: &PruneReport) -> CliResult {
    for run_id in &report.removed {
        out.kv("removed_run", run_id)?;
    }
    for kept in &report.kept_anyway {
        out.kv(
            "kept_anyway",
            format!("{} {}", kept.run_id, kept.reason.as_str()),
        )?;
    }
    for name in &report.skipped {
        out.kv("skipped", name)?;
    }
    for failed in &report.failed {
        out.kv("failed", format!("{} {}", failed.run_id, failed.error))?;
    }
    Ok(())
}
