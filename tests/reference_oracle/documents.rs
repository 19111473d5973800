//! The differential test: documents the reference's models made, read by
//! ours with equal fields; what ours writes, read by the reference with
//! equal fields. The counts are printed.

use std::ffi::OsStr;
use std::path::Path;

use millrace::workspace::Family;
use millrace::workspace::documents;
use serde_json::Value;

use super::{python, run_script};

#[test]
fn ours_and_the_reference_read_each_others_documents() {
    let Some(python) = python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let generated = run_script(
        &python,
        "differential.py",
        &[OsStr::new("generate"), root.as_os_str()],
    );
    print!("{generated}");
    read_every_document(root);
    let report = run_script(
        &python,
        "differential.py",
        &[OsStr::new("check"), root.as_os_str()],
    );
    print!("{report}");
    let summary = summary(&report);
    let count = |key: &str| summary[key].as_u64().unwrap_or_default();
    assert!(count("generated") >= 300, "{report}");
    for key in [
        "accepted",
        "fields_equal",
        "written",
        "reference_reads_written",
        "written_fields_equal",
    ] {
        assert_eq!(count(key), count("generated"), "{key}:\n{report}");
    }
}

/// Reads each generated document with ours: `ours/<name>.json` (its fields)
/// and `ours/<name>.md` (what ours queues), or `ours/<name>.error`.
fn read_every_document(root: &Path) {
    let manifest = std::fs::read_to_string(root.join("manifest.json")).expect("manifest");
    let manifest: Vec<Value> = serde_json::from_str(&manifest).expect("manifest is JSON");
    let ours = root.join("ours");
    std::fs::create_dir_all(&ours).expect("ours dir");
    for entry in &manifest {
        let name = entry["name"].as_str().expect("name");
        let file = root.join(entry["file"].as_str().expect("file"));
        let family = entry["family"]
            .as_str()
            .and_then(Family::parse)
            .expect("family");
        let text = std::fs::read_to_string(&file).expect("document");
        match documents::parse(family, &file, &text) {
            Ok(document) => {
                let json = serde_json::to_string(&document.to_json()).expect("json");
                std::fs::write(ours.join(format!("{name}.json")), json).expect("write");
                std::fs::write(ours.join(format!("{name}.md")), document.render()).expect("write");
            }
            Err(error) => std::fs::write(ours.join(format!("{name}.error")), error.to_string())
                .expect("write"),
        }
    }
}

fn summary(report: &str) -> Value {
    let line = report
        .lines()
        .find_map(|line| line.strip_prefix("SUMMARY "))
        .expect("a SUMMARY line");
    serde_json::from_str(line).expect("summary is JSON")
}
