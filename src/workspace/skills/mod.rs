//! Skills: packages (a folder with `SKILL.md` and its files) under
//! `millrace-agents/skills/`, the index that lists them, installing from
//! folders, archives, URLs and the remote index, exporting, and new
//! versions with their history. Every package is validated in memory
//! before anything is written.

mod archive;
pub mod curation;
mod error;
mod index;
pub mod ops;
mod package;
pub mod remote;
mod source;
mod store;

use std::path::{Path, PathBuf};

pub use archive::{ArchiveKind, read_archive, write_zip};
pub use error::SkillError;
pub use index::{IndexEntry, Origin};
pub use package::{MAX_PACKAGE_BYTES, Package, SKILL_FILE, SkillMeta};
pub use remote::{RemoteEntry, RemoteSettings};
pub use source::{Loaded, load};
pub use store::{INDEX_FILE, InstallOptions, SkillStore, Written};

use crate::workspace::atomic::write_atomic_creating_parent;

/// `--output` as `skills export` writes it: kept when it ends in `.zip`,
/// `.zip` added otherwise.
pub fn export_path(output: &Path) -> PathBuf {
    if ArchiveKind::of(&output.to_string_lossy()) == Some(ArchiveKind::Zip) {
        output.to_path_buf()
    } else {
        PathBuf::from(format!("{}.zip", output.display()))
    }
}

/// Writes skill `id` as a `.zip` at `output` (see [`export_path`]).
pub fn export(store: &SkillStore, id: &str, output: &Path) -> Result<PathBuf, SkillError> {
    let entry = store.find(id)?;
    let package = store.package(&entry)?;
    let target = export_path(output);
    let bytes = write_zip(&package.files)?;
    write_atomic_creating_parent(&target, &bytes)
        .map_err(|e| SkillError::io("write", &target, e))?;
    store.log_operation("export", id, &entry.path, &target.display().to_string());
    Ok(target)
}
