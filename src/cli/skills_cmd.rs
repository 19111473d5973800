//! `millrace skills ...`: the workspace's skill packages. Reading (`ls`,
//! `show`, `search`, `export`, `refresh-remote-index`) is done here;
//! changing the store (`install`, `promote`) and asking the learning plane
//! (`create`, `improve`) is in `skills_change_cmd.rs`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::context::Workspace;
use super::output::{CliError, CliResult, Out};
use super::queue_cmd::Format;
use super::skills_change_cmd::{
    self as change, CreateArgs, ImproveArgs, InstallArgs, PromoteArgs, remote_settings,
};
use crate::workspace::skills::{self, IndexEntry, RemoteEntry, SkillStore, remote};

#[derive(Debug, Subcommand)]
pub enum SkillsCommand {
    /// Install a skill package: an id of the remote index, a folder, a `SKILL.md`, a `.tar.gz`/`.zip`, or a URL
    #[command(
        long_about = "Install a skill package into `millrace-agents/skills/<id>/` and list it in \
`skills/skills_index.md`. SKILL_REF is a folder holding `SKILL.md` (or that `SKILL.md`), a `.tar.gz` or \
`.zip` archive, an http(s):// or file:// URL of one, or the id of an `available` entry of the remote \
index (`[skills] remote_index_url`). The package is validated first (front matter `name` and \
`description`, paths inside the package, no symlink out of it, at most 1 MiB); a bad package is \
refused and nothing is written.\n\nAn existing skill is replaced only with `--update` (refused when it \
was edited in the workspace) or `--force`; the version replaced is kept in `skills/.history/<id>/`. \
With a live daemon the install goes through its mailbox and is applied when no stage using the \
skill runs.\n\nExamples:\n  millrace skills install csv-formats\n  millrace skills install ./my-skill\n  \
millrace skills install csv-formats.zip --update"
    )]
    Install(InstallArgs),
    /// Ask the learning plane for a new skill: queues a learning request (`--foreground` runs it now)
    Create(CreateArgs),
    /// Ask the learning plane to improve an installed skill: queues a learning request
    Improve(ImproveArgs),
    /// Install the learning candidate `learning/skill-candidates/<id>/` as a skill
    Promote(PromoteArgs),
    /// Write a skill package as a `.zip` (installable again with `skills install`)
    Export(ExportArgs),
    /// List the workspace's skills: id, version, origin, path (`--format json` for every field)
    Ls(ListArgs),
    /// Show one skill: its index row and the versions kept in its history
    Show(ShowArgs),
    /// Search installed skills and the cached remote index by id, description and tags
    Search(SearchArgs),
    /// Fetch the remote skills index into `skills/remote_skills_index.md`
    RefreshRemoteIndex(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The skill id
    pub skill_id: String,
    #[command(flatten)]
    pub common: ListArgs,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find (case-insensitive) in ids, descriptions and tags
    pub query: String,
    #[command(flatten)]
    pub common: ListArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The skill id
    pub skill_id: String,
    /// The archive to write (`.zip` is added when missing) [default: `<workspace>/<id>.zip`]
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: ListArgs,
}

pub fn run(command: SkillsCommand) -> CliResult {
    match command {
        SkillsCommand::Install(args) => change::install(&args),
        SkillsCommand::Create(args) => change::create(&args),
        SkillsCommand::Improve(args) => change::improve(&args),
        SkillsCommand::Promote(args) => change::promote(&args),
        SkillsCommand::Export(args) => export(&args),
        SkillsCommand::Ls(args) => ls(&args),
        SkillsCommand::Show(args) => show(&args),
        SkillsCommand::Search(args) => search(&args),
        SkillsCommand::RefreshRemoteIndex(args) => refresh(&args),
    }
}

/// The store of an initialized workspace.
pub fn open_store(workspace: &std::path::Path) -> Result<(Workspace, SkillStore), CliError> {
    let workspace = Workspace::open(workspace)?;
    let store = SkillStore::new(&workspace.paths());
    Ok((workspace, store))
}

fn ls(args: &ListArgs) -> CliResult {
    let (_, store) = open_store(&args.workspace)?;
    let entries = store.entries().map_err(CliError::caused)?;
    let mut out = Out::new();
    match args.format {
        Format::Json => out.line(json!({ "skills": entries }))?,
        Format::Text => {
            for entry in &entries {
                out.kv("skill", row(entry))?;
            }
        }
    }
    Ok(())
}

/// `id version=N origin=O path=P`, and `modified` when edited by hand.
fn row(entry: &IndexEntry) -> String {
    let modified = if entry.modified { " modified" } else { "" };
    format!(
        "{} version={} origin={} path={}{modified}",
        entry.id,
        entry.version,
        entry.origin.as_str(),
        entry.path
    )
}

