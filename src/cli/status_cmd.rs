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
use super::queue_cmd::{Format, QueueCounts, Reading};
use super::status_closure::ClosureStatus;
use super::status_details::{
    ActiveStage, BaselineView, BlueprintCounts, CompileInputs, GovernanceSummary, LatestFailures,
    PendingPlan,
};
use crate::workspace::journal::Journal;
use crate::workspace::lock::{self, LockState};
use crate::workspace::state::{FailedCommand, RuntimeSnapshot, Slot, StateStore};
use crate::workspace::worktrees::BRANCH_PREFIX;
use crate::workspace::{Family, Plane, WorkspacePaths};

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
    /// until `--max-updates` updates were printed or Ctrl-C; with several
    /// `--workspace`, each update prints one block per workspace:
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
    /// The workspace (the directory holding `millrace-agents/`); repeat it
    /// to watch several, each block in the order given
    #[arg(long, default_value = ".")]
    pub workspace: Vec<PathBuf>,
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
    let workspaces: Vec<Workspace> = args
        .workspace
        .iter()
        .map(|root| Workspace::open(root))
        .collect::<Result<_, _>>()?;
    let mut out = Out::new();
    let mut printed = 0u64;
    loop {
        for (i, workspace) in workspaces.iter().enumerate() {
            if printed > 0 || i > 0 {
                out.line("")?;
            }
            Report::collect(workspace)?.print(&mut out)?;
        }
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
    /// `[runtime] run_style`: `daemon`.
    runtime_mode: String,
    active_mode_id: String,
    mode_source: &'static str,
    compiled_plan_id: Option<String>,
    compiled_plan_fingerprint: Option<String>,
    compiled_plan_currentness: &'static str,
    #[serde(flatten)]
    pending_plan: PendingPlan,
    #[serde(flatten)]
    active_stage: ActiveStage,
    runtime_ownership_lock: LockView,
    process_running: bool,
    paused: bool,
    pause_sources: Vec<String>,
    stop_requested: bool,
    active_run_count: usize,
    #[serde(rename = "active_runs_by_plane")]
    active_runs: BTreeMap<Slot, RunView>,
    /// Plane depths, then family depths (as `queue ls`).
    #[serde(flatten, serialize_with = "as_object")]
    queue_depths: Vec<(String, usize)>,
    /// `<plane>_status_marker` keys.
    #[serde(flatten, serialize_with = "markers_object")]
    status_markers: BTreeMap<Plane, String>,
    config_error: Option<String>,
    snapshot_error: Option<String>,
    last_error: Option<String>,
    last_failed_command: Option<FailedCommand>,
    /// The daemon runs but nothing can: all that is left is held by blocked
    /// lineage work of a closure target (the reference's `blocked_idle`).
    blocked_idle: bool,
    #[serde(flatten)]
    latest: LatestFailures,
    #[serde(flatten)]
    baseline: BaselineView,
    #[serde(flatten)]
    compile_inputs: CompileInputs,
    /// `state/usage_governance_state.json` as the daemon last wrote it.
    usage_governance: Option<Value>,
    #[serde(flatten)]
    governance_summary: GovernanceSummary,
    #[serde(flatten)]
    closure: ClosureStatus,
    blueprints: BlueprintCounts,
    /// Approvals gated stages wait for: `<id> capability=... stage=... work_item=...`.
    pending_approvals: Vec<String>,
    recent_events: Vec<Value>,
}

/// One line per pending approval, oldest id first.
fn pending_approvals(paths: &WorkspacePaths) -> Vec<String> {
    let store = crate::workspace::approvals::ApprovalStore::new(paths.agents_dir());
    let line = |a: crate::workspace::approvals::Approval| {
        let work = a.work_item_id.as_deref().unwrap_or("none").to_string();
        format!(
            "{} capability={} stage={}/{} work_item={work}",
            a.approval_id, a.capability_id, a.plane, a.node_id
        )
    };
    store.pending().into_iter().map(line).collect()
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
    /// The lane's git worktree and branch, when its task runs in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    worktree: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
}

impl Report {
    /// Reads the workspace's state; nothing here lists a queue directory.
    pub fn collect(workspace: &Workspace) -> Result<Report, CliError> {
        Report::collect_as(workspace, Reading::Refresh)
    }

