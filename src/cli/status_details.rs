//! The parts of `status` that scripts written against the reference read,
//! under its key names: the foreground stage, a reload's pending plan, the
//! compile inputs now and as the saved plan recorded them, the baseline
//! manifest, the last runtime failure and operator intervention, the
//! governance summary and the blueprint record's counts. Each is read from
//! a state file, the journal's tail or a folder's entry count; no queue is
//! parsed.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::compile_cmd::saved_plan_inputs;
use super::context::{ConfigInput, Workspace};
use super::output::{CliResult, Out};
use crate::plan::{InputDigest, MISSING};
use crate::workspace::journal::Journal;
use crate::workspace::state::{ActiveRun, RuntimeSnapshot, Slot};
use crate::workspace::{Plane, WorkspacePaths, baseline};

/// How far back in the journal `latest_operator_intervention` looks.
const INTERVENTION_LOOKBACK: usize = 1000;

/// The journal events an operator's intervention writes.
const INTERVENTION_EVENTS: [&str; 9] = [
    "work_item_cancelled",
    "blocked_task_archived",
    "task_superseded",
    "task_dependency_retargeted",
    "blocked_task_requeued",
    "incident_resolved_by_operator",
    "incident_cancelled",
    "invalid_incident_archived",
    "closure_lineage_repaired",
];

/// The blueprint record's folders whose entries `status` counts, as
/// (JSON group, name in it, text key).
const BLUEPRINT_FOLDERS: [(&str, &str, Option<&str>); 15] = [
    ("drafts", "queue", None),
    ("drafts", "active", Some("blueprint_draft_active_count")),
    ("drafts", "blocked", Some("blueprint_draft_blocked_count")),
    ("drafts", "approved", Some("blueprint_draft_approved_count")),
    ("drafts", "canceled", None),
    ("drafts", "superseded", None),
    (
        "packets",
        "candidates",
        Some("blueprint_packet_candidate_count"),
    ),
    (
        "packets",
        "approved",
        Some("blueprint_packet_approved_count"),
    ),
    (
        "packets",
        "rejected",
        Some("blueprint_packet_rejected_count"),
    ),
    ("critiques", "open", Some("blueprint_critique_open_count")),
    ("critiques", "resolved", None),
    ("evaluations", "", Some("blueprint_evaluation_count")),
    ("promotions", "", Some("blueprint_promotion_count")),
    ("manifests", "", Some("blueprint_manifest_count")),
    ("packets", "superseded", None),
];

/// The foreground stage: execution's or planning's run, else learning's.
#[derive(Debug, Default, Serialize)]
pub struct ActiveStage {
    active_plane: Option<Plane>,
    active_stage: Option<String>,
    active_node_id: Option<String>,
    active_stage_kind_id: Option<String>,
    active_work_item_family_id: Option<String>,
    active_work_item_kind: Option<String>,
    active_work_item_id: Option<String>,
}

impl ActiveStage {
    pub fn of(snapshot: &RuntimeSnapshot) -> ActiveStage {
        let order = [Plane::Execution, Plane::Planning, Plane::Learning];
        let found = order
            .iter()
            .find_map(|plane| Some((*plane, snapshot.run(Slot::of(*plane))?)));
        found.map_or_else(ActiveStage::default, |(plane, run)| {
            Self::from_run(plane, run)
        })
    }

    fn from_run(plane: Plane, run: &ActiveRun) -> ActiveStage {
        let family = run.work_item.as_ref().map(|w| w.family.to_string());
        ActiveStage {
            active_plane: Some(plane),
            active_stage: Some(run.stage.clone()),
            active_node_id: Some(run.node.clone()),
            active_stage_kind_id: Some(run.stage.clone()),
            active_work_item_family_id: family.clone(),
            active_work_item_kind: family,
            active_work_item_id: run.work_item.as_ref().map(|w| w.id.clone()),
        }
    }

