//! The `skills` commands that change something: `install` and `promote`
//! write the store (through a live daemon's mailbox, or directly), and
//! `create` and `improve` queue a learning request for the learning plane
//! (`--foreground` runs the daemon until the workspace is idle).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::context::{Workspace, load_config_lenient, mode_name, workspace_sources};
use super::control_route::{ControlTarget, daemon_owns, open, send};
use super::output::{CliError, CliResult, Out, fail};
use super::queue_cmd::Format;
use super::run_cmd::{DaemonArgs, MonitorMode, daemon};
use crate::check::{check, select_mode};
use crate::vocab::Plane;
use crate::workspace::documents::{LearningRequest, RequestedAction, WorkDocument};
use crate::workspace::journal::Journal;
use crate::workspace::lock;
use crate::workspace::mailbox::MailboxCommand;
use crate::workspace::queue::QueueStore;
use crate::workspace::skills::ops::{self, Change};
use crate::workspace::skills::{InstallOptions, RemoteSettings};
use crate::workspace::{Family, Timestamp, WorkspacePaths};

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A remote index id, a skill folder, a `SKILL.md`, a `.tar.gz`/`.zip`, or a URL of one
    pub skill_ref: String,
    #[command(flatten)]
    pub target: ControlTarget,
    /// Where to install: `workspace` (`millrace-agents/skills/`; the only target here)
    #[arg(long = "target", value_name = "TARGET", default_value = "workspace")]
    pub target_dir: String,
    /// Replace an existing skill, even one edited in the workspace (the old files are kept in history)
    #[arg(long)]
    pub force: bool,
    /// Install a new version of an existing skill not edited in the workspace
    #[arg(long)]
    pub update: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The candidate's skill id (`learning/skill-candidates/<id>/`)
    pub skill_id: String,
    #[command(flatten)]
    pub target: ControlTarget,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// What the new skill should teach
    pub prompt: String,
    #[command(flatten)]
    pub learn: LearnArgs,
}

#[derive(Debug, Args)]
pub struct ImproveArgs {
    /// The installed skill to improve
    pub skill_id: String,
    #[command(flatten)]
    pub learn: LearnArgs,
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// The mode that must enable the learning plane [default: `runtime.default_mode`]
    #[arg(long)]
    pub mode: Option<String>,
    /// Run the daemon now (with this mode) until the workspace is idle, instead of only queueing
    #[arg(long)]
    pub foreground: bool,
}

pub fn install(args: &InstallArgs) -> CliResult {
    if args.target_dir != "workspace" {
        return fail(format!(
            "--target `{}` is not supported: skills are installed into the workspace (`--target workspace`)",
            args.target_dir
        ));
    }
    let reference = absolute_if_path(&args.skill_ref);
    let command = MailboxCommand::InstallSkill {
        reference: reference.clone(),
        force: args.force,
        update: args.update,
    };
    let options = InstallOptions {
        force: args.force,
        update: args.update,
    };
    change(&args.target, command, args.format, |paths| {
        let settings = remote_settings(&Workspace::open(paths.root())?);
        ops::install(paths, &reference, options, &settings, &ops::never_in_use)
            .map_err(CliError::caused)
    })
}

pub fn promote(args: &PromoteArgs) -> CliResult {
    let id = args.skill_id.clone();
    let command = MailboxCommand::PromoteSkill {
        skill_id: id.clone(),
    };
    change(&args.target, command, args.format, |paths| {
        ops::promote(paths, &id, &ops::never_in_use).map_err(CliError::caused)
    })
}

/// A path that exists is sent to the daemon absolute (it runs elsewhere).
fn absolute_if_path(reference: &str) -> String {
    let path = std::path::Path::new(reference);
    if reference.contains("://") || !path.exists() {
        return reference.to_string();
    }
    std::path::absolute(path).map_or_else(|_| reference.to_string(), |p| p.display().to_string())
}

/// Mails `command` to a live daemon, or applies `direct` under the
/// command lock and journals it.
fn change(
    target: &ControlTarget,
    command: MailboxCommand,
    format: Format,
    direct: impl FnOnce(&WorkspacePaths) -> Result<Change, CliError>,
) -> CliResult {
    let paths = open(&target.workspace)?;
    if daemon_owns(&paths) {
        return send(&paths, command, target);
    }
    let Some(_guard) = lock::hold_for_command(&paths)? else {
        return send(&paths, command, target);
    };
    let change = direct(&paths)?;
    if !change.written.unchanged {
        let journal = Journal::new(&paths);
        journal
            .append(change.event(None, None))
            .map_err(CliError::caused)?;
    }
    print_change(&paths, &command.name(), &change, format)
}

