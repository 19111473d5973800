//! What a run folder says about its work item: `run_trace.json` names it once
//! a stage has finished, the `request.<request_id>.json` files from the start.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::workspace::documents::is_valid_id;
use crate::workspace::family::Family;

/// The work a run folder belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunWork {
    /// A work item.
    Item {
        /// Its family.
        family: Family,
        /// Its id.
        id: String,
    },
    /// No work item (a closure stage), and the run ended in a final.
    FinishedWithoutItem,
    /// Nothing readable says (a run being created, one that crashed early, or a foreign folder).
    Unknown,
}

/// The fields of `run_trace.json` that matter here (the runtime writes more).
#[derive(Deserialize)]
struct TraceFields {
    work_item_family: Option<String>,
    work_item_id: Option<String>,
    #[serde(default)]
    status: String,
}

/// The field of a stage request that matters here.
#[derive(Deserialize)]
struct RequestFields {
    work_item: Option<ItemFields>,
}

#[derive(Deserialize)]
struct ItemFields {
    family: String,
    id: String,
}

/// Reads what `run_dir` says about its work: one or two small files.
pub fn read(run_dir: &Path) -> RunWork {
    if let Some(trace) = read_json::<TraceFields>(&run_dir.join("run_trace.json")) {
        return match (trace.work_item_family, trace.work_item_id) {
            (Some(family), Some(id)) => item(&family, id),
            _ if !trace.status.is_empty() && trace.status != "running" => {
                RunWork::FinishedWithoutItem
            }
            _ => RunWork::Unknown,
        };
    }
    match first_request(run_dir).and_then(|request| request.work_item) {
        Some(work) => item(&work.family, work.id),
        None => RunWork::Unknown,
    }
}

fn item(family: &str, id: String) -> RunWork {
    match Family::parse(family) {
        Some(family) if is_valid_id(&id) => RunWork::Item { family, id },
        _ => RunWork::Unknown,
    }
}

/// Any stage request of the run: every one names the same work item.
fn first_request(run_dir: &Path) -> Option<RequestFields> {
    std::fs::read_dir(run_dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with("request.") && name.ends_with(".json"))
        .and_then(|name| read_json(&run_dir.join(name)))
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}
