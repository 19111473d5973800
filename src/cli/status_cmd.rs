//! `millrace status [show|watch]`: what the runtime is doing, read from the
//! snapshot, the lock, the persisted plan, status markers, cached queue counts
//! and the journal's tail. It never scans or parses the queues, so it stays
//! fast with a hundred thousand queued items.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::Value;

use super::compile_cmd::{load_plan, persisted_currentness};
use super::context::{Workspace, load_config_lenient, mode_name};
use super::output::{CliError, CliResult, Out};
use super::queue_cmd::{Format, QueueCounts};
use super::status_closure::ClosureStatus;
use crate::workspace::journal::Journal;
use crate::workspace::lock::{self, LockState};
use crate::workspace::state::{FailedCommand, RuntimeSnapshot, StateStore};
use crate::workspace::{Plane, WorkspacePaths};

/// How many journal events `status` shows.
const RECENT_EVENTS: usize = 5;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StatusArgs {
    #[command(subcommand)]
    pub command: Option<StatusCommand>,
    #[command(flatten)]
    pub show: ShowArgs,
}

#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Print the status block once (the same as `millrace status`)
    Show(ShowArgs),
    /// Reprint the status block every interval, separated by a blank line,
    /// until `--max-updates` blocks were printed or Ctrl-C:
    /// `millrace status watch --interval-seconds 2 --max-updates 10`
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// `text` prints `key: value` lines (lists repeat a key: `active_run:`,
    /// `event:`); `json` prints one object for scripts
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// Seconds between blocks (fractions allowed, `0.5`)
    #[arg(long, default_value_t = 1.0, value_parser = non_negative)]
    pub interval_seconds: f64,
    /// Stop after this many blocks [default: until Ctrl-C]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_updates: Option<u64>,
}

fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value >= 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("`{text}` is not a number of seconds >= 0")),
    }
}

pub fn run(args: StatusArgs) -> CliResult {
    match args.command {
        None => show(&args.show),
        Some(StatusCommand::Show(show_args)) => show(&show_args),
        Some(StatusCommand::Watch(watch_args)) => watch(&watch_args),
    }
}

fn show(args: &ShowArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let report = Report::collect(&workspace)?;
    let mut out = Out::new();
    match args.format {
        Format::Text => report.print(&mut out),
        Format::Json => Ok(out.line(report.json())?),
    }
}

fn watch(args: &WatchArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let mut out = Out::new();
    let mut printed = 0u64;
    loop {
        if printed > 0 {
            out.line("")?;
        }
        Report::collect(&workspace)?.print(&mut out)?;
        printed += 1;
        if args.max_updates.is_some_and(|max| printed >= max) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs_f64(args.interval_seconds));
    }
}

/// Everything `status` shows.
#[derive(Debug, Serialize)]
pub struct Report {
    workspace: PathBuf,
    active_mode_id: String,
    mode_source: &'static str,
    compiled_plan_id: Option<String>,
    compiled_plan_fingerprint: Option<String>,
    compiled_plan_currentness: &'static str,
    runtime_ownership_lock: LockView,
    process_running: bool,
    paused: bool,
    pause_sources: Vec<String>,
    stop_requested: bool,
    active_runs: BTreeMap<Plane, RunView>,
    /// Plane depths, then family depths (as `queue ls`); an object in JSON.
    #[serde(serialize_with = "as_object")]
    queue_depths: Vec<(String, usize)>,
    status_markers: BTreeMap<Plane, String>,
    config_error: Option<String>,
    snapshot_error: Option<String>,
    last_error: Option<String>,
    last_failed_command: Option<FailedCommand>,
    /// `state/usage_governance_state.json` as the daemon last wrote it.
    usage_governance: Option<Value>,
    #[serde(flatten)]
    closure: ClosureStatus,
    recent_events: Vec<Value>,
}

/// The ownership lock as `status` shows it.
#[derive(Debug, Serialize)]
struct LockView {
    state: &'static str,
    pid: Option<u32>,
    detail: Option<String>,
}

/// One active run.
#[derive(Debug, Serialize)]
struct RunView {
    run_id: String,
    node: String,
    stage: String,
    work_item: Option<String>,
}