    pub fn print(&self, out: &mut Out) -> CliResult {
        let plane = self.active_plane.map(|p| p.to_string());
        out.kv("active_plane", text(&plane))?;
        out.kv("active_stage", text(&self.active_stage))?;
        out.kv("active_node_id", text(&self.active_node_id))?;
        out.kv("active_stage_kind_id", text(&self.active_stage_kind_id))?;
        let family = &self.active_work_item_family_id;
        out.kv("active_work_item_family_id", text(family))?;
        out.kv("active_work_item_kind", text(&self.active_work_item_kind))?;
        out.kv("active_work_item_id", text(&self.active_work_item_id))?;
        Ok(())
    }
}

/// A plan `reload-config` compiled that waits for the running work to end.
#[derive(Debug, Serialize)]
pub struct PendingPlan {
    pending_compiled_plan_id: Option<String>,
    pending_compiled_plan_fingerprint: Option<String>,
    pending_compiled_plan_path: Option<String>,
}

impl PendingPlan {
    pub fn of(snapshot: &RuntimeSnapshot, workspace: &Workspace) -> PendingPlan {
        let pending = snapshot.pending_plan.as_ref();
        PendingPlan {
            pending_compiled_plan_id: pending.map(|p| p.plan_id.clone()),
            pending_compiled_plan_fingerprint: pending.map(|p| p.fingerprint.clone()),
            pending_compiled_plan_path: pending
                .map(|_| workspace.plan_path().display().to_string()),
        }
    }

    pub fn print(&self, out: &mut Out) -> CliResult {
        out.kv(
            "pending_compiled_plan_id",
            text(&self.pending_compiled_plan_id),
        )?;
        let fingerprint = &self.pending_compiled_plan_fingerprint;
        out.kv("pending_compiled_plan_fingerprint", text(fingerprint))?;
        let path = &self.pending_compiled_plan_path;
        out.kv("pending_compiled_plan_path", text(path))?;
        Ok(())
    }
}

/// What a compile reads, summarised as the reference does: the mode, the
/// config file's fingerprint and one fingerprint over every other input.
#[derive(Debug, Serialize)]
pub struct CompileInput {
    mode_id: Option<String>,
    config_fingerprint: Option<String>,
    assets_fingerprint: Option<String>,
}

/// The compile inputs now, and as the saved plan recorded them.
#[derive(Debug, Serialize)]
pub struct CompileInputs {
    compile_input: CompileInput,
    persisted_compile_input: CompileInput,
}

impl CompileInputs {
    pub fn read(workspace: &Workspace, config: &ConfigInput, mode: &str) -> CompileInputs {
        let config_file = &config.digest.path;
        let Some((plan, now)) = saved_plan_inputs(workspace, config) else {
            let now = CompileInput::of(
                Some(mode),
                std::slice::from_ref(&config.digest),
                config_file,
            );
            return CompileInputs {
                compile_input: now,
                persisted_compile_input: CompileInput::none(),
            };
        };
        let now_inputs = now.unwrap_or_else(|| vec![config.digest.clone()]);
        CompileInputs {
            compile_input: CompileInput::of(Some(mode), &now_inputs, config_file),
            persisted_compile_input: CompileInput::of(
                Some(&plan.mode_id),
                &plan.inputs,
                config_file,
            ),
        }
    }

    pub fn print(&self, out: &mut Out) -> CliResult {
        self.compile_input.print(out, "compile_input")?;
        self.persisted_compile_input
            .print(out, "persisted_compile_input")
    }
}

impl CompileInput {
    fn none() -> CompileInput {
        CompileInput {
            mode_id: None,
            config_fingerprint: None,
            assets_fingerprint: None,
        }
    }

    fn of(mode: Option<&str>, inputs: &[InputDigest], config_file: &str) -> CompileInput {
        let (config, assets): (Vec<&InputDigest>, Vec<&InputDigest>) =
            inputs.iter().partition(|input| input.path == config_file);
        CompileInput {
            mode_id: mode.map(str::to_string),
            config_fingerprint: Some(short_fingerprint("cfg", &config)),
            assets_fingerprint: Some(short_fingerprint("assets", &assets)),
        }
    }

