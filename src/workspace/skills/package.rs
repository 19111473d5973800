//! One skill package: a directory with `SKILL.md` and the files beside it,
//! held in memory and validated before anything is written. A package is
//! refused whole (nothing written) when its id or front matter is wrong,
//! when a path could leave the package, when a symlink points out of it, or
//! when it is larger than [`MAX_PACKAGE_BYTES`].

use std::collections::BTreeMap;
use std::path::{Component, Path};

use sha2::{Digest, Sha256};

use super::error::SkillError;
use crate::workspace::documents::is_valid_id;

/// The largest package accepted, all files together.
pub const MAX_PACKAGE_BYTES: u64 = 1024 * 1024;
/// The most files a package may hold.
pub const MAX_PACKAGE_FILES: usize = 256;
/// The file every package has at its top.
pub const SKILL_FILE: &str = "SKILL.md";

/// What `SKILL.md`'s front matter says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillMeta {
    /// `name:`, the skill id.
    pub id: String,
    /// `description:`, one line.
    pub description: String,
    /// `tags:`, comma-separated (optional).
    pub tags: Vec<String>,
}

/// A validated package: relative path (with `/`) → bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub meta: SkillMeta,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Package {
    /// Validates `files` as a package.
    pub fn from_files(files: BTreeMap<String, Vec<u8>>) -> Result<Package, SkillError> {
        if files.len() > MAX_PACKAGE_FILES {
            return Err(SkillError::Invalid(format!(
                "the package has {} files, more than {MAX_PACKAGE_FILES}",
                files.len()
            )));
        }
        for path in files.keys() {
            check_relative(path)?;
        }
        check_size(files.values().map(|bytes| bytes.len() as u64).sum())?;
        let skill = files.get(SKILL_FILE).ok_or_else(|| {
            SkillError::Invalid(format!("the package has no `{SKILL_FILE}` at its top"))
        })?;
        let meta = front_matter(&String::from_utf8_lossy(skill))?;
        Ok(Package { meta, files })
    }

    /// Reads and validates the package in directory `dir`.
    pub fn from_dir(dir: &Path) -> Result<Package, SkillError> {
        let root = dir
            .canonicalize()
            .map_err(|e| SkillError::io("read", dir, e))?;
        let mut files = BTreeMap::new();
        let mut total = 0;
        read_dir_into(&root, &root, &mut files, &mut total)?;
        Package::from_files(files)
    }

    pub fn id(&self) -> &str {
        &self.meta.id
    }

    /// `SKILL.md`'s text.
    pub fn skill_text(&self) -> String {
        String::from_utf8_lossy(self.files.get(SKILL_FILE).map_or(&[][..], Vec::as_slice))
            .into_owned()
    }

    /// `sha256:` and the hex digest over every `path\0sha256\n`, in path order.
    pub fn checksum(&self) -> String {
        checksum_of(&self.files)
    }
}

/// The checksum of a package's files (see [`Package::checksum`]).
pub fn checksum_of(files: &BTreeMap<String, Vec<u8>>) -> String {
    let mut hasher = Sha256::new();
    for (path, bytes) in files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(hex(&Sha256::digest(bytes)).as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A package path is relative, uses `/`, and never climbs out.
pub fn check_relative(path: &str) -> Result<(), SkillError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if bad {
        return Err(SkillError::Invalid(format!(
            "the path `{path}` is not inside the package"
        )));
    }
    Ok(())
}

/// Refuses a package larger than [`MAX_PACKAGE_BYTES`].
pub fn check_size(total: u64) -> Result<(), SkillError> {
    if total > MAX_PACKAGE_BYTES {
        return Err(SkillError::Invalid(format!(
            "the package is {total} bytes, more than the limit of {MAX_PACKAGE_BYTES}"
        )));
    }
    Ok(())
}

/// Reads the files under `dir`; a symlink is followed only when it stays
/// inside `root`; the size limit is checked as files are read.
fn read_dir_into(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
    total: &mut u64,
) -> Result<(), SkillError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SkillError::io("list", dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| SkillError::io("list", dir, e))?.path();
        let real = path
            .canonicalize()
            .map_err(|e| SkillError::io("read", &path, e))?;
        if !real.starts_with(root) {
            return Err(SkillError::Invalid(format!(
                "`{}` links outside the package",
                path.display()
            )));
        }
        if real.is_dir() {
            // A linked folder could lead back into itself.
            if path.is_symlink() {
                return Err(SkillError::Invalid(format!(
                    "`{}` is a link to a folder",
                    path.display()
                )));
            }
            read_dir_into(root, &path, files, total)?;
            continue;
        }
        *total += real.metadata().map(|m| m.len()).unwrap_or(0);
        check_size(*total)?;
        let bytes = std::fs::read(&real).map_err(|e| SkillError::io("read", &path, e))?;
        files.insert(relative_name(root, dir, &path)?, bytes);
    }
    Ok(())
}

