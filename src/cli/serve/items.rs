//! Work items: a lifecycle folder as a paginated list, and one item's
//! Detail view (its document, lineage, budgets spent, and every run with
//! the path it took).

use std::fmt::Write as _;

use serde::Deserialize;

use super::Served;
use super::html::{
    PAGE_SIZE, Page, esc, item_link, page_of, pager, pre, run_link, table, url_part, warning,
};
use super::query::{self, PageNumber};
use super::runs::{all_runs, edges};
use super::safe_path::{self, read_head};
use crate::runtime::RunTrace;
use crate::workspace::documents::read_document;
use crate::workspace::queue::locate_on_disk;
use crate::workspace::state::{StateStore, item_key};
use crate::workspace::{Family, LifecycleState};

/// How much of a document the Detail view shows.
const DOCUMENT_BYTES: u64 = 256 * 1024;
/// Runs of one item shown with their paths.
const ITEM_RUNS: usize = 20;

/// `?family=&state=&q=&page=`.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    family: Option<String>,
    state: Option<String>,
    q: Option<String>,
    page: Option<PageNumber>,
}

fn state_of(family: Family, text: Option<&str>) -> Option<LifecycleState> {
    let text = text.unwrap_or("queue");
    family.states().iter().copied().find(|s| {
        s.as_str() == text
            || s.dir_name(family) == text
            || (text == "queue" && *s == LifecycleState::Queued)
    })
}

pub fn queue_page(served: &Served, query: &QueueQuery) -> Page {
    let text = query.family.as_deref().unwrap_or("task");
    let Some(family) = Family::parse(text) else {
        return query::not_one_of("family", text, &Family::NAMES);
    };
    let Some(state) = state_of(family, query.state.as_deref()) else {
        let states: Vec<&str> = family.states().iter().map(|s| s.as_str()).collect();
        let text = query.state.as_deref().unwrap_or_default();
        return query::not_one_of("state", text, &states);
    };
    let dir = served.paths.lifecycle_dir(family, state);
    let filter = query.q.as_deref().unwrap_or("");
    let mut ids = ids_in(&dir, family.extension());
    ids.retain(|id| id.contains(filter));
    let (page, pages) = page_of(query.page.map(|p| p.0), ids.len());
    let rows: Vec<Vec<String>> = ids
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|id| vec![item_link(id), esc(&title_of(&dir, id, family.extension()))])
        .collect();
    let mut body = format!(
        "<h1>{} · {}</h1>",
        esc(family.as_str()),
        esc(state.dir_name(family))
    );
    body.push_str(&queue_filters(family, state, filter));
    let base = format!(
        "/queue?family={family}&amp;state={}&amp;q={}&amp;",
        state.dir_name(family),
        url_part(filter)
    );
    body.push_str(&pager(&base, page, pages, ids.len()));
    body.push_str(&table("items", &["id", "title"], &rows));
    Page::new("Queue", "queue", body)
}

fn queue_filters(family: Family, state: LifecycleState, filter: &str) -> String {
    let mut families = String::new();
    for f in Family::ALL {
        let selected = if f == family { " selected" } else { "" };
        let _ = write!(families, "<option{selected}>{f}</option>");
    }
    let mut states = String::new();
    for s in family.states() {
        let selected = if *s == state { " selected" } else { "" };
        let _ = write!(
            states,
            "<option value=\"{}\"{selected}>{}</option>",
            s.dir_name(family),
            s.dir_name(family)
        );
    }
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/queue\"><label>family<select name=\"family\">{families}</select></label>\
<label>state<select name=\"state\">{states}</select></label><label>id contains<input name=\"q\" value=\"{}\"></label><button>show</button></form>",
        esc(filter)
    )
}

/// The ids of the documents in `dir`, sorted (a listing; no document read).
fn ids_in(dir: &std::path::Path, extension: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let suffix = format!(".{extension}");
    let names = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned());
    let mut ids: Vec<String> = names
        .filter_map(|n| n.strip_suffix(&suffix).map(str::to_string))
        .filter(|id| safe_path::id(id).is_some())
        .collect();
    ids.sort();
    ids
}

/// The `# Title` line of a document, read from its first bytes only.
fn title_of(dir: &std::path::Path, id: &str, extension: &str) -> String {
    let head = read_head(dir, &format!("{id}.{extension}"), 2048).map(|(t, _)| t);
    let title = head.as_deref().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(str::to_string)
    });
    title.unwrap_or_default()
}

