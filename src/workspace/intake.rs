//! Idea intake: `add-idea` copies into `ideas/inbox/`; normalization turns an idea into a root spec.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::atomic::{write_atomic, write_atomic_new};
use super::documents::{self, RootIntakeKind, SourceType, Spec, WorkDocument};
use super::family::Family;
use super::paths::WorkspacePaths;
use super::queue::{Located, QueueError, QueueStore};
use super::timestamp::Timestamp;
use crate::fs_error::{FileError, at};

/// Idea intake failed.
#[derive(Debug, Error)]
pub enum IntakeError {
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] FileError),
    /// `add-idea` of a name already in the inbox.
    #[error("idea `{}` already exists", path.display())]
    Exists {
        /// The inbox file.
        path: PathBuf,
    },
    /// The idea file has no usable name.
    #[error("`{}` has no file name usable as an idea name", path.display())]
    BadName {
        /// The file.
        path: PathBuf,
    },
    /// Enqueueing the spec failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What normalizing one idea did.
#[derive(Debug, Clone, PartialEq)]
pub enum IdeaOutcome {
    /// A new spec was enqueued.
    Normalized {
        /// The spec id (`idea-<name>`).
        spec_id: String,
        /// The queued spec.
        path: PathBuf,
    },
    /// The spec already exists; nothing was written.
    AlreadyRepresented {
        /// Where the spec is.
        located: Located,
    },
}

/// Copies `source` to `<workspace>/ideas/inbox/<name>.md`, refusing an existing name.
pub fn add_idea(paths: &WorkspacePaths, source: &Path) -> Result<PathBuf, IntakeError> {
    let stem = source.file_stem().and_then(|stem| stem.to_str());
    let stem = stem
        .filter(|stem| !stem.is_empty())
        .ok_or_else(|| IntakeError::BadName {
            path: source.to_path_buf(),
        })?;
    let text = std::fs::read(source).map_err(at("read", source))?;
    let inbox = paths.ideas_inbox();
    std::fs::create_dir_all(&inbox).map_err(at("create", &inbox))?;
    let target = inbox.join(format!("{stem}.md"));
    match write_atomic_new(&target, &text) {
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            Err(IntakeError::Exists { path: target })
        }
        Err(error) => Err(at("write", &target)(error).into()),
        Ok(()) => Ok(target),
    }
}

/// The spec id of an idea file (see [`documents::idea_spec_id`]).
pub fn idea_spec_id(idea_file: &Path) -> Option<String> {
    documents::idea_spec_id(idea_file)
}

/// Turns an inbox idea into spec `idea-<name>` (`Source-Type: idea`,
/// `Root-Idea-ID = Root-Spec-ID = Spec-ID`), keeps a durable copy in
/// `intake/ideas/<spec_id>.md`, and enqueues the spec. An idea already
/// represented by a spec in any lifecycle state is skipped.
pub fn normalize_idea(
    store: &mut QueueStore,
    idea_file: &Path,
) -> Result<IdeaOutcome, IntakeError> {
    let spec_id = idea_spec_id(idea_file).ok_or_else(|| IntakeError::BadName {
        path: idea_file.to_path_buf(),
    })?;
    if let Some(located) = store.find(Family::Spec, &spec_id) {
        return Ok(IdeaOutcome::AlreadyRepresented { located });
    }
    let text = super::input::read_text(idea_file).map_err(at("read", idea_file))?;
    let paths = store.paths().clone();
    let copy = paths.intake_ideas_dir().join(format!("{spec_id}.md"));
    std::fs::create_dir_all(paths.intake_ideas_dir())
        .map_err(at("create", &paths.intake_ideas_dir()))?;
    write_atomic(&copy, text.as_bytes()).map_err(at("write", &copy))?;
    let spec = idea_spec(&paths, &spec_id, idea_file, &text);
    let path = store.enqueue(&WorkDocument::Spec(spec))?;
    Ok(IdeaOutcome::Normalized { spec_id, path })
}

/// Builds the root spec of an idea.
fn idea_spec(paths: &WorkspacePaths, spec_id: &str, idea_file: &Path, text: &str) -> Spec {
    let name = idea_file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (title, first_line) = title_and_first_line(text, spec_id);
    let relative = |path: &Path| {
        path.strip_prefix(paths.root())
            .unwrap_or(path)
            .display()
            .to_string()
    };
    Spec {
        spec_id: spec_id.to_string(),
        title,
        summary: first_line.clone(),
        source_type: SourceType::Idea,
        source_id: Some(spec_id.to_string()),
        parent_spec_id: None,
        root_idea_id: Some(spec_id.to_string()),
        root_spec_id: Some(spec_id.to_string()),
        root_intake_kind: Some(RootIntakeKind::Idea),
        root_intake_id: Some(spec_id.to_string()),
        created_at: Timestamp::now(),
        created_by: "idea_intake".to_string(),
        updated_at: None,
        goals: vec![first_line],
        non_goals: Vec::new(),
        scope: Vec::new(),
        constraints: vec!["stay within what the idea describes".to_string()],
        assumptions: Vec::new(),
        acceptance: vec!["the outcome the idea describes is delivered".to_string()],
        risks: Vec::new(),
        target_paths: Vec::new(),
        entrypoints: Vec::new(),
        required_skills: Vec::new(),
        decomposition_hints: Vec::new(),
        references: vec![
            relative(&paths.intake_ideas_dir().join(format!("{spec_id}.md"))),
            format!("ideas/inbox/{name}"),
        ],
        body: String::new(),
    }
}

/// The idea's title (its `# ` heading, else its first line, else the id) and
/// its first line of content after the title.
fn title_and_first_line(text: &str, fallback: &str) -> (String, String) {
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or(fallback);
    let title = first.trim_start_matches('#').trim();
    let title = if title.is_empty() { fallback } else { title };
    let content = lines
        .map(|line| line.trim_start_matches(['#', '-', '*', ' ']))
        .find(|line| !line.is_empty());
    (title.to_string(), content.unwrap_or(title).to_string())
}