/// `path` relative to the package root, with `/` separators.
fn relative_name(root: &Path, dir: &Path, path: &Path) -> Result<String, SkillError> {
    let base = dir
        .canonicalize()
        .map_err(|e| SkillError::io("read", dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let parent = base.strip_prefix(root).unwrap_or(Path::new(""));
    let mut parts: Vec<String> = parent
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.extend(name);
    Ok(parts.join("/"))
}

/// Parses the `---` front matter at the very top of `SKILL.md`.
pub fn front_matter(text: &str) -> Result<SkillMeta, SkillError> {
    let invalid = |why: &str| SkillError::Invalid(format!("`{SKILL_FILE}` {why}"));
    let body = text
        .strip_prefix("---\n")
        .ok_or_else(|| invalid("does not start with a `---` front matter block"))?;
    let end = body
        .find("\n---")
        .ok_or_else(|| invalid("has no closing `---` after its front matter"))?;
    let mut fields = BTreeMap::new();
    for line in body[..end].lines() {
        if let Some((key, value)) = line.split_once(':') {
            fields.insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    let id = fields.remove("name").unwrap_or_default();
    if !is_valid_id(&id) {
        return Err(invalid(&format!(
            "front matter `name: {id}` is not a skill id (letters, digits, `.`, `_`, `-`)"
        )));
    }
    let description = fields.remove("description").unwrap_or_default();
    if description.is_empty() {
        return Err(invalid("front matter has no `description:`"));
    }
    let tags = fields.remove("tags").unwrap_or_default();
    let tags = tags
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|t| t.trim().trim_matches('"').to_string())
        .filter(|t| !t.is_empty())
        .collect();
    Ok(SkillMeta {
        id,
        description,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skill(name: &str) -> Vec<u8> {
        format!("---\nname: {name}\ndescription: One line.\ntags: a, b\n---\n\n# X\n").into_bytes()
    }

    #[test]
    fn a_package_needs_skill_md_with_front_matter() {
        let mut files = BTreeMap::new();
        files.insert("notes.md".to_string(), b"x".to_vec());
        let missing = Package::from_files(files.clone())
            .expect_err("refused")
            .to_string();
        assert!(missing.contains("no `SKILL.md`"), "{missing}");
        files.insert(SKILL_FILE.into(), b"# no front matter\n".to_vec());
        let bare = Package::from_files(files.clone())
            .expect_err("refused")
            .to_string();
        assert!(bare.contains("front matter"), "{bare}");
        files.insert(SKILL_FILE.into(), skill("csv-formats"));
        let package = Package::from_files(files).expect("valid");
        assert_eq!(package.meta.tags, ["a", "b"]);
    }

    #[test]
    fn paths_that_leave_the_package_are_refused() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "a//b", "./a", "a\\b"] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        assert!(check_relative("references/format.md").is_ok());
    }

    #[test]
    fn a_name_that_is_not_an_id_is_refused() {
        let mut files = BTreeMap::new();
        files.insert(SKILL_FILE.into(), skill("../evil"));
        assert!(Package::from_files(files).is_err());
    }
}

#[cfg(test)]
mod dir_tests {
    use super::*;

    #[test]
    fn a_link_to_a_folder_inside_the_package_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let skill = "---\nname: a\ndescription: d.\n---\n";
        std::fs::write(dir.path().join(SKILL_FILE), skill).expect("write");
        std::os::unix::fs::symlink(".", dir.path().join("again")).expect("symlink");
        let error = Package::from_dir(dir.path()).expect_err("refused");
        assert!(
            error.to_string().contains("is a link to a folder"),
            "{error}"
        );
    }
}
