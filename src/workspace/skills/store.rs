//! The skills store: the packages under `millrace-agents/skills/`, the
//! index that lists them, and the two ways a package is written: a new
//! skill, or a new version of one (the previous version moves to
//! `skills/.history/<id>/v<N>/`). A package is staged whole in
//! `skills/.staging/` and swapped in with one rename, so a reader sees the
//! old version or the new one, never a mix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::error::SkillError;
use super::index::{self, IndexEntry, Origin};
use super::package::{Package, SKILL_FILE, checksum_of};
use crate::workspace::atomic::{append_line, write_atomic};
use crate::workspace::{Timestamp, WorkspacePaths};

/// The index file, in `skills/`.
pub const INDEX_FILE: &str = "skills_index.md";
/// The log of skill operations, in `skills/` (the reference's name).
pub const OPERATIONS_FILE: &str = "skill_operations.jsonl";
const HISTORY_DIR: &str = ".history";
const STAGING_DIR: &str = ".staging";

/// What to do when the skill exists already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// Replace it, even when it was edited in the workspace.
    pub force: bool,
    /// Replace it when it was not edited in the workspace.
    pub update: bool,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub entry: IndexEntry,
    /// The version replaced, kept in history (`None` for a new skill).
    pub previous_version: Option<u32>,
    /// Where the previous version was kept.
    pub history: Option<PathBuf>,
    /// The package was already there, byte for byte: nothing was written.
    pub unchanged: bool,
}

/// The skills of one workspace.
pub struct SkillStore {
    paths: WorkspacePaths,
}

impl SkillStore {
    pub fn new(paths: &WorkspacePaths) -> SkillStore {
        SkillStore {
            paths: paths.clone(),
        }
    }

    fn dir(&self) -> PathBuf {
        self.paths.skills_dir()
    }

    pub fn index_file(&self) -> PathBuf {
        self.dir().join(INDEX_FILE)
    }

    /// `skills/.history/<id>/`.
    pub fn history_dir(&self, id: &str) -> PathBuf {
        self.dir().join(HISTORY_DIR).join(id)
    }

    /// Every skill: the index's rows for packages still on disk, and
    /// packages on disk the index does not list yet.
    pub fn entries(&self) -> Result<Vec<IndexEntry>, SkillError> {
        let recorded: BTreeMap<String, IndexEntry> = self
            .read_index()?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let mut found = Vec::new();
        self.scan(&self.dir(), &mut found)?;
        let entries = found
            .into_iter()
            .map(|(id, path)| {
                let row = recorded.get(&id);
                self.entry_for(id, path, row)
            })
            .collect();
        Ok(entries)
    }

