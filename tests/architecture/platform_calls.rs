//! What differs between operating systems lives in `src/platform/` only
//! (DESIGN.md's module table, issue 20): outside it no code line names a
//! target (`cfg(target_os)`), a Linux-only crate or a Linux-only call,
//! and Cargo.toml lists Linux-only crates for Linux targets only, so the
//! crate builds on macOS and the BSDs.

use std::path::Path;

use super::source_tree::read_sources;

/// Words a code line outside the platform module may not hold, each with
/// why: a target test, or what exists on Linux alone.
const LINUX_ONLY: &[(&str, &str)] = &[
    ("target_os", "a test of the target system"),
    ("target_vendor", "a test of the target system"),
    ("target_env", "a test of the target system"),
    ("inotify", "the Linux-only inotify crate"),
    ("/proc", "`/proc`, which macOS has not"),
    ("prctl", "`prctl`, a Linux call (the child subreaper)"),
    ("NOREPLACE", "`RENAME_NOREPLACE`, a Linux flag"),
    ("renameat", "`renameat2` and its flags"),
    ("cgroup.", "cgroup v2 files"),
    ("/sys/fs", "Linux's `/sys`"),
    ("procfs", "the Linux-only procfs crate"),
    (
        "libc::",
        "a raw libc call, to be made behind the platform layer",
    ),
];

/// The crates that build on Linux alone.
const LINUX_CRATES: &[&str] = &["inotify", "procfs", "caps", "landlock", "cgroups-rs"];

#[test]
fn no_code_outside_the_platform_module_names_a_platform() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for file in read_sources(root) {
        if file.module.first().is_some_and(|m| m == "platform") {
            continue;
        }
        for line in &file.lines {
            for (word, why) in LINUX_ONLY.iter().filter(|(w, _)| names(&line.text, w)) {
                let path = &file.path;
                let number = line.number;
                problems.push(format!(
                    "{path}:{number} names `{word}` ({why}): move it behind src/platform"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether `code` holds `word` as a whole word at its end (`/proc` names
/// `/proc/self`, not `/processed`).
fn names(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let next = code[at + word.len()..].chars().next();
        !next.is_some_and(char::is_alphanumeric)
    })
}

#[test]
fn a_word_is_found_whole() {
    assert!(names(r#"read("/proc/self/stat")"#, "/proc"));
    assert!(!names(r#""state/mailbox/processed""#, "/proc"));
    assert!(names("#[cfg(target_os = \"linux\")]", "target_os"));
}

#[test]
fn linux_only_crates_are_dependencies_of_linux_targets_only() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    let problems = misplaced_linux_crates(&manifest);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `crate (in [table])` for each Linux-only crate listed in a dependency
/// table that is not for Linux targets alone.
fn misplaced_linux_crates(manifest: &str) -> Vec<String> {
    let mut table = String::new();
    let mut problems = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            table = line.to_string();
            continue;
        }
        let dependencies = table.contains("dependencies");
        let linux_only = table.contains(r#"cfg(target_os = "linux")"#);
        let name = line.split(['=', ' ']).next().unwrap_or_default();
        if dependencies && !linux_only && LINUX_CRATES.contains(&name) {
            problems.push(format!("Cargo.toml: `{name}` in {table}: it builds on Linux only; list it under [target.'cfg(target_os = \"linux\")'.dependencies]"));
        }
    }
    problems
}

#[test]
fn a_linux_crate_among_every_target_s_dependencies_is_found() {
    let manifest = "[dependencies]\ninotify = \"0.11\"\n[target.'cfg(target_os = \"linux\")'.dependencies]\ninotify = \"0.11\"\n";
    assert_eq!(misplaced_linux_crates(manifest).len(), 1);
}
