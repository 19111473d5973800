//! `millrace add-task|add-spec|add-probe|add-idea` (also under `millrace
//! queue`): validate a document and put it in the queue, or an idea in the
//! inbox. Applied directly; each prints its enqueued path and a control-result
//! block (`action`, `mode`, `applied`, `detail`).

use std::path::{Path, PathBuf};

use clap::Args;

use super::context::Workspace;
use super::output::{CliError, CliResult, Out, fail};
use crate::workspace::documents::{self, WorkDocument};
use crate::workspace::intake::{self, IntakeError};
use crate::workspace::queue::{QueueError, QueueStore};
use crate::workspace::{Family, WorkspacePaths};

/// A document to import into a queue.
#[derive(Debug, Args)]
pub struct DocumentArgs {
    /// The document: a markdown field document (`.md`: `# Title`, `Label: value`
    /// lines, `Label:` lists of `- item`) or a JSON object with snake_case keys
    /// (`.json`). It is validated and rendered canonically into the queue;
    /// the source file is left alone
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}

/// An idea file to drop into the inbox.
#[derive(Debug, Args)]
pub struct IdeaArgs {
    /// The idea: a markdown file whose name is a safe id (`cache-layer.md`).
    /// It is copied as is to `<workspace>/ideas/inbox/<name>.md`, where the
    /// daemon turns it into the spec `idea-<name>`
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}

/// Imports a task, spec or probe document into its family's queue.
pub fn add_document(family: Family, args: &DocumentArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let document = read_document(family, &args.path)?;
    let paths = workspace.paths();
    let mut store = QueueStore::open_unscanned(&paths);
    let path = store
        .enqueue(&document)
        .map_err(|error| enqueue_error(&paths, error))?;
    let mut out = Out::new();
    out.kv(&format!("enqueued_{family}"), path.display())?;
    let detail = format!("enqueued {family} {}", document.id());
    control_block(&mut out, &format!("add_{family}"), &detail)
}

/// Copies an idea into `<workspace>/ideas/inbox/`.
pub fn add_idea(args: &IdeaArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let name = idea_name(&args.path)?;
    let paths = workspace.paths();
    let path = intake::add_idea(&paths, &args.path).map_err(|error| match error {
        IntakeError::Exists { .. } => CliError::Failed(format!(
            "idea {name} already exists (ideas/inbox/{name}.md)"
        )),
        other => other.into(),
    })?;
    let mut out = Out::new();
    out.kv("enqueued_idea", path.display())?;
    control_block(&mut out, "add_idea", &format!("enqueued idea {name}"))
}

/// The control-result block of a directly applied command.
pub fn control_block(out: &mut Out, action: &str, detail: &str) -> CliResult {
    out.kv("action", action)?;
    out.kv("mode", "direct")?;
    out.kv("applied", true)?;
    out.kv("detail", detail)?;
    Ok(())
}

fn read_document(family: Family, path: &Path) -> Result<WorkDocument, CliError> {
    let ext = path.extension().and_then(|ext| ext.to_str());
    if !matches!(ext, Some("md" | "json")) {
        return fail(format!(
            "{family} import path must end with .md or .json: {}",
            path.display()
        ));
    }
    documents::read_import(family, path).map_err(|source| {
        let path = path.to_path_buf();
        CliError::caused(ImportError {
            family,
            path,
            source,
        })
    })
}

/// A document that could not be imported; its problems follow, one a line.
#[derive(Debug, thiserror::Error)]
#[error("failed to add {family} from {}\n{source}", path.display())]
struct ImportError {
    family: Family,
    path: PathBuf,
    #[source]
    source: documents::DocumentError,
}

/// The idea's name: the file stem of a `.md` file, a safe id.
fn idea_name(path: &Path) -> Result<String, CliError> {
    if path.extension().is_none_or(|ext| ext != "md") {
        return fail(format!("idea path must end with .md: {}", path.display()));
    }
    let stem = path.file_stem().and_then(|stem| stem.to_str());
    match stem.filter(|stem| documents::is_valid_id(stem)) {
        Some(stem) => Ok(stem.to_string()),
        None => fail(format!(
            "idea file name must be a safe id (letters, digits, `.`, `_`, `-`): {}",
            path.display()
        )),
    }
}

/// `task t-1 already exists (tasks/queue/t-1.md)` for duplicates.
fn enqueue_error(paths: &WorkspacePaths, error: QueueError) -> CliError {
    let QueueError::Duplicate { family, id, state } = &error else {
        return error.into();
    };
    let path = paths.item_path(*family, *state, id);
    let shown = path.strip_prefix(paths.agents_dir()).unwrap_or(&path);
    CliError::Failed(format!(
        "{family} {id} already exists ({})",
        shown.display()
    ))
}
