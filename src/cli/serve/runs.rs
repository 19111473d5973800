//! Runs: the list (filterable, paginated) and one run's page (each stage
//! with its outcome, duration, tokens, the prompt sent, the runner's output
//! tail and the stage result). Summaries are kept in memory and re-read
//! only for runs whose trace changed, so a thousand runs cost a listing
//! and a `stat` each.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Served;
use super::html::{
    PAGE_SIZE, Page, esc, item_link, page_of, pager, pre, run_link, table, url_part, warning,
};
use super::query::PageNumber;
use super::run_index::RunSummary;
use super::safe_path::{self, read_head, read_tail};
use crate::runtime::{RunTrace, StageResult};

/// What the pages show of a prompt and of an output tail, at most.
const PROMPT_BYTES: u64 = 64 * 1024;
const TAIL_BYTES: u64 = 8 * 1024;

/// `?plane=&status=&item=&page=`.
#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    plane: Option<String>,
    status: Option<String>,
    item: Option<String>,
    page: Option<PageNumber>,
}

impl RunsQuery {
    fn keeps(&self, run: &RunSummary) -> bool {
        let matches = |wanted: &Option<String>, value: &str| {
            wanted
                .as_deref()
                .is_none_or(|w| w.is_empty() || value.contains(w))
        };
        matches(&self.plane, &run.plane)
            && matches(&self.status, &run.status)
            && matches(&self.item, run.work_item.as_deref().unwrap_or(""))
    }

    fn base(&self) -> String {
        let mut base = String::from("/runs?");
        for (key, value) in [
            ("plane", &self.plane),
            ("status", &self.status),
            ("item", &self.item),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                let _ = write!(base, "{key}={}&amp;", url_part(v));
            }
        }
        base
    }
}

/// Runs of the index, newest first.
pub fn all_runs(served: &Served) -> Vec<RunSummary> {
    let runs_dir = served.workspace.agents.join("runs");
    match served.runs.lock() {
        Ok(mut index) => index.refresh(&runs_dir),
        Err(poisoned) => poisoned.into_inner().refresh(&runs_dir),
    }
}

pub fn runs_page(served: &Served, query: &RunsQuery) -> Page {
    let runs: Vec<RunSummary> = all_runs(served)
        .into_iter()
        .filter(|r| query.keeps(r))
        .collect();
    let (page, pages) = page_of(query.page.map(|p| p.0), runs.len());
    let shown = runs.iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE);
    let rows: Vec<Vec<String>> = shown.map(run_row).collect();
    let mut body = String::from("<h1>Runs</h1>");
    body.push_str(&filters(query));
    body.push_str(&pager(&query.base(), page, pages, runs.len()));
    body.push_str(&table(
        "runs",
        &[
            "run",
            "plane",
            "status",
            "work item",
            "stages",
            "last outcome",
        ],
        &rows,
    ));
    Page::new("Runs", "runs", body)
}

pub fn run_row(run: &RunSummary) -> Vec<String> {
    let last = run
        .stages
        .last()
        .map_or("", |(_, outcome)| outcome.as_str());
    vec![
        run_link(&run.run_id),
        esc(&run.plane),
        esc(&run.status),
        run.work_item.as_deref().map_or_else(
            || "<span class=\"muted\">closure target</span>".into(),
            item_link,
        ),
        run.stages.len().to_string(),
        format!("<span class=\"outcome\">{}</span>", esc(last)),
    ]
}

fn filters(query: &RunsQuery) -> String {
    let field = |name: &str, value: &Option<String>| {
        format!(
            "<label>{name}<input name=\"{name}\" value=\"{}\"></label>",
            esc(value.as_deref().unwrap_or(""))
        )
    };
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/runs\">{}{}{}<button>filter</button></form>",
        field("plane", &query.plane),
        field("status", &query.status),
        field("item", &query.item)
    )
}

/// The folder of run `id`, when it is a real run folder of this workspace.
fn run_dir(served: &Served, id: &str) -> Option<PathBuf> {
    let id = safe_path::id(id)?;
    let dir = safe_path::inside(&served.workspace.agents.join("runs"), id)?;
    dir.is_dir().then_some(dir)
}

pub fn run_page(served: &Served, id: &str) -> Page {
    let Some(dir) = run_dir(served, id) else {
        return Page::not_found(&format!("no run `{id}` in this workspace"));
    };
    let Some(trace) = RunTrace::load(&dir) else {
        let body = format!(
            "<h1>Run {}</h1>{}",
            esc(id),
            warning(
                "This run has no readable trace yet (it may just have started, or its trace is damaged)."
            )
        );
        return Page::new(format!("Run {id}"), "runs", body);
    };
    let mut body = format!("<h1>Run {}</h1>", esc(&trace.run_id));
    body.push_str(&run_header(&trace));
    body.push_str("<h2>Path</h2>");
    body.push_str(&edges(&trace));
    body.push_str("<h2>Stages</h2>");
    for node in &trace.nodes {
        body.push_str(&stage(&dir, &node.request_id, &node.node));
    }
    Page::new(format!("Run {id}"), "runs", body)
}