    fn print(&self, out: &mut Out, prefix: &str) -> CliResult {
        out.kv(&format!("{prefix}.mode_id"), text(&self.mode_id))?;
        let config = &self.config_fingerprint;
        out.kv(&format!("{prefix}.config_fingerprint"), text(config))?;
        let assets = &self.assets_fingerprint;
        out.kv(&format!("{prefix}.assets_fingerprint"), text(assets))?;
        Ok(())
    }
}

/// `<prefix>-<12 hex>` over the inputs in path order; `<prefix>-missing`
/// when there are none or none of them exists.
fn short_fingerprint(prefix: &str, inputs: &[&InputDigest]) -> String {
    if inputs.iter().all(|input| input.sha256 == MISSING) {
        return format!("{prefix}-missing");
    }
    let mut sorted = inputs.to_vec();
    sorted.sort();
    let mut hasher = Sha256::new();
    for input in sorted {
        hasher.update(format!("{} {}\n", input.path, input.sha256).as_bytes());
    }
    let hex = crate::plan::hex(&hasher.finalize());
    format!("{prefix}-{}", &hex[..12])
}

/// The baseline manifest's id and, for one the reference wrote, its version.
#[derive(Debug, Serialize)]
pub struct BaselineView {
    baseline_manifest_id: Option<String>,
    baseline_seed_package_version: Option<String>,
}

impl BaselineView {
    pub fn read(paths: &WorkspacePaths) -> BaselineView {
        let manifest = baseline::load(paths).ok().flatten();
        BaselineView {
            baseline_manifest_id: manifest.as_ref().map(|m| m.manifest_id.clone()),
            baseline_seed_package_version: manifest.and_then(|m| m.seed_package_version),
        }
    }

    pub fn print(&self, out: &mut Out) -> CliResult {
        out.kv("baseline_manifest_id", text(&self.baseline_manifest_id))?;
        let version = &self.baseline_seed_package_version;
        out.kv("baseline_seed_package_version", text(version))?;
        Ok(())
    }
}

/// The last runtime failure and operator intervention.
#[derive(Debug, Serialize)]
pub struct LatestFailures {
    /// Ours writes no separate report: the error is `last_error` and the
    /// journal's `runtime_error` event, so this is always absent.
    latest_runtime_error_report_path: Option<String>,
    latest_runtime_failure_origin: Option<String>,
    latest_operator_intervention: Option<Value>,
}

impl LatestFailures {
    pub fn read(paths: &WorkspacePaths, snapshot: &RuntimeSnapshot) -> LatestFailures {
        LatestFailures {
            latest_runtime_error_report_path: None,
            latest_runtime_failure_origin: snapshot.last_error_origin.clone(),
            latest_operator_intervention: latest_intervention(paths),
        }
    }

    pub fn print(&self, out: &mut Out) -> CliResult {
        let report = &self.latest_runtime_error_report_path;
        out.kv("latest_runtime_error_report_path", text(report))?;
        let origin = &self.latest_runtime_failure_origin;
        out.kv("latest_runtime_failure_origin", text(origin))?;
        let intervention = self.latest_operator_intervention.as_ref();
        out.kv(
            "latest_operator_intervention",
            intervention.map_or_else(|| "none".to_string(), intervention_text),
        )?;
        Ok(())
    }
}

/// The newest intervention event among the journal's last events.
fn latest_intervention(paths: &WorkspacePaths) -> Option<Value> {
    let lines = Journal::new(paths).tail(INTERVENTION_LOOKBACK).ok()?;
    let event = lines.iter().rev().find_map(|line| {
        let value = serde_json::to_value(line).ok()?;
        let kind = value.get("event_type")?.as_str()?;
        INTERVENTION_EVENTS.contains(&kind).then_some(value)
    })?;
    let data = &event["data"];
    let work_item = ["id", "task_id", "old_task_id", "root_spec_id"]
        .iter()
        .find_map(|key| data.get(*key).and_then(Value::as_str));
    Some(json!({
        "event_type": event["event_type"],
        "occurred_at": event["occurred_at"],
        "work_item_id": work_item,
        "destination_path": data.get("archive_path"),
    }))
}