pub fn item_page(served: &Served, id: &str) -> Page {
    let Some(id) = safe_path::id(id) else {
        return Page::not_found("not a work item id");
    };
    let found = locate_on_disk(&served.paths, id);
    let Some(located) = found.first() else {
        return Page::not_found(&format!("no work item `{id}` in this workspace"));
    };
    let dir = located
        .path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let name = format!("{id}.{}", located.family.extension());
    if safe_path::inside(&dir, &name).is_none() {
        return Page::not_found(&format!(
            "`{id}` leads out of its folder (a link); it is not shown"
        ));
    }
    let text = read_head(&dir, &name, DOCUMENT_BYTES);
    let mut body = format!(
        "<h1>{} <span class=\"badge\">{}</span> <span class=\"badge\" data-item-state>{}</span></h1>",
        esc(id),
        esc(located.family.as_str()),
        esc(located.state.dir_name(located.family))
    );
    if found.len() > 1 {
        body.push_str(&warning(
            "This id is in more than one lifecycle folder; the first is shown.",
        ));
    }
    if let Err(error) = read_document(located.family, &located.path) {
        body.push_str(&warning(&format!(
            "This document does not read as a {}: {}",
            located.family,
            esc(&error.to_string())
        )));
    }
    let text = text.map(|(t, _)| t).unwrap_or_default();
    body.push_str("<h2>Lineage</h2>");
    body.push_str(&lineage(&text, id, served));
    body.push_str(&budgets(served, located.family, id));
    body.push_str("<h2>Runs</h2>");
    body.push_str(&item_runs(served, id));
    let _ = write!(body, "<h2>Document</h2>{}", pre(&text, None));
    Page::new(id.to_string(), "queue", body)
}

/// Fields naming other items (`Spec-ID:`, `Root-Spec-ID:`, `Depends-On:`
/// lists...), linked; and the incidents that name this item.
fn lineage(text: &str, id: &str, served: &Served) -> String {
    let mut rows = Vec::new();
    let mut list: Option<String> = None;
    for line in text.lines() {
        if let Some(item) = line.strip_prefix("- ").filter(|_| list.is_some()) {
            if let (Some(label), Some(other)) = (&list, safe_path::id(item.trim())) {
                rows.push(vec![esc(label), item_link(other)]);
            }
            continue;
        }
        list = None;
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() && (label == "Depends-On" || label.ends_with("-IDs")) {
            list = Some(label.to_string());
        } else if label.ends_with("-ID") && value != id && safe_path::id(value).is_some() {
            rows.push(vec![esc(label), item_link(value)]);
        }
    }
    for incident in incidents_naming(served, id) {
        rows.push(vec!["incident".into(), item_link(&incident)]);
    }
    if rows.is_empty() {
        return "<p class=\"muted\">No lineage: this item names no other.</p>".into();
    }
    table("lineage", &["field", "item"], &rows)
}

/// Incidents whose document names `id` (incident folders are small).
fn incidents_naming(served: &Served, id: &str) -> Vec<String> {
    let family = Family::Incident;
    let mut found = Vec::new();
    for state in family.states() {
        let dir = served.paths.lifecycle_dir(family, *state);
        for other in ids_in(&dir, family.extension()).into_iter().take(500) {
            let head = read_head(&dir, &format!("{other}.{}", family.extension()), 16 * 1024);
            if other != id && head.is_some_and(|(t, _)| t.contains(id)) {
                found.push(other);
            }
        }
    }
    found
}

fn budgets(served: &Served, family: Family, id: &str) -> String {
    let Ok(counters) = StateStore::new(&served.paths).load_counters() else {
        return String::new();
    };
    let Some(item) = counters.items.get(&item_key(family, id)) else {
        return String::new();
    };
    let rows: Vec<Vec<String>> = item
        .counts
        .iter()
        .map(|(budget, n)| vec![esc(budget), n.to_string()])
        .collect();
    format!(
        "<h2>Budgets spent</h2>{}",
        table("budgets", &["budget", "spent"], &rows)
    )
}

fn item_runs(served: &Served, id: &str) -> String {
    let runs: Vec<_> = all_runs(served)
        .into_iter()
        .filter(|r| r.work_item.as_deref() == Some(id))
        .collect();
    if runs.is_empty() {
        return "<p class=\"muted\">No run has taken this item yet.</p>".into();
    }
    let mut out = String::new();
    let runs_dir = served.workspace.agents.join("runs");
    for run in runs.iter().take(ITEM_RUNS) {
        let trace = safe_path::inside(&runs_dir, &run.run_id).and_then(|dir| RunTrace::load(&dir));
        let _ = write!(
            out,
            "<section class=\"stage\" data-run=\"{}\"><h3>{} <span class=\"badge\">{}</span></h3>",
            esc(&run.run_id),
            run_link(&run.run_id),
            esc(&run.status)
        );
        if let Some(trace) = trace {
            out.push_str(&edges(&trace));
        }
        out.push_str("</section>");
    }
    if runs.len() > ITEM_RUNS {
        let _ = write!(
            out,
            "<p><a href=\"/runs?item={}\">all {} runs</a></p>",
            url_part(id),
            runs.len()
        );
    }
    out
}
