//! The crate as a graph of files: each path a file names is resolved to
//! the file that defines what it names, following re-exports (`pub use`),
//! so `super::Cancel` in a runner is an edge to `request.rs`, where
//! `Cancel` is defined, not to the `mod.rs` that re-exports it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::source_tree::{SourceFile, read_sources};
use super::use_paths::{Reference, references};

/// How many re-exports a name is followed through before giving up.
const MAX_REEXPORT_HOPS: usize = 8;

/// Every file, the paths each names, and where modules and names live.
pub struct CrateGraph {
    pub files: Vec<SourceFile>,
    /// Per file (same index), the paths it names inside the crate.
    pub references: Vec<Vec<Reference>>,
    /// Module path → index of the file that holds it.
    modules: BTreeMap<Vec<String>, usize>,
    /// (module, exported name) → the path it re-exports.
    reexports: BTreeMap<(Vec<String>, String), Vec<String>>,
    /// Module → the modules it re-exports whole (`pub use x::*`).
    globs: BTreeMap<Vec<String>, Vec<Vec<String>>>,
}

/// One file naming another.
pub struct Edge<'a> {
    pub from: usize,
    pub to: usize,
    pub reference: &'a Reference,
}

impl CrateGraph {
    /// Reads `root/src`.
    pub fn read(root: &Path) -> CrateGraph {
        let files = read_sources(root);
        let modules = module_files(&files);
        let is_module = |m: &[String]| modules.contains_key(m);
        let references: Vec<Vec<Reference>> =
            files.iter().map(|f| references(f, &is_module)).collect();
        let mut graph = CrateGraph {
            files,
            references,
            modules,
            reexports: BTreeMap::new(),
            globs: BTreeMap::new(),
        };
        graph.index_reexports();
        graph
    }

    fn index_reexports(&mut self) {
        let exported = self.references.iter().flatten();
        for reference in exported.filter(|r| r.exports.is_some()) {
            let module = reference.module.clone();
            match reference.path.split_last() {
                Some((last, glob)) if last == "*" => {
                    self.globs.entry(module).or_default().push(glob.to_vec());
                }
                _ => {
                    let name = reference.exports.clone().unwrap_or_default();
                    self.reexports
                        .insert((module, name), reference.path.clone());
                }
            }
        }
    }

    /// The file a path leads to: the one defining the name it ends in,
    /// else the file of the longest module it names.
    pub fn resolve(&self, path: &[String]) -> Option<usize> {
        self.definer(path, 0)
            .or_else(|| self.module_prefix(path).map(|(_, f)| f))
    }

    /// The file that defines what `path` names, through re-exports.
    fn definer(&self, path: &[String], hops: usize) -> Option<usize> {
        let (length, file) = self.module_prefix(path)?;
        let Some(name) = path.get(length) else {
            return Some(file);
        };
        if name == "*" || self.files[file].items.contains(name) {
            return Some(file);
        }
        if hops >= MAX_REEXPORT_HOPS {
            return None;
        }
        let module = path[..length].to_vec();
        if let Some(target) = self.reexports.get(&(module.clone(), name.clone())) {
            return self.definer(target, hops + 1);
        }
        let globs = self.globs.get(&module).into_iter().flatten();
        globs
            .map(|glob| [glob.as_slice(), &path[length..]].concat())
            .find_map(|through| self.definer(&through, hops + 1))
    }

    /// The longest module `path` starts with: its length and its file.
    fn module_prefix(&self, path: &[String]) -> Option<(usize, usize)> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.modules.get(&path[..n]).map(|&file| (n, file)))
    }

    /// Every reference from one file to another. A module re-exporting
    /// what its own submodules define (the `pub use` list of a `mod.rs`)
    /// is its public face, not a dependency, and is left out.
    pub fn edges(&self) -> Vec<Edge<'_>> {
        let mut edges = Vec::new();
        for (from, refs) in self.references.iter().enumerate() {
            for reference in refs {
                let Some(to) = self.resolve(&reference.path) else {
                    continue;
                };
                let facade = reference.exports.is_some()
                    && self.files[to].module.starts_with(&reference.module);
                if to != from && !facade {
                    edges.push(Edge {
                        from,
                        to,
                        reference,
                    });
                }
            }
        }
        edges
    }

    /// The top-level module of a file (`check` for `src/check/model.rs`).
    pub fn top_module(&self, file: usize) -> Option<&str> {
        self.files[file].module.first().map(String::as_str)
    }

    /// The top-level modules: the ones `src/lib.rs` declares.
    pub fn top_modules(&self) -> BTreeSet<&str> {
        self.modules
            .keys()
            .filter(|m| m.len() == 1)
            .map(|m| m[0].as_str())
            .collect()
    }
}

/// Module path → file, for file modules and the inline modules inside them.
fn module_files(files: &[SourceFile]) -> BTreeMap<Vec<String>, usize> {
    let mut modules = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        modules.insert(file.module.clone(), index);
        for line in &file.lines {
            modules.entry(line.module.clone()).or_insert(index);
        }
    }
    modules
}
