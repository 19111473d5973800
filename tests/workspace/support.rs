//! Helpers shared by the workspace tests: temp workspaces and documents in five lines.

use std::path::Path;

use millrace::workspace::documents::{self, WorkDocument};
use millrace::workspace::{Family, WorkspacePaths};

/// A temp dir with the workspace layout made.
pub fn workspace() -> (tempfile::TempDir, WorkspacePaths) {
    let temp = tempfile::tempdir().expect("temp dir");
    let paths = WorkspacePaths::new(temp.path());
    paths.create_layout().expect("layout");
    (temp, paths)
}

/// A task created at `2026-01-01T00:00:<second>Z` with optional dependencies and root spec.
pub fn task(id: &str, second: u32, depends_on: &[&str], root: Option<&str>) -> WorkDocument {
    let mut text = format!(
        "# Task {id}\n\nTask-ID: {id}\nCreated-At: 2026-01-01T00:00:{second:02}Z\nCreated-By: test\n"
    );
    if let Some(root) = root {
        text.push_str(&format!("Root-Spec-ID: {root}\n"));
    }
    for list in [
        "Target-Paths",
        "Acceptance",
        "Required-Checks",
        "References",
        "Risk",
    ] {
        text.push_str(&format!("\n{list}:\n- x\n"));
    }
    if !depends_on.is_empty() {
        text.push_str("\nDepends-On:\n");
        depends_on
            .iter()
            .for_each(|dep| text.push_str(&format!("- {dep}\n")));
    }
    parse(Family::Task, &text)
}

/// A spec, probe or incident (planning families) created at `second`.
pub fn planning(family: Family, id: &str, second: u32) -> WorkDocument {
    let at = format!("2026-01-01T00:00:{second:02}Z");
    let text = match family {
        Family::Spec => format!(
            "# S\n\nSpec-ID: {id}\nSummary: s\nSource-Type: manual\nCreated-At: {at}\nCreated-By: t\n\nGoals:\n- g\n\nConstraints:\n- c\n\nAcceptance:\n- a\n\nReferences:\n- r\n"
        ),
        Family::Probe => format!(
            "# P\n\nProbe-ID: {id}\nSummary: s\nRequest: look\nCreated-At: {at}\nCreated-By: t\n"
        ),
        Family::Incident => format!(
            "# I\n\nIncident-ID: {id}\nSummary: s\nSource-Stage: checker\nSource-Plane: execution\nFailure-Class: f\nTrigger-Reason: t\nConsultant-Decision: needs_planning\nOpened-At: {at}\nOpened-By: t\n"
        ),
        Family::LearningRequest => format!(
            "# L\n\nLearning-Request-ID: {id}\nRequested-Action: create\nCreated-At: {at}\nCreated-By: t\n"
        ),
        _ => panic!("no helper for {family}"),
    };
    parse(family, &text)
}

pub fn parse(family: Family, text: &str) -> WorkDocument {
    documents::parse_markdown(family, Path::new("test.md"), text).expect("test document parses")
}
