//! The baseline manifest (`state/baseline_manifest.json`): the hash of every
//! managed file as it was installed, so that an upgrade can tell a package
//! update from an operator's edit.
//!
//! Three hashes per path decide what an upgrade may do: the baseline (what was
//! installed), the workspace file now, and the candidate (what this build
//! ships). Only files the operator never touched are ever replaced.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::paths::WorkspacePaths;
use super::state::{SCHEMA_VERSION, StateError, read_state, write_state};

/// One managed file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path relative to `millrace-agents/` (the reference names it `relative_path`).
    #[serde(alias = "relative_path")]
    pub path: String,
    /// Hex sha256 of the bytes installed (the reference's `original_sha256`).
    #[serde(alias = "original_sha256")]
    pub sha256: String,
}

/// `state/baseline_manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineManifest {
    /// `1.0`.
    pub schema_version: String,
    /// `bm-` and 16 hex digits of the entries' hash.
    pub manifest_id: String,
    /// Every managed file, sorted by path.
    pub entries: Vec<ManifestEntry>,
    /// The reference package that installed the files (`0.20.0`), present
    /// only in a manifest the Python reference wrote: its files are adopted
    /// rather than upgraded (see [`Disposition::AdoptedEdit`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_package_version: Option<String>,
}

impl BaselineManifest {
    /// A manifest of `hashes` (path → sha256).
    pub fn from_hashes(hashes: &BTreeMap<String, String>) -> BaselineManifest {
        let entries: Vec<ManifestEntry> = hashes
            .iter()
            .map(|(path, sha256)| ManifestEntry {
                path: path.clone(),
                sha256: sha256.clone(),
            })
            .collect();
        BaselineManifest {
            schema_version: SCHEMA_VERSION.to_string(),
            manifest_id: manifest_id(&entries),
            entries,
            seed_package_version: None,
        }
    }

    /// The same manifest, still marked as the reference's when `from` was.
    pub fn adopting_from(mut self, from: Option<&BaselineManifest>) -> BaselineManifest {
        self.seed_package_version = from.and_then(|m| m.seed_package_version.clone());
        self
    }

    /// True for a manifest the Python reference wrote, whose files this build adopts.
    pub fn is_reference_made(&self) -> bool {
        self.seed_package_version.is_some()
    }

    /// The entries as path → sha256.
    pub fn hashes(&self) -> BTreeMap<String, String> {
        let pairs = self.entries.iter();
        pairs.map(|e| (e.path.clone(), e.sha256.clone())).collect()
    }
}

/// `bm-` + the first 16 hex digits of sha256 over `path sha256\n` lines.
pub fn manifest_id(entries: &[ManifestEntry]) -> String {
    let mut hasher = Sha256::new();
    for entry in entries {
        hasher.update(format!("{} {}\n", entry.path, entry.sha256).as_bytes());
    }
    format!("bm-{}", &hex(&hasher.finalize())[..16])
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `state/baseline_manifest.json` of a workspace.
pub fn manifest_path(paths: &WorkspacePaths) -> std::path::PathBuf {
    paths.state_dir().join("baseline_manifest.json")
}

/// Reads the manifest; `Ok(None)` when there is none.
pub fn load(paths: &WorkspacePaths) -> Result<Option<BaselineManifest>, StateError> {
    read_state(&manifest_path(paths))
}

/// Writes the manifest atomically.
pub fn save(paths: &WorkspacePaths, manifest: &BaselineManifest) -> Result<(), StateError> {
    write_state(&manifest_path(paths), manifest)
}

/// How a managed file compares across baseline, workspace and candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Disposition {
    /// All three agree.
    Unchanged,
    /// Untouched by the operator; the package changed it: safe to replace.
    SafeUpdate,
    /// Edited by the operator; the package did not change it: kept.
    LocalModification,
    /// The workspace already holds the candidate bytes.
    AlreadyConverged,
    /// Edited by the operator and changed by the package: needs a decision.
    Conflict,
    /// In the baseline, deleted from the workspace: restored by `--apply`.
    Missing,
    /// Shipped now, not in the baseline, absent from the workspace: installed by `--apply`.
    New,
    /// In the baseline, no longer shipped: left alone and no longer managed.
    Removed,
    /// Installed by the reference, edited by the operator, shipped differently
    /// here: kept as the operator's edit of ours (a conflict in an upgrade
    /// between two builds of ours, but adopting a workspace must not refuse).
    AdoptedEdit,
}