fn run_header(trace: &RunTrace) -> String {
    let item = trace
        .work_item_id
        .as_deref()
        .map_or_else(|| "closure target".into(), item_link);
    let rows = vec![
        vec!["plane".into(), esc(&trace.plane)],
        vec![
            "status".into(),
            format!("<span data-run-status>{}</span>", esc(&trace.status)),
        ],
        vec!["work item".into(), item],
        vec!["plan".into(), esc(&trace.plan_id)],
    ];
    table("facts", &["", ""], &rows)
}

/// The edges the run took, in order: the path of its work item.
pub fn edges(trace: &RunTrace) -> String {
    let rows: Vec<Vec<String>> = trace
        .edges
        .iter()
        .map(|e| {
            vec![
                esc(&e.from),
                format!("<span class=\"outcome\">{}</span>", esc(&e.outcome)),
                esc(&e.to),
                esc(&e.reason),
            ]
        })
        .collect();
    table("edges", &["from", "outcome", "to", "why"], &rows)
}

/// One stage: its result's facts, then prompt, output tail and raw result.
fn stage(dir: &Path, request_id: &str, node: &str) -> String {
    let Some(request) = safe_path::id(request_id) else {
        return String::new();
    };
    let result_name = format!("stage_results/{request}.json");
    let result = read_head(dir, &result_name, 1 << 20).and_then(|(text, _)| {
        serde_json::from_str::<StageResult>(&text)
            .ok()
            .map(|r| (r, text))
    });
    let mut out = format!(
        "<section class=\"stage\" data-node=\"{}\"><h3>{}</h3>",
        esc(node),
        esc(node)
    );
    match &result {
        Some((r, _)) => out.push_str(&result_facts(r)),
        None => out.push_str("<p class=\"muted\">running, or its result is not written yet</p>"),
    }
    out.push_str(&file_details(
        dir,
        &format!("prompt.{request}.md"),
        "prompt sent",
        request,
        read_head,
        PROMPT_BYTES,
    ));
    let tail = ["last_message", "stdout"].map(|kind| format!("{kind}.{request}.txt"));
    let shown = tail
        .iter()
        .find(|name| safe_path::inside(dir, name).is_some());
    if let Some(name) = shown {
        out.push_str(&file_details(
            dir,
            name,
            "output tail",
            request,
            read_tail,
            TAIL_BYTES,
        ));
    }
    if let Some((_, text)) = &result {
        let _ = write!(
            out,
            "<details id=\"result-{request}\"><summary>stage result</summary>{}</details>",
            pre(text, None)
        );
    }
    out.push_str("</section>");
    out
}

type Reader = fn(&Path, &str, u64) -> Option<(String, bool)>;

fn file_details(
    dir: &Path,
    name: &str,
    label: &str,
    request: &str,
    read: Reader,
    limit: u64,
) -> String {
    let Some((text, cut)) = read(dir, name, limit) else {
        return String::new();
    };
    let note = cut.then(|| format!("only {} KiB of {name} shown", limit / 1024));
    let key = label.replace(' ', "-");
    format!(
        "<details id=\"{key}-{request}\"><summary>{}</summary>{}</details>",
        esc(label),
        pre(&text, note.as_deref())
    )
}

fn result_facts(r: &StageResult) -> String {
    let none = || "none".to_string();
    let tokens = r.tokens.map_or_else(none, |t| {
        format!(
            "{} in ({} cached), {} out, {} thinking, {} total",
            t.input, t.cached_input, t.output, t.thinking, t.total
        )
    });
    let rows = vec![
        vec![
            "outcome".into(),
            format!(
                "<span class=\"outcome\" data-outcome>{}</span>",
                esc(&r.outcome)
            ),
        ],
        vec!["result class".into(), esc(&r.result_class)],
        vec![
            "failure".into(),
            esc(&r.failure_class.clone().unwrap_or_else(none)),
        ],
        vec![
            "runner".into(),
            esc(&format!(
                "{} {}",
                r.runner,
                r.model.clone().unwrap_or_default()
            )),
        ],
        vec!["duration".into(), format!("{:.3} s", r.duration_seconds)],
        vec!["tokens".into(), esc(&tokens)],
        vec!["started".into(), esc(&r.started_at.to_string())],
        vec!["completed".into(), esc(&r.completed_at.to_string())],
    ];
    table("facts", &["", ""], &rows)
}