fn show(args: &ShowArgs) -> CliResult {
    let (workspace, store) = open_store(&args.common.workspace)?;
    let entry = store.find(&args.skill_id).map_err(CliError::caused)?;
    let history = history_versions(&store, &entry.id);
    let mut out = Out::new();
    if args.common.format == Format::Json {
        let mut value = serde_json::to_value(&entry).unwrap_or_default();
        value["history"] = json!(history);
        return Ok(out.line(value)?);
    }
    out.kv("skill_id", &entry.id)?;
    out.kv("path", workspace.agents.join(&entry.path).display())?;
    out.kv("description", &entry.description)?;
    out.kv("tags", entry.tags.join(", "))?;
    out.kv("origin", entry.origin.as_str())?;
    out.kv("version", entry.version)?;
    out.kv("checksum", &entry.checksum)?;
    out.kv("modified", entry.modified)?;
    for version in history {
        out.kv("history", version)?;
    }
    Ok(())
}

/// The versions kept in a skill's history (`v1`, `v2`, ...), oldest first.
fn history_versions(store: &SkillStore, id: &str) -> Vec<String> {
    let mut versions: Vec<String> = std::fs::read_dir(store.history_dir(id))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort_by_key(|v| v.trim_start_matches('v').parse::<u32>().unwrap_or(u32::MAX));
    versions
}

fn search(args: &SearchArgs) -> CliResult {
    let needle = args.query.trim().to_lowercase();
    if needle.is_empty() {
        return Err(CliError::Failed("search query is required".into()));
    }
    let (workspace, store) = open_store(&args.common.workspace)?;
    let local: Vec<IndexEntry> = store.entries().map_err(CliError::caused)?;
    let local: Vec<IndexEntry> = local
        .into_iter()
        .filter(|e| matches_local(e, &needle))
        .collect();
    let cached = remote::cached(&workspace.paths().skills_dir());
    let found: Vec<RemoteEntry> = cached
        .iter()
        .flatten()
        .filter(|e| matches_remote(e, &needle))
        .cloned()
        .collect();
    let mut out = Out::new();
    if args.common.format == Format::Json {
        let value =
            json!({ "installed": local, "remote": found, "remote_index_cached": cached.is_some() });
        return Ok(out.line(value)?);
    }
    for entry in &local {
        out.kv("installed", row(entry))?;
    }
    for entry in &found {
        out.kv(
            "remote",
            format!("{} status={} {}", entry.id, entry.status, entry.description),
        )?;
    }
    if cached.is_none() {
        out.kv(
            "remote_index",
            "not cached (run `millrace skills refresh-remote-index`)",
        )?;
    }
    Ok(())
}

fn matches_local(entry: &IndexEntry, needle: &str) -> bool {
    contains(&[&entry.id, &entry.description], &entry.tags, needle)
}

fn matches_remote(entry: &RemoteEntry, needle: &str) -> bool {
    contains(&[&entry.id, &entry.description], &entry.tags, needle)
}

fn contains(texts: &[&str], tags: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t.to_lowercase().contains(needle))
        || tags.iter().any(|t| t.to_lowercase().contains(needle))
}

fn export(args: &ExportArgs) -> CliResult {
    let (workspace, store) = open_store(&args.common.workspace)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| workspace.root().join(format!("{}.zip", args.skill_id)));
    let written = skills::export(&store, &args.skill_id, &output).map_err(CliError::caused)?;
    let mut out = Out::new();
    match args.common.format {
        Format::Json => out.line(json!({ "exported_skill": args.skill_id, "path": written }))?,
        Format::Text => {
            out.kv("exported_skill", &args.skill_id)?;
            out.kv("path", written.display())?;
        }
    }
    Ok(())
}

fn refresh(args: &ListArgs) -> CliResult {
    let (workspace, _) = open_store(&args.workspace)?;
    let settings = remote_settings(&workspace);
    let dir = workspace.paths().skills_dir();
    let entries = remote::refresh(&dir, &settings).map_err(CliError::caused)?;
    let path = dir.join(remote::CACHE_FILE);
    let mut out = Out::new();
    match args.format {
        Format::Json => out.line(json!({
            "remote_skills_index": path, "source": settings.index_url,
            "entries": entries.len(),
        }))?,
        Format::Text => {
            out.kv("remote_skills_index", path.display())?;
            out.kv("source", &settings.index_url)?;
            out.kv("entries", entries.len())?;
        }
    }
    Ok(())
}
