//! The closure part of `status`: every open closure target with its state
//! (the one holding the focus, held by blocked work, waiting for an
//! operator), what holds it and what it holds back; and the reference's
//! `closure_target_*` keys for scripts written against it; and the target
//! files that do not read, which the daemon skips. Read from the target
//! files the daemon keeps current, and the learning requests the lineage's
//! work triggered (they never hold a target).

use serde::Serialize;

use super::output::{CliResult, Out};
use crate::workspace::WorkspacePaths;
use crate::workspace::closure_targets::{self, ClosureTarget};
use crate::workspace::documents::read_document;
use crate::workspace::{Family, LifecycleState};

/// One open target as `status` shows it.
#[derive(Debug, Serialize)]
pub struct TargetView {
    root_spec_id: String,
    root_idea_id: Option<String>,
    /// `focus` (its lineage's work runs first; others wait), `held` (only
    /// blocked work left), `waiting_for_operator`, or `open` (waits its turn).
    state: &'static str,
    blocking_work_ids: Vec<String>,
    deferred_root_spec_ids: Vec<String>,
    remediation_rounds: u32,
    /// Learning requests the lineage's work triggered, not done yet
    /// (`learning_request/<id>`); they do not hold the target.
    learning_work: Vec<String>,
}

/// The closure keys of `status`.
#[derive(Debug, Serialize)]
pub struct ClosureStatus {
    closure_target_root_spec_id: Option<String>,
    closure_target_open: Option<bool>,
    closure_target_blocked_by_lineage_work: Option<bool>,
    planning_root_specs_deferred_by_closure_target: usize,
    closure_target_latest_verdict_path: Option<String>,
    closure_target_latest_report_path: Option<String>,
    closure_targets: Vec<TargetView>,
    /// Files under `arbiter/targets/` the daemon cannot use (`doctor` says more).
    closure_targets_unreadable: Vec<UnreadableView>,
}

/// A target file that does not read, as `status` shows it.
#[derive(Debug, Serialize)]
pub struct UnreadableView {
    path: String,
    reason: String,
}

impl ClosureStatus {
    pub fn read(paths: &WorkspacePaths) -> ClosureStatus {
        let (all, unreadable) = closure_targets::scan(paths);
        let open: Vec<ClosureTarget> = all.into_iter().filter(|t| t.closure_open).collect();
        let focus = open.iter().position(ClosureTarget::actionable);
        let shown = focus.or((!open.is_empty()).then_some(0)).map(|i| &open[i]);
        ClosureStatus {
            closure_target_root_spec_id: shown.map(|t| t.root_spec_id.clone()),
            closure_target_open: shown.map(|t| t.closure_open),
            closure_target_blocked_by_lineage_work: shown
                .map(|t| t.closure_blocked_by_lineage_work),
            planning_root_specs_deferred_by_closure_target: shown
                .map_or(0, |t| t.deferred_root_spec_ids.len()),
            closure_target_latest_verdict_path: shown.and_then(|t| t.latest_verdict.clone()),
            closure_target_latest_report_path: shown.and_then(|t| latest_report(paths, t)),
            closure_targets: open
                .iter()
                .enumerate()
                .map(|(i, t)| view(paths, t, focus == Some(i)))
                .collect(),
            closure_targets_unreadable: unreadable
                .into_iter()
                .map(|u| UnreadableView {
                    path: u.path.display().to_string(),
                    reason: u.reason,
                })
                .collect(),
        }
    }

    /// True when an open target is held by blocked lineage work.
    pub fn any_held(&self) -> bool {
        self.closure_targets.iter().any(|t| t.state == "held")
    }

    /// The `key: value` lines: the reference's keys, then a
    /// `closure_target:` line per open target.
    pub fn print(&self, out: &mut Out) -> CliResult {
        let none = || "none".to_string();
        let text = |v: Option<String>| v.unwrap_or_else(none);
        out.kv(
            "closure_target_root_spec_id",
            text(self.closure_target_root_spec_id.clone()),
        )?;
        out.kv(
            "closure_target_open",
            text(self.closure_target_open.map(|b| b.to_string())),
        )?;
        out.kv(
            "closure_target_blocked_by_lineage_work",
            text(
                self.closure_target_blocked_by_lineage_work
                    .map(|b| b.to_string()),
            ),
        )?;
        out.kv(
            "planning_root_specs_deferred_by_closure_target",
            self.planning_root_specs_deferred_by_closure_target,
        )?;
        out.kv(
            "closure_target_latest_verdict_path",
            text(self.closure_target_latest_verdict_path.clone()),
        )?;
        out.kv(
            "closure_target_latest_report_path",
            text(self.closure_target_latest_report_path.clone()),
        )?;
        for target in &self.closure_targets {
            out.kv("closure_target", target.line())?;
        }
        for file in &self.closure_targets_unreadable {
            let line = format!("{} state=unreadable reason={}", file.path, file.reason);
            out.kv("closure_target", line)?;
        }
        Ok(())
    }
}

impl TargetView {
    /// `<root> state=<state> [blocking=<ids>] [holds_back=<ids>]`.
    fn line(&self) -> String {
        let mut line = format!("{} state={}", self.root_spec_id, self.state);
        if !self.blocking_work_ids.is_empty() {
            line.push_str(&format!(" blocking={}", self.blocking_work_ids.join(",")));
        }
        if !self.learning_work.is_empty() {
            line.push_str(&format!(" learning={}", self.learning_work.join(",")));
        }
        if !self.deferred_root_spec_ids.is_empty() {
            line.push_str(&format!(
                " holds_back={}",
                self.deferred_root_spec_ids.join(",")
            ));
        }
        line
    }
}

fn view(paths: &WorkspacePaths, target: &ClosureTarget, focus: bool) -> TargetView {
    let state = if target.waiting_for_operator {
        "waiting_for_operator"
    } else if target.closure_blocked_by_lineage_work {
        "held"
    } else if focus {
        "focus"
    } else {
        "open"
    };
    TargetView {
        root_spec_id: target.root_spec_id.clone(),
        root_idea_id: target.root_idea_id.clone(),
        state,
        blocking_work_ids: target.blocking_work_ids.clone(),
        deferred_root_spec_ids: target.deferred_root_spec_ids.clone(),
        remediation_rounds: target.remediation_rounds,
        learning_work: learning_work(paths, &target.root_spec_id),
    }
}

/// The learning requests of `root`'s lineage still queued, active or blocked.
fn learning_work(paths: &WorkspacePaths, root: &str) -> Vec<String> {
    let family = Family::LearningRequest;
    let states = [
        LifecycleState::Queued,
        LifecycleState::Active,
        LifecycleState::Blocked,
    ];
    let mut found = Vec::new();
    for state in states {
        let dir = paths.lifecycle_dir(family, state);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for path in files {
            let document = read_document(family, &path).ok();
            if document.as_ref().and_then(|d| d.root_spec_id()) == Some(root) {
                found.extend(document.map(|d| format!("{family}/{}", d.id())));
            }
        }
    }
    found
}

/// The report of the target's last closure run, when it wrote one.
fn latest_report(paths: &WorkspacePaths, target: &ClosureTarget) -> Option<String> {
    let report = paths.closure_report(target.last_run_id.as_deref()?);
    report.is_file().then(|| report.display().to_string())
}
