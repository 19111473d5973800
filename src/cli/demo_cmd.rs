//! `millrace demo`: a whole run with no agent installed. It makes a
//! workspace in the `demo` mode (every stage played by the built-in `script`
//! runner), queues two tasks and an idea, runs the daemon until idle with the
//! monitor on, and prints the path each run took.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::compile_cmd::{CompileArgs, compile_and_persist};
use super::init_cmd::install;
use super::output::{CliError, CliResult, Out};
use super::runs_cmd::{run_dirs, trace_text};
use super::serve::{ListenArgs, Listener};
use crate::fs_error::at;
use crate::runtime::{DaemonOptions, RunTrace, RuntimeSettings, run_daemon};
use crate::workspace::documents::read_import;
use crate::workspace::queue::QueueStore;
use crate::workspace::{Family, WorkspacePaths};

const SCRIPT: &str = include_str!("../../assets/demo/script.toml");
const TASKS: &[(&str, &str)] = &[
    (
        "demo-hello.md",
        include_str!("../../assets/demo/demo-hello.md"),
    ),
    (
        "demo-fix-me.md",
        include_str!("../../assets/demo/demo-fix-me.md"),
    ),
];
const IDEA: (&str, &str) = ("greeting.md", include_str!("../../assets/demo/greeting.md"));
/// The skill the demo's curator improves, installed before the run.
const SKILL: &str = include_str!("../../assets/demo/skills/greeting-style/SKILL.md");
/// The local skills index the demo's librarian installs from, with its package.
const INDEX: &[(&str, &str)] = &[
    (
        "index.md",
        include_str!("../../assets/demo/skill-index/index.md"),
    ),
    (
        "release-notes/SKILL.md",
        include_str!("../../assets/demo/skill-index/release-notes/SKILL.md"),
    ),
];

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to make the demo workspace [default: a new directory under the system temp dir]
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Open the dashboard (`millrace serve`) on the demo workspace while it
    /// runs, and keep serving it after, until Ctrl-C
    #[arg(long)]
    pub serve: bool,
    #[command(flatten)]
    pub listen: ListenArgs,
}

pub fn run(args: &DemoArgs) -> CliResult {
    let root = match &args.workspace {
        Some(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()),
        None => new_temp_dir()?,
    };
    let mut out = Out::new();
    out.kv("workspace", root.display())?;
    prepare(&root)?;
    let compile = CompileArgs {
        workspace: root.clone(),
        mode: Some("demo".into()),
        config: None,
        deny: None,
    };
    let compiled = compile_and_persist(&compile, &mut Out::quiet())?;
    out.kv("mode", &compiled.plan.mode_id)?;
    out.kv("plan_id", &compiled.plan.plan_id)?;
    let dashboard = match args.serve {
        true => Some(serve_beside(&root, &args.listen, &mut out)?),
        false => None,
    };
    out.line("")?;
    let paths = WorkspacePaths::new(&root);
    let options = DaemonOptions {
        max_ticks: None,
        until_idle: true,
        monitor_stdout: true,
        monitor_log: None,
        heartbeat: Duration::from_secs(30),
        settings: RuntimeSettings::from_config(&compiled.config, &compiled.agents),
        recompile: Some(super::run_cmd::recompiler(compile)),
    };
    let summary = run_daemon(paths.clone(), compiled.plan, options)?;
    out.line("")?;
    out.kv("ticks", summary.ticks)?;
    print_traces(&root, &mut out)?;
    super::demo_skills::print_changes(&paths, &mut out)?;
    out.line("")?;
    out.line(format!(
        "next: millrace status --workspace {}",
        root.display()
    ))?;
    out.line(format!(
        "next: millrace runs ls --workspace {}",
        root.display()
    ))?;
    if let Some(dashboard) = dashboard {
        out.line("serving the dashboard until Ctrl-C")?;
        return dashboard.join().unwrap_or(Ok(()));
    }
    Ok(())
}

/// Starts the dashboard on its own thread, before the daemon runs.
fn serve_beside(
    root: &std::path::Path,
    listen: &ListenArgs,
    out: &mut Out,
) -> Result<std::thread::JoinHandle<CliResult>, CliError> {
    let listener = Listener::open(root, listen)?;
    listener.print(out)?;
    Ok(std::thread::spawn(move || listener.serve()))
}

fn new_temp_dir() -> Result<PathBuf, CliError> {
    let dir = tempfile::Builder::new()
        .prefix("millrace-demo-")
        .tempdir()
        .map_err(at("make a temp dir in", std::env::temp_dir()))?;
    Ok(dir.keep())
}

/// Initializes the workspace in the demo mode and queues the sample work.
fn prepare(root: &std::path::Path) -> Result<(), CliError> {
    install(root)?;
    let paths = WorkspacePaths::new(root);
    let index = root.join("skill-index");
    for (name, text) in INDEX {
        write(&index.join(name), text)?;
    }
    let config = format!(
        "# The demo workspace: every stage is played by the script runner.\n\n[runtime]\n\
default_mode = \"demo\"\n\n[skills]\nremote_index_url = \"{}\"\n",
        index.join("index.md").display()
    );
    write(&paths.config_file(), &config)?;
    super::demo_skills::install_demo_skill(&paths, SKILL)?;
    write(&paths.agents_dir().join("script.toml"), SCRIPT)?;
    let mut queue = QueueStore::open(&paths)?;
    let staging = tempfile::tempdir().map_err(at("make a temp dir in", std::env::temp_dir()))?;
    for (name, text) in TASKS {
        let path = staging.path().join(name);
        write(&path, text)?;
        let document = read_import(Family::Task, &path)?;
        if queue.find(Family::Task, document.id()).is_none() {
            queue.enqueue(&document)?;
        }
    }
    write(&paths.ideas_inbox().join(IDEA.0), IDEA.1)
}

fn write(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(at("create", dir))?;
    }
    Ok(std::fs::write(path, text).map_err(at("write", path))?)
}

fn print_traces(root: &std::path::Path, out: &mut Out) -> CliResult {
    let workspace = super::context::Workspace::open(root)?;
    for dir in run_dirs(&workspace) {
        let Some(trace) = RunTrace::load(&dir) else {
            continue;
        };
        out.line("")?;
        out.raw(&trace_text(&trace))?;
    }
    Ok(())
}
