//! Everything the binary ships: `.loop` files, stage entrypoints and skills.
//!
//! The files are embedded at build time so that `millrace init` works from a
//! single binary, and so that `cargo test` checks exactly what users receive.

use include_dir::{Dir, include_dir};

/// Shipped stage kinds and loops (`loops/**/*.loop`).
pub static LOOPS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/loops");
/// Shipped modes (`modes/*.loop`).
pub static MODES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/modes");
/// Stage entrypoint prompts (`entrypoints/<plane>/<stage>.md`).
pub static ENTRYPOINTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/entrypoints");
/// Stage skills (`skills/stage/<plane>/<stage>-core/SKILL.md` and shared skills).
pub static SKILLS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/skills");

/// One shipped file: its path relative to the workspace's `millrace-agents/`
/// directory and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct ShippedFile {
    pub relative_path: &'static str,
    pub contents: &'static [u8],
}

/// Every shipped file with the path it gets inside a workspace, in a stable order.
pub fn shipped_files() -> Vec<ShippedFile> {
    let mut files = Vec::new();
    for (prefix, dir) in [
        ("loops", &LOOPS),
        ("modes", &MODES),
        ("entrypoints", &ENTRYPOINTS),
        ("skills", &SKILLS),
    ] {
        collect(prefix, dir, &mut files);
    }
    files.sort_by_key(|file| file.relative_path);
    files
}

fn collect(prefix: &'static str, dir: &'static Dir<'static>, out: &mut Vec<ShippedFile>) {
    for file in dir.files() {
        let Some(path) = file.path().to_str() else {
            continue;
        };
        let relative_path: &'static str = Box::leak(format!("{prefix}/{path}").into_boxed_str());
        out.push(ShippedFile {
            relative_path,
            contents: file.contents(),
        });
    }
    for sub in dir.dirs() {
        collect(prefix, sub, out);
    }
}
