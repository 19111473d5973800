//! `skills/skills_index.md`: one row per skill package of the workspace,
//! a markdown table agents can read and the runtime parses back. The first
//! five columns are the reference's (`Skill | Description | Tags | Path |
//! Status`, here the origin); version and checksum follow.

use serde::Serialize;

/// Where a skill came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Shipped with the binary (a stage's core skill, a shared skill).
    Shipped,
    /// Installed from an index, a folder, an archive or a URL.
    Installed,
    /// Created or changed by the learning plane (or `skills promote`).
    Learned,
    /// Found in the workspace, put there by hand.
    Local,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Shipped => "shipped",
            Origin::Installed => "installed",
            Origin::Learned => "learned",
            Origin::Local => "local",
        }
    }

    fn parse(text: &str) -> Origin {
        match text {
            "shipped" => Origin::Shipped,
            "installed" => Origin::Installed,
            "learned" => Origin::Learned,
            _ => Origin::Local,
        }
    }
}

/// One row of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexEntry {
    pub id: String,
    pub description: String,
    pub tags: Vec<String>,
    /// `SKILL.md`'s path relative to `millrace-agents/`.
    pub path: String,
    pub origin: Origin,
    /// 1 when installed; each update adds one.
    pub version: u32,
    /// The package checksum recorded when this version was written.
    pub checksum: String,
    /// The files on disk no longer have that checksum: edited by hand.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub modified: bool,
}

impl IndexEntry {
    /// The package folder, relative to `millrace-agents/`.
    pub fn dir(&self) -> &str {
        self.path.strip_suffix("/SKILL.md").unwrap_or(&self.path)
    }
}

const HEADER: &str = "| Skill | Description | Tags | Path | Origin | Version | Checksum |";

/// The index file's text.
pub fn render(entries: &[IndexEntry]) -> String {
    let mut out = String::from(
        "# Skills Index\n\nThe skill packages of this workspace, kept by the runtime \
(`millrace skills ls` prints it). Open a skill's `SKILL.md` by its path, relative \
to `millrace-agents/`.\n\n",
    );
    out.push_str(HEADER);
    out.push_str("\n| --- | --- | --- | --- | --- | --- | --- |\n");
    for e in entries {
        let tags: Vec<String> = e.tags.iter().map(|t| format!("`{t}`")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} | {} | `{}` |\n",
            e.id,
            cell(&e.description),
            tags.join(", "),
            e.path,
            e.origin.as_str(),
            e.version,
            e.checksum
        ));
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "/").replace('\n', " ")
}

/// The rows of an index file; lines that are not rows are skipped.
pub fn parse(text: &str) -> Vec<IndexEntry> {
    text.lines().filter_map(parse_row).collect()
}

/// The cells of a markdown table row, trimmed, code ticks removed.
pub(super) fn table_cells(line: &str) -> Vec<String> {
    let cells = line.trim_matches('|').split('|');
    cells.map(|c| c.trim().replace('`', "")).collect()
}

fn parse_row(line: &str) -> Option<IndexEntry> {
    let line = line.trim();
    if !line.starts_with('|') || line == HEADER || line.starts_with("| ---") {
        return None;
    }
    let cols = table_cells(line);
    let [id, description, tags, path, origin, version, checksum] = cols.as_slice() else {
        return None;
    };
    Some(IndexEntry {
        id: id.clone(),
        description: description.clone(),
        tags: split_tags(tags),
        path: path.clone(),
        origin: Origin::parse(origin),
        version: version.parse().unwrap_or(1),
        checksum: checksum.clone(),
        modified: false,
    })
}

/// `a, b` → `[a, b]`.
pub fn split_tags(text: &str) -> Vec<String> {
    text.split(',')
        .map(|t| t.trim().replace('`', ""))
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_reads_back_what_it_wrote() {
        let entry = IndexEntry {
            id: "csv-formats".into(),
            description: "RFC 4180 | quoting".into(),
            tags: vec!["data".into(), "csv".into()],
            path: "skills/csv-formats/SKILL.md".into(),
            origin: Origin::Installed,
            version: 3,
            checksum: "sha256:ab".into(),
            modified: false,
        };
        let parsed = parse(&render(std::slice::from_ref(&entry)));
        let expected = IndexEntry {
            description: "RFC 4180 / quoting".into(),
            ..entry
        };
        assert_eq!(parsed, [expected]);
    }
}