impl Report {
    /// Reads the workspace's state; nothing here lists a queue directory.
    pub fn collect(workspace: &Workspace) -> Result<Report, CliError> {
        let paths = workspace.paths();
        let (config, config_error) = load_config_lenient(workspace);
        let (snapshot, snapshot_error) = match StateStore::new(&paths).load_snapshot() {
            Ok(snapshot) => (snapshot, None),
            Err(error) => (RuntimeSnapshot::default(), Some(error.to_string())),
        };
        let (mode, mode_source) = match &snapshot.mode_id {
            Some(mode) => (mode.clone(), "snapshot"),
            None => (mode_name(None, &config), "config"),
        };
        let plan = load_plan(workspace).ok().flatten();
        let currentness = persisted_currentness(workspace, &config, &mode);
        let lock = lock_view(&paths);
        let depths = QueueCounts::read(&paths)?.depth_keys();
        Ok(Report {
            workspace: workspace.root.clone(),
            active_mode_id: mode,
            mode_source,
            compiled_plan_id: plan.as_ref().map(|p| p.plan_id.clone()),
            compiled_plan_fingerprint: plan.as_ref().map(|p| p.fingerprint.clone()),
            compiled_plan_currentness: currentness.as_str(),
            process_running: snapshot.process_running && lock.state == "active",
            runtime_ownership_lock: lock,
            paused: snapshot.paused,
            pause_sources: snapshot.pause_sources.clone(),
            stop_requested: snapshot.stop_requested,
            active_runs: active_runs(&snapshot),
            queue_depths: depths,
            status_markers: status_markers(&paths),
            config_error,
            snapshot_error,
            last_error: snapshot.last_error.clone(),
            last_failed_command: snapshot.last_failed_command.clone(),
            usage_governance: std::fs::read(paths.state_dir().join("usage_governance_state.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok()),
            closure: ClosureStatus::read(&paths),
            recent_events: recent_events(&paths),
        })
    }

    /// The report as one JSON object.
    pub fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The `key: value` block.
    pub fn print(&self, out: &mut Out) -> CliResult {
        self.print_runtime(out)?;
        out.kv("active_run_count", self.active_runs.len())?;
        for (plane, run) in &self.active_runs {
            let work = run.work_item.as_deref().unwrap_or("none");
            out.kv(
                "active_run",
                format!(
                    "plane={plane} run={} node={} stage={} work_item={work}",
                    run.run_id, run.node, run.stage
                ),
            )?;
        }
        self.print_queues(out)?;
        self.closure.print(out)?;
        for event in &self.recent_events {
            out.kv("event", event_text(event))?;
        }
        Ok(())
    }

    fn print_runtime(&self, out: &mut Out) -> CliResult {
        let none = || "none".to_string();
        out.kv("workspace", self.workspace.display())?;
        out.kv("active_mode_id", &self.active_mode_id)?;
        out.kv("mode_source", self.mode_source)?;
        out.kv(
            "compiled_plan_id",
            self.compiled_plan_id.clone().unwrap_or_else(none),
        )?;
        let fingerprint = self.compiled_plan_fingerprint.clone();
        out.kv(
            "compiled_plan_fingerprint",
            fingerprint.unwrap_or_else(none),
        )?;
        out.kv("compiled_plan_currentness", self.compiled_plan_currentness)?;
        let lock = &self.runtime_ownership_lock;
        out.kv("runtime_ownership_lock", lock.state)?;
        out.kv(
            "runtime_ownership_lock_pid",
            lock.pid.map_or_else(none, |p| p.to_string()),
        )?;
        if let Some(detail) = &lock.detail {
            out.kv("runtime_ownership_lock_detail", detail)?;
        }
        out.kv("process_running", self.process_running)?;
        out.kv("paused", self.paused)?;
        let sources = self.pause_sources.join(",");
        out.kv(
            "pause_sources",
            if sources.is_empty() { none() } else { sources },
        )?;
        out.kv("stop_requested", self.stop_requested)?;
        self.print_governance(out)
    }

    /// Governance as the daemon last evaluated it (absent when never enabled).
    fn print_governance(&self, out: &mut Out) -> CliResult {
        let Some(state) = &self.usage_governance else {
            return Ok(out.kv("usage_governance_enabled", false)?);
        };
        out.kv("usage_governance_enabled", &state["enabled"])?;
        out.kv("usage_governance_paused", &state["paused_by_governance"])?;
        for b in state["active_blockers"].as_array().into_iter().flatten() {
            let next = b["next_auto_resume_at"].as_str().unwrap_or("none");
            out.kv(
                "usage_governance_blocker",
                format!(
                    "rule={} window={} observed={} threshold={} next_resume={next}",
                    b["rule_id"].as_str().unwrap_or("?"),
                    b["window"].as_str().unwrap_or("?"),
                    b["observed"],
                    b["threshold"]
                ),
            )?;
        }
        Ok(())
    }

    fn print_queues(&self, out: &mut Out) -> CliResult {
        for (key, depth) in &self.queue_depths {
            out.kv(key, depth)?;
        }
        for (plane, marker) in &self.status_markers {
            out.kv(&format!("{plane}_status_marker"), marker)?;
        }
        let none = || "none".to_string();
        if let Some(error) = &self.config_error {
            out.kv("config_error", one_line(error))?;
        }
        if let Some(error) = &self.snapshot_error {
            out.kv("snapshot_error", one_line(error))?;
        }
        let last = self.last_error.as_deref().map(one_line);
        out.kv("last_error", last.unwrap_or_else(none))?;
        let failed = self.last_failed_command.as_ref().map(|f| {
            let error = one_line(&f.error);
            format!("{} {} at {}: {error}", f.command, f.command_id, f.failed_at)
        });
        out.kv("last_failed_command", failed.unwrap_or_else(none))?;
        Ok(())
    }
}

fn lock_view(paths: &WorkspacePaths) -> LockView {
    let view = |state, pid, detail| LockView { state, pid, detail };
    match lock::inspect(paths) {
        LockState::Absent => view("absent", None, None),
        LockState::Active(record) => view("active", Some(record.owner_pid), None),
        LockState::Stale(record, reason) => {
            view("stale", Some(record.owner_pid), Some(reason.to_string()))
        }
        LockState::Invalid(reason) => view("invalid", None, Some(one_line(&reason))),
    }
}

fn active_runs(snapshot: &RuntimeSnapshot) -> BTreeMap<Plane, RunView> {
    let runs = snapshot.active_runs.iter().map(|(plane, run)| {
        let view = RunView {
            run_id: run.run_id.clone(),
            node: run.node.clone(),
            stage: run.stage.clone(),
            work_item: run
                .work_item
                .as_ref()
                .map(|w| format!("{}:{}", w.family, w.id)),
        };
        (*plane, view)
    });
    runs.collect()
}

/// Each plane's marker file; `IDLE` when absent, `INVALID` when unreadable.
fn status_markers(paths: &WorkspacePaths) -> BTreeMap<Plane, String> {
    let store = StateStore::new(paths);
    let marker = |plane| match store.read_status(plane) {
        Ok(Some(marker)) => marker.to_string(),
        Ok(None) => "IDLE".to_string(),
        Err(_) => "INVALID".to_string(),
    };
    Plane::ALL
        .iter()
        .map(|plane| (*plane, marker(*plane)))
        .collect()
}

/// The journal's last events, read from its end.
fn recent_events(paths: &WorkspacePaths) -> Vec<Value> {
    let lines = Journal::new(paths).tail(RECENT_EVENTS).unwrap_or_default();
    let values = lines.iter().map(serde_json::to_value);
    values.filter_map(Result::ok).collect()
}

/// `<occurred_at> <event_type> <data as compact JSON>`.
fn event_text(event: &Value) -> String {
    let text = |key| event.get(key).and_then(Value::as_str).unwrap_or("?");
    let data = event.get("data").map(Value::to_string).unwrap_or_default();
    format!("{} {} {data}", text("occurred_at"), text("event_type"))
}

fn as_object<S: serde::Serializer>(pairs: &[(String, usize)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

fn one_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" | ")
}
