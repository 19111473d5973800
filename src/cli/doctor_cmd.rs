//! `millrace doctor`: the workspace integrity scan plus config, mode, plan,
//! lock and baseline checks. Prints `ok:`, `errors:`, `warnings:`, then one
//! `error: <code> <path> <message>` or `warning: ...` line per problem; exits 1
//! when there is any error.

use std::path::{Path, PathBuf};

use clap::Args;

use super::compile_cmd::{compile_workspace, persisted_currentness};
use super::context::{ConfigInput, Workspace, load_config, mode_name};
use super::output::{CliError, CliResult, Out};
use crate::plan::Currentness;
use crate::vocab::RunnerKind;
use crate::workspace::baseline;
use crate::workspace::doctor::{self, IssueCode};
use crate::workspace::lane_count::LaneCount;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Severity {
    Error,
    Warning,
}

/// One problem, as printed.
struct Finding {
    severity: Severity,
    code: String,
    path: PathBuf,
    message: String,
}

impl Finding {
    fn new(severity: Severity, code: &str, path: &Path, message: impl Into<String>) -> Finding {
        Finding {
            severity,
            code: code.to_string(),
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

pub fn run(args: &DoctorArgs) -> CliResult {
    let workspace = Workspace::open(&args.workspace)?;
    let mut findings = scan(&workspace);
    findings.sort_by_key(|f| f.severity == Severity::Warning);
    let errors = findings.iter().filter(|f| f.severity == Severity::Error);
    let errors = errors.count();
    let mut out = Out::new();
    out.kv("ok", errors == 0)?;
    out.kv("errors", errors)?;
    out.kv("warnings", findings.len() - errors)?;
    for finding in &findings {
        let label = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = finding.message.lines().collect::<Vec<_>>().join(" | ");
        let line = format!("{} {} {message}", finding.code, finding.path.display());
        out.kv(label, line)?;
    }
    if errors > 0 {
        return Err(CliError::Reported);
    }
    Ok(())
}

fn scan(workspace: &Workspace) -> Vec<Finding> {
    let paths = workspace.paths();
    let issues = doctor::doctor(&paths);
    let config_broken = issues.iter().any(|i| i.code == IssueCode::ConfigInvalid);
    let mut findings: Vec<Finding> = issues
        .iter()
        .map(|issue| {
            let severity = match issue.code {
                IssueCode::LockStale | IssueCode::ClosureTargetHeld => Severity::Warning,
                _ => Severity::Error,
            };
            Finding::new(severity, issue.code.as_str(), &issue.path, &issue.message)
        })
        .collect();
    if !config_broken {
        findings.extend(config_findings(workspace));
    }
    findings.extend(baseline_finding(workspace));
    findings
}

/// Config beyond its syntax: parameters, runners, the mode, plan currentness.
fn config_findings(workspace: &Workspace) -> Vec<Finding> {
    let path = workspace.agents.join(super::context::CONFIG_FILE);
    let config = match load_config(workspace, None) {
        Ok(config) => config,
        Err(error) => {
            return vec![Finding::new(
                Severity::Error,
                "config_invalid",
                &path,
                error.message(),
            )];
        }
    };
    let mut findings = runner_findings(&config, &path);
    findings.extend(mode_findings(workspace, &config));
    findings
}

fn runner_findings(config: &ConfigInput, path: &Path) -> Vec<Finding> {
    let runners = &config.config;
    let mut named = vec![(
        "runners.default_runner".to_string(),
        &runners.runners.default_runner,
    )];
    for (stage, binding) in &runners.stages {
        if let Some(runner) = &binding.runner {
            named.push((format!("stages.{stage}.runner"), runner));
        }
    }
    let unknown = named
        .into_iter()
        .filter(|(_, r)| RunnerKind::parse(r).is_none());
    unknown
        .map(|(key, runner)| {
            let message = format!(
                "`{key}` is `{runner}`; runners: {}",
                RunnerKind::NAMES.join(", ")
            );
            Finding::new(Severity::Error, "configured_runner_unknown", path, message)
        })
        .collect()
}

/// The configured mode must compile; a stale or missing plan is a warning.
fn mode_findings(workspace: &Workspace, config: &ConfigInput) -> Vec<Finding> {
    let mode = mode_name(None, config);
    let plan_path = workspace.plan_path();
    let compiled = compile_workspace(workspace, config, &mode, false);
    let mut findings = Vec::new();
    if let Ok(Ok((_, plan))) = compiled.as_ref().map(|c| &c.outcome) {
        findings.extend(unheld_denials(
            plan,
            &workspace.agents.join(super::context::CONFIG_FILE),
        ));
        findings.extend(undone_denials(
            plan,
            &config.config.runners.codex,
            &workspace.agents.join(super::context::CONFIG_FILE),
        ));
        findings.extend(lanes_unavailable(plan, &workspace.root));
    }
    let errors = match compiled {
        Ok(compilation) if compilation.outcome.is_ok() => None,
        Ok(compilation) => Some(compilation.diagnostics.errors().count()),
        Err(_) => Some(1),
    };
    if let Some(count) = errors {
        let message = format!(
            "mode `{mode}` does not compile ({count} error(s)); see `millrace compile validate`"
        );
        let loops = workspace.agents.join("loops");
        return vec![Finding::new(
            Severity::Error,
            "resolved_mode_invalid",
            &loops,
            message,
        )];
    }
    let (code, message) = match persisted_currentness(workspace, config, &mode) {
        Currentness::Current => return findings,
        Currentness::Stale => (
            "compiled_plan_stale",
            "the plan no longer matches loops, prompts or config; run `millrace compile validate`",
        ),
        Currentness::Missing => (
            "compiled_plan_missing",
            "no compiled plan yet; run `millrace compile validate`",
        ),
    };
    findings.push(Finding::new(Severity::Warning, code, &plan_path, message));
    findings
}

/// A denial the node's runner cannot hold is a warning: the stage is only
/// told (`advisory_only`) or not even that (`unsupported`).
fn unheld_denials(plan: &crate::plan::Plan, path: &Path) -> Vec<Finding> {
    use crate::vocab::capability::{Decision, Enforcement};
    let mut findings = Vec::new();
    for (plane, plane_plan) in &plan.planes {
        for (name, node) in &plane_plan.nodes {
            let unheld = node.grants.iter().filter(|g| {
                g.decision == Decision::Denied
                    && matches!(
                        g.enforcement,
                        Enforcement::AdvisoryOnly | Enforcement::Unsupported
                    )
            });
            for grant in unheld {
                let message = format!(
                    "{plane}/{name} denies `{}` but runner `{}` cannot hold it ({})",
                    grant.capability, node.runner, grant.enforcement
                );
                findings.push(Finding::new(
                    Severity::Warning,
                    "capability_denial_not_enforced",
                    path,
                    message,
                ));
            }
        }
    }
    findings
}

/// A denial Codex's sandbox holds, undone by an argument the operator gave
/// Codex: an error, as the stage will not start (`capability_not_held`).
fn undone_denials(
    plan: &crate::plan::Plan,
    codex: &crate::runners::CodexConfig,
    path: &Path,
) -> Vec<Finding> {
    use crate::vocab::capability::{Decision, Enforcement};
    let mut findings = Vec::new();
    for (plane, plane_plan) in &plan.planes {
        for (name, node) in &plane_plan.nodes {
            if RunnerKind::parse(&node.runner) != Some(RunnerKind::CodexCli) {
                continue;
            }
            let held = node.grants.iter().find(|g| {
                g.decision == Decision::Denied && g.enforcement == Enforcement::RunnerEnforced
            });
            if let Some(reason) = held.and_then(|g| codex.undoes(g.capability)) {
                let message = format!("{plane}/{name} will not start: {reason}");
                let code = "capability_denial_undone";
                findings.push(Finding::new(Severity::Error, code, path, message));
            }
        }
    }
    findings
}

/// Lanes the plan asks for that this workspace cannot run: the daemon
/// would run one task at a time, for the reason given.
fn lanes_unavailable(plan: &crate::plan::Plan, root: &Path) -> Option<Finding> {
    let requested = plan.lanes(crate::vocab::Plane::Execution);
    let lanes = LaneCount::decide(root, requested);
    let reason = lanes.reason?;
    let message = format!("{requested} execution lanes requested, 1 will run: {reason}");
    Some(Finding::new(
        Severity::Warning,
        "lanes_unavailable",
        root,
        message,
    ))
}

fn baseline_finding(workspace: &Workspace) -> Option<Finding> {
    let paths = workspace.paths();
    let path = baseline::manifest_path(&paths);
    match baseline::load(&paths) {
        Ok(Some(_)) => None,
        Ok(None) => Some(Finding::new(
            Severity::Warning,
            "baseline_manifest_missing",
            &path,
            "no baseline manifest; run `millrace init` to write one (needed by `upgrade`)",
        )),
        Err(error) => Some(Finding::new(
            Severity::Error,
            "baseline_manifest_invalid",
            &path,
            error.to_string(),
        )),
    }
}
