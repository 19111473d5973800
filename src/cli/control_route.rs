//! Routing of control commands and interventions: a mailbox command when a
//! live daemon owns the workspace, the shared workspace implementation
//! otherwise. Prints the control-result block:
//!
//! ```text
//! action: <command>
//! mode: direct|mailbox
//! applied: true|false
//! detail: ...
//! command_id: ...      (mailbox)
//! mailbox_path: ...    (mailbox)
//! ```
//!
//! Invalid input (unsafe id, empty reason, unknown item) is an `error:` with
//! exit 1; a benign refusal (nothing to retry, a stage holds the item, resume
//! blocked by usage governance) prints `applied: false` and exits 0.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::context::Workspace;
use super::output::{CliError, CliResult, Out};
use crate::workspace::WorkspacePaths;
use crate::workspace::config::Config;
use crate::workspace::interventions::{self, InterventionError, RetryPolicy};
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::lock;
use crate::workspace::mailbox::{self, MailboxCommand};
use crate::workspace::queue::QueueStore;
use crate::workspace::state::{RuntimeSnapshot, StateError, StateStore};

/// The workspace a control command is for, and whether to wait for a live
/// daemon's answer.
#[derive(Debug, Clone, Args)]
pub struct ControlTarget {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// With a live daemon, wait until it has applied or refused the command and print its
    /// answer (exit 1 when it failed); without one the command is applied at once anyway
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits for the daemon's answer
    #[arg(long, value_name = "SECONDS", default_value_t = 600, requires = "wait")]
    pub wait_timeout: u64,
}

/// What a direct command works on.
pub struct Direct {
    /// The workspace paths.
    pub paths: WorkspacePaths,
    /// The queues.
    pub queue: QueueStore,
    /// The event journal.
    pub journal: Journal,
    /// The runtime snapshot as loaded.
    pub snapshot: RuntimeSnapshot,
    /// Set by controls that changed the snapshot: it is saved after them
    /// (also after a refusal, which may have changed it).
    pub save_snapshot: bool,
}

impl Direct {
    /// Opens the queues and loads the snapshot. `clear-stale-state` (`reset`)
    /// starts from a fresh snapshot when the file is corrupt: it resets it anyway.
    fn open(paths: &WorkspacePaths, reset: bool) -> Result<Direct, CliError> {
        let snapshot = match StateStore::new(paths).load_snapshot() {
            Ok(snapshot) => snapshot,
            Err(StateError::Invalid { .. }) if reset => RuntimeSnapshot::default(),
            Err(error) => return Err(error.into()),
        };
        let mut queue = QueueStore::open(paths)?;
        let journal = Journal::new(paths);
        for record in queue.take_quarantined() {
            let _ = journal.append(record.to_event());
        }
        Ok(Direct {
            paths: paths.clone(),
            queue,
            journal,
            snapshot,
            save_snapshot: false,
        })
    }

    fn save(&mut self) -> CliResult {
        Ok(StateStore::new(&self.paths).save_snapshot(&mut self.snapshot)?)
    }
}

/// The paths of an initialized workspace.
pub fn open(workspace: &Path) -> Result<WorkspacePaths, CliError> {
    let workspace = Workspace::open(workspace)?;
    let root = workspace.agents.parent().unwrap_or(Path::new("/"));
    Ok(WorkspacePaths::new(root))
}

/// True when a live daemon owns the workspace (its lock names a running pid).
pub fn daemon_owns(paths: &WorkspacePaths) -> bool {
    lock::owner_present(paths)
}