    /// [`Report::collect`]; `Reading::ReadOnly` writes nothing at all.
    pub fn collect_as(workspace: &Workspace, reading: Reading) -> Result<Report, CliError> {
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
        let depths = QueueCounts::read_as(&paths, reading)?.depth_keys();
        let process_running = snapshot.process_running && lock.state == "active";
        let (plan_id, fingerprint) = match (&snapshot.plan_id, process_running) {
            // A running daemon's plan is the one in force, even when a reload
            // already saved the next one (`pending_compiled_plan_id`).
            (Some(id), true) => (Some(id.clone()), snapshot.plan_fingerprint.clone()),
            _ => (
                plan.as_ref().map(|p| p.plan_id.clone()),
                plan.as_ref().map(|p| p.fingerprint.clone()),
            ),
        };
        let closure = ClosureStatus::read(&paths);
        let usage_governance = read_governance(&paths);
        Ok(Report {
            workspace: workspace.root.clone(),
            runtime_mode: config.config.runtime.run_style.clone(),
            compile_inputs: CompileInputs::read(workspace, &config, &mode),
            active_mode_id: mode,
            mode_source,
            compiled_plan_id: plan_id,
            compiled_plan_fingerprint: fingerprint,
            compiled_plan_currentness: currentness.as_str(),
            pending_plan: PendingPlan::of(&snapshot, workspace),
            active_stage: ActiveStage::of(&snapshot),
            blocked_idle: process_running
                && !snapshot.has_runs()
                && plane_depths_zero(&depths)
                && closure.any_held(),
            latest: LatestFailures::read(&paths, &snapshot),
            baseline: BaselineView::read(&paths),
            governance_summary: GovernanceSummary::of(usage_governance.as_ref()),
            blueprints: BlueprintCounts::read(&paths),
            process_running,
            runtime_ownership_lock: lock,
            paused: snapshot.paused,
            pause_sources: snapshot.pause_sources.clone(),
            stop_requested: snapshot.stop_requested,
            active_run_count: snapshot.run_count(),
            active_runs: active_runs(&snapshot, &paths),
            queue_depths: depths,
            status_markers: status_markers(&paths),
            config_error,
            snapshot_error,
            last_error: snapshot.last_error.clone(),
            last_failed_command: snapshot.last_failed_command.clone(),
            usage_governance,
            closure,
            pending_approvals: pending_approvals(&paths),
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
        self.active_stage.print(out)?;
        out.kv("active_run_count", self.active_runs.len())?;
        for (plane, run) in &self.active_runs {
            let work = run.work_item.as_deref().unwrap_or("none");
            let mut line = format!(
                "plane={plane} run={} node={} stage={} work_item={work}",
                run.run_id, run.node, run.stage
            );
            if let (Some(worktree), Some(branch)) = (&run.worktree, &run.branch) {
                line.push_str(&format!(" worktree={} branch={branch}", worktree.display()));
            }
            out.kv("active_run", line)?;
        }
        out.kv("pending_approval_count", self.pending_approvals.len())?;
        for approval in &self.pending_approvals {
            out.kv("pending_approval", approval)?;
        }
        self.print_queues(out)?;
        out.kv("blocked_idle", self.blocked_idle)?;
        self.latest.print(out)?;
        self.baseline.print(out)?;
        self.compile_inputs.print(out)?;
        self.print_governance(out)?;
        self.closure.print(out)?;
        self.blueprints.print(out)?;
        for event in &self.recent_events {
            out.kv("event", event_text(event))?;
        }
        Ok(())
    }

    fn print_runtime(&self, out: &mut Out) -> CliResult {
        let none = || "none".to_string();
        out.kv("workspace", self.workspace.display())?;
        out.kv("runtime_mode", &self.runtime_mode)?;
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
        self.pending_plan.print(out)?;
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
        Ok(())
    }

    /// Governance as the daemon last evaluated it (absent when never enabled).
    fn print_governance(&self, out: &mut Out) -> CliResult {
        let enabled = self.usage_governance.as_ref().map(|s| &s["enabled"]);
        out.kv(
            "usage_governance_enabled",
            enabled.unwrap_or(&Value::Bool(false)),
        )?;
        self.governance_summary.print(out)?;
        let Some(state) = &self.usage_governance else {
            return Ok(());
        };
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

/// `state/usage_governance_state.json`, when the daemon wrote one.
fn read_governance(paths: &WorkspacePaths) -> Option<Value> {
    let path = paths.state_dir().join("usage_governance_state.json");
    let text = crate::workspace::input::read_text(&path).ok()?;
    serde_json::from_str(&text).ok()
}

/// True when no plane has anything queued.
fn plane_depths_zero(depths: &[(String, usize)]) -> bool {
    let planes = Plane::ALL.map(|plane| format!("{plane}_queue_depth"));
    let plane_depths = depths.iter().filter(|(key, _)| planes.contains(key));
    plane_depths.map(|(_, n)| n).sum::<usize>() == 0
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

/// Runs by slot: the plane's name for its first lane (`execution`), then
/// `execution.2`, ... A task running in a lane shows its worktree (when
/// it exists) and branch.
fn active_runs(snapshot: &RuntimeSnapshot, paths: &WorkspacePaths) -> BTreeMap<Slot, RunView> {
    let runs = snapshot.runs().map(|(slot, run)| {
        let lane = run
            .work_item
            .as_ref()
            .filter(|w| w.family == Family::Task)
            .map(|w| {
                (
                    paths.lanes_dir().join(&w.id),
                    format!("{BRANCH_PREFIX}{}", w.id),
                )
            })
            .filter(|(worktree, _)| worktree.is_dir());
        let (worktree, branch) = lane.unzip();
        let view = RunView {
            run_id: run.run_id.clone(),
            node: run.node.clone(),
            stage: run.stage.clone(),
            work_item: run
                .work_item
                .as_ref()
                .map(|w| format!("{}:{}", w.family, w.id)),
            worktree,
            branch,
        };
        (slot, view)
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

fn markers_object<S: serde::Serializer>(
    markers: &BTreeMap<Plane, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(
        markers
            .iter()
            .map(|(plane, marker)| (format!("{plane}_status_marker"), marker)),
    )
}

fn one_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" | ")
}
