//! The Overview: what `status` reports (read without writing), laid out to
//! be taken in at a glance: the daemon, the mode and plan, each plane's
//! stage and item, queue depths, closure targets, the latest events.

use std::fmt::Write as _;

use serde_json::Value;

use super::Served;
use super::html::{Page, esc, item_link, run_link, table, warning};
use crate::cli::queue_cmd::{QueueCounts, Reading};
use crate::cli::status_cmd::Report;
use crate::workspace::journal::Journal;
use crate::workspace::state::StateStore;
use crate::workspace::{Family, Plane};

/// How many journal events the Overview lists.
const EVENTS: usize = 15;

/// `status --format json`, read without writing.
pub fn status_json(served: &Served) -> Option<Value> {
    let report = Report::collect_as(&served.workspace, Reading::ReadOnly).ok()?;
    Some(report.json())
}

pub fn page(served: &Served) -> Page {
    let Some(status) = status_json(served) else {
        let why = "the workspace's status cannot be read (is `millrace-agents/` still there?)";
        return Page::new("Overview", "overview", warning(why));
    };
    let mut body = String::from("<h1>Overview</h1>");
    body.push_str(&notices(&status));
    body.push_str(&cards(served, &status));
    body.push_str("<h2>Planes</h2>");
    body.push_str(&planes(&status));
    body.push_str(&lanes(&status));
    body.push_str("<h2>Queues</h2>");
    body.push_str(&queues(served, &status));
    body.push_str(&closure(&status));
    body.push_str("<h2>Latest events</h2>");
    body.push_str(&events(served));
    Page::new("Overview", "overview", body)
}

/// Stages held at a gate: only the operator moves them on.
fn approvals(status: &Value) -> String {
    let pending: Vec<&str> = status["pending_approvals"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if pending.is_empty() {
        return String::new();
    }
    let items: String = pending
        .iter()
        .map(|line| format!("<li><code>{}</code></li>", esc(line)))
        .collect();
    format!(
        "<div class=\"warning\" role=\"alert\">{} stage(s) wait for an operator's approval (<code>millrace approvals approve ID</code> or <code>deny ID --reason ...</code>):<ul>{items}</ul></div>",
        pending.len()
    )
}

fn text<'a>(status: &'a Value, key: &str) -> &'a str {
    status.get(key).and_then(Value::as_str).unwrap_or("none")
}