fn print_change(
    paths: &WorkspacePaths,
    action: &str,
    change: &Change,
    format: Format,
) -> CliResult {
    let entry = &change.written.entry;
    let path = paths.agents_dir().join(entry.dir());
    let mut out = Out::new();
    if format == Format::Json {
        return Ok(out.line(object(&[
            ("action", json!(action)),
            ("mode", json!("direct")),
            ("applied", json!(!change.written.unchanged)),
            ("skill", serde_json::to_value(entry).unwrap_or_default()),
            ("previous_version", json!(change.written.previous_version)),
            ("source", json!(change.source)),
            ("path", json!(path)),
        ]))?);
    }
    out.kv("installed_skill", &entry.id)?;
    out.kv("version", entry.version)?;
    out.kv("source", &change.source)?;
    out.kv("path", path.display())?;
    out.kv("action", action)?;
    out.kv("mode", "direct")?;
    out.kv("applied", !change.written.unchanged)?;
    out.kv("detail", change.detail())?;
    Ok(())
}

/// `skills create PROMPT`.
pub fn create(args: &CreateArgs) -> CliResult {
    learn(&args.learn, &args.prompt, false)
}

/// `skills improve ID`.
pub fn improve(args: &ImproveArgs) -> CliResult {
    learn(&args.learn, &args.skill_id, true)
}

/// Queues a learning request (`improve`: of the installed skill `subject`).
fn learn(args: &LearnArgs, subject: &str, improve: bool) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let mode = learning_mode(&workspace, args.mode.as_deref())?;
    let paths = workspace.paths();
    if improve {
        crate::workspace::skills::SkillStore::new(&paths)
            .find(subject)
            .map_err(CliError::caused)?;
    }
    if args.foreground && daemon_owns(&paths) {
        return fail("a daemon owns this workspace: drop --foreground, it will take the request");
    }
    let document = request(subject, improve);
    let id = document.id().to_string();
    let path = QueueStore::open_unscanned(&paths)
        .enqueue(&document)
        .map_err(CliError::caused)?;
    Out::new().kv("queued_learning_request", path.display())?;
    if !args.foreground {
        return Ok(());
    }
    daemon(&DaemonArgs {
        workspace: args.workspace.clone(),
        mode: Some(mode),
        config: None,
        max_ticks: None,
        until_idle: true,
        monitor: MonitorMode::None,
        monitor_log: None,
    })?;
    let state = QueueStore::open(&paths).ok().and_then(|q| {
        q.find(Family::LearningRequest, &id)
            .map(|l| l.state.to_string())
    });
    Ok(Out::new().kv(
        "learning_request_state",
        state.unwrap_or_else(|| "unknown".into()),
    )?)
}

/// The mode to use, refused when it has no learning plane.
fn learning_mode(workspace: &Workspace, explicit: Option<&str>) -> Result<String, CliError> {
    let (config, _) = load_config_lenient(workspace);
    let name = mode_name(explicit, &config);
    let checked = check(&workspace_sources(workspace)?);
    let resolved = select_mode(&checked.program, &name, &config.overrides)?;
    if !resolved.loops.contains_key(&Plane::Learning) {
        return fail(format!(
            "mode `{name}` does not enable the learning plane (try `--mode learning_codex`)"
        ));
    }
    Ok(name)
}

fn request(subject: &str, improve: bool) -> WorkDocument {
    let id = format!("learn-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (title, summary, action, target) = if improve {
        (
            format!("Improve {subject}"),
            format!("Improve installed skill {subject}."),
            RequestedAction::Improve,
            Some(subject.to_string()),
        )
    } else {
        (
            "Create skill".to_string(),
            subject.to_string(),
            RequestedAction::Create,
            None,
        )
    };
    WorkDocument::LearningRequest(LearningRequest {
        learning_request_id: id,
        title,
        summary: Some(summary),
        requested_action: action,
        target_skill_id: target,
        target_stage: None,
        trigger_metadata: None,
        created_at: Timestamp::now(),
        created_by: "millrace skills".into(),
        updated_at: None,
        source_refs: Vec::new(),
        preferred_output_paths: Vec::new(),
        originating_run_ids: Vec::new(),
        artifact_paths: Vec::new(),
        references: Vec::new(),
        body: String::new(),
    })
}

/// `[skills]` of the workspace's config (the defaults when it does not load).
pub fn remote_settings(workspace: &Workspace) -> RemoteSettings {
    load_config_lenient(workspace).0.config.skills.remote()
}

/// A JSON object of `key: value` pairs.
fn object(pairs: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let map = pairs.iter().map(|(k, v)| (k.to_string(), v.clone()));
    serde_json::Value::Object(map.collect())
}
