//! `millrace queue ls|show|add-*`: queue depths and active/blocked counts per
//! plane and family (from cached counts, never reading documents), one work
//! item's place and fields, and the `add-*` imports.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use super::add_cmd::{self, DocumentArgs, IdeaArgs};
use super::context::Workspace;
use super::output::{CliError, CliResult, Out, fail};
use crate::workspace::documents::{self, WorkDocument};
use crate::workspace::interventions;
use crate::workspace::queue::{self, Located};
use crate::workspace::{Family, LifecycleState, Plane, WorkspacePaths};

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Queue depths per plane and family, active and blocked counts:
    /// `execution_queue_depth: 3`, `active_task_count: 1`, ...
    Ls(LsArgs),
    /// Where one work item is and what its document says: `millrace queue show t-42`
    Show(ShowArgs),
    /// Import a task (`.md` or `.json`) into `tasks/queue/`; prints `enqueued_task:`
    AddTask(DocumentArgs),
    /// Import a spec (`.md` or `.json`) into `specs/queue/`; prints `enqueued_spec:`
    AddSpec(DocumentArgs),
    /// Import a probe (`.md` or `.json`) into `probes/queue/`; prints `enqueued_probe:`
    AddProbe(DocumentArgs),
    /// Copy an idea (`.md`) into `<workspace>/ideas/inbox/`; prints `enqueued_idea:`
    AddIdea(IdeaArgs),
    /// Interventions: cancel, archive-blocked, supersede, retarget-dependency, retry-blocked
    #[command(flatten)]
    Ops(super::queue_ops_cmd::QueueOpsCommand),
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// `text` prints `key: value` lines; `json` one object with the same keys
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The work item id (the document's file stem), of any family
    pub work_item_id: String,
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}

/// Output format of `queue ls` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(command: QueueCommand) -> CliResult {
    match command {
        QueueCommand::Ls(args) => ls(&args),
        QueueCommand::Show(args) => show(&args),
        QueueCommand::AddTask(args) => add_cmd::add_document(Family::Task, &args),
        QueueCommand::AddSpec(args) => add_cmd::add_document(Family::Spec, &args),
        QueueCommand::AddProbe(args) => add_cmd::add_document(Family::Probe, &args),
        QueueCommand::AddIdea(args) => add_cmd::add_idea(&args),
        QueueCommand::Ops(command) => super::queue_ops_cmd::run(command),
    }
}

/// Queued, active and blocked items per family, counted without reading documents.
#[derive(Debug, Clone, Default)]
pub struct QueueCounts {
    pub queued: Vec<(Family, usize)>,
    pub active: Vec<(Family, usize)>,
    pub blocked: Vec<(Family, usize)>,
    /// What operators archived, by the reference's `queue ls` key.
    pub archived: Vec<(&'static str, usize)>,
}

/// Whether a reader may refresh the queue-depth cache (`status`, `queue ls`)
/// or must write nothing (`serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    Refresh,
    ReadOnly,
}

impl QueueCounts {
    /// Queue depths from the cached counts; active and blocked folders listed.
    pub fn read(paths: &WorkspacePaths) -> Result<QueueCounts, CliError> {
        QueueCounts::read_as(paths, Reading::Refresh)
    }

    /// [`QueueCounts::read`]; `Reading::ReadOnly` leaves the count cache alone.
    pub fn read_as(paths: &WorkspacePaths, reading: Reading) -> Result<QueueCounts, CliError> {
        let depths = match reading {
            Reading::Refresh => queue::count_queued(paths)?,
            Reading::ReadOnly => queue::count_queued_read_only(paths)?,
        };
        let mut counts = QueueCounts::default();
        for family in Family::ALL {
            counts.queued.push((family, depths.family(family)));
            counts
                .active
                .push((family, state_count(paths, family, LifecycleState::Active)?));
            counts
                .blocked
                .push((family, state_count(paths, family, LifecycleState::Blocked)?));
        }
        counts.archived = archived_counts(paths);
        Ok(counts)
    }

    /// Sum of `list` over the families of `plane`.
    pub fn plane(list: &[(Family, usize)], plane: Plane) -> usize {
        let of_plane = list.iter().filter(|(family, _)| family.plane() == plane);
        of_plane.map(|(_, n)| n).sum()
    }

    /// `<plane>_queue_depth` then `<family>_queue_depth` pairs.
    pub fn depth_keys(&self) -> Vec<(String, usize)> {
        let mut keys: Vec<(String, usize)> = Plane::ALL
            .iter()
            .map(|p| (format!("{p}_queue_depth"), Self::plane(&self.queued, *p)))
            .collect();
        let families = self.queued.iter();
        keys.extend(families.map(|(f, n)| (format!("{f}_queue_depth"), *n)));
        keys
    }

