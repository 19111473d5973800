//! The architecture of DESIGN.md, checked on the source text (no tools but
//! this test): which top-level module may use which, and no circle of
//! imports between the files of one module. Every `use` and every path
//! written in code (`crate::…`, `super::…`, `child::…`) counts.

mod crate_graph;
mod cycles;
mod platform_calls;
mod source_tree;
mod use_paths;

use std::collections::BTreeSet;
use std::path::Path;

use crate_graph::CrateGraph;

/// What each top-level module may use (DESIGN.md, "The pipeline"). `vocab`
/// (the domain words) and `fs_error` (the shape of a failed file
/// operation) may be used by everyone and use nothing; `assets` (the
/// embedded files) is used by `plan` and `cli`; `platform` (what differs
/// between operating systems, see platform_calls.rs) uses nothing and is
/// used by the modules that touch files and processes. A module missing
/// here fails the test, so a new one gets its place in the table.
const MAY_USE: &[(&str, &[&str])] = &[
    ("vocab", &[]),
    ("fs_error", &[]),
    ("assets", &[]),
    ("platform", &[]),
    ("syntax", &["vocab"]),
    ("check", &["syntax", "vocab"]),
    ("lower", &["check", "syntax", "vocab"]),
    ("plan", &["lower", "check", "syntax", "vocab", "assets"]),
    ("runners", &["platform", "vocab"]),
    // The config embeds the runners' config types.
    ("workspace", &["runners", "platform", "vocab"]),
    (
        "runtime",
        &["plan", "runners", "workspace", "platform", "vocab"],
    ),
    ("cli", &["*"]),
];

/// Known circles between the files of one module, each the exact set of
/// its files with the piece whose move breaks it: none are left. A new
/// circle fails; an entry here is a debt to pay, not a way around the rule.
const CIRCLES_TO_BREAK: &[&[&str]] = &[];

fn crate_graph() -> CrateGraph {
    CrateGraph::read(Path::new(env!("CARGO_MANIFEST_DIR")))
}

#[test]
fn each_module_uses_only_what_design_md_allows() {
    let graph = crate_graph();
    let mut problems = unknown_modules(&graph);
    for (file, refs) in graph.references.iter().enumerate() {
        let Some(from) = graph.top_module(file) else {
            continue;
        };
        for reference in refs {
            let to = reference.path[0].as_str();
            let top = graph.top_modules().contains(to);
            if top && to != from && !may_use(from, to) {
                let path = &graph.files[file].path;
                problems.push(format!(
                    "{path}:{} uses `{}`: `{from}` may not use `{to}` (DESIGN.md; allowed: {})",
                    reference.line,
                    reference.written,
                    allowed(from).join(", ")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn unknown_modules(graph: &CrateGraph) -> Vec<String> {
    let listed: BTreeSet<&str> = MAY_USE.iter().map(|(m, _)| *m).collect();
    let modules = graph.top_modules();
    let unlisted = modules.iter().filter(|m| !listed.contains(*m));
    unlisted
        .map(|m| format!("src/{m}: a top-level module missing from MAY_USE in tests/architecture"))
        .collect()
}

fn allowed(from: &str) -> Vec<&'static str> {
    let entry = MAY_USE.iter().find(|(m, _)| *m == from);
    entry.map_or_else(Vec::new, |(_, allowed)| allowed.to_vec())
}

/// The modules at the bottom of the stack, usable from every other one.
const BASE: &[&str] = &["vocab", "fs_error"];

fn may_use(from: &str, to: &str) -> bool {
    let allowed = allowed(from);
    BASE.contains(&to) || allowed.contains(&to) || allowed.contains(&"*")
}

#[test]
fn no_circle_of_imports_between_the_files_of_a_module() {
    let graph = crate_graph();
    let edges = graph.edges();
    let same_module = |from: usize, to: usize| graph.top_module(from) == graph.top_module(to);
    let pairs: Vec<(usize, usize)> = edges
        .iter()
        .filter(|e| same_module(e.from, e.to))
        .map(|e| (e.from, e.to))
        .collect();
    let mut problems = Vec::new();
    for component in cycles::circles(graph.files.len(), &pairs) {
        if !circle_allowed(&graph, &component) {
            let circle = cycles::one_circle(&component, &pairs);
            problems.push(describe_circle(&graph, &edges, &component, &circle));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn circle_allowed(graph: &CrateGraph, component: &[usize]) -> bool {
    let files: BTreeSet<&str> = component
        .iter()
        .map(|&f| graph.files[f].path.as_str())
        .collect();
    let known = |known: &&[&str]| known.iter().copied().collect::<BTreeSet<&str>>() == files;
    CIRCLES_TO_BREAK.iter().any(known)
}

/// The files that import each other, then one circle through them, each
/// step with the import that makes it: `a.rs:3 uses `super::b::X``.
fn describe_circle(
    graph: &CrateGraph,
    edges: &[crate_graph::Edge<'_>],
    component: &[usize],
    circle: &[usize],
) -> String {
    let files: Vec<&str> = component
        .iter()
        .map(|&f| graph.files[f].path.as_str())
        .collect();
    let mut lines = vec![
        format!(
            "these files import each other in a circle: {}",
            files.join(", ")
        ),
        "one circle, each line naming the import that makes the next step:".to_string(),
    ];
    for step in circle.windows(2) {
        let edge = edges.iter().find(|e| e.from == step[0] && e.to == step[1]);
        let Some(edge) = edge else { continue };
        let (from, to) = (&graph.files[step[0]].path, &graph.files[step[1]].path);
        let (line, written) = (edge.reference.line, &edge.reference.written);
        lines.push(format!("  {from}:{line} uses `{written}` (in {to})"));
    }
    lines.join("\n")
}

#[test]
fn the_graph_sees_edges_through_reexports() {
    let graph = crate_graph();
    let file = |path: &str| graph.files.iter().position(|f| f.path == path);
    let pi = file("src/runners/agent_cli/pi.rs").expect("pi.rs");
    let request = file("src/runners/request.rs").expect("request.rs");
    let edges = graph.edges();
    assert!(
        edges.iter().any(|e| e.from == pi && e.to == request),
        "`crate::runners::Cancel` in pi.rs resolves to request.rs, where it is defined"
    );
}
