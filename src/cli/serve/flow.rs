//! The Flow view: each plane's compiled graph drawn as SVG (the DOT export
//! of `compile graph`, drawn by Graphviz once per plan), with the node each
//! plane runs now highlighted (in every lane, each labelled with its lane
//! and task when several run), the path lane 1's item took so far, and the
//! budgets it spent written on the edges that spend them.
//!
//! Drawing takes Graphviz tens of milliseconds, so the drawings are cached
//! per mode and plan; a request only marks up the cached SVG text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::Served;
use super::drawings::PlaneDrawing;
use super::html::{Page, esc, item_link, pre, run_link, table, warning};
use super::overview::status_json;
use super::safe_path;
use crate::runtime::RunTrace;
use crate::vocab::Plane;
use crate::workspace::state::StateStore;

/// What a plane is doing now, from `status`.
struct Activity {
    node: Option<String>,
    run_id: Option<String>,
    item: Option<String>,
}

pub fn page(served: &Served) -> Page {
    let Some(status) = status_json(served) else {
        return Page::new(
            "Flow",
            "flow",
            warning("the workspace's status cannot be read"),
        );
    };
    let mode = status["active_mode_id"].as_str().unwrap_or("").to_string();
    let fingerprint = status["compiled_plan_fingerprint"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let drawings = served
        .graphs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drawings(&served.workspace, (mode.clone(), fingerprint));
    let mut body = format!("<h1>Flow <span class=\"badge\">{}</span></h1>", esc(&mode));
    match drawings {
        Err(error) => body.push_str(&warning(&format!(
            "The mode does not compile now, so it cannot be drawn:</p>{}<p>",
            pre(&error, None)
        ))),
        Ok(planes) => {
            let counters = StateStore::new(&served.paths)
                .load_counters()
                .unwrap_or_default();
            for drawing in planes {
                let activity = activity(&status, drawing.plane);
                let spent = activity
                    .item
                    .as_ref()
                    .and_then(|i| counters.items.get(i))
                    .map(|b| b.counts.clone())
                    .unwrap_or_default();
                let running = running_nodes(&status, drawing.plane);
                let section = plane_section(served, &drawing, &activity, &running, &spent);
                body.push_str(&section);
                body.push_str(&other_lanes(&status, drawing.plane));
            }
        }
    }
    Page::new("Flow", "flow", body)
}

/// A node one of the plane's lanes runs now; `label` (its lane and task) is
/// drawn beside it when several lanes run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningNode {
    pub node: String,
    pub label: Option<String>,
}

/// The nodes the plane's lanes run now, labelled with their lane and task
/// when a lane other than the first runs (lane 1 alone is drawn as before).
fn running_nodes(status: &Value, plane: Plane) -> Vec<RunningNode> {
    let Some(runs) = status["active_runs_by_plane"].as_object() else {
        return Vec::new();
    };
    let lane_of = |slot: &str| match slot.strip_prefix(plane.as_str()) {
        Some("") => Some("1".to_string()),
        Some(rest) => rest.strip_prefix('.').map(str::to_string),
        None => None,
    };
    let lanes: Vec<(String, &Value)> = runs
        .iter()
        .filter_map(|(slot, run)| lane_of(slot).map(|lane| (lane, run)))
        .collect();
    let labelled = lanes.iter().any(|(lane, _)| lane != "1");
    lanes
        .into_iter()
        .filter_map(|(lane, run)| {
            let node = run["node"].as_str()?.to_string();
            let item = run["work_item"].as_str().unwrap_or_default();
            let id = item.split_once(':').map_or(item, |(_, id)| id);
            let label = labelled.then(|| format!("lane {lane} · {id}"));
            Some(RunningNode { node, label })
        })
        .collect()
}

fn activity(status: &Value, plane: Plane) -> Activity {
    let run = &status["active_runs_by_plane"][plane.as_str()];
    let text = |key: &str| run[key].as_str().map(str::to_string);
    Activity {
        node: text("node"),
        run_id: text("run_id"),
        item: text("work_item"),
    }
}