    /// The whole `queue ls` key list, in order.
    pub fn ls_keys(&self) -> Vec<(String, usize)> {
        let mut keys = self.depth_keys();
        for plane in Plane::ALL {
            keys.push((format!("{plane}_active"), Self::plane(&self.active, plane)));
        }
        let active = self.active.iter();
        keys.extend(active.map(|(f, n)| (format!("active_{f}_count"), *n)));
        let blocked = self.blocked.iter();
        keys.extend(blocked.map(|(f, n)| (format!("blocked_{f}_count"), *n)));
        let archived = self.archived.iter();
        keys.extend(archived.map(|(key, n)| (key.to_string(), *n)));
        keys
    }
}

/// The reference's counts of archived work: cancelled and superseded tasks
/// (from the queue and from blocked), cancelled incidents (from any open
/// state), incidents an operator resolved.
fn archived_counts(paths: &WorkspacePaths) -> Vec<(&'static str, usize)> {
    use LifecycleState::{Active, Blocked, Done, Queued};
    let count = |family, states: &[LifecycleState], folder| {
        interventions::archived_count(paths, family, states, folder)
    };
    vec![
        (
            "cancelled_task_count",
            count(Family::Task, &[Queued, Blocked], "cancelled"),
        ),
        (
            "superseded_task_count",
            count(Family::Task, &[Queued, Blocked], "superseded"),
        ),
        (
            "cancelled_incident_count",
            count(Family::Incident, &[Queued, Active, Blocked], "cancelled"),
        ),
        (
            "operator_resolved_incident_count",
            count(Family::Incident, &[Done], "operator"),
        ),
    ]
}

fn state_count(
    paths: &WorkspacePaths,
    family: Family,
    state: LifecycleState,
) -> Result<usize, CliError> {
    Ok(queue::count_in_state(paths, family, state)?)
}

fn ls(args: &LsArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let keys = QueueCounts::read(&workspace.paths())?.ls_keys();
    let mut out = Out::new();
    match args.format {
        Format::Text => keys.iter().try_for_each(|(k, v)| out.kv(k, v))?,
        Format::Json => {
            let object: serde_json::Map<String, Value> =
                keys.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
            out.line(Value::Object(object))?;
        }
    }
    Ok(())
}

fn show(args: &ShowArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let id = &args.work_item_id;
    let found = match documents::is_valid_id(id) {
        true => queue::locate_on_disk(&workspace.paths(), id),
        false => Vec::new(),
    };
    let Some((first, others)) = found.split_first() else {
        return show_archived(&workspace.paths(), id);
    };
    let mut out = Out::new();
    out.kv("work_item_id", id)?;
    out.kv("work_item_kind", first.family)?;
    out.kv("work_item_state", first.state.dir_name(first.family))?;
    out.kv("path", first.path.display())?;
    match documents::read_document(first.family, &first.path) {
        Ok(document) => document_fields(&mut out, &document)?,
        Err(error) => out.kv("document_error", one_line(&error.to_string()))?,
    }
    for other in others {
        out.kv("also_found", located_text(other))?;
    }
    Ok(())
}

/// `queue show` of an item an operator cancelled, superseded or resolved:
/// its newest archived copy (the reference finds those too).
fn show_archived(paths: &WorkspacePaths, id: &str) -> CliResult {
    let archived = match documents::is_valid_id(id) {
        true => interventions::find_archived(paths, id),
        false => Vec::new(),
    };
    let Some(newest) = archived.last() else {
        return fail(format!("work item not found: {id}"));
    };
    let mut out = Out::new();
    out.kv("work_item_id", id)?;
    out.kv("work_item_kind", newest.family)?;
    out.kv("work_item_state", &newest.state)?;
    out.kv("path", newest.path.display())?;
    // The archive name is not the id, so the file-stem check does not apply.
    match documents::read_import(newest.family, &newest.path) {
        Ok(document) => document_fields(&mut out, &document)?,
        Err(error) => out.kv("document_error", one_line(&error.to_string()))?,
    }
    for other in &archived[..archived.len() - 1] {
        let text = format!("{} {} {}", other.family, other.state, other.path.display());
        out.kv("also_found", text)?;
    }
    Ok(())
}

fn located_text(located: &Located) -> String {
    let state = located.state.dir_name(located.family);
    format!("{} {state} {}", located.family, located.path.display())
}

/// `title`, then every other non-empty field (lists repeat their key); not the body.
fn document_fields(out: &mut Out, document: &WorkDocument) -> CliResult {
    out.kv("title", document.title())?;
    let Value::Object(fields) = document.to_json() else {
        return Ok(());
    };
    let id_key = document
        .family()
        .id_label()
        .to_ascii_lowercase()
        .replace('-', "_");
    let skip = |key: &str| key == id_key || matches!(key, "title" | "body");
    for (key, value) in fields.iter().filter(|(key, _)| !skip(key)) {
        field_lines(out, key, value)?;
    }
    Ok(())
}

fn field_lines(out: &mut Out, key: &str, value: &Value) -> CliResult {
    match value {
        Value::Null => {}
        Value::String(text) if text.is_empty() => {}
        Value::String(text) => out.kv(key, one_line(text))?,
        Value::Array(items) => {
            for item in items {
                field_lines(out, key, item)?;
            }
        }
        other => out.kv(key, other)?,
    }
    Ok(())
}

fn one_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" | ")
}
