//! Skill packages as archives: `.tar.gz` (`.tgz`) and `.zip` are read
//! entry by entry (only files and folders; a link entry refuses the whole
//! archive; the size limit holds while reading, so a small archive that
//! inflates past it is refused too), and `skills export` writes a `.zip`
//! whose entries are in path order with fixed times, so the same package
//! always exports to the same bytes.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use super::error::SkillError;
use super::package::{MAX_PACKAGE_BYTES, SKILL_FILE, check_relative, check_size};

/// The kind of archive a file name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    TarGz,
    Zip,
}

impl ArchiveKind {
    /// `.tar.gz`, `.tgz` or `.zip` at the end of `name`.
    pub fn of(name: &str) -> Option<ArchiveKind> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
            Some(ArchiveKind::TarGz)
        } else if lower.ends_with(".zip") {
            Some(ArchiveKind::Zip)
        } else {
            None
        }
    }
}

/// The files of an archive, validated as package paths, with one
/// enclosing folder removed when every entry is under it.
pub fn read_archive(
    kind: ArchiveKind,
    bytes: &[u8],
) -> Result<BTreeMap<String, Vec<u8>>, SkillError> {
    let files = match kind {
        ArchiveKind::TarGz => read_tar_gz(bytes)?,
        ArchiveKind::Zip => read_zip(bytes)?,
    };
    Ok(strip_enclosing_folder(files))
}

fn read_tar_gz(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, SkillError> {
    let bad = |e: std::io::Error| SkillError::Invalid(format!("unreadable .tar.gz archive: {e}"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    let mut total = 0;
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(SkillError::Invalid(format!(
                "the archive entry `{name}` is a link or special file"
            )));
        }
        let name = name.trim_start_matches("./").to_string();
        add_entry(&mut files, &mut total, name, entry)?;
    }
    Ok(files)
}

fn read_zip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, SkillError> {
    let bad =
        |e: zip::result::ZipError| SkillError::Invalid(format!("unreadable .zip archive: {e}"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    let mut files = BTreeMap::new();
    let mut total = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(bad)?;
        let name = entry.name().to_string();
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() || !entry.is_file() {
            return Err(SkillError::Invalid(format!(
                "the archive entry `{name}` is a link or special file"
            )));
        }
        add_entry(&mut files, &mut total, name, entry)?;
    }
    Ok(files)
}

/// Reads one entry, never more than the package limit allows.
fn add_entry(
    files: &mut BTreeMap<String, Vec<u8>>,
    total: &mut u64,
    name: String,
    entry: impl Read,
) -> Result<(), SkillError> {
    check_relative(&name)?;
    let mut bytes = Vec::new();
    let room = MAX_PACKAGE_BYTES.saturating_sub(*total) + 1;
    entry
        .take(room)
        .read_to_end(&mut bytes)
        .map_err(|e| SkillError::Invalid(format!("cannot read the archive entry `{name}`: {e}")))?;
    *total += bytes.len() as u64;
    check_size(*total)?;
    files.insert(name, bytes);
    Ok(())
}

/// `pkg/SKILL.md`, `pkg/x` → `SKILL.md`, `x`, when `SKILL.md` is not at the top.
fn strip_enclosing_folder(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    if files.contains_key(SKILL_FILE) {
        return files;
    }
    let Some(first) = files.keys().next().and_then(|k| k.split_once('/')) else {
        return files;
    };
    let prefix = format!("{}/", first.0);
    if !files.keys().all(|k| k.starts_with(&prefix)) {
        return files;
    }
    files
        .into_iter()
        .map(|(k, v)| (k[prefix.len()..].to_string(), v))
        .collect()
}

/// A `.zip` of `files`: entries in path order, deflated, with a fixed time.
pub fn write_zip(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, SkillError> {
    let bad = |e: zip::result::ZipError| SkillError::Invalid(format!("cannot write the zip: {e}"));
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in files {
        writer.start_file(name.as_str(), options).map_err(bad)?;
        writer
            .write_all(bytes)
            .map_err(|e| SkillError::Invalid(format!("cannot write the zip: {e}")))?;
    }
    Ok(writer.finish().map_err(bad)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zip_written_reads_back_the_same_files() {
        let mut files = BTreeMap::new();
        files.insert("SKILL.md".to_string(), b"---\nname: a\n---\n".to_vec());
        files.insert("references/x.md".to_string(), vec![0, 1, 2, 255]);
        let zip = write_zip(&files).expect("zip");
        assert_eq!(write_zip(&files).expect("zip"), zip, "deterministic");
        assert_eq!(read_archive(ArchiveKind::Zip, &zip).expect("read"), files);
    }

    #[test]
    fn an_enclosing_folder_is_removed() {
        let mut files = BTreeMap::new();
        files.insert("pkg/SKILL.md".to_string(), b"x".to_vec());
        files.insert("pkg/a.md".to_string(), b"y".to_vec());
        let stripped = strip_enclosing_folder(files);
        assert!(stripped.contains_key("SKILL.md") && stripped.contains_key("a.md"));
    }
}
