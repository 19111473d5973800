//! The whole pipeline from `.loop` files to a frozen plan, with the inputs
//! read from a workspace directory or from the files the binary ships.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::fingerprint::digest;
use super::freeze::freeze;
use super::model::{InputDigest, Plan};
use crate::assets;
use crate::check::{
    self, CapabilityOverrides, Checked, Diagnostics, Overrides, SelectError, select_mode,
};
use crate::fs_error::{FileError, at};
use crate::lower::{Lowered, lower};
use crate::syntax::SourceMap;

/// Why a compilation produced no plan.
#[derive(Debug)]
pub enum CompileFailure {
    /// Source diagnostics: errors (or warnings under `--deny warnings`).
    Diagnostics,
    Select(SelectError),
    /// The mode's graphs do not terminate (diagnostics hold why).
    Termination,
}

/// Everything a compilation produced, for reporting.
pub struct Compilation {
    pub sources: SourceMap,
    pub checked: Checked,
    /// Diagnostics of this compilation, including termination.
    pub diagnostics: Diagnostics,
    pub outcome: Result<(Lowered, Plan), CompileFailure>,
}

/// The directories whose `.loop` files make up a program.
pub const SOURCE_DIRS: &[&str] = &["loops", "modes"];

/// Reads every `.loop` file under `<root>/loops` and `<root>/modes`, in path order.
pub fn load_sources(root: &Path) -> Result<SourceMap, FileError> {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        collect_loop_files(&root.join(dir), &mut files)?;
    }
    files.sort();
    let mut sources = SourceMap::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(at("read", &path))?;
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        sources.add(name, text);
    }
    Ok(sources)
}

fn collect_loop_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FileError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(at("list", dir)(error)),
    };
    for entry in entries {
        let path = entry.map_err(at("list", dir))?.path();
        if path.is_dir() {
            collect_loop_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "loop") {
            out.push(path);
        }
    }
    Ok(())
}

/// The `.loop` files the binary ships, named as they are in a workspace.
pub fn shipped_sources() -> SourceMap {
    let mut sources = SourceMap::new();
    for file in assets::shipped_files() {
        let is_source = SOURCE_DIRS
            .iter()
            .any(|d| file.relative_path.starts_with(&format!("{d}/")));
        if is_source && file.relative_path.ends_with(".loop") {
            sources.add(
                file.relative_path.clone(),
                String::from_utf8_lossy(file.contents).into_owned(),
            );
        }
    }
    sources
}

/// Reads a workspace-relative input (an entrypoint or a skill) if present.
pub type InputReader<'a> = dyn Fn(&str) -> Option<Vec<u8>> + 'a;

/// Options of one compilation.
pub struct CompileOptions<'a> {
    pub mode: &'a str,
    pub overrides: &'a Overrides,
    pub deny_warnings: bool,
    /// Extra inputs to fingerprint (the operator's config file).
    pub extra_inputs: Vec<InputDigest>,
}

/// No operator overrides: the `.loop` files as they are.
static NO_OVERRIDES: Overrides = Overrides {
    params: BTreeMap::new(),
    stages: BTreeMap::new(),
    default_runner: None,
    capabilities: CapabilityOverrides::NONE,
    execution_lanes: None,
};

impl<'a> CompileOptions<'a> {
    /// `mode` from the `.loop` files alone: no overrides, warnings allowed,
    /// nothing extra fingerprinted. For callers without a `millrace.toml`
    /// (the shipped modes, tests), which then need not build the checker's
    /// [`Overrides`].
    pub fn for_mode(mode: &'a str) -> CompileOptions<'a> {
        CompileOptions {
            mode,
            overrides: &NO_OVERRIDES,
            deny_warnings: false,
            extra_inputs: Vec::new(),
        }
    }
}

pub fn compile(
    sources: SourceMap,
    options: CompileOptions<'_>,
    read: &InputReader<'_>,
) -> Compilation {
    let checked = check::check(&sources);
    let mut diagnostics = checked.diagnostics.clone();
    let outcome = if diagnostics.fails(options.deny_warnings) {
        Err(CompileFailure::Diagnostics)
    } else {
        build(&sources, &checked, &options, read, &mut diagnostics)
    };
    Compilation {
        sources,
        checked,
        diagnostics,
        outcome,
    }
}

fn build(
    sources: &SourceMap,
    checked: &Checked,
    options: &CompileOptions<'_>,
    read: &InputReader<'_>,
    diagnostics: &mut Diagnostics,
) -> Result<(Lowered, Plan), CompileFailure> {
    let resolved = select_mode(&checked.program, options.mode, options.overrides)
        .map_err(CompileFailure::Select)?;
    let lowered = lower(resolved).map_err(|d| {
        diagnostics.extend(d);
        CompileFailure::Termination
    })?;
    let mut inputs = source_digests(sources);
    inputs.extend(asset_digests(&lowered, read));
    inputs.extend(options.extra_inputs.iter().cloned());
    let plan = freeze(&checked.program, &lowered, inputs);
    Ok((lowered, plan))
}

fn source_digests(sources: &SourceMap) -> Vec<InputDigest> {
    sources
        .files()
        .map(|(_, f)| digest(&f.name, Some(f.text.as_bytes())))
        .collect()
}

/// Digests of every entrypoint and skill the mode's nodes name.
fn asset_digests(lowered: &Lowered, read: &InputReader<'_>) -> Vec<InputDigest> {
    let mut paths: Vec<&str> = Vec::new();
    for lp in lowered.mode.loops.values() {
        // A builtin node reads no prompt and no skill.
        for node in lp.nodes.values().filter(|n| n.builtin.is_none()) {
            paths.push(&node.entrypoint);
            paths.extend(node.skills.iter().map(String::as_str));
        }
    }
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|p| digest(p, read(p).as_deref()))
        .collect()
}

/// The inputs of a saved plan as they are now, for currentness.
pub fn inputs_now(
    plan: &Plan,
    sources: &SourceMap,
    read: &InputReader<'_>,
    extra: Vec<InputDigest>,
) -> Vec<InputDigest> {
    let mut inputs = source_digests(sources);
    let source_names: Vec<&str> = sources.files().map(|(_, f)| f.name.as_str()).collect();
    let extra_paths: Vec<String> = extra.iter().map(|e| e.path.clone()).collect();
    for input in &plan.inputs {
        let is_source = SOURCE_DIRS
            .iter()
            .any(|d| input.path.starts_with(&format!("{d}/")));
        let known =
            source_names.contains(&input.path.as_str()) || extra_paths.contains(&input.path);
        if !is_source && !known {
            inputs.push(digest(&input.path, read(&input.path).as_deref()));
        }
    }
    inputs.extend(extra);
    inputs
}

/// Reads workspace-relative paths under `root`.
pub fn workspace_reader(root: &Path) -> impl Fn(&str) -> Option<Vec<u8>> + '_ {
    move |relative| std::fs::read(root.join(relative)).ok()
}

/// Reads the shipped assets by their workspace-relative path.
pub fn shipped_reader(relative: &str) -> Option<Vec<u8>> {
    assets::shipped_files()
        .into_iter()
        .find(|f| f.relative_path == relative)
        .map(|f| f.contents.to_vec())
}
