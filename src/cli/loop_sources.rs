//! The sources `loop check` and `loop test` work on: the shipped (or a
//! workspace's) definitions, with the author's own `.loop` files replacing
//! the items of the same name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::context::Workspace;
use super::output::CliError;
use crate::fs_error::at;
use crate::plan::shipped_sources;
use crate::syntax::{self, FileId, Item, SourceMap};

pub fn read(path: &Path) -> Result<String, CliError> {
    Ok(std::fs::read_to_string(path).map_err(at("read", path))?)
}

/// Names of the items a source text defines.
pub fn item_names(text: &str) -> BTreeSet<String> {
    let (module, _) = syntax::parse(FileId(0), text);
    module
        .items
        .iter()
        .map(|item| match item {
            Item::Stage(s) => s.name.text.clone(),
            Item::Loop(l) => l.name.text.clone(),
            Item::Mode(m) => m.name.text.clone(),
            Item::Alias(a) => a.name.text.clone(),
        })
        .collect()
}

/// The context files, minus those defining an item a given file redefines,
/// followed by the given files (with their ids).
pub fn build_sources(
    files: &[PathBuf],
    workspace: Option<&Path>,
) -> Result<(SourceMap, Vec<FileId>), CliError> {
    let context = match workspace {
        Some(path) => super::context::workspace_sources(&Workspace::open(path)?)?,
        None => shipped_sources(),
    };
    let given: Vec<(String, String)> = files
        .iter()
        .map(|p| Ok((p.display().to_string(), read(p)?)))
        .collect::<Result<_, CliError>>()?;
    let shadowed: BTreeSet<String> = given
        .iter()
        .flat_map(|(_, text)| item_names(text))
        .collect();
    let mut sources = SourceMap::new();
    for (_, file) in context.files() {
        if item_names(&file.text).is_disjoint(&shadowed) {
            sources.add(file.name.clone(), file.text.clone());
        }
    }
    let ids = given
        .into_iter()
        .map(|(name, text)| sources.add(name, text))
        .collect();
    Ok((sources, ids))
}

/// The `.loop` files named: a file as given, a directory as every `.loop`
/// file under it, in name order (`loop fmt --check loops/`). A directory
/// reached twice (through a link to it or to a folder above it) is walked
/// once, so no file is read twice and a link cycle ends.
pub fn loop_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    let mut walked = BTreeSet::new();
    for path in given {
        if path.is_dir() {
            collect_loop_files(path, &mut files, &mut walked)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn collect_loop_files(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    walked: &mut BTreeSet<PathBuf>,
) -> Result<(), CliError> {
    let real = dir.canonicalize().map_err(at("read", dir))?;
    if !walked.insert(real) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(at("read", dir))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_loop_files(&path, files, walked)?;
        } else if path.extension().is_some_and(|x| x == "loop") {
            files.push(path);
        }
    }
    Ok(())
}