/// `event=<type> occurred_at=<time> [work_item_id=<id>] [destination_path=<path>]`.
fn intervention_text(event: &Value) -> String {
    let mut parts = Vec::new();
    for key in [
        "event_type",
        "occurred_at",
        "work_item_id",
        "destination_path",
    ] {
        if let Some(value) = event.get(key).and_then(Value::as_str) {
            let label = if key == "event_type" { "event" } else { key };
            parts.push(format!("{label}={value}"));
        }
    }
    parts.join(" ")
}

/// Governance summarised with the reference's keys.
#[derive(Debug, Serialize)]
pub struct GovernanceSummary {
    usage_governance_paused: bool,
    usage_governance_blocker_count: usize,
    usage_governance_auto_resume_possible: bool,
    usage_governance_next_auto_resume_at: Option<String>,
    /// Ours reads no subscription quota.
    usage_governance_subscription_status: &'static str,
}

impl GovernanceSummary {
    pub fn of(state: Option<&Value>) -> GovernanceSummary {
        let blockers: Vec<&Value> = state
            .and_then(|s| s["active_blockers"].as_array())
            .map(|list| list.iter().collect())
            .unwrap_or_default();
        let resumes: Vec<&str> = blockers
            .iter()
            .filter_map(|b| b["next_auto_resume_at"].as_str())
            .collect();
        let auto_resume = state.is_none_or(|s| s["auto_resume"].as_bool() != Some(false));
        GovernanceSummary {
            usage_governance_paused: state
                .and_then(|s| s["paused_by_governance"].as_bool())
                .unwrap_or(false),
            usage_governance_blocker_count: blockers.len(),
            usage_governance_auto_resume_possible: auto_resume && resumes.len() == blockers.len(),
            usage_governance_next_auto_resume_at: resumes.iter().max().map(|t| t.to_string()),
            usage_governance_subscription_status: "disabled",
        }
    }

    pub fn print(&self, out: &mut Out) -> CliResult {
        out.kv("usage_governance_paused", self.usage_governance_paused)?;
        let count = self.usage_governance_blocker_count;
        out.kv("usage_governance_blocker_count", count)?;
        let possible = self.usage_governance_auto_resume_possible;
        out.kv("usage_governance_auto_resume_possible", possible)?;
        let next = &self.usage_governance_next_auto_resume_at;
        out.kv("usage_governance_next_auto_resume_at", text(next))?;
        let subscription = self.usage_governance_subscription_status;
        out.kv("usage_governance_subscription_status", subscription)?;
        Ok(())
    }
}

/// The entry count of each blueprint record folder: flat keys in text, the
/// reference's `blueprints` object (counts by group) in JSON.
#[derive(Debug)]
pub struct BlueprintCounts(Vec<usize>);

impl BlueprintCounts {
    pub fn read(paths: &WorkspacePaths) -> BlueprintCounts {
        let count = |group: &str, name: &str| {
            let dir = paths.agents_dir().join("blueprints").join(group).join(name);
            let entries = std::fs::read_dir(dir);
            entries.map_or(0, |e| e.filter_map(Result::ok).count())
        };
        let folders = BLUEPRINT_FOLDERS.iter();
        BlueprintCounts(folders.map(|(group, name, _)| count(group, name)).collect())
    }

    pub fn print(&self, out: &mut Out) -> CliResult {
        for ((_, _, key), count) in BLUEPRINT_FOLDERS.iter().zip(&self.0) {
            if let Some(key) = key {
                out.kv(key, count)?;
            }
        }
        Ok(())
    }
}

impl Serialize for BlueprintCounts {
    /// `{"draft_counts": {"active": 0, ...}, "evaluation_count": 0, ...}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut object = serde_json::Map::new();
        for ((group, name, _), count) in BLUEPRINT_FOLDERS.iter().zip(&self.0) {
            let singular = group.trim_end_matches('s');
            if name.is_empty() {
                object.insert(format!("{singular}_count"), json!(count));
            } else {
                let counts = object
                    .entry(format!("{singular}_counts"))
                    .or_insert(json!({}));
                counts[*name] = json!(count);
            }
        }
        object.serialize(s)
    }
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "none".to_string())
}
