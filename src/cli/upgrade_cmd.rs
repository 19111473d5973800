//! `millrace upgrade [--apply]`: compare every managed file (the shipped loops,
//! modes, entrypoints and skills) across the baseline manifest, the workspace
//! and this build, and with `--apply` install only what the operator never
//! touched. Prints `applied:`, manifest ids, a count per disposition, then one
//! `entry: <path> <disposition>` line per managed file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::context::Workspace;
use super::output::{CliError, CliResult, Out, fail};
use crate::assets;
use crate::fs_error::at;
use crate::workspace::WorkspacePaths;
use crate::workspace::baseline::{self, BaselineManifest, Disposition, PlannedEntry, sha256_hex};

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// Write the changes: `safe_update`, `missing` and `new` files get this
    /// build's version and the manifest is rewritten. Operator edits
    /// (`local_modification`) are never touched; any `conflict` refuses the
    /// whole apply. Without it, only the preview is printed
    #[arg(long)]
    pub apply: bool,
    /// Keep a managed file this build no longer ships as the workspace's own
    /// (repeatable). Ours always keeps removed files, so this only checks
    /// that the path is one of the `removed` entries, as the reference does
    #[arg(long, value_name = "PATH")]
    pub localize_removed: Vec<String>,
    /// Read more `--localize-removed` paths from a file, one per line
    #[arg(long, value_name = "FILE")]
    pub localize_removed_from: Option<PathBuf>,
}

pub fn run(args: &UpgradeArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let paths = workspace.paths();
    let manifest = load_manifest(&workspace)?;
    let shipped = assets::shipped_files();
    let candidate = candidate_files(&shipped);
    let entries = baseline::plan(&paths, &manifest, &candidate);
    check_localized(args, &entries)?;
    let mut out = Out::new();
    let conflicts = conflicts(&entries);
    if !args.apply || !conflicts.is_empty() {
        report(&mut out, false, &manifest, &candidate, &entries, None)?;
    }
    if !args.apply {
        return Ok(());
    }
    if !conflicts.is_empty() {
        return fail(format!(
            "upgrade conflict(s) detected: {}; each was edited here and changed in this build. \
             To take the new version: save your edits elsewhere, delete the file, run \
             `millrace upgrade --apply` (it restores the file), then re-apply your edits",
            conflicts.join(", ")
        ));
    }
    // Adopting a reference-made workspace also brings the folders ours needs.
    crate::workspace::init(&paths).map_err(at("write", paths.agents_dir()))?;
    let result = apply(&paths, &candidate, &entries)?;
    report(
        &mut out,
        true,
        &manifest,
        &candidate,
        &entries,
        Some(&result),
    )
}

/// This build's managed files, path → bytes.
fn candidate_files(shipped: &[assets::ShippedFile]) -> BTreeMap<String, &[u8]> {
    let files = shipped.iter();
    files
        .map(|f| (f.relative_path.clone(), f.contents))
        .collect()
}

/// Adopts a workspace the Python reference made: every file of its package
/// the operator never touched becomes this build's, every edited one is kept
/// (`adopted_edit`), the rest of its files stay as they are. Returns the
/// count of files replaced or installed.
pub fn adopt(paths: &WorkspacePaths, manifest: &BaselineManifest) -> Result<usize, CliError> {
    let shipped = assets::shipped_files();
    let candidate = candidate_files(&shipped);
    let entries = baseline::plan(paths, manifest, &candidate);
    apply(paths, &candidate, &entries)?;
    Ok(entries.iter().filter(|e| e.disposition.installs()).count())
}

/// Every `--localize-removed` path must be a `removed` entry.
fn check_localized(args: &UpgradeArgs, entries: &[PlannedEntry]) -> CliResult {
    let mut wanted = args.localize_removed.clone();
    if let Some(file) = &args.localize_removed_from {
        let text = std::fs::read_to_string(file).map_err(at("read", file))?;
        wanted.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string),
        );
    }
    let removed = |path: &String| {
        let path = path
            .trim_start_matches("./")
            .trim_start_matches("millrace-agents/");
        entries
            .iter()
            .any(|entry| entry.path == path && entry.disposition == Disposition::Removed)
    };
    let invalid: Vec<&String> = wanted.iter().filter(|path| !removed(path)).collect();
    if invalid.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = invalid.iter().map(|path| path.as_str()).collect();
    fail(format!(
        "not a removed managed file, so it cannot be localized: {}",
        names.join(", ")
    ))
}

fn load_manifest(workspace: &Workspace) -> Result<BaselineManifest, CliError> {
    let paths = workspace.paths();
    match baseline::load(&paths) {
        Ok(Some(manifest)) => Ok(manifest),
        Ok(None) => fail(format!(
            "no baseline manifest at {}; run `millrace init --workspace {}` to write one",
            baseline::manifest_path(&paths).display(),
            workspace.root.display()
        )),
        Err(error) => Err(error.into()),
    }
}

fn conflicts(entries: &[PlannedEntry]) -> Vec<&str> {
    let conflicting = entries
        .iter()
        .filter(|e| e.disposition == Disposition::Conflict);
    conflicting.map(|e| e.path.as_str()).collect()
}

/// Installs the candidate bytes where the disposition allows, then the new manifest.
fn apply(
    paths: &WorkspacePaths,
    candidate: &BTreeMap<String, &[u8]>,
    entries: &[PlannedEntry],
) -> Result<BaselineManifest, CliError> {
    for entry in entries.iter().filter(|e| e.disposition.installs()) {
        let Some(bytes) = candidate.get(&entry.path) else {
            continue;
        };
        let target = paths.agents_dir().join(&entry.path);
        crate::workspace::atomic::write_atomic_creating_parent(&target, bytes)
            .map_err(at("write", &target))?;
    }
    let manifest = baseline::applied_manifest(entries);
    baseline::save(paths, &manifest)?;
    let rewritten: Vec<&str> = entries
        .iter()
        .filter(|e| e.disposition.installs())
        .map(|e| e.path.as_str())
        .collect();
    crate::workspace::skills::SkillStore::new(paths)
        .accept_rewritten(&rewritten)
        .map_err(CliError::caused)?;
    Ok(manifest)
}

fn report(
    out: &mut Out,
    applied: bool,
    manifest: &BaselineManifest,
    candidate: &BTreeMap<String, &[u8]>,
    entries: &[PlannedEntry],
    result: Option<&BaselineManifest>,
) -> CliResult {
    out.kv("applied", applied)?;
    out.kv("baseline_manifest_id", &manifest.manifest_id)?;
    out.kv("candidate_manifest_id", candidate_id(candidate))?;
    if let Some(result) = result {
        out.kv("result_manifest_id", &result.manifest_id)?;
    }
    for disposition in Disposition::ALL {
        let count = entries.iter().filter(|e| e.disposition == disposition);
        out.kv(disposition.as_str(), count.count())?;
    }
    for entry in entries {
        out.kv("entry", format!("{} {}", entry.path, entry.disposition))?;
    }
    Ok(())
}

/// The manifest id this build would write for a fresh workspace.
fn candidate_id(candidate: &BTreeMap<String, &[u8]>) -> String {
    let hashes = candidate
        .iter()
        .map(|(path, bytes)| (path.clone(), sha256_hex(bytes)))
        .collect();
    BaselineManifest::from_hashes(&hashes).manifest_id
}
