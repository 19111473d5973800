//! What `skills install REF` reads: a local folder (or its `SKILL.md`), a
//! `.tar.gz`/`.zip` archive, a URL of either, or the id of an entry of the
//! remote index. Whatever the source, the result is one validated
//! [`Package`] in memory; nothing is written until it passed.

use std::collections::BTreeMap;
use std::path::Path;

use super::archive::{ArchiveKind, read_archive};
use super::error::SkillError;
use super::package::{Package, SKILL_FILE};
use super::remote::{self, RemoteSettings};

/// A package and where it came from (for the log and the journal).
pub struct Loaded {
    pub package: Package,
    pub source: String,
}

/// Reads the package `reference` names.
pub fn load(
    reference: &str,
    skills_dir: &Path,
    settings: &RemoteSettings,
) -> Result<Loaded, SkillError> {
    let path = Path::new(reference);
    if reference.contains("://") {
        return load_url(reference, settings);
    }
    if path.exists() {
        return load_path(path);
    }
    let entries = remote::entries(skills_dir, settings)?;
    let entry = remote::available(&entries, reference)?;
    let url = remote::resolve(&settings.index_url, &entry.path);
    let loaded = load_url(&url, settings)?;
    if loaded.package.id() != entry.id {
        return Err(SkillError::Invalid(format!(
            "the index lists `{}` but its package is named `{}`",
            entry.id,
            loaded.package.id()
        )));
    }
    Ok(loaded)
}

fn load_path(path: &Path) -> Result<Loaded, SkillError> {
    let source = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let package = if path.is_dir() {
        Package::from_dir(path)?
    } else if name == SKILL_FILE {
        Package::from_dir(path.parent().unwrap_or(Path::new(".")))?
    } else if let Some(kind) = ArchiveKind::of(&name) {
        let bytes = std::fs::read(path).map_err(|e| SkillError::io("read", path, e))?;
        Package::from_files(read_archive(kind, &bytes)?)?
    } else {
        return Err(not_a_package(&source));
    };
    Ok(Loaded { package, source })
}

/// A URL of an archive or of a lone `SKILL.md`.
fn load_url(url: &str, settings: &RemoteSettings) -> Result<Loaded, SkillError> {
    let bytes = remote::fetch(url, settings.timeout)?;
    let package = if let Some(kind) = ArchiveKind::of(url) {
        Package::from_files(read_archive(kind, &bytes)?)?
    } else if url.ends_with(".md") {
        Package::from_files(BTreeMap::from([(SKILL_FILE.to_string(), bytes)]))?
    } else {
        return Err(not_a_package(url));
    };
    Ok(Loaded {
        package,
        source: url.to_string(),
    })
}

fn not_a_package(source: &str) -> SkillError {
    SkillError::Invalid(format!(
        "`{source}` is not a skill folder, a `SKILL.md`, a `.tar.gz` or a `.zip`"
    ))
}