fn flag(status: &Value, key: &str) -> bool {
    status.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// What a reader must know first: no daemon, a plan that is not current,
/// errors the runtime or the files report.
fn notices(status: &Value) -> String {
    let mut out = String::new();
    if !flag(status, "process_running") {
        let lock = &status["runtime_ownership_lock"];
        let state = lock["state"].as_str().unwrap_or("absent");
        let _ = write!(
            out,
            "{}",
            warning(&format!(
                "No daemon is running in this workspace (ownership lock: {}). What you see is what it left.",
                esc(state)
            ))
        );
    }
    let currentness = text(status, "compiled_plan_currentness");
    if currentness != "current" {
        out.push_str(&warning(&format!(
            "The compiled plan is <strong>{}</strong>: its inputs changed since it was compiled (a daemon recompiles at start; `millrace compile validate` does it now).",
            esc(currentness)
        )));
    }
    out.push_str(&approvals(status));
    for key in ["config_error", "snapshot_error", "last_error"] {
        if let Some(error) = status.get(key).and_then(Value::as_str) {
            out.push_str(&warning(&format!("{key}: {}", esc(error))));
        }
    }
    out
}

fn card(label: &str, value: &str, sub: &str, key: &str) -> String {
    format!(
        "<div class=\"card\" data-card=\"{key}\"><div class=\"label\">{}</div><div class=\"value\">{value}</div><div class=\"sub\">{sub}</div></div>",
        esc(label)
    )
}

fn cards(served: &Served, status: &Value) -> String {
    let snapshot = StateStore::new(&served.paths).load_snapshot().ok();
    let since = snapshot
        .and_then(|s| s.started_at)
        .map_or_else(|| "never started".to_string(), |t| format!("since {t}"));
    let daemon = daemon_state(status);
    let pid = status["runtime_ownership_lock"]["pid"].as_u64();
    let owner = pid.map_or_else(String::new, |p| format!("pid {p}, "));
    let currentness = text(status, "compiled_plan_currentness");
    let badge = if currentness == "current" {
        "good"
    } else {
        "warn"
    };
    let plan = format!(
        "{} <span class=\"badge {badge}\" data-status-key=\"compiled_plan_currentness\">{}</span>",
        esc(text(status, "compiled_plan_id")),
        esc(currentness)
    );
    let governance = format!(
        "{}{}",
        esc(text(status, "usage_governance_subscription_status")),
        if flag(status, "usage_governance_paused") {
            ", paused"
        } else {
            ""
        }
    );
    let blockers = status["usage_governance_blocker_count"]
        .as_u64()
        .unwrap_or(0);
    let mut out = String::from("<div class=\"cards\">");
    out.push_str(&card(
        "Daemon",
        &daemon,
        &esc(&format!("{owner}{since}")),
        "daemon",
    ));
    let mode_source = format!("from the {}", text(status, "mode_source"));
    out.push_str(&card(
        "Mode",
        &esc(text(status, "active_mode_id")),
        &esc(&mode_source),
        "mode",
    ));
    out.push_str(&card("Plan", &plan, "", "plan"));
    out.push_str(&card(
        "Usage governance",
        &governance,
        &format!("{blockers} blocker(s)"),
        "governance",
    ));
    out.push_str("</div>");
    out
}

fn daemon_state(status: &Value) -> String {
    let (word, badge) = match (
        flag(status, "process_running"),
        flag(status, "paused"),
        flag(status, "stop_requested"),
    ) {
        (false, _, _) => ("stopped", "bad"),
        (true, _, true) => ("stopping", "warn"),
        (true, true, _) => ("paused", "warn"),
        (true, false, false) => ("running", "good"),
    };
    format!("<span class=\"badge {badge}\" data-daemon=\"{word}\">{word}</span>")
}

/// Every task running in a lane's worktree (docs/lanes.md): its slot,
/// stage, task, worktree and branch; nothing when no lane has one.
fn lanes(status: &Value) -> String {
    let Some(runs) = status["active_runs_by_plane"].as_object() else {
        return String::new();
    };
    let rows: Vec<Vec<String>> = runs
        .iter()
        .filter(|(_, run)| run["branch"].is_string())
        .map(|(slot, run)| {
            let item = run["work_item"].as_str().unwrap_or_default();
            vec![
                esc(slot),
                esc(run["node"].as_str().unwrap_or_default()),
                item_link(item.split_once(':').map_or(item, |(_, id)| id)),
                esc(run["worktree"].as_str().unwrap_or_default()),
                esc(run["branch"].as_str().unwrap_or_default()),
            ]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let head = ["lane", "stage", "task", "worktree", "branch"];
    format!("<h2>Lanes</h2>{}", table("lanes", &head, &rows))
}

fn planes(status: &Value) -> String {
    let runs = &status["active_runs_by_plane"];
    let rows: Vec<Vec<String>> = Plane::ALL
        .iter()
        .map(|plane| {
            let run = &runs[plane.as_str()];
            let item = run["work_item"].as_str().map_or_else(
                || "<span class=\"muted\">none</span>".to_string(),
                |w| item_link(w.split_once(':').map_or(w, |(_, id)| id)),
            );
            let depth_key = format!("{plane}_queue_depth");
            vec![
                esc(plane.as_str()),
                esc(text(status, &format!("{plane}_status_marker"))),
                run["node"].as_str().map_or_else(
                    || "<span class=\"muted\">idle</span>".into(),
                    |n| {
                        format!(
                            "<span data-active-node=\"{}\">{}</span>",
                            esc(plane.as_str()),
                            esc(n)
                        )
                    },
                ),
                item,
                run["run_id"].as_str().map_or_else(String::new, run_link),
                depth_cell(status, &depth_key),
            ]
        })
        .collect();
    table(
        "planes",
        &[
            "plane",
            "status",
            "active stage",
            "work item",
            "run",
            "queued",
        ],
        &rows,
    )
}

/// A count cell that says which `status` key it shows.
fn depth_cell(status: &Value, key: &str) -> String {
    let n = status[key].as_u64().unwrap_or(0);
    format!("<span data-status-key=\"{key}\">{n}</span>")
}

fn queues(served: &Served, status: &Value) -> String {
    let counts = QueueCounts::read_as(&served.paths, Reading::ReadOnly).ok();
    let of = |list: Option<&Vec<(Family, usize)>>, family: Family| {
        let found = list.and_then(|l| l.iter().find(|(f, _)| *f == family));
        found.map_or(0, |(_, n)| *n)
    };
    let rows: Vec<Vec<String>> = Family::ALL
        .iter()
        .map(|family| {
            let link = |state: &str, n: String| {
                format!("<a href=\"/queue?family={family}&amp;state={state}\">{n}</a>")
            };
            vec![
                esc(family.as_str()),
                link(
                    "queue",
                    depth_cell(status, &format!("{family}_queue_depth")),
                ),
                link(
                    "active",
                    of(counts.as_ref().map(|c| &c.active), *family).to_string(),
                ),
                link(
                    "blocked",
                    of(counts.as_ref().map(|c| &c.blocked), *family).to_string(),
                ),
            ]
        })
        .collect();
    table("queues", &["family", "queued", "active", "blocked"], &rows)
}

fn closure(status: &Value) -> String {
    let Some(targets) = status["closure_targets"]
        .as_array()
        .filter(|t| !t.is_empty())
    else {
        return "<h2>Closure targets</h2><p class=\"muted\">No closure target is open.</p>".into();
    };
    let ids = |v: &Value| {
        let list = v.as_array().into_iter().flatten().filter_map(Value::as_str);
        list.map(item_link).collect::<Vec<_>>().join(", ")
    };
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            vec![
                item_link(t["root_spec_id"].as_str().unwrap_or("?")),
                esc(t["state"].as_str().unwrap_or("?")),
                ids(&t["blocking_work_ids"]),
                ids(&t["deferred_root_spec_ids"]),
                t["remediation_rounds"].to_string(),
            ]
        })
        .collect();
    let head = [
        "root spec",
        "state",
        "held by",
        "holds back",
        "remediation rounds",
    ];
    format!("<h2>Closure targets</h2>{}", table("closure", &head, &rows))
}

fn events(served: &Served) -> String {
    let lines = Journal::new(&served.paths).tail(EVENTS).unwrap_or_default();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .rev()
        .filter_map(|line| serde_json::to_value(line).ok())
        .map(|event| {
            let data = event.get("data").map(Value::to_string).unwrap_or_default();
            vec![
                esc(event["occurred_at"].as_str().unwrap_or("?")),
                format!(
                    "<span class=\"outcome\">{}</span>",
                    esc(event["event_type"].as_str().unwrap_or("?"))
                ),
                format!("<span class=\"path\">{}</span>", esc(&data)),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "<p class=\"muted\">The journal is empty.</p>".into();
    }
    table("events", &["at", "event", "data"], &rows)
}
