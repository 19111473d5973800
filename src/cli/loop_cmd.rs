//! `millrace loop check|fmt`: check any `.loop` files (in the context of the
//! shipped or a workspace's definitions) and format them canonically.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::compile_cmd::Deny;
use super::loop_sources::{build_sources, item_names, loop_files, read};
use super::output::{CliError, CliResult, Out, fail, report};
use crate::check::{self, Checked, Overrides, standalone};
use crate::fs_error::at;
use crate::lower::{build, lower, prove_termination};
use crate::syntax::{self, FileId, SourceMap};

#[derive(Debug, Subcommand)]
pub enum LoopCommand {
    /// Check `.loop` files: syntax, names, routing totality, reachability, termination
    #[command(
        long_about = "Check `.loop` files: syntax, names, routing totality, reachability, final \
classes and termination (every cycle must spend a budget). The files are checked together with the \
shipped stage kinds, loops and modes (or a workspace's, with --workspace); an item in a given file \
replaces the definition of the same name. Prints each loop's `max_stage_runs`."
    )]
    Check(CheckArgs),
    /// Format `.loop` files in place (or only report with --check)
    Fmt(FmtArgs),
    /// Walk a loop without an agent: scenario files (what each stage answers, what must come of it) or `--explore`
    #[command(
        long_about = "Walk a loop without an agent, through the compiled plan and the runtime's own \
router. A scenario file (TOML) names the loop, what each stage answers visit by visit (outcomes, \
result fields such as `resume_stage`, failure classes, effect ports), parameter overrides under \
`[set]`, and an `[expect]` section (final, path, stage_runs, spent); the walk is printed and the \
command exits 1 when it differs from what was expected. `--explore LOOP` walks every path instead \
and reports each reachable final with a shortest path to it, and a longest path."
    )]
    Test(super::loop_test::TestArgs),
    /// Scaffold a stage kind in a workspace: its `.loop` definition, entrypoint and core skill
    NewStage(super::new_stage_cmd::NewStageArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The files to check (a directory: every `.loop` file under it)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Check against a workspace's definitions instead of the shipped ones
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Treat warnings as errors: `--deny warnings`
    #[arg(long, value_name = "warnings")]
    pub deny: Option<Deny>,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// The files to format (a directory: every `.loop` file under it)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 if a file is not formatted
    #[arg(long)]
    pub check: bool,
}

pub fn run(command: LoopCommand) -> CliResult {
    match command {
        LoopCommand::Check(args) => check_files(&args),
        LoopCommand::Fmt(args) => fmt_files(&args),
        LoopCommand::Test(args) => super::loop_test::run(&args),
        LoopCommand::NewStage(args) => super::new_stage_cmd::run(&args),
    }
}

fn check_files(args: &CheckArgs) -> CliResult {
    let (sources, ids) = build_sources(&loop_files(&args.files)?, args.workspace.as_deref())?;
    let mut checked = check::check(&sources);
    let mut out = Out::new();
    let defined: BTreeSet<String> = ids
        .iter()
        .flat_map(|id| item_names(&sources.get(*id).text))
        .collect();
    if !checked.diagnostics.has_errors() {
        analyse(&mut checked, &defined, &mut out)?;
    }
    report(&sources, &checked.diagnostics);
    let errors = checked.diagnostics.errors().count();
    let warnings = checked.diagnostics.warnings().count();
    let ok = !checked.diagnostics.fails(args.deny.is_some());
    out.kv("ok", ok)?;
    out.kv("errors", errors)?;
    out.kv("warnings", warnings)?;
    if ok { Ok(()) } else { Err(CliError::Reported) }
}

/// Termination and bounds for every loop and mode the given files define.
fn analyse(checked: &mut Checked, defined: &BTreeSet<String>, out: &mut Out) -> CliResult {
    let mut found = Vec::new();
    for (name, lp) in &checked.program.loops {
        if !defined.contains(name) {
            continue;
        }
        match prove_termination(&build(&standalone(lp), &[])) {
            Ok(bound) => out.kv(
                "loop",
                format!("{name} max_stage_runs={}", bound.max_stage_runs),
            )?,
            Err(d) => found.push(d),
        }
    }
    let modes: Vec<String> = checked
        .program
        .modes
        .keys()
        .filter(|m| defined.contains(*m))
        .cloned()
        .collect();
    for name in modes {
        let resolved = check::select_mode(&checked.program, &name, &Overrides::default());
        match resolved.map(lower) {
            Ok(Ok(_)) => out.kv("mode", format!("{name} ok"))?,
            Ok(Err(d)) => found.push(d),
            Err(e) => return Err(e.into()),
        }
    }
    for d in found {
        checked.diagnostics.extend(d);
    }
    Ok(())
}

fn fmt_files(args: &FmtArgs) -> CliResult {
    let mut out = Out::new();
    let mut unformatted = 0;
    for path in &loop_files(&args.files)? {
        let text = read(path)?;
        let mut sources = SourceMap::new();
        sources.add(path.display().to_string(), text.clone());
        let (_, errors) = syntax::parse(FileId(0), &text);
        if !errors.is_empty() {
            report(&sources, &check::check(&sources).diagnostics);
            return fail(format!(
                "{} has syntax errors; fix them before formatting",
                path.display()
            ));
        }
        let formatted = syntax::format(&text);
        if formatted == text {
            out.kv("unchanged", path.display())?;
        } else if args.check {
            unformatted += 1;
            out.kv("would_reformat", path.display())?;
        } else {
            std::fs::write(path, formatted).map_err(at("write", path))?;
            out.kv("formatted", path.display())?;
        }
    }
    if unformatted > 0 {
        fail(format!("{unformatted} file(s) are not formatted"))
    } else {
        Ok(())
    }
}