/// The plane's lanes after the first (docs/lanes.md), one line each: the
/// drawing above highlights their nodes, but its path and budgets are lane
/// 1's.
fn other_lanes(status: &Value, plane: Plane) -> String {
    let Some(runs) = status["active_runs_by_plane"].as_object() else {
        return String::new();
    };
    let prefix = format!("{plane}.");
    let lines: Vec<String> = runs
        .iter()
        .filter(|(slot, _)| slot.starts_with(&prefix))
        .map(|(slot, run)| {
            let item = run["work_item"].as_str().unwrap_or_default();
            format!(
                "<li>{} at <strong>{}</strong> on {}</li>",
                esc(slot),
                esc(run["node"].as_str().unwrap_or_default()),
                item_link(item.split_once(':').map_or(item, |(_, id)| id))
            )
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "<p>Other lanes:</p><ul class=\"lanes\">{}</ul>",
        lines.concat()
    )
}

fn plane_section(
    served: &Served,
    drawing: &PlaneDrawing,
    activity: &Activity,
    running: &[RunningNode],
    spent: &BTreeMap<String, u32>,
) -> String {
    let plane = drawing.plane;
    let mut out = format!(
        "<section data-plane=\"{plane}\"><h2>{plane} <span class=\"muted\">{}</span></h2>",
        esc(&drawing.loop_name)
    );
    out.push_str(&running_line(activity, plane));
    let path = activity
        .run_id
        .as_deref()
        .map(|id| taken_path(served, id))
        .unwrap_or_default();
    if !spent.is_empty() {
        let rows: Vec<Vec<String>> = spent
            .iter()
            .map(|(b, n)| vec![esc(b), n.to_string()])
            .collect();
        out.push_str(&table(
            "budgets",
            &["budget spent by the active item", "units"],
            &rows,
        ));
    }
    match &drawing.svg {
        Ok(svg) => {
            let marked = mark_up(svg, plane, running, &path, spent);
            let _ = write!(out, "<div class=\"flow\">{marked}</div>");
        }
        Err((why, text)) => {
            out.push_str(&warning(&esc(why)));
            out.push_str(&pre(text, None));
        }
    }
    out.push_str("</section>");
    out
}

fn running_line(activity: &Activity, plane: Plane) -> String {
    match (&activity.node, &activity.run_id) {
        (Some(node), Some(run)) => {
            let item = activity
                .item
                .as_deref()
                .map(|w| w.split_once(':').map_or(w, |(_, id)| id));
            format!(
                "<p>running <strong data-active-node=\"{plane}\">{}</strong> on {} in {}</p>",
                esc(node),
                item.map_or_else(|| "its closure target".into(), item_link),
                run_link(run)
            )
        }
        _ => format!("<p class=\"muted\" data-active-node=\"{plane}\" data-idle>idle</p>"),
    }
}

/// The edges the run took so far, `(from, to)` by node key.
fn taken_path(served: &Served, run_id: &str) -> Vec<(String, String)> {
    let runs_dir = served.workspace.agents.join("runs");
    let dir = safe_path::id(run_id).and_then(|id| safe_path::inside(&runs_dir, id));
    let trace = dir.and_then(|d| RunTrace::load(&d));
    trace.map_or_else(Vec::new, |t| {
        t.edges.into_iter().map(|e| (e.from, e.to)).collect()
    })
}

/// Graphviz writes each node and edge as `<g id="nodeN" class="node">`
/// followed by `<title>plane/name</title>` (edges `a->b`): the running
/// nodes, the nodes and edges of the path get classes, spending edges their
/// count, and a running node with labels its lanes written above it.
pub fn mark_up(
    svg: &str,
    plane: Plane,
    running: &[RunningNode],
    path: &[(String, String)],
    spent: &BTreeMap<String, u32>,
) -> String {
    let key = |name: &str| format!("{plane}/{name}");
    let mut active: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for run in running {
        let labels = active.entry(key(&run.node)).or_default();
        labels.extend(run.label.as_deref());
    }
    let mut label_due: Option<String> = None;
    let visited: BTreeSet<String> = path.iter().flat_map(|(a, b)| [key(a), key(b)]).collect();
    let taken: BTreeSet<String> = path
        .iter()
        .map(|(a, b)| format!("{}->{}", key(a), key(b)))
        .collect();
    let lines: Vec<&str> = svg.lines().collect();
    let mut out = String::with_capacity(svg.len() + 256);
    for (i, line) in lines.iter().enumerate() {
        let title = lines
            .get(i + 1)
            .and_then(|next| next.strip_prefix("<title>"))
            .and_then(|t| t.strip_suffix("</title>"))
            .map(decode);
        let marked = match (
            title,
            line.strip_suffix("class=\"node\">"),
            line.strip_suffix("class=\"edge\">"),
        ) {
            (Some(t), Some(head), _) => {
                let labels = active.get(&t);
                label_due = labels.filter(|l| !l.is_empty()).map(|l| l.join("; "));
                let class = if labels.is_some() {
                    "node active"
                } else if visited.contains(&t) {
                    "node visited"
                } else {
                    "node"
                };
                format!("{head}class=\"{class}\" data-node=\"{}\">", esc(&t))
            }
            (Some(t), _, Some(head)) if taken.contains(&t) => {
                format!("{head}class=\"edge taken\">")
            }
            _ => spend_label(line, spent),
        };
        out.push_str(&marked);
        out.push('\n');
        if line.starts_with("<text")
            && let Some(label) = label_due.take()
        {
            out.push_str(&lane_label(line, &label));
        }
    }
    out
}

/// A label above the node whose name `text` (Graphviz's `<text>` line)
/// writes: at its x, a box's half height plus a little above its baseline.
fn lane_label(text: &str, label: &str) -> String {
    let attribute = |name: &str| {
        let start = text.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = text[start..].find('"')? + start;
        text[start..end].parse::<f64>().ok()
    };
    let (Some(x), Some(y)) = (attribute("x"), attribute("y")) else {
        return String::new();
    };
    format!(
        "<text class=\"lane-label\" text-anchor=\"middle\" x=\"{x}\" y=\"{}\" font-size=\"11.00\">{}</text>\n",
        y - 24.0,
        esc(label)
    )
}

/// `spends fix_cycles` becomes `spends fix_cycles (1 spent)` in edge labels.
fn spend_label(line: &str, spent: &BTreeMap<String, u32>) -> String {
    if !line.starts_with("<text") {
        return line.to_string();
    }
    let mut line = line.to_string();
    for (budget, n) in spent {
        for end in ["]", ","] {
            let from = format!("spends {budget}{end}");
            line = line.replace(&from, &format!("spends {budget} ({n} spent){end}"));
        }
    }
    line
}

fn decode(text: &str) -> String {
    text.replace("&#45;", "-")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