    fn read_index(&self) -> Result<Vec<IndexEntry>, SkillError> {
        match std::fs::read_to_string(self.index_file()) {
            Ok(text) => Ok(index::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(SkillError::io("read", &self.index_file(), e)),
        }
    }

    /// Folders holding a `SKILL.md` (hidden folders skipped), as (id, path).
    fn scan(&self, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), SkillError> {
        let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| SkillError::io("list", dir, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        children.sort();
        for child in children {
            if child.join(SKILL_FILE).is_file() {
                let id = child.file_name().map(|n| n.to_string_lossy().into_owned());
                let relative = child.join(SKILL_FILE);
                let relative = relative
                    .strip_prefix(self.paths.agents_dir())
                    .unwrap_or(&relative);
                out.push((
                    id.unwrap_or_default(),
                    relative.to_string_lossy().into_owned(),
                ));
            } else {
                self.scan(&child, out)?;
            }
        }
        Ok(())
    }

    /// The row of the package at `path`: its front matter now, the recorded
    /// origin, version and checksum, and whether it was edited since.
    fn entry_for(&self, id: String, path: String, recorded: Option<&IndexEntry>) -> IndexEntry {
        let dir = self.paths.agents_dir().join(&path);
        let dir = dir.parent().unwrap_or(&dir);
        let files = read_files(dir);
        let checksum = checksum_of(&files);
        let meta = files
            .get(SKILL_FILE)
            .and_then(|b| super::package::front_matter(&String::from_utf8_lossy(b)).ok());
        let (description, tags) = meta.map(|m| (m.description, m.tags)).unwrap_or_default();
        let origin = recorded.map_or_else(|| default_origin(&path), |r| r.origin);
        IndexEntry {
            id,
            description,
            tags,
            origin,
            version: recorded.map_or(1, |r| r.version),
            modified: recorded.is_some_and(|r| r.checksum != checksum),
            checksum: recorded.map_or(checksum, |r| r.checksum.clone()),
            path,
        }
    }

    /// The skill `id`.
    pub fn find(&self, id: &str) -> Result<IndexEntry, SkillError> {
        self.entries()?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| SkillError::NotFound(format!("skill not found: {id}")))
    }

    /// The package of an installed skill, validated.
    pub fn package(&self, entry: &IndexEntry) -> Result<Package, SkillError> {
        Package::from_dir(&self.paths.agents_dir().join(entry.dir()))
    }

    /// Writes the index as the store is now.
    pub fn write_index(&self) -> Result<(), SkillError> {
        let entries = self.entries()?;
        self.save_index(&entries)
    }

    /// Writes the index, taking the files on disk as the recorded version
    /// of the skills whose files are in `rewritten` (paths relative to
    /// `millrace-agents/`): `upgrade` replaced them, no operator did.
    pub fn accept_rewritten(&self, rewritten: &[&str]) -> Result<(), SkillError> {
        let mut entries = self.entries()?;
        for entry in &mut entries {
            let prefix = format!("{}/", entry.dir());
            if entry.modified && rewritten.iter().any(|p| p.starts_with(&prefix)) {
                let dir = self.paths.agents_dir().join(entry.dir());
                entry.checksum = checksum_of(&read_files(&dir));
                entry.modified = false;
            }
        }
        self.save_index(&entries)
    }

    fn save_index(&self, entries: &[IndexEntry]) -> Result<(), SkillError> {
        let path = self.index_file();
        write_atomic(&path, index::render(entries).as_bytes())
            .map_err(|e| SkillError::io("write", &path, e))
    }

    /// Installs `package`: a new skill at `skills/<id>/`, or (with
    /// `--update`/`--force`) a new version of the existing one.
    pub fn install(
        &self,
        package: &Package,
        origin: Origin,
        options: InstallOptions,
    ) -> Result<Written, SkillError> {
        let existing = self.entries()?.into_iter().find(|e| e.id == package.id());
        match existing {
            None => self.write_new(package, origin),
            Some(entry) if !(options.force || options.update) => Err(SkillError::Refused(format!(
                "skill already exists: {} (`--update` installs a new version, `--force` also replaces local edits)",
                entry.id
            ))),
            Some(entry) if entry.modified && !options.force => Err(SkillError::Refused(format!(
                "skill `{}` was edited in the workspace since version {} was written; `--force` replaces it (the edited files are kept in its history)",
                entry.id, entry.version
            ))),
            Some(entry) => self.write_version(&entry, package, origin),
        }
    }

    fn write_new(&self, package: &Package, origin: Origin) -> Result<Written, SkillError> {
        let target = self.dir().join(package.id());
        let staged = self.stage(package)?;
        std::fs::rename(&staged, &target).map_err(|e| SkillError::io("install", &target, e))?;
        let entry = IndexEntry {
            id: package.id().to_string(),
            description: package.meta.description.clone(),
            tags: package.meta.tags.clone(),
            path: format!("skills/{}/{SKILL_FILE}", package.id()),
            origin,
            version: 1,
            checksum: package.checksum(),
            modified: false,
        };
        self.record(&entry)?;
        Ok(Written {
            entry,
            previous_version: None,
            history: None,
            unchanged: false,
        })
    }

    /// Replaces the files of `entry` with `package`, keeping the files
    /// replaced as `skills/.history/<id>/v<version>/`.
    pub fn write_version(
        &self,
        entry: &IndexEntry,
        package: &Package,
        origin: Origin,
    ) -> Result<Written, SkillError> {
        let current = self.paths.agents_dir().join(entry.dir());
        if !entry.modified && package.checksum() == entry.checksum {
            return Ok(Written {
                entry: entry.clone(),
                previous_version: None,
                history: None,
                unchanged: true,
            });
        }
        let staged = self.stage(package)?;
        swap(&staged, &current)?;
        let history = self
            .history_dir(&entry.id)
            .join(format!("v{}", entry.version));
        let kept = keep(&staged, &history)?;
        let next = IndexEntry {
            description: package.meta.description.clone(),
            tags: package.meta.tags.clone(),
            origin,
            version: entry.version + 1,
            checksum: package.checksum(),
            modified: false,
            ..entry.clone()
        };
        self.record(&next)?;
        Ok(Written {
            entry: next,
            previous_version: Some(entry.version),
            history: Some(kept),
            unchanged: false,
        })
    }

    /// Writes the package into a fresh folder under `skills/.staging/`.
    fn stage(&self, package: &Package) -> Result<PathBuf, SkillError> {
        let staging = self.dir().join(STAGING_DIR);
        std::fs::create_dir_all(&staging).map_err(|e| SkillError::io("create", &staging, e))?;
        let dir = staging.join(format!(
            "{}-{}",
            package.id(),
            uuid::Uuid::new_v4().simple()
        ));
        for (name, bytes) in &package.files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| SkillError::io("create", parent, e))?;
            }
            write_atomic(&path, bytes).map_err(|e| SkillError::io("write", &path, e))?;
        }
        Ok(dir)
    }

    /// Puts `entry` in the index (replacing its row).
    fn record(&self, entry: &IndexEntry) -> Result<(), SkillError> {
        let mut entries = self.entries()?;
        match entries.iter_mut().find(|e| e.id == entry.id) {
            Some(row) => *row = entry.clone(),
            None => entries.push(entry.clone()),
        }
        self.save_index(&entries)
    }

    /// Appends one line to `skills/skill_operations.jsonl`.
    pub fn log_operation(&self, operation: &str, id: &str, source: &str, destination: &str) {
        let line = json!({
            "at": Timestamp::now(), "operation": operation, "skill_id": id,
            "source": source, "destination": destination,
        });
        // The journal holds the authoritative record; this log is a courtesy.
        let _ = append_line(&self.dir().join(OPERATIONS_FILE), &line.to_string());
    }
}

