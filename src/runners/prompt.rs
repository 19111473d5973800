//! The stage prompt: what every runner hands its agent.
//!
//! The prompt is a pure function of the request, so the same request always
//! gives the same bytes (no clock, no environment). It points the agent at
//! the stage's entrypoint and skills, lays out the request as `Key: value`
//! lines (`none` for empty values), and ends with the marker rule.

use std::fmt::Write;
use std::path::Path;

use super::{ClosureRef, RequestKind, StageRequest, WorkItemRef, marker_line};

/// Printed for a missing or empty value.
const NONE: &str = "none";

/// The prompt for one stage invocation.
pub fn compose_prompt(request: &StageRequest) -> String {
    let mut out = String::new();
    intro(&mut out, request);
    identity(&mut out, request);
    subject(&mut out, request);
    places(&mut out, request);
    budgets(&mut out, request);
    previous(&mut out, request);
    finish(&mut out, request);
    out
}

/// `<run_dir>/<stage_kind>_report.md`: where the stage writes its report.
pub fn report_path(request: &StageRequest) -> std::path::PathBuf {
    request
        .run_dir
        .join(format!("{}_report.md", request.stage_kind))
}

fn intro(out: &mut String, request: &StageRequest) {
    out.push_str("You are executing one stage of a Millrace run. Millrace, not you, ");
    out.push_str("decides what happens after this stage, based on the outcome you report.\n\n");
    let _ = writeln!(
        out,
        "Open the stage entrypoint `{}` and follow its instructions.",
        request.entrypoint.display()
    );
    if request.skills.is_empty() {
        out.push_str("Skills for this stage: none.\n");
    } else {
        out.push_str("Read and apply these skills for this stage:\n");
        for skill in &request.skills {
            let _ = writeln!(out, "- {}", skill.display());
        }
    }
}

fn identity(out: &mut String, request: &StageRequest) {
    out.push_str("\n## Request\n");
    line(out, "Request ID", &request.request_id);
    line(out, "Run ID", &request.run_id);
    line(out, "Mode ID", &request.mode_id);
    line(out, "Plan ID", &request.plan_id);
    line(out, "Plane", &request.plane);
    line(out, "Node", &request.node);
    line(out, "Stage kind", &request.stage_kind);
    let kind = match request.request_kind {
        RequestKind::WorkItem => "work_item",
        RequestKind::ClosureTarget => "closure_target",
    };
    line(out, "Request kind", kind);
    line(out, "Running marker", &request.running_marker);
    line(out, "Timeout", &format!("{} s", request.timeout_s));
}

fn subject(out: &mut String, request: &StageRequest) {
    match (&request.work_item, &request.closure_target) {
        (Some(item), _) => work_item(out, item),
        (None, Some(target)) => closure(out, target),
        (None, None) => {
            out.push_str("\n## Work item\n");
            line(out, "Work item", NONE);
        }
    }
}

fn work_item(out: &mut String, item: &WorkItemRef) {
    out.push_str("\n## Work item\n");
    line(out, "Family", &item.family);
    line(out, "ID", &item.id);
    path_line(out, "Path", Some(&item.path));
}

fn closure(out: &mut String, target: &ClosureRef) {
    out.push_str("\n## Closure target\n");
    line(out, "Root spec ID", &target.root_spec_id);
    path_line(out, "Target path", Some(&target.target_path));
    let spec = target.root_spec_contract_path.as_deref();
    path_line(out, "Root spec contract", spec);
    let idea = target.root_idea_contract_path.as_deref();
    path_line(out, "Root idea contract", idea);
    path_line(out, "Rubric path", Some(&target.rubric_path));
    path_line(out, "Verdict path", Some(&target.verdict_path));
    path_line(out, "Closure report path", Some(&target.report_path));
}

fn places(out: &mut String, request: &StageRequest) {
    out.push_str("\n## Places\n");
    path_line(out, "Workspace", Some(&request.workspace_root));
    path_line(out, "Agents directory", Some(&request.agents_dir));
    path_line(out, "Run directory", Some(&request.run_dir));
    path_line(out, "Write your report to", Some(&report_path(request)));
}

fn budgets(out: &mut String, request: &StageRequest) {
    out.push_str("\n## Budgets used\n");
    if request.budgets.is_empty() {
        out.push_str("none\n");
    }
    for (name, budget) in &request.budgets {
        let _ = writeln!(out, "- {name}: {}/{}", budget.used, budget.limit);
    }
}

fn previous(out: &mut String, request: &StageRequest) {
    out.push_str("\n## Earlier stages of this run\n");
    if request.previous_stages.is_empty() {
        out.push_str("none\n");
    }
    for stage in &request.previous_stages {
        let outcome = or_none(&stage.outcome);
        let path = stage.result_path.display();
        let _ = writeln!(out, "- {}: {outcome} (result: {path})", stage.node);
    }
}

fn finish(out: &mut String, request: &StageRequest) {
    out.push_str("\n## Your outcome\n");
    out.push_str("End your final message with exactly one of these lines, ");
    out.push_str("on a line of its own:\n");
    if request.legal_outcomes.is_empty() {
        out.push_str("none\n");
    }
    for outcome in &request.legal_outcomes {
        let _ = writeln!(out, "{}", marker_line(outcome));
    }
    out.push_str("Write no other line of the form `### WORD` anywhere in that ");
    out.push_str("message, and do not invent or rename outcomes.\n");
    out.push_str("A final message without a marker line, with two different ");
    out.push_str("markers, or with a marker not listed above blocks the work item.\n");
}

fn line(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{key}: {}", or_none(value));
}

fn path_line(out: &mut String, key: &str, value: Option<&Path>) {
    let text = value.map(|p| p.display().to_string()).unwrap_or_default();
    line(out, key, &text);
}

fn or_none(value: &str) -> &str {
    if value.trim().is_empty() { NONE } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::fixture;

    #[test]
    fn same_request_same_bytes() {
        let request = fixture::request(Path::new("/ws/run"));
        assert_eq!(compose_prompt(&request), compose_prompt(&request));
    }

    #[test]
    fn empty_values_print_none() {
        let mut request = fixture::request(Path::new("/ws/run"));
        request.work_item = None;
        request.mode_id.clear();
        let prompt = compose_prompt(&request);
        assert!(prompt.contains("Mode ID: none\n"));
        assert!(prompt.contains("Work item: none\n"));
        assert!(prompt.contains("## Budgets used\nnone\n"));
    }

    #[test]
    fn lists_legal_markers() {
        let request = fixture::request(Path::new("/ws/run"));
        let prompt = compose_prompt(&request);
        assert!(prompt.contains("\n### CHECKER_PASS\n### FIX_NEEDED\n### BLOCKED\n"));
        assert!(prompt.contains("Write your report to: /ws/run/checker_report.md\n"));
    }
}
