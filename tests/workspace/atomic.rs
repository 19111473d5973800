//! Atomic writes, no-clobber creation and moves.

use std::io::ErrorKind;

use millrace::workspace::atomic::{append_line, rename_no_replace, write_atomic, write_atomic_new};

#[test]
fn write_atomic_replaces_and_leaves_no_temp_files() {
    let temp = tempfile::tempdir().expect("temp dir");
    let path = temp.path().join("state.json");
    write_atomic(&path, b"one").expect("first write");
    write_atomic(&path, b"two").expect("second write");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
    let names = std::fs::read_dir(temp.path()).expect("list").count();
    assert_eq!(names, 1);
}

#[test]
fn write_atomic_new_refuses_an_existing_file() {
    let temp = tempfile::tempdir().expect("temp dir");
    let path = temp.path().join("x.md");
    write_atomic_new(&path, b"one").expect("create");
    let error = write_atomic_new(&path, b"two").expect_err("second create");
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "one");
}

#[test]
fn rename_no_replace_refuses_to_clobber_and_reports_missing_source() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (temp.path().join("a"), temp.path().join("b"));
    std::fs::write(&a, "a").expect("a");
    std::fs::write(&b, "b").expect("b");
    let error = rename_no_replace(&a, &b).expect_err("clobber");
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    std::fs::remove_file(&b).expect("rm b");
    rename_no_replace(&a, &b).expect("move");
    let error = rename_no_replace(&a, &b).expect_err("gone");
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

#[test]
fn append_line_adds_whole_lines() {
    let temp = tempfile::tempdir().expect("temp dir");
    let path = temp.path().join("log.jsonl");
    append_line(&path, "{\"a\":1}").expect("append");
    append_line(&path, "{\"a\":2}").expect("append");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"a\":1}\n{\"a\":2}\n"
    );
}
