//! `millrace loop new-stage NAME --plane P`: scaffold a stage kind in a
//! workspace, with its entrypoint and core skill where the conventions
//! look for them, so that the author starts from files that compile and
//! pass the stage-contract lint.

use std::path::{Path, PathBuf};

use clap::Args;

use super::context::{Workspace, workspace_sources};
use super::output::{CliResult, Out, fail};
use crate::check::{self, Family, Plane};
use crate::fs_error::at;
use crate::syntax::keywords;
use crate::workspace::atomic::write_atomic_new;

#[derive(Debug, Args)]
pub struct NewStageArgs {
    /// The stage kind's name (lower_snake, not a keyword): `security_review`
    pub name: String,
    /// Its plane: execution, planning or learning
    #[arg(long)]
    pub plane: String,
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}

/// One file to create, relative to `millrace-agents/`.
struct Scaffold {
    relative: String,
    text: String,
}

pub fn run(args: &NewStageArgs) -> CliResult {
    let Some(plane) = Plane::parse(&args.plane) else {
        return fail(format!(
            "unknown plane `{}`; planes: execution, planning, learning",
            args.plane
        ));
    };
    check_name(&args.name)?;
    let workspace = Workspace::open(&args.workspace)?;
    let program = check::check(&workspace_sources(&workspace)?).program;
    if program.stages.contains_key(&args.name) {
        return fail(format!("stage kind `{}` already exists", args.name));
    }
    let files = scaffolds(&args.name, plane);
    for file in &files {
        if workspace.agents.join(&file.relative).exists() {
            return fail(format!(
                "{} already exists; nothing was written",
                file.relative
            ));
        }
    }
    let mut out = Out::new();
    for file in &files {
        create(&workspace.agents.join(&file.relative), &file.text)?;
        out.kv("created", &file.relative)?;
    }
    out.kv(
        "next",
        format!(
            "use it as a node of a `{plane}.*` loop (`{} {{ {}_COMPLETE -> ... }}`), then `millrace loop check` and `millrace loop test`",
            args.name,
            args.name.to_uppercase()
        ),
    )?;
    Ok(())
}

fn check_name(name: &str) -> CliResult {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !(first_ok && rest_ok) {
        return fail(format!(
            "`{name}` is not a stage name: use lower_snake, starting with a letter"
        ));
    }
    if keywords().any(|k| k == name) {
        return fail(format!(
            "`{name}` is a keyword of `.loop`; choose another name"
        ));
    }
    Ok(())
}

fn create(path: &Path, text: &str) -> CliResult {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    }
    write_atomic_new(path, text.as_bytes()).map_err(at("write", path))?;
    Ok(())
}

/// The families a new stage of the plane accepts, as the shipped stages do.
fn families(plane: Plane) -> Vec<Family> {
    match plane {
        Plane::Execution => vec![Family::Task],
        Plane::Planning => vec![Family::Spec, Family::Incident],
        Plane::Learning => vec![Family::LearningRequest],
    }
}

fn scaffolds(name: &str, plane: Plane) -> Vec<Scaffold> {
    vec![
        Scaffold {
            relative: format!("loops/stages/{plane}_{name}.loop"),
            text: stage_text(name, plane),
        },
        Scaffold {
            relative: format!("entrypoints/{plane}/{name}.md"),
            text: entrypoint_text(name, plane),
        },
        Scaffold {
            relative: format!("skills/stage/{plane}/{name}-core/SKILL.md"),
            text: skill_text(name, plane),
        },
    ]
}

fn stage_text(name: &str, plane: Plane) -> String {
    let families: Vec<&str> = families(plane).iter().map(|f| f.as_str()).collect();
    format!(
        "# Stage kind `{name}` of the {plane} plane (scaffolded by `millrace loop new-stage`).\n\
# Its outcomes and their result classes; `BLOCKED: blocked | recoverable_failure`\n\
# is implicit. Every outcome needs a `### OUTCOME` line in the entrypoint.\n\
\n\
stage {name} in {plane} {{\n  {upper}_COMPLETE: success\n  writes stage_result, report\n  families {}\n}}\n",
        families.join(", "),
        upper = name.to_uppercase()
    )
}

fn entrypoint_text(name: &str, plane: Plane) -> String {
    let upper = name.to_uppercase();
    format!(
        "# {name} stage ({plane} plane)\n\n\
You are the `{name}` stage for one work item. This stage is one agent session: do the job below, \
write a report, and end with one marker line. The runtime, not you, moves the work item and \
decides which stage runs next.\n\n\
Read your core skill first: `millrace-agents/skills/stage/{plane}/{name}-core/SKILL.md`.\n\n\
## Your job\n\n\
Say here, in a few bullets, what this stage does, what it must not touch, and where its work ends.\n\n\
## Inputs in the request\n\n\
- The work item document named in the request.\n\
- The run directory `millrace-agents/runs/<run_id>/`, with the reports of earlier stages.\n\n\
## Artifacts\n\n\
`<run_dir>/{name}_report.md`: what you did, each command you ran with its exit code, and the outcome.\n\n\
## Outcomes\n\n\
- `{upper}_COMPLETE`: the job is done and the report is written.\n\
- `BLOCKED`: you cannot finish; the report says why and what would unblock it.\n\n\
## Marker protocol\n\n\
Your final message ends with exactly one of the lines below, alone on the last line, copied exactly.\n\n\
### {upper}_COMPLETE\n\
### BLOCKED\n"
    )
}

fn skill_text(name: &str, plane: Plane) -> String {
    format!(
        "---\nname: {name}-core\ndescription: How the `{name}` stage of the {plane} plane does its job.\n---\n\n\
# {name} core\n\n\
The method of the `{name}` stage, for the agent that runs it: what to read first, the steps, \
how to check the result, and when to stop. Replace this paragraph with that method.\n\n\
## Before ending\n\n\
- The report is written in the run directory.\n\
- The last line of the final message is one marker named by the entrypoint.\n"
    )
}
