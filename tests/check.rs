//! Diagnostics of `.loop` fixtures: each `tests/check/*.loop` is checked
//! together with the shipped definitions (its items replace same-named ones),
//! lowered when it defines modes or loops, and its rendered diagnostics are
//! pinned by a snapshot. Files named `err_*` must fail; others must pass.

use std::collections::BTreeSet;

use millrace::check::{self, Overrides, render, standalone};
use millrace::lower::{build, lower, prove_termination};
use millrace::plan::shipped_sources;
use millrace::syntax::{FileId, Item, SourceMap, parse};

fn item_names(text: &str) -> BTreeSet<String> {
    let (module, _) = parse(FileId(0), text);
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

/// Checks a fixture in the context of the shipped sources and renders every
/// diagnostic, plus one line per loop or mode that passed.
pub fn check_fixture(name: &str, text: &str) -> (bool, String) {
    let defined = item_names(text);
    let mut sources = SourceMap::new();
    for (_, file) in shipped_sources().files() {
        if item_names(&file.text).is_disjoint(&defined) {
            sources.add(file.name.clone(), file.text.clone());
        }
    }
    sources.add(name, text);
    let mut checked = check::check(&sources);
    let mut summary = String::new();
    if !checked.diagnostics.has_errors() {
        for (loop_name, lp) in checked
            .program
            .loops
            .iter()
            .filter(|(n, _)| defined.contains(*n))
        {
            match prove_termination(&build(&standalone(lp), &[])) {
                Ok(bound) => summary.push_str(&format!(
                    "loop {loop_name}: max_stage_runs={}\n",
                    bound.max_stage_runs
                )),
                Err(d) => checked.diagnostics.extend(d),
            }
        }
        for mode in checked
            .program
            .modes
            .keys()
            .filter(|m| defined.contains(*m))
        {
            match check::select_mode(&checked.program, mode, &Overrides::default()).map(lower) {
                Ok(Ok(_)) => summary.push_str(&format!("mode {mode}: ok\n")),
                Ok(Err(d)) => checked.diagnostics.extend(d),
                Err(e) => summary.push_str(&format!("mode {mode}: {e}\n")),
            }
        }
    }
    let ok = !checked.diagnostics.has_errors();
    let rendered = render(&sources, &checked.diagnostics.sorted(), false);
    (ok, format!("{summary}{rendered}"))
}

#[test]
fn fixtures() {
    insta::glob!("check/*.loop", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let name = format!(
            "tests/check/{}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        );
        let (ok, output) = check_fixture(&name, &text);
        let expect_error = name.contains("/err_");
        assert_eq!(
            !ok,
            expect_error,
            "{name}: expected {}\n{output}",
            if expect_error { "errors" } else { "success" }
        );
        insta::assert_snapshot!(output);
    });
}
