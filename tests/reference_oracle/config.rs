//! The reference's loader accepts `tests/reference_oracle/millrace.toml`, so
//! the config test (`workspace::config`) loads a real reference config.

use std::ffi::OsStr;

use super::python;

#[test]
fn the_reference_config_fixture_is_one_the_reference_loads() {
    let Some(python) = python() else {
        return;
    };
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference_oracle/millrace.toml"
    );
    let out = std::process::Command::new(python)
        .args([OsStr::new("-c"), OsStr::new("import sys; from millrace_ai.config.loading import load_runtime_config as load; load(sys.argv[1])")])
        .arg(fixture)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
