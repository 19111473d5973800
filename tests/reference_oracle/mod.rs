//! The Python reference, `millrace-ai` 0.20.0, as a test oracle.
//!
//! Its venv is found at `MILLRACE_REF_VENV` (default
//! `$HOME/.cache/millrace-ref-0.20.0`); `.ci/run` creates it. When it is
//! missing the tests print how to create it and pass, except in CI
//! (`CI=true`), where they fail.

mod adopt;
mod config;
mod documents;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned packages, as `.ci/run` installs them (the typer pin keeps its CLI working).
pub const PACKAGES: &str = "millrace-ai==0.20.0 'typer<0.26'";

fn venv() -> PathBuf {
    match std::env::var_os("MILLRACE_REF_VENV") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/millrace-ref-0.20.0")
        }
    }
}

/// The venv's Python, or `None` (with a printed instruction) when the
/// reference is not installed outside CI.
pub fn python() -> Option<PathBuf> {
    let python = venv().join("bin/python");
    let installed = Command::new(&python)
        .args(["-c", "import millrace_ai"])
        .output()
        .is_ok_and(|out| out.status.success());
    if installed {
        return Some(python);
    }
    let help = format!(
        "the reference is not installed at {}: create it with\n  python3 -m venv \"$MILLRACE_REF_VENV\" && \"$MILLRACE_REF_VENV/bin/pip\" install {PACKAGES}\n(or run .ci/run), then set MILLRACE_REF_VENV",
        venv().display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{help}");
    }
    eprintln!("skipping: {help}");
    None
}

/// Runs `tests/reference_oracle/<script>` with `args`; returns its stdout.
pub fn run_script(python: &Path, script: &str, args: &[&OsStr]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference_oracle")
        .join(script);
    let out = Command::new(python)
        .arg(&path)
        .args(args)
        .output()
        .expect("run the oracle script");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
