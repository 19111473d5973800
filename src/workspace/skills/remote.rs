//! The remote skills index: a markdown table (`| Skill | Description |
//! Tags | Path | Status |`, the reference's format) fetched from
//! `[skills] remote_index_url` with a timeout and cached as
//! `skills/remote_skills_index.md`. Offline, the cache keeps working;
//! without a cache the error says how to get one. `file://` URLs and plain
//! paths are read from disk. An entry's path is resolved against the
//! index's own location, like a link in a web page.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::error::SkillError;
use super::index::split_tags;
use crate::workspace::atomic::write_atomic;

/// The reference's public index.
pub const DEFAULT_INDEX_URL: &str =
    "https://raw.githubusercontent.com/tim-osterhus/millrace-skills/main/index.md";
/// The reference's fetch timeout.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 10;
/// The cache, in `skills/` (the reference's name).
pub const CACHE_FILE: &str = "remote_skills_index.md";
/// The largest index or package body read from the network.
const MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

/// Where the remote index is and how long a fetch may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    pub index_url: String,
    pub timeout: Duration,
}

impl Default for RemoteSettings {
    fn default() -> RemoteSettings {
        RemoteSettings {
            index_url: DEFAULT_INDEX_URL.to_string(),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
        }
    }
}

/// One row of the remote index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteEntry {
    pub id: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The package's `SKILL.md` or archive, relative to the index.
    pub path: String,
    /// `available` entries can be installed.
    pub status: String,
}

/// The rows of a remote index text.
pub fn parse_index(text: &str) -> Vec<RemoteEntry> {
    text.lines().filter_map(parse_row).collect()
}

fn parse_row(line: &str) -> Option<RemoteEntry> {
    let line = line.trim();
    if !line.starts_with('|') || !line.contains('`') {
        return None;
    }
    let cols = super::index::table_cells(line);
    if cols.len() < 5 || cols[0].eq_ignore_ascii_case("skill") || cols[0].is_empty() {
        return None;
    }
    Some(RemoteEntry {
        id: cols[0].clone(),
        description: cols[1].clone(),
        tags: split_tags(&cols[2]),
        path: cols[3].clone(),
        status: cols[4].to_ascii_lowercase(),
    })
}

/// Reads `url`: `http(s)://` with the timeout, `file://` or a path from disk.
pub fn fetch(url: &str, timeout: Duration) -> Result<Vec<u8>, SkillError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return fetch_http(url, timeout);
    }
    let path = local_path(url);
    std::fs::read(&path)
        .map_err(|e| SkillError::Fetch(format!("cannot read `{}`: {e}", path.display())))
}

/// The file a `file://` URL or a plain path names.
pub fn local_path(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("file://").unwrap_or(url))
}

fn fetch_http(url: &str, timeout: Duration) -> Result<Vec<u8>, SkillError> {
    let failed = |e: ureq::Error| SkillError::Fetch(format!("cannot fetch {url}: {e}"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("User-Agent", "millrace-skills")
        .call()
        .map_err(failed)?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(failed)
}

/// `path` resolved against the index's location: a URL or path of its own
/// is kept, a relative one replaces the index's file name.
pub fn resolve(index_url: &str, path: &str) -> String {
    if path.contains("://") || path.starts_with('/') {
        return path.to_string();
    }
    match index_url.rfind('/') {
        Some(at) => format!("{}/{}", &index_url[..at], path.trim_start_matches("./")),
        None => path.to_string(),
    }
}

/// The cached index of `skills_dir`, if any.
pub fn cached(skills_dir: &Path) -> Option<Vec<RemoteEntry>> {
    let text = std::fs::read_to_string(skills_dir.join(CACHE_FILE)).ok()?;
    Some(parse_index(&text))
}

/// Fetches the index and replaces the cache; returns the entries.
pub fn refresh(
    skills_dir: &Path,
    settings: &RemoteSettings,
) -> Result<Vec<RemoteEntry>, SkillError> {
    let bytes = fetch(&settings.index_url, settings.timeout).map_err(|e| {
        let cache = skills_dir.join(CACHE_FILE);
        let kept = if cache.is_file() {
            "the cached index is kept".to_string()
        } else {
            format!("no cached index at {}", cache.display())
        };
        SkillError::Fetch(format!("{e}; {kept}"))
    })?;
    let path = skills_dir.join(CACHE_FILE);
    write_atomic(&path, &bytes).map_err(|e| SkillError::io("write", &path, e))?;
    Ok(parse_index(&String::from_utf8_lossy(&bytes)))
}

/// The cached index, or a fresh one when there is no cache yet.
pub fn entries(
    skills_dir: &Path,
    settings: &RemoteSettings,
) -> Result<Vec<RemoteEntry>, SkillError> {
    match cached(skills_dir) {
        Some(entries) => Ok(entries),
        None => refresh(skills_dir, settings),
    }
}

/// The available entry `id`.
pub fn available(entries: &[RemoteEntry], id: &str) -> Result<RemoteEntry, SkillError> {
    let entry = entries.iter().find(|e| e.id == id).ok_or_else(|| {
        SkillError::NotFound(format!(
            "skill not found: `{id}` is neither installed nor in the remote index"
        ))
    })?;
    if entry.status != "available" {
        return Err(SkillError::Refused(format!(
            "remote skill `{id}` is not available (status {})",
            entry.status
        )));
    }
    Ok(entry.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_the_reference_format_are_read() {
        let text = "| Skill | Description | Tags | Path | Status |\n| --- | --- | --- | --- | --- |\n\
| `csv-formats` | CSV rules. | `data`, `csv` | `skills/csv-formats/SKILL.md` | available |\n";
        let entries = parse_index(text);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].tags, ["data", "csv"]);
        assert_eq!(entries[0].status, "available");
    }

    #[test]
    fn paths_resolve_against_the_index() {
        let index = "http://127.0.0.1:9/repo/index.md";
        assert_eq!(
            resolve(index, "skills/a/SKILL.md"),
            "http://127.0.0.1:9/repo/skills/a/SKILL.md"
        );
        assert_eq!(resolve("/tmp/i/index.md", "a.zip"), "/tmp/i/a.zip");
        assert_eq!(resolve(index, "file:///x/a.zip"), "file:///x/a.zip");
    }
}
