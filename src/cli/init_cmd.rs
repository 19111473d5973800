//! `millrace init`: create the workspace layout and the default config, and
//! install editable copies of the shipped loops, modes, entrypoints and skills,
//! recording each installed file in the baseline manifest for `upgrade`.
//! Idempotent: files that exist (an operator's edits) are never overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;

use super::output::{CliError, CliResult, Out};
use crate::assets::{self, ShippedFile};
use crate::fs_error::at;
use crate::workspace::WorkspacePaths;
use crate::workspace::baseline::{self, BaselineManifest, sha256_hex};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The workspace directory (created if missing). Safe to re-run: missing
    /// files are restored, existing ones are kept as they are
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}

pub fn run(args: &InitArgs) -> CliResult {
    let root = std::path::absolute(&args.workspace).unwrap_or_else(|_| args.workspace.clone());
    let adopted = adopt_reference_workspace(&root)?;
    let created = install(&root)?;
    let mut out = Out::new();
    out.kv("workspace", root.display())?;
    out.kv("initialized", true)?;
    out.kv("files_created", created)?;
    if let Some((version, installed)) = adopted {
        out.kv("adopted_from", format!("millrace-ai {version}"))?;
        out.kv("files_installed", installed)?;
    }
    Ok(())
}

/// A workspace the Python reference made is adopted as `upgrade --apply`
/// would (its untouched files become ours, operator edits are kept);
/// returns the reference's version and how many files it installed.
fn adopt_reference_workspace(root: &Path) -> Result<Option<(String, usize)>, CliError> {
    let paths = WorkspacePaths::new(root);
    let Some(manifest) = baseline::load(&paths)? else {
        return Ok(None);
    };
    let Some(version) = manifest.seed_package_version.clone() else {
        return Ok(None);
    };
    crate::workspace::init(&paths).map_err(at("write", paths.agents_dir()))?;
    let installed = super::upgrade_cmd::adopt(&paths, &manifest)?;
    Ok(Some((version, installed)))
}

/// Creates the layout, the default config and the shipped files that are
/// missing, and records them in the baseline; returns how many it wrote.
pub fn install(root: &Path) -> Result<usize, CliError> {
    let paths = WorkspacePaths::new(root);
    let config_existed = paths.config_file().exists();
    crate::workspace::init(&paths).map_err(at("write", paths.agents_dir()))?;
    let mut created = usize::from(!config_existed);
    let mut installed = Vec::new();
    for file in assets::shipped_files() {
        if write_missing(&paths.agents_dir().join(&file.relative_path), file.contents)? {
            installed.push(file);
        }
    }
    created += installed.len();
    record_baseline(&paths, &installed)?;
    // The skills index lists the shipped skills from the start.
    crate::workspace::skills::SkillStore::new(&paths)
        .write_index()
        .map_err(CliError::caused)?;
    Ok(created)
}

/// Adds the installed files to the baseline manifest (creating it), and gives
/// every shipped file without an entry the shipped hash: a file that was there
/// before `init` then counts as the operator's, never to be overwritten.
fn record_baseline(paths: &WorkspacePaths, installed: &[ShippedFile]) -> CliResult {
    let existing = baseline::load(paths)?;
    let mut hashes = existing
        .as_ref()
        .map(BaselineManifest::hashes)
        .unwrap_or_default();
    let before = hashes.clone();
    for file in installed {
        hashes.insert(file.relative_path.clone(), sha256_hex(file.contents));
    }
    for file in assets::shipped_files() {
        hashes
            .entry(file.relative_path)
            .or_insert_with(|| sha256_hex(file.contents));
    }
    if existing.is_some() && hashes == before {
        return Ok(());
    }
    save_manifest(paths, &hashes, existing.as_ref())
}

/// Saves the manifest; one the reference wrote stays marked as its, so a later
/// `upgrade --apply` still adopts the operator's edits of its files.
fn save_manifest(
    paths: &WorkspacePaths,
    hashes: &BTreeMap<String, String>,
    existing: Option<&BaselineManifest>,
) -> CliResult {
    let manifest = BaselineManifest::from_hashes(hashes).adopting_from(existing);
    Ok(baseline::save(paths, &manifest)?)
}

/// Writes `bytes` unless the file exists; returns whether it wrote.
fn write_missing(path: &Path, bytes: &[u8]) -> Result<bool, CliError> {
    if path.exists() {
        return Ok(false);
    }
    crate::workspace::atomic::write_atomic_creating_parent(path, bytes)
        .map_err(at("write", path))?;
    Ok(true)
}
