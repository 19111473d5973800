//! Work documents: fixture files (`canon_*` must render byte for byte, `ok_*` must
//! parse, `err_*` must fail) with insta snapshots, and a round-trip property.

use std::path::{Path, PathBuf};

use millrace::workspace::Family;
use millrace::workspace::documents::{self, DocumentError, WorkDocument};

/// `task/err_x.md` → (family, path relative to the fixture root, for stable messages).
fn fixture(path: &Path) -> (Family, PathBuf, String) {
    let family_dir = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str());
    let family = family_dir
        .and_then(Family::parse)
        .expect("fixture dir names a family");
    let name = path.file_name().expect("file name");
    let relative = Path::new(family.as_str()).join(name);
    let text = std::fs::read_to_string(path).expect("fixture readable");
    (family, relative, text)
}

fn parse_fixture(
    family: Family,
    relative: &Path,
    text: &str,
) -> Result<WorkDocument, DocumentError> {
    let document = documents::parse(family, relative, text)?;
    if relative.to_string_lossy().contains("stem") {
        documents::check_stem(&document, relative)?;
    }
    Ok(document)
}

#[test]
fn canonical_fixtures_render_byte_for_byte() {
    insta::glob!("documents/*/canon_*", |path| {
        let (family, relative, text) = fixture(path);
        let document = parse_fixture(family, &relative, &text).expect("canonical fixture parses");
        assert_eq!(document.render(), text, "{}", relative.display());
        assert_eq!(document.family(), family);
    });
}

#[test]
fn valid_fixtures_parse_and_render_to_a_fixed_point() {
    insta::glob!("documents/*/ok_*", |path| {
        let (family, relative, text) = fixture(path);
        let document = parse_fixture(family, &relative, &text).expect("valid fixture parses");
        let rendered = document.render();
        let again = documents::parse_markdown(family, &relative, &rendered).expect("reparses");
        // A line break inside a JSON value becomes a space in markdown.
        if !relative.to_string_lossy().contains("multiline") {
            assert_eq!(again, document);
        }
        assert_eq!(again.render(), rendered);
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn malformed_fixtures_fail_with_file_line_and_field() {
    insta::glob!("documents/*/err_*", |path| {
        let (family, relative, text) = fixture(path);
        let error = parse_fixture(family, &relative, &text).expect_err("malformed fixture fails");
        assert!(!error.problems().is_empty());
        insta::assert_snapshot!(error.to_string());
    });
}

#[test]
fn there_are_enough_malformed_fixtures() {
    let count = glob_count("err_");
    assert!(count >= 15, "only {count} malformed fixtures");
}

fn glob_count(prefix: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workspace/documents");
    let dirs = std::fs::read_dir(root).expect("fixture root");
    dirs.flatten()
        .flat_map(|dir| {
            std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|file| file.file_name().to_string_lossy().starts_with(prefix))
        .count()
}

#[test]
fn problems_carry_line_and_field() {
    let path = Path::new("tasks/queue/t.md");
    let text = "# T\n\nTask-ID: t\nDepends-On:\n- a\n\nDepends-On:\n- b\n";
    let error = documents::parse_markdown(Family::Task, path, text).expect_err("invalid");
    let repeated = &error.problems()[0];
    assert_eq!(repeated.line, Some(7));
    assert_eq!(repeated.field.as_deref(), Some("Depends-On"));
    assert!(
        error
            .to_string()
            .contains("`Depends-On` is repeated at line 7 (first at line 4)")
    );
    assert!(
        error
            .to_string()
            .contains("missing required field `Acceptance`")
    );
}

#[test]
fn ids_follow_the_reference_pattern() {
    for good in ["a", "A1", "task-1.v2_x", "9"] {
        assert!(documents::is_valid_id(good), "{good}");
    }
    for bad in ["", "-a", ".a", "_a", "a b", "a/b", "é"] {
        assert!(!documents::is_valid_id(bad), "{bad}");
    }
}

#[test]
fn markdown_families_refuse_blueprint_markdown() {
    let error = documents::parse_markdown(Family::BlueprintDraft, Path::new("d.md"), "# D\n")
        .expect_err("drafts are JSON");
    assert!(
        error
            .to_string()
            .contains("blueprint_draft documents are JSON")
    );
}

#[test]
fn json_round_trip_through_to_json() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workspace/documents");
    for (family, file) in [
        (Family::Task, "task/canon_full.md"),
        (Family::Incident, "incident/canon_incident.md"),
        (Family::LearningRequest, "learning_request/canon_learn.md"),
    ] {
        let document = documents::read_import(family, &root.join(file)).expect("parses");
        let json = serde_json::to_string(&document.to_json()).expect("json");
        let back = documents::parse_json(family, Path::new("x.json"), &json).expect("imports");
        assert_eq!(back, document, "{file}");
    }
}

/// Specs an earlier build queued from ideas name their idea file as
/// `Source-ID`: they keep loading, and are written back with the id.
#[test]
fn a_source_id_path_written_by_an_earlier_build_is_read_as_its_id() {
    let text = "# Greeting\n\nSpec-ID: idea-greeting\nSummary: s\nSource-Type: idea\nSource-ID: ideas/inbox/greeting.md\nCreated-At: 2026-01-01T00:00:00Z\nCreated-By: intake\n\nGoals:\n- g\n\nConstraints:\n- c\n\nAcceptance:\n- a\n\nReferences:\n- r\n";
    let path = Path::new("specs/queue/idea-greeting.md");
    let document = documents::parse(Family::Spec, path, text).expect("an old spec loads");
    let rendered = document.render();
    assert!(
        rendered.contains("Source-ID: idea-greeting\n"),
        "{rendered}"
    );
    let other = text.replace("ideas/inbox/greeting.md", "notes/plan-7.md");
    let document = documents::parse(Family::Spec, path, &other).expect("loads");
    assert!(document.render().contains("Source-ID: plan-7\n"));
    let bad = text.replace("ideas/inbox/greeting.md", "not an id");
    assert!(documents::parse(Family::Spec, path, &bad).is_err());
}