/// `shipped` for the folders the binary ships into, `local` elsewhere.
fn default_origin(path: &str) -> Origin {
    if path.starts_with("skills/stage/") || path.starts_with("skills/shared/") {
        Origin::Shipped
    } else {
        Origin::Local
    }
}

/// The files of a package folder as they are (unreadable ones skipped).
fn read_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(dir, "", &mut files);
    files
}

fn collect(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let path = entry.path();
        if path.is_dir() {
            collect(&path, &format!("{name}/"), out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.insert(name, bytes);
        }
    }
}

/// Exchanges two folders, in one rename where the platform can.
fn swap(a: &Path, b: &Path) -> Result<(), SkillError> {
    crate::platform::exchange(a, b).map_err(|e| SkillError::io("swap in", b, e))
}

/// Moves the replaced files into history (a second copy of the same
/// version gets a numbered suffix).
fn keep(staged: &Path, history: &Path) -> Result<PathBuf, SkillError> {
    let parent = history.parent().unwrap_or(history);
    std::fs::create_dir_all(parent).map_err(|e| SkillError::io("create", parent, e))?;
    let mut target = history.to_path_buf();
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = PathBuf::from(format!("{}.{n}", history.display()));
    }
    std::fs::rename(staged, &target).map_err(|e| SkillError::io("keep", &target, e))?;
    Ok(target)
}