impl Disposition {
    /// Every disposition, in report order.
    pub const ALL: [Disposition; 9] = [
        Disposition::Unchanged,
        Disposition::SafeUpdate,
        Disposition::LocalModification,
        Disposition::AlreadyConverged,
        Disposition::Conflict,
        Disposition::Missing,
        Disposition::New,
        Disposition::Removed,
        Disposition::AdoptedEdit,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Unchanged => "unchanged",
            Disposition::SafeUpdate => "safe_update",
            Disposition::LocalModification => "local_modification",
            Disposition::AlreadyConverged => "already_converged",
            Disposition::Conflict => "conflict",
            Disposition::Missing => "missing",
            Disposition::New => "new",
            Disposition::Removed => "removed",
            Disposition::AdoptedEdit => "adopted_edit",
        }
    }

    /// True when `--apply` writes the candidate bytes.
    pub fn installs(self) -> bool {
        matches!(
            self,
            Disposition::SafeUpdate | Disposition::Missing | Disposition::New
        )
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies one path from its three hashes (`None` = absent).
pub fn classify(
    baseline: Option<&str>,
    workspace: Option<&str>,
    candidate: Option<&str>,
) -> Disposition {
    let Some(candidate) = candidate else {
        return Disposition::Removed;
    };
    let Some(workspace) = workspace else {
        return match baseline {
            Some(_) => Disposition::Missing,
            None => Disposition::New,
        };
    };
    match (baseline, workspace == candidate) {
        (Some(base), _) if base == workspace && base == candidate => Disposition::Unchanged,
        (Some(base), _) if base == workspace => Disposition::SafeUpdate,
        (_, true) => Disposition::AlreadyConverged,
        (Some(base), false) if base == candidate => Disposition::LocalModification,
        _ => Disposition::Conflict,
    }
}

/// One managed path in an upgrade plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEntry {
    /// Path relative to `millrace-agents/`.
    pub path: String,
    /// What an upgrade does with it.
    pub disposition: Disposition,
    /// The baseline hash, if the path is in the manifest.
    pub baseline: Option<String>,
    /// The candidate hash, if the path is shipped.
    pub candidate: Option<String>,
}

/// Compares the manifest, the workspace files and the `candidate` files (path → bytes).
pub fn plan(
    paths: &WorkspacePaths,
    manifest: &BaselineManifest,
    candidate: &BTreeMap<String, &[u8]>,
) -> Vec<PlannedEntry> {
    let baseline = manifest.hashes();
    let mut all: Vec<&String> = baseline.keys().chain(candidate.keys()).collect();
    all.sort();
    all.dedup();
    all.into_iter()
        .map(|path| {
            let base = baseline.get(path).cloned();
            let cand = candidate.get(path).map(|bytes| sha256_hex(bytes));
            let now = file_hash(&paths.agents_dir().join(path));
            let mut disposition = classify(base.as_deref(), now.as_deref(), cand.as_deref());
            if disposition == Disposition::Conflict && manifest.is_reference_made() {
                disposition = Disposition::AdoptedEdit;
            }
            PlannedEntry {
                path: path.clone(),
                disposition,
                baseline: base,
                candidate: cand,
            }
        })
        .collect()
}

/// The manifest after applying `entries`: the candidate hash for every shipped
/// path, except that a local modification keeps its baseline hash (so it stays
/// local) and removed paths leave the manifest. An adopted edit takes the
/// candidate hash, so that it reads as the operator's edit of this build.
pub fn applied_manifest(entries: &[PlannedEntry]) -> BaselineManifest {
    let hashes = entries.iter().filter_map(|entry| {
        let hash = match entry.disposition {
            Disposition::LocalModification => entry.baseline.clone(),
            Disposition::Removed => None,
            _ => entry.candidate.clone(),
        };
        hash.map(|hash| (entry.path.clone(), hash))
    });
    BaselineManifest::from_hashes(&hashes.collect())
}

/// The hash of a file, `None` when it does not exist or cannot be read.
pub fn file_hash(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|bytes| sha256_hex(&bytes))
}