/// Routes an intervention or control: validated first, then mailed to a live
/// daemon, or applied by `direct` (refused while a stage holds an affected item).
pub fn route(
    target: &ControlTarget,
    command: MailboxCommand,
    direct: impl FnOnce(&mut Direct) -> Result<String, InterventionError>,
) -> CliResult {
    let paths = open(&target.workspace)?;
    interventions::validate(&command)?;
    if daemon_owns(&paths) {
        return send(&paths, command, target);
    }
    // Held while the command applies: no daemon starts meanwhile, and one
    // that started just before sends the command to its mailbox.
    let Some(_guard) = lock::hold_for_command(&paths)? else {
        return send(&paths, command, target);
    };
    let action = command.name();
    let reset = matches!(command, MailboxCommand::ClearStaleState { .. });
    let mut ctx = Direct::open(&paths, reset)?;
    if let Some(busy) = interventions::blocking_run(&ctx.snapshot, &command) {
        return print_direct(&action, false, &busy.to_string());
    }
    let result = direct(&mut ctx);
    if ctx.save_snapshot {
        ctx.save()?;
    }
    match result {
        Ok(detail) => print_direct(&action, true, &detail),
        Err(refusal) if refusal.is_refusal() => print_direct(&action, false, &refusal.to_string()),
        Err(error) => Err(error.into()),
    }
}

/// Routes an intervention: applied through [`interventions::apply`], the
/// implementation the daemon uses too.
pub fn route_intervention(target: &ControlTarget, command: MailboxCommand) -> CliResult {
    let applied = command.clone();
    route(target, command, move |ctx| {
        let policy = retry_policy(&ctx.paths);
        interventions::apply(&mut ctx.queue, &ctx.journal, &applied, &policy).unwrap_or_else(|| {
            Err(InterventionError::Invalid(format!(
                "`{}` is not an intervention",
                applied.name()
            )))
        })
    })
}

/// Journals a control applied directly (interventions journal themselves).
pub fn journal_control(ctx: &Direct, action: &str, detail: &str) -> String {
    let event = RuntimeEvent::RuntimeControlApplied {
        action: action.to_string(),
        detail: detail.to_string(),
    };
    match ctx.journal.append(event) {
        Ok(()) => detail.to_string(),
        Err(error) => format!("{detail}; journal not written: {error}"),
    }
}

/// `[auto_recovery]` limits; the defaults when the config does not load.
fn retry_policy(paths: &WorkspacePaths) -> RetryPolicy {
    Config::load(&paths.config_file())
        .map(|config| RetryPolicy {
            max_auto_requeues: config.auto_recovery.max_auto_requeues_per_work_item,
        })
        .unwrap_or_default()
}

/// The command could not be put in the daemon's mailbox.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the mailbox command: {0}")]
struct MailboxWriteError(#[source] std::io::Error);

/// Writes the mailbox command and prints where it went; with `--wait`,
/// also the daemon's answer.
pub fn send(paths: &WorkspacePaths, command: MailboxCommand, target: &ControlTarget) -> CliResult {
    let action = command.name();
    let (envelope, path) =
        mailbox::send(paths, command).map_err(|e| CliError::caused(MailboxWriteError(e)))?;
    let mut out = Out::new();
    out.kv("action", &action)?;
    out.kv("mode", "mailbox")?;
    if !target.wait {
        out.kv("applied", false)?;
        out.kv("detail", "queued for the daemon")?;
    }
    out.kv("command_id", &envelope.command_id)?;
    out.kv("mailbox_path", path.display())?;
    if target.wait {
        print_answer(paths, &path, target, &mut out)?;
    }
    Ok(())
}

/// Waits for the daemon's answer to the command at `sent` and prints it;
/// a command the daemon failed is an error.
fn print_answer(
    paths: &WorkspacePaths,
    sent: &Path,
    target: &ControlTarget,
    out: &mut Out,
) -> CliResult {
    let timeout = Duration::from_secs(target.wait_timeout);
    let archived = mailbox::await_archive(paths, sent, timeout, || daemon_owns(paths))?;
    out.kv("applied", archived.error.is_none())?;
    match (&archived.result, &archived.error) {
        (_, Some(error)) => {
            out.kv("detail", error)?;
            Err(CliError::Failed(format!(
                "the daemon did not apply `{}`: {error}",
                archived.name()
            )))
        }
        (Some(result), None) => Ok(out.kv("detail", result)?),
        (None, None) => Ok(out.kv("detail", "applied")?),
    }
}

/// Prints the block of a directly applied (or refused) command.
pub fn print_direct(action: &str, applied: bool, detail: &str) -> CliResult {
    let mut out = Out::new();
    out.kv("action", action)?;
    out.kv("mode", "direct")?;
    out.kv("applied", applied)?;
    out.kv("detail", detail)?;
    Ok(())
}
